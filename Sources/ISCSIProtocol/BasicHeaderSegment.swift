import NIOCore

/// The 48-byte Basic Header Segment (RFC 7143 §11.2.1), with big-endian field access
/// by byte offset. PDU types read and write their fields through it.
///
/// The bytes are stored inline (six 64-bit words in wire order), so decoding or
/// encoding a PDU never allocates for its header: this value is on the per-PDU path.
public struct BasicHeaderSegment: Sendable, Hashable {
    /// Length of every BHS (RFC 7143 §11.2.1).
    public static let length = 48

    private typealias Storage = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    private var storage: Storage = (0, 0, 0, 0, 0, 0)

    /// A zeroed header with the opcode byte set.
    public init(opcode: ISCSIOpcode, immediate: Bool = false) {
        setU8(0, opcode.rawValue | (immediate ? 0x40 : 0))
    }

    /// Wraps 48 received bytes.
    public init(bytes: [UInt8]) {
        precondition(bytes.count == Self.length, "a BHS is 48 bytes")
        withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: bytes) }
    }

    /// The first 48 readable bytes of `buffer`, or nil when fewer have arrived.
    public init?(buffer: ByteBuffer) {
        guard buffer.readableBytes >= Self.length else { return nil }
        buffer.withUnsafeReadableBytes { source in
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[..<Self.length])) }
        }
    }

    /// The 48 bytes as an array (allocates; for Reject payloads and tests).
    public var bytes: [UInt8] {
        withUnsafeBytes(of: storage) { Array($0) }
    }

    /// Appends the 48 bytes to `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        withUnsafeBytes(of: storage) { _ = buffer.writeBytes($0) }
    }

    /// Bytes `range` of the header as an array (the CDB of a SCSI Command).
    func bytes(in range: Range<Int>) -> [UInt8] {
        withUnsafeBytes(of: storage) { Array($0[range]) }
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.storage.0 == rhs.storage.0 && lhs.storage.1 == rhs.storage.1 && lhs.storage.2 == rhs.storage.2
            && lhs.storage.3 == rhs.storage.3 && lhs.storage.4 == rhs.storage.4 && lhs.storage.5 == rhs.storage.5
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes(of: storage) { hasher.combine(bytes: $0) }
    }

    /// The opcode field, or nil for an opcode RFC 7143 does not define.
    public var opcode: ISCSIOpcode? { ISCSIOpcode(rawValue: u8(0) & 0x3F) }
    /// The I bit: immediate delivery (RFC 7143 §11.1.1.1).
    public var isImmediate: Bool { u8(0) & 0x40 != 0 }
    /// The F bit of byte 1, common to most PDUs.
    public var isFinal: Bool {
        get { u8(1) & 0x80 != 0 }
        set { setFlag(0x80, at: 1, newValue) }
    }
    /// TotalAHSLength in 4-byte words (RFC 7143 §11.2.1.2).
    public var totalAHSLength: Int { Int(u8(4)) }
    /// DataSegmentLength in bytes, without padding (RFC 7143 §11.2.1.3).
    public var dataSegmentLength: Int {
        get { Int(u8(5)) << 16 | Int(u16(6)) }
        set {
            setU8(5, UInt8(truncatingIfNeeded: newValue >> 16))
            setU16(6, UInt16(truncatingIfNeeded: newValue))
        }
    }
    /// The LUN field (bytes 8-15) as a 64-bit SAM LUN.
    public var lun: UInt64 {
        get { u64(8) }
        set { setU64(8, newValue) }
    }
    /// Initiator Task Tag (bytes 16-19).
    public var initiatorTaskTag: InitiatorTaskTag {
        get { InitiatorTaskTag(u32(16)) }
        set { setU32(16, newValue.rawValue) }
    }

    mutating func setTotalAHSLength(words: Int) { setU8(4, UInt8(words)) }

    func flag(_ mask: UInt8, at offset: Int) -> Bool { u8(offset) & mask != 0 }
    mutating func setFlag(_ mask: UInt8, at offset: Int, _ on: Bool) {
        let byte = u8(offset)
        setU8(offset, on ? byte | mask : byte & ~mask)
    }
    func u8(_ offset: Int) -> UInt8 {
        withUnsafeBytes(of: storage) { $0[offset] }
    }
    mutating func setU8(_ offset: Int, _ value: UInt8) {
        withUnsafeMutableBytes(of: &storage) { $0[offset] = value }
    }
    func u16(_ offset: Int) -> UInt16 { load(offset, as: UInt16.self) }
    mutating func setU16(_ offset: Int, _ value: UInt16) { store(offset, value) }
    func u32(_ offset: Int) -> UInt32 { load(offset, as: UInt32.self) }
    mutating func setU32(_ offset: Int, _ value: UInt32) { store(offset, value) }
    func u48(_ offset: Int) -> UInt64 { UInt64(u16(offset)) << 32 | UInt64(u32(offset + 2)) }
    mutating func setU48(_ offset: Int, _ value: UInt64) {
        setU16(offset, UInt16(truncatingIfNeeded: value >> 32))
        setU32(offset + 2, UInt32(truncatingIfNeeded: value))
    }
    func u64(_ offset: Int) -> UInt64 { load(offset, as: UInt64.self) }
    mutating func setU64(_ offset: Int, _ value: UInt64) { store(offset, value) }
    func sequenceNumber(_ offset: Int) -> SequenceNumber { SequenceNumber(u32(offset)) }
    mutating func setSequenceNumber(_ offset: Int, _ value: SequenceNumber) { setU32(offset, value.rawValue) }

    /// A big-endian integer at a byte offset (any alignment).
    private func load<T: FixedWidthInteger>(_ offset: Int, as: T.Type) -> T {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= Self.length)
        return T(bigEndian: withUnsafeBytes(of: storage) { $0.loadUnaligned(fromByteOffset: offset, as: T.self) })
    }

    private mutating func store<T: FixedWidthInteger>(_ offset: Int, _ value: T) {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= Self.length)
        withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self) }
    }
}
