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
    /// RESERVE(6) (SPC-2 §7.21).
    public static let reserve6 = SCSIOperationCode(rawValue: 0x16)
    /// RELEASE(6) (SPC-2 §7.17).
    public static let release6 = SCSIOperationCode(rawValue: 0x17)
    public static let modeSense6 = SCSIOperationCode(rawValue: 0x1A)
    public static let startStopUnit = SCSIOperationCode(rawValue: 0x1B)
    /// PREVENT ALLOW MEDIUM REMOVAL (SBC-3 §5.13).
    public static let preventAllowMediumRemoval = SCSIOperationCode(rawValue: 0x1E)
    public static let readCapacity10 = SCSIOperationCode(rawValue: 0x25)
    public static let read10 = SCSIOperationCode(rawValue: 0x28)
    public static let write10 = SCSIOperationCode(rawValue: 0x2A)
    /// WRITE AND VERIFY(10) (SBC-3 §5.38).
    public static let writeAndVerify10 = SCSIOperationCode(rawValue: 0x2E)
    public static let verify10 = SCSIOperationCode(rawValue: 0x2F)
    /// PRE-FETCH(10) (SBC-3 §5.11).
    public static let preFetch10 = SCSIOperationCode(rawValue: 0x34)
    public static let synchronizeCache10 = SCSIOperationCode(rawValue: 0x35)
    /// READ DEFECT DATA(10) (SBC-3 §5.19).
    public static let readDefectData10 = SCSIOperationCode(rawValue: 0x37)
    public static let writeSame10 = SCSIOperationCode(rawValue: 0x41)
    public static let unmap = SCSIOperationCode(rawValue: 0x42)
    public static let modeSelect10 = SCSIOperationCode(rawValue: 0x55)
    /// RESERVE(10) (SPC-2 §7.22).
    public static let reserve10 = SCSIOperationCode(rawValue: 0x56)
    /// RELEASE(10) (SPC-2 §7.18).
    public static let release10 = SCSIOperationCode(rawValue: 0x57)
    public static let modeSense10 = SCSIOperationCode(rawValue: 0x5A)
    /// PERSISTENT RESERVE IN (SPC-4 §6.15).
    public static let persistentReserveIn = SCSIOperationCode(rawValue: 0x5E)
    /// PERSISTENT RESERVE OUT (SPC-4 §6.16).
    public static let persistentReserveOut = SCSIOperationCode(rawValue: 0x5F)
    /// EXTENDED COPY (SPC-4 §6.3, LID1 service action 00h).
    public static let extendedCopy = SCSIOperationCode(rawValue: 0x83)
    /// RECEIVE COPY RESULTS (SPC-4 §6.18).
    public static let receiveCopyResults = SCSIOperationCode(rawValue: 0x84)
    public static let read16 = SCSIOperationCode(rawValue: 0x88)
    /// COMPARE AND WRITE (SBC-3 §5.2).
    public static let compareAndWrite = SCSIOperationCode(rawValue: 0x89)
    public static let write16 = SCSIOperationCode(rawValue: 0x8A)
    /// ORWRITE(16) (SBC-3 §5.10).
    public static let orWrite16 = SCSIOperationCode(rawValue: 0x8B)
    /// WRITE AND VERIFY(16) (SBC-3 §5.40).
    public static let writeAndVerify16 = SCSIOperationCode(rawValue: 0x8E)
    public static let verify16 = SCSIOperationCode(rawValue: 0x8F)
    /// PRE-FETCH(16) (SBC-3 §5.12).
    public static let preFetch16 = SCSIOperationCode(rawValue: 0x90)
    public static let synchronizeCache16 = SCSIOperationCode(rawValue: 0x91)
    public static let writeSame16 = SCSIOperationCode(rawValue: 0x93)
    /// SERVICE ACTION IN(16); service action 10h is READ CAPACITY(16) (SBC-3 §5.16),
    /// 12h GET LBA STATUS (SBC-3 §5.5).
    public static let serviceActionIn16 = SCSIOperationCode(rawValue: 0x9E)
    public static let reportLUNs = SCSIOperationCode(rawValue: 0xA0)
    /// MAINTENANCE IN; service action 0Ah is REPORT TARGET PORT GROUPS (SPC-4 §6.27),
    /// 0Ch REPORT SUPPORTED OPERATION CODES (SPC-4 §6.35), 0Dh REPORT SUPPORTED TASK
    /// MANAGEMENT FUNCTIONS (SPC-4 §6.36).
    public static let maintenanceIn = SCSIOperationCode(rawValue: 0xA3)
    /// MAINTENANCE OUT; service action 0Ah is SET TARGET PORT GROUPS (SPC-4 §6.39).
    public static let maintenanceOut = SCSIOperationCode(rawValue: 0xA4)
    public static let read12 = SCSIOperationCode(rawValue: 0xA8)
    public static let write12 = SCSIOperationCode(rawValue: 0xAA)
    /// WRITE AND VERIFY(12) (SBC-3 §5.39).
    public static let writeAndVerify12 = SCSIOperationCode(rawValue: 0xAE)
    /// VERIFY(12) (SBC-3 §5.34).
    public static let verify12 = SCSIOperationCode(rawValue: 0xAF)
    /// READ DEFECT DATA(12) (SBC-3 §5.20).
    public static let readDefectData12 = SCSIOperationCode(rawValue: 0xB7)

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
