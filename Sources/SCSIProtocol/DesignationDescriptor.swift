/// One designation descriptor of the Device Identification VPD page (SPC-4 §7.8.6.1,
/// table 484): what multipath layers group paths by (ARCHITECTURE.md §1).
public struct DesignationDescriptor: Hashable, Sendable {
    /// CODE SET (SPC-4 table 485). Open: another target may send any 4-bit value.
    public struct CodeSet: RawRepresentable, Hashable, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let binary = CodeSet(rawValue: 1)
        public static let ascii = CodeSet(rawValue: 2)
        public static let utf8 = CodeSet(rawValue: 3)
    }

    /// ASSOCIATION (SPC-4 table 486): what the designator names.
    public struct Association: RawRepresentable, Hashable, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// The logical unit itself: the only association that identifies a device.
        public static let logicalUnit = Association(rawValue: 0)
        /// The target port the command came through (differs per path by design).
        public static let targetPort = Association(rawValue: 1)
        /// The SCSI target device (shared by all its logical units).
        public static let targetDevice = Association(rawValue: 2)
    }

    /// DESIGNATOR TYPE (SPC-4 table 487). Open: vendor specific, T10 vendor ID, MD5 and
    /// others are carried as their number.
    public struct DesignatorType: RawRepresentable, Hashable, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// EUI-64 based (§7.8.6.5): 8, 12 or 16 binary bytes.
        public static let eui64 = DesignatorType(rawValue: 2)
        /// NAA (§7.8.6.6): 8 or 16 binary bytes, the first nibble the NAA format.
        public static let naa = DesignatorType(rawValue: 3)
        public static let relativeTargetPort = DesignatorType(rawValue: 4)
        public static let targetPortGroup = DesignatorType(rawValue: 5)
        /// SCSI name string (§7.8.6.11): UTF-8, e.g. an iSCSI name with `,L,0x…`.
        public static let scsiNameString = DesignatorType(rawValue: 8)
    }

    /// PROTOCOL IDENTIFIER for iSCSI (SPC-4 table 362).
    public static let iscsiProtocolIdentifier = ISCSITransportIdentifier.protocolIdentifier
    /// The 4-byte descriptor header (SPC-4 table 484).
    static let headerLength = 4

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

    /// NAA designator (SPC-4 §7.8.6.6), of the logical unit unless said otherwise;
    /// 16 bytes for NAA 6.
    public static func naa(_ identifier: [UInt8], association: Association = .logicalUnit) -> Self {
        Self(codeSet: .binary, association: association, type: .naa, isISCSISpecific: false, designator: identifier)
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

    /// The TARGET PORT GROUP of a target port group designator (SPC-4 §7.8.6.8), nil for
    /// any other designator.
    public var targetPortGroup: UInt16? {
        guard type == .targetPortGroup, association == .targetPort, designator.count == 4 else { return nil }
        return UInt16(designator[2]) << 8 | UInt16(designator[3])
    }

    /// The name of a SCSI name string designator up to its first NUL (SPC-4
    /// §7.8.6.11), nil for any other designator.
    public var scsiName: String? {
        guard type == .scsiNameString else { return nil }
        return String(decoding: designator.prefix { $0 != 0 }, as: UTF8.self)
    }
}
