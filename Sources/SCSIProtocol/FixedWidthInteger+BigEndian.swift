/// Big-endian byte helpers: every SCSI multi-byte field is big-endian (SPC-4 §3.5.3).
extension FixedWidthInteger {
    /// The value's bytes, most significant first.
    @inlinable
    public var bigEndianBytes: [UInt8] {
        (0..<(Self.bitWidth / 8)).reversed().map { UInt8(truncatingIfNeeded: self >> ($0 * 8)) }
    }
}
