import ISCSITransport
import MultipathDSM
import NIOCore
import SCSIProtocol

/// The commands discovery and the path checker send down a path, built and read with
/// SCSIProtocol's codec (SPC-4 §6.6 INQUIRY, §7.8.6 VPD 0x83, §7.8.18 VPD 0x80, §6.27
/// REPORT TARGET PORT GROUPS, §6.33 REPORT LUNS, §6.47 TEST UNIT READY; SBC-3 §5.16
/// READ CAPACITY(16)).
enum SCSIProbe {
    /// ALLOCATION LENGTH of standard INQUIRY: the 96 bytes Linux and Windows ask for.
    static let inquiryAllocation = UInt16(StandardInquiryData.length)
    /// ALLOCATION LENGTH of the VPD pages read: room for many designators.
    static let pageAllocation: UInt16 = 1024
    /// ALLOCATION LENGTH of REPORT LUNS and REPORT TARGET PORT GROUPS: 510 LUNs, or
    /// dozens of groups.
    static let listAllocation: UInt32 = 4096
    /// Commands answered with UNIT ATTENTION are sent again this often: every fresh
    /// I_T nexus gets one per pending condition (SAM-5 §5.14).
    static let unitAttentionRetries = 4
    /// The path checker's bound on TEST UNIT READY.
    static let testUnitReadyTimeout: TimeAmount = .seconds(10)
    /// What a CHECK CONDITION whose sense data cannot be read counts as: ABORTED
    /// COMMAND, which the DSM retries.
    static let unreadableSense = SenseCode(key: .abortedCommand, asc: 0, ascq: 0)

    /// What discovery learns about one LUN down one path: the DSM's input
    /// (INQUIRY, VPD 0x83 and 0x80, and the path's group from REPORT TARGET PORT GROUPS
    /// when the LU supports ALUA) and its capacity.
    static func identify(
        _ path: some SCSICommandPath, lun: UInt16, pathID: PathID, label: String
    ) async throws -> (identity: PathIdentity, capacity: ReadCapacityData) {
        let inquiry = try await inquiry(path, lun: lun)
        let designators = try await deviceIdentification(path, lun: lun)
        let serial = await serialNumber(path, lun: lun)
        let capacity = try await capacity(path, lun: lun)
        var group: TargetPortGroupStatus?
        if inquiry.targetPortGroupSupport != 0, let id = designators.lazy.compactMap(\.targetPortGroup).first,
           let groups = try? await targetPortGroups(path, lun: lun)
        {
            group = groups.first { $0.groupID == id }
        }
        let identity = PathIdentity(
            pathID: pathID, portal: label, vendor: inquiry.vendor, product: inquiry.product, revision: inquiry.revision,
            designators: designators, serialNumber: serial, targetPortGroup: group)
        return (identity, capacity)
    }

    static func inquiry(_ path: some SCSICommandPath, lun: UInt16) async throws -> StandardInquiryData {
        try StandardInquiryData(decoding: await dataIn(path, lun: lun, .inquiry(allocationLength: inquiryAllocation)))
    }

    /// VPD 0x80 PRODUCT SERIAL NUMBER; nil when the page is not supported.
    static func serialNumber(_ path: some SCSICommandPath, lun: UInt16) async -> String? {
        guard let data = try? await dataIn(path, lun: lun, .inquiry(page: .unitSerialNumber, allocationLength: pageAllocation)) else {
            return nil
        }
        return try? VitalProductData.unitSerialNumber(decoding: data)
    }

    /// Every designator of VPD 0x83, the target port group of the port the command
    /// went through among them.
    static func deviceIdentification(_ path: some SCSICommandPath, lun: UInt16) async throws -> [DesignationDescriptor] {
        try VitalProductData.deviceIdentification(
            decoding: await dataIn(path, lun: lun, .inquiry(page: .deviceIdentification, allocationLength: pageAllocation)))
    }

    static func targetPortGroups(_ path: some SCSICommandPath, lun: UInt16) async throws -> [TargetPortGroupStatus] {
        try TargetPortGroupStatus.list(
            decodingReportTargetPortGroups: await dataIn(path, lun: lun, .reportTargetPortGroups(allocationLength: listAllocation)))
    }

    /// The LUNs behind the target, asked through LUN 0.
    static func reportLUNs(_ path: some SCSICommandPath) async throws -> [UInt16] {
        try LogicalUnitNumber.list(decodingReportLUNs: await dataIn(path, lun: 0, .reportLUNs(allocationLength: listAllocation)))
            .map(\.rawValue)
    }

    static func capacity(_ path: some SCSICommandPath, lun: UInt16) async throws -> ReadCapacityData {
        try ReadCapacityData(decodingReadCapacity16: await dataIn(path, lun: lun, .readCapacity16()))
    }

    /// TEST UNIT READY: nil when ready, else the sense code.
    static func testUnitReady(_ path: some SCSICommandPath, lun: UInt16) async throws -> SenseCode? {
        let result = try await path.execute(
            cdb: CommandDescriptorBlock.testUnitReady.bytes, lun: lun, dataOut: nil, expectedDataIn: 0, timeout: testUnitReadyTimeout)
        return result.status == 0 ? nil : senseCode(of: result)
    }

    /// The sense code of a failed command, ``unreadableSense`` when there is none to read.
    static func senseCode(of result: InitiatorConnection.CommandResult) -> SenseCode {
        (try? ReportedSense(decoding: result.sense).code) ?? unreadableSense
    }

    /// Runs a command that returns data; a CHECK CONDITION (after retrying unit
    /// attentions) is an error.
    static func dataIn(_ path: some SCSICommandPath, lun: UInt16, _ cdb: CommandDescriptorBlock) async throws -> [UInt8] {
        for _ in 0..<unitAttentionRetries {
            let result = try await path.execute(
                cdb: cdb.bytes, lun: lun, dataOut: nil, expectedDataIn: cdb.allocationLength, timeout: .seconds(30))
            if result.status == 0 { return Array(result.dataIn.readableBytesView) }
            let sense = try? ReportedSense(decoding: result.sense)
            guard sense?.code.key == .unitAttention else {
                throw ProbeError(
                    "\(cdb.operationCode) failed with status 0x\(String(result.status, radix: 16)), sense \(sense.map { "\($0)" } ?? "none")")
            }
        }
        throw ProbeError("\(cdb.operationCode) kept returning UNIT ATTENTION")
    }
}

/// A discovery answer we could not use (a command that failed; decoding failures are
/// SCSIProtocolError).
struct ProbeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
