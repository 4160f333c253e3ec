/// The PERSISTENT RESERVE IN service actions (SPC-4 §6.15.1, table 197).
enum PersistentReserveInServiceAction: UInt8, CaseIterable, Sendable {
    case readKeys = 0x00
    case readReservation = 0x01
    case reportCapabilities = 0x02
    case readFullStatus = 0x03

    /// The name REPORT SUPPORTED OPERATION CODES and logs use.
    var name: String {
        switch self {
        case .readKeys: "READ KEYS"
        case .readReservation: "READ RESERVATION"
        case .reportCapabilities: "REPORT CAPABILITIES"
        case .readFullStatus: "READ FULL STATUS"
        }
    }
}
