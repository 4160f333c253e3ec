import CCRC32C
import NIOCore

/// CRC32C (Castagnoli), the iSCSI header and data digest (RFC 7143 §13.1, RFC 3720
/// Appendix B.4). The C module picks the SSE4.2 instruction at run time.
public enum CRC32C {
    /// The digest of a buffer's readable bytes, as sent on the wire (little-endian).
    /// Pass the digest of the bytes before as `continuing` to digest discontiguous parts.
    public static func checksum(_ buffer: ByteBuffer, continuing previous: UInt32? = nil) -> UInt32 {
        buffer.withUnsafeReadableBytes { checksum($0, continuing: previous) }
    }

    /// The digest of raw bytes, optionally continuing an earlier digest.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32? = nil) -> UInt32 {
        let register = previous.map { $0 ^ SWIFTPORT_CRC32C_XOROUT } ?? SWIFTPORT_CRC32C_INITIAL
        return swiftport_crc32c_update(register, bytes.baseAddress, bytes.count) ^ SWIFTPORT_CRC32C_XOROUT
    }
}
