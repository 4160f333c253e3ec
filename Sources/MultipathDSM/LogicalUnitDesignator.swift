/// A designator from the Device Identification VPD page (0x83, SPC-4 §7.8.6), as the
/// DSM needs it: typed by DESIGNATOR TYPE and tagged with its ASSOCIATION.
///
/// RemoteLUN decodes the page (SCSIProtocol) and hands every descriptor over; the DSM
/// ignores types it does not group by and anything not naming the logical unit.
public struct LogicalUnitDesignator: Hashable, Sendable {
    /// ASSOCIATION (SPC-4 table 486): what the designator names.
    public enum Association: UInt8, Hashable, Sendable {
        /// The logical unit itself: the only association that identifies a device.
        case logicalUnit = 0
        /// The target port the command came through (differs per path by design).
        case targetPort = 1
        /// The SCSI target device (shared by all its LUs).
        case targetDevice = 2
    }

    /// The designator's value, by DESIGNATOR TYPE (SPC-4 table 487).
    public enum Value: Hashable, Sendable {
        /// NAA (type 3, §7.8.6.6): 8 or 16 binary bytes, the first nibble the NAA format.
        case naa([UInt8])
        /// EUI-64 based (type 2, §7.8.6.5): 8, 12 or 16 binary bytes.
        case eui64([UInt8])
        /// SCSI name string (type 8, §7.8.6.11): UTF-8, e.g. an iSCSI name with `,L,0x…`.
        case scsiNameString(String)
        /// Any other type (vendor specific, T10 vendor ID, MD5…): carried, never grouped by.
        case other(type: UInt8, [UInt8])
    }

    public var association: Association
    public var value: Value

    public init(_ value: Value, association: Association = .logicalUnit) {
        self.value = value
        self.association = association
    }
}
