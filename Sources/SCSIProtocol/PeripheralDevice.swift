/// Byte 0 of INQUIRY data and VPD pages: PERIPHERAL QUALIFIER and PERIPHERAL DEVICE TYPE
/// (SPC-4 §6.6.2, tables 141/142).
public struct PeripheralDevice: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Qualifier 000b, type 00h: a direct access block device is connected (SBC-3).
    public static let directAccessBlockDevice = PeripheralDevice(rawValue: 0x00)
    /// Qualifier 011b, type 1Fh: the device server cannot support a logical unit at
    /// this LUN (SPC-4 §6.6.2), the answer for INQUIRY to a LUN that does not exist.
    public static let notSupported = PeripheralDevice(rawValue: 0x7F)
}
