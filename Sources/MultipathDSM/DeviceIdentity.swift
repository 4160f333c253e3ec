import SCSIProtocol

/// The identity that groups paths into one multipath device (ARCHITECTURE.md §4).
///
/// Taken from the logical-unit designators of VPD 0x83 in the order of
/// ``DeviceIdentity/designatorPreference`` — NAA, then EUI-64, then SCSI name string —
/// and from the VPD 0x80 serial (qualified by vendor and product) only when the path
/// reports none of them. Two paths share a device exactly when their identities are
/// equal, so a device with an NAA never joins one identified by serial, whatever the
/// serials say.
public enum DeviceIdentity: Hashable, Sendable, CustomStringConvertible {
    /// NAA designator bytes (SPC-4 §7.8.6.6).
    case naa([UInt8])
    /// EUI-64 based designator bytes (SPC-4 §7.8.6.5).
    case eui64([UInt8])
    /// SCSI name string (SPC-4 §7.8.6.11), trailing NULs removed.
    case scsiNameString(String)
    /// The fallback: VPD 0x80 serial, meaningful only within one vendor's product.
    case serialNumber(vendor: String, product: String, serial: String)

    /// Designator types the DSM groups by, best first: the one place the order lives.
    static let designatorPreference: [@Sendable (DesignationDescriptor) -> DeviceIdentity?] = [
        { $0.type == .naa && !$0.designator.isEmpty ? .naa($0.designator) : nil },
        { $0.type == .eui64 && !$0.designator.isEmpty ? .eui64($0.designator) : nil },
        { descriptor in
            guard let name = descriptor.scsiName, !name.isEmpty else { return nil }
            return .scsiNameString(name)
        },
    ]

    /// The identity of the LU behind `path`, or nil when it reports neither a usable
    /// logical-unit designator nor a serial number (such a path cannot be multipathed).
    public init?(of path: PathIdentity) {
        let logicalUnit = path.designators.filter { $0.association == .logicalUnit }
        for extract in Self.designatorPreference {
            if let identity = logicalUnit.lazy.compactMap(extract).first {
                self = identity
                return
            }
        }
        guard let serial = path.serialNumber?.trimmingSpaces, !serial.isEmpty else { return nil }
        self = .serialNumber(vendor: path.vendor.trimmingSpaces, product: path.product.trimmingSpaces, serial: serial)
    }

    /// The name tools print: `naa.6001405…`, `eui.…`, the SCSI name, or
    /// `serial.VENDOR.PRODUCT.SERIAL`.
    public var description: String {
        switch self {
        case .naa(let bytes): "naa." + Self.hex(bytes)
        case .eui64(let bytes): "eui." + Self.hex(bytes)
        case .scsiNameString(let name): name
        case .serialNumber(let vendor, let product, let serial): "serial.\(vendor).\(product).\(serial)"
        }
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
    }
}
