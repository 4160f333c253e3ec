import SCSIProtocol

/// Derivation of a stable NAA designator (SPC-4 §7.8.6.6.5, NAA IEEE Registered
/// Extended designator format).
extension LogicalUnitDescriptor {
    /// The IEEE company identifier in our designators. 02-53-50 ("SP") has the
    /// locally-administered bit set: it cannot collide with a registered OUI, and a
    /// deployment that owns one should replace it.
    public static let designatorOUI: UInt32 = 0x02_5350

    /// A 16-byte NAA 6 designator derived deterministically from `seed` (for example
    /// "<target name>/<lun>"): NAA 6h, the 24-bit OUI, then 100 bits of two FNV-1a
    /// 64-bit hashes (36-bit VENDOR SPECIFIC IDENTIFIER + 64-bit extension). The same
    /// seed yields the same identity on every portal and after every restart.
    public static func naaIdentifier(seed: String) -> [UInt8] {
        let high = fnv1a64(Array(seed.utf8))
        let low = fnv1a64(Array(seed.utf8) + [0xFF])
        let oui = designatorOUI
        var bytes: [UInt8] = [
            0x60 | UInt8((oui >> 20) & 0x0F),
            UInt8((oui >> 12) & 0xFF),
            UInt8((oui >> 4) & 0xFF),
            UInt8((oui & 0x0F) << 4) | UInt8((high >> 32) & 0x0F),
        ]
        bytes += UInt32(truncatingIfNeeded: high).bigEndianBytes
        bytes += low.bigEndianBytes
        return bytes
    }

    /// FNV-1a, 64-bit: a tiny, well-known, stable hash; this is identity, not security.
    private static func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0xCBF2_9CE4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
    }
}
