/// One designation descriptor of the Device Identification VPD page (SPC-4 §7.8.6.1,
/// table 484): what multipath layers group paths by (ARCHITECTURE.md §1).
public struct DesignationDescriptor: Hashable, Sendable {
    /// CODE SET (SPC-4 table 485).
    public enum CodeSet: UInt8, Sendable {
        case binary = 1
        case ascii = 2
        case utf8 = 3
    }

    /// ASSOCIATION (SPC-4 table 486): what the designator names.
    public enum Association: UInt8, Sendable {
        case logicalUnit = 0
        case targetPort = 1
        case targetDevice = 2
    }

    /// DESIGNATOR TYPE (SPC-4 table 487).
    public enum DesignatorType: UInt8, Sendable {
        case naa = 3
        case relativeTargetPort = 4
        case targetPortGroup = 5
        case scsiNameString = 8
    }

    /// PROTOCOL IDENTIFIER for iSCSI (SPC-4 table 362).
    public static let iscsiProtocolIdentifier: UInt8 = 0x5

    public var codeSet: CodeSet
    public var association: Association
    public var type: DesignatorType
    /// Set PIV with the iSCSI protocol identifier (meaningful for port / device
    /// associations only, SPC-4 §7.8.6.1).
    public var isISCSISpecific: Bool
    public var designator: [UInt8]

    public init(codeSet: CodeSet, association: Association, type: DesignatorType, isISCSISpecific: Bool, designator: [UInt8]) {
        self.codeSet = codeSet
        self.association = association
        self.type = type
        self.isISCSISpecific = isISCSISpecific
        self.designator = designator
    }

    /// NAA designator for the logical unit (SPC-4 §7.8.6.6); 16 bytes for NAA 6.
    public static func naa(_ identifier: [UInt8]) -> Self {
        Self(codeSet: .binary, association: .logicalUnit, type: .naa, isISCSISpecific: false, designator: identifier)
    }

    /// Relative target port designator (SPC-4 §7.8.6.7): the port the command came through.
    public static func relativeTargetPort(_ identifier: UInt16) -> Self {
        Self(codeSet: .binary, association: .targetPort, type: .relativeTargetPort, isISCSISpecific: true,
             designator: [0, 0] + identifier.bigEndianBytes)
    }

    /// Target port group designator (SPC-4 §7.8.6.8).
    public static func targetPortGroup(_ group: UInt16) -> Self {
        Self(codeSet: .binary, association: .targetPort, type: .targetPortGroup, isISCSISpecific: true,
             designator: [0, 0] + group.bigEndianBytes)
    }

    /// SCSI name string designator (SPC-4 §7.8.6.11): UTF-8, NUL terminated, padded
    /// with NULs to a multiple of four bytes.
    public static func scsiNameString(_ name: String, association: Association) -> Self {
        var bytes = Array(name.utf8) + [0]
        bytes += [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4)
        return Self(codeSet: .utf8, association: association, type: .scsiNameString, isISCSISpecific: true,
                    designator: bytes)
    }

    /// The descriptor as it appears in the page: 4-byte header + designator.
    public var bytes: [UInt8] {
        let protocolIdentifier = isISCSISpecific ? Self.iscsiProtocolIdentifier : 0
        let piv: UInt8 = isISCSISpecific ? 0x80 : 0
        return [
            protocolIdentifier << 4 | codeSet.rawValue,
            piv | association.rawValue << 4 | type.rawValue,
            0x00,
            UInt8(designator.count),
        ] + designator
    }
}
