/// PAGE CODE values of the vital product data pages we serve (SPC-4 §7.8, SBC-3 §6.5).
public struct VitalProductDataPageCode: RawRepresentable, Hashable, Sendable, Comparable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Supported VPD Pages (SPC-4 §7.8.16).
    public static let supportedPages = VitalProductDataPageCode(rawValue: 0x00)
    /// Unit Serial Number (SPC-4 §7.8.18).
    public static let unitSerialNumber = VitalProductDataPageCode(rawValue: 0x80)
    /// Device Identification (SPC-4 §7.8.6).
    public static let deviceIdentification = VitalProductDataPageCode(rawValue: 0x83)
    /// Extended INQUIRY Data (SPC-4 §7.8.7).
    public static let extendedInquiry = VitalProductDataPageCode(rawValue: 0x86)
    /// Third-party Copy (SPC-4 §7.8.17).
    public static let thirdPartyCopy = VitalProductDataPageCode(rawValue: 0x8F)
    /// Block Limits (SBC-3 §6.5.3).
    public static let blockLimits = VitalProductDataPageCode(rawValue: 0xB0)
    /// Block Device Characteristics (SBC-3 §6.5.2).
    public static let blockDeviceCharacteristics = VitalProductDataPageCode(rawValue: 0xB1)
    /// Logical Block Provisioning (SBC-3 §6.5.13).
    public static let logicalBlockProvisioning = VitalProductDataPageCode(rawValue: 0xB2)

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
