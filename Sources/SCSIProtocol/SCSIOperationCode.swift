/// The OPERATION CODE byte of a CDB (SPC-4 §4.2.5.1, SPC-4 Annex E.3 / SBC-3 table 13).
public struct SCSIOperationCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let testUnitReady = SCSIOperationCode(rawValue: 0x00)
    public static let requestSense = SCSIOperationCode(rawValue: 0x03)
    public static let read6 = SCSIOperationCode(rawValue: 0x08)
    public static let write6 = SCSIOperationCode(rawValue: 0x0A)
    public static let inquiry = SCSIOperationCode(rawValue: 0x12)
    public static let modeSelect6 = SCSIOperationCode(rawValue: 0x15)
    public static let modeSense6 = SCSIOperationCode(rawValue: 0x1A)
    public static let startStopUnit = SCSIOperationCode(rawValue: 0x1B)
    public static let readCapacity10 = SCSIOperationCode(rawValue: 0x25)
    public static let read10 = SCSIOperationCode(rawValue: 0x28)
    public static let write10 = SCSIOperationCode(rawValue: 0x2A)
    public static let verify10 = SCSIOperationCode(rawValue: 0x2F)
    public static let synchronizeCache10 = SCSIOperationCode(rawValue: 0x35)
    public static let writeSame10 = SCSIOperationCode(rawValue: 0x41)
    public static let unmap = SCSIOperationCode(rawValue: 0x42)
    public static let modeSelect10 = SCSIOperationCode(rawValue: 0x55)
    public static let modeSense10 = SCSIOperationCode(rawValue: 0x5A)
    public static let read16 = SCSIOperationCode(rawValue: 0x88)
    public static let write16 = SCSIOperationCode(rawValue: 0x8A)
    public static let verify16 = SCSIOperationCode(rawValue: 0x8F)
    public static let synchronizeCache16 = SCSIOperationCode(rawValue: 0x91)
    public static let writeSame16 = SCSIOperationCode(rawValue: 0x93)
    /// SERVICE ACTION IN(16); service action 10h is READ CAPACITY(16) (SBC-3 §5.16).
    public static let serviceActionIn16 = SCSIOperationCode(rawValue: 0x9E)
    public static let reportLUNs = SCSIOperationCode(rawValue: 0xA0)
    /// MAINTENANCE IN; service action 0Ch is REPORT SUPPORTED OPERATION CODES (SPC-4 §6.35).
    public static let maintenanceIn = SCSIOperationCode(rawValue: 0xA3)
    public static let read12 = SCSIOperationCode(rawValue: 0xA8)
    public static let write12 = SCSIOperationCode(rawValue: 0xAA)

    /// The CDB length implied by the GROUP CODE (SPC-4 §4.2.5.1, table 8), or nil for
    /// the variable-length and vendor-specific groups.
    public var cdbLength: Int? {
        switch rawValue >> 5 {
        case 0: 6
        case 1, 2: 10
        case 4: 16
        case 5: 12
        default: nil
        }
    }

    public var description: String {
        "opcode 0x" + String(rawValue, radix: 16, uppercase: true)
    }
}
