/// One mode page (SPC-4 §7.5.7) in page_0 format: PAGE CODE, PAGE LENGTH, parameters.
public struct ModePage: Hashable, Sendable {
    /// PAGE CODE values (SPC-4 Annex E.2, SBC-3 table 138).
    public struct Code: RawRepresentable, Hashable, Sendable, Comparable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Caching mode page (SBC-3 §6.4.5).
        public static let caching = Code(rawValue: 0x08)
        /// Control mode page (SPC-4 §7.5.8).
        public static let control = Code(rawValue: 0x0A)
        /// Informational Exceptions Control mode page (SPC-4 §7.5.14).
        public static let informationalExceptions = Code(rawValue: 0x1C)
        /// "Return all mode pages" in MODE SENSE (SPC-4 §6.11).
        public static let allPages = Code(rawValue: 0x3F)

        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var code: Code
    /// The parameter bytes after the 2-byte header (PAGE LENGTH of them).
    public var parameters: [UInt8]

    public init(code: Code, parameters: [UInt8]) {
        self.code = code
        self.parameters = parameters
    }

    /// The page on the wire. PS = 0: we cannot save parameters (SPC-4 §7.5.7).
    public var bytes: [UInt8] {
        [code.rawValue & 0x3F, UInt8(parameters.count)] + parameters
    }

    /// Caching mode page (SBC-3 §6.4.5, table 168), PAGE LENGTH 12h. Only WCE (byte 2
    /// bit 2) is meaningful here; read caching is never disabled (RCD = 0).
    public static func caching(writeCacheEnabled: Bool) -> ModePage {
        var parameters = [UInt8](repeating: 0, count: 0x12)
        parameters[0] = writeCacheEnabled ? 0x04 : 0x00
        return ModePage(code: .caching, parameters: parameters)
    }

    /// D_SENSE in the first parameter byte of the control mode page (byte 2 bit 2):
    /// sense data in descriptor format (SPC-4 §7.5.8).
    public static let descriptorSenseBit: UInt8 = 0x04

    /// TAS in byte 5 of the control mode page (bit 7): a task aborted by another I_T
    /// nexus's task management function ends with TASK ABORTED status (SAM-5 §5.3.2).
    public static let taskAbortedStatusBit: UInt8 = 0x80

    /// Control mode page (SPC-4 §7.5.8, table 457), PAGE LENGTH 0Ah. TST 000b (one
    /// task set), GLTSD = 1 (no saved log parameters), D_SENSE as given, QUEUE
    /// ALGORITHM MODIFIER 1 (unrestricted reordering), QERR 00b, TAS = 1 (as Linux
    /// LIO: the other initiators retry at once instead of waiting for a timeout), BUSY
    /// TIMEOUT PERIOD FFFFh (unlimited).
    public static func control(descriptorSense: Bool) -> ModePage {
        ModePage(
            code: .control,
            parameters: [0x02 | (descriptorSense ? descriptorSenseBit : 0), 0x10, 0x00, taskAbortedStatusBit, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00])
    }

    /// The control mode page with fixed format sense data (D_SENSE = 0), the default.
    public static let control = control(descriptorSense: false)

    /// Informational Exceptions Control mode page (SPC-4 §7.5.14), PAGE LENGTH 0Ah:
    /// DEXCPT = 1, MRIE 0h, since this device server never reports failure prediction.
    public static let informationalExceptions = ModePage(
        code: .informationalExceptions, parameters: [0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 0])

    /// The same page with every bit zero except those MODE SELECT may change: the
    /// "changeable values" of MODE SENSE PC = 01b (SPC-4 §6.11).
    public static func changeableMask(for code: Code) -> ModePage? {
        switch code {
        case .caching: caching(writeCacheEnabled: true)
        case .control: ModePage(code: .control, parameters: [descriptorSenseBit] + [UInt8](repeating: 0, count: 0x09))
        case .informationalExceptions:
            ModePage(code: .informationalExceptions, parameters: [UInt8](repeating: 0, count: 0x0A))
        default: nil
        }
    }
}
