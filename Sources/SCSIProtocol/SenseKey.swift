/// The SENSE KEY field of sense data (SPC-4 §4.5.6, table 41): the broad class of a
/// CHECK CONDITION; the additional sense code narrows it down.
public struct SenseKey: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let noSense = SenseKey(rawValue: 0x0)
    public static let recoveredError = SenseKey(rawValue: 0x1)
    public static let notReady = SenseKey(rawValue: 0x2)
    public static let mediumError = SenseKey(rawValue: 0x3)
    public static let hardwareError = SenseKey(rawValue: 0x4)
    public static let illegalRequest = SenseKey(rawValue: 0x5)
    public static let unitAttention = SenseKey(rawValue: 0x6)
    public static let dataProtect = SenseKey(rawValue: 0x7)
    /// An EXTENDED COPY was aborted by the copy manager (SPC-4 §4.5.6).
    public static let copyAborted = SenseKey(rawValue: 0xA)
    public static let abortedCommand = SenseKey(rawValue: 0xB)
    public static let miscompare = SenseKey(rawValue: 0xE)

    public var description: String {
        "sense key 0x" + String(rawValue, radix: 16, uppercase: true)
    }
}
