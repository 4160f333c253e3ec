/// What a copy manager advertises about itself: the limits in RECEIVE COPY RESULTS
/// OPERATING PARAMETERS (SPC-4 §6.18.4) and the Third-party Copy VPD page (SPC-4
/// §7.8.17), built from one value so the two cannot disagree.
public struct CopyManagerParameters: Hashable, Sendable {
    /// A third-party copy command and its service actions (Supported Commands descriptor).
    public struct Command: Hashable, Sendable {
        public var operationCode: UInt8
        public var serviceActions: [UInt8]
        public init(operationCode: UInt8, serviceActions: [UInt8]) {
            self.operationCode = operationCode
            self.serviceActions = serviceActions
        }
    }

    public var maximumTargetDescriptorCount: UInt16
    public var maximumSegmentDescriptorCount: UInt16
    /// MAXIMUM DESCRIPTOR LIST LENGTH in bytes (CSCD plus segment descriptors).
    public var maximumDescriptorListLength: UInt32
    /// MAXIMUM SEGMENT LENGTH in bytes.
    public var maximumSegmentLength: UInt32
    public var totalConcurrentCopies: UInt16
    /// DATA SEGMENT GRANULARITY as a power of two.
    public var dataSegmentGranularityLog2: UInt8
    /// The CSCD and segment descriptor type codes implemented, ascending.
    public var implementedDescriptorTypeCodes: [UInt8]
    public var supportedCommands: [Command]

    public init(
        maximumTargetDescriptorCount: UInt16, maximumSegmentDescriptorCount: UInt16, maximumDescriptorListLength: UInt32,
        maximumSegmentLength: UInt32, totalConcurrentCopies: UInt16, dataSegmentGranularityLog2: UInt8,
        implementedDescriptorTypeCodes: [UInt8], supportedCommands: [Command]
    ) {
        self.maximumTargetDescriptorCount = maximumTargetDescriptorCount
        self.maximumSegmentDescriptorCount = maximumSegmentDescriptorCount
        self.maximumDescriptorListLength = maximumDescriptorListLength
        self.maximumSegmentLength = maximumSegmentLength
        self.totalConcurrentCopies = totalConcurrentCopies
        self.dataSegmentGranularityLog2 = dataSegmentGranularityLog2
        self.implementedDescriptorTypeCodes = implementedDescriptorTypeCodes
        self.supportedCommands = supportedCommands
    }

    /// RECEIVE COPY RESULTS with OPERATING PARAMETERS (SPC-4 §6.18.4, table 230).
    /// SNLID = 0: list identifiers are held until the copy ends; no inline or held
    /// data, no stream devices.
    public var operatingParameters: [UInt8] {
        var bytes: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0]
        bytes += maximumTargetDescriptorCount.bigEndianBytes
        bytes += maximumSegmentDescriptorCount.bigEndianBytes
        bytes += maximumDescriptorListLength.bigEndianBytes
        bytes += maximumSegmentLength.bigEndianBytes
        bytes += [UInt8](repeating: 0, count: 4 + 4 + 4 + 2)  // inline, held data, stream size, reserved
        bytes += totalConcurrentCopies.bigEndianBytes
        bytes += [UInt8(clamping: totalConcurrentCopies), dataSegmentGranularityLog2, 0, 0]
        bytes += [0, 0, 0, UInt8(implementedDescriptorTypeCodes.count)] + implementedDescriptorTypeCodes
        bytes.replaceSubrange(0..<4, with: UInt32(bytes.count - 4).bigEndianBytes)
        return bytes
    }
}
