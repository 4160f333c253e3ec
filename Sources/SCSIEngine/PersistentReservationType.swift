/// The TYPE of a persistent reservation (SPC-4 §6.16.3, table 210): who may access
/// the logical unit while it is held (SPC-4 §5.12.1, tables 63/64 and SBC-3 table 13).
enum PersistentReservationType: UInt8, CaseIterable, Sendable {
    case writeExclusive = 0x1
    case exclusiveAccess = 0x3
    case writeExclusiveRegistrantsOnly = 0x5
    case exclusiveAccessRegistrantsOnly = 0x6
    case writeExclusiveAllRegistrants = 0x7
    case exclusiveAccessAllRegistrants = 0x8

    /// Every registered I_T nexus is a reservation holder (SPC-4 §5.12.10).
    var isAllRegistrants: Bool {
        self == .writeExclusiveAllRegistrants || self == .exclusiveAccessAllRegistrants
    }

    /// Registered I_T nexuses that are not the holder get full access (registrants
    /// only and all registrants types).
    var admitsRegistrants: Bool {
        self != .writeExclusive && self != .exclusiveAccess
    }

    /// Exclusive Access types also keep non-holders from reading.
    var excludesReaders: Bool {
        self == .exclusiveAccess || self == .exclusiveAccessRegistrantsOnly || self == .exclusiveAccessAllRegistrants
    }

    /// The type's bit in the PERSISTENT RESERVATION TYPE MASK of REPORT CAPABILITIES
    /// (SPC-4 §6.15.4, table 203), bytes 4-5 read as one big-endian field.
    var typeMaskBit: UInt16 {
        switch self {
        case .writeExclusiveAllRegistrants: 0x8000
        case .exclusiveAccessRegistrantsOnly: 0x4000
        case .writeExclusiveRegistrantsOnly: 0x2000
        case .exclusiveAccess: 0x0800
        case .writeExclusive: 0x0200
        case .exclusiveAccessAllRegistrants: 0x0001
        }
    }
}
