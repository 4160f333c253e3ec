import NIOCore

/// The 48-byte Basic Header Segment (RFC 7143 §11.2.1), with big-endian field access
/// by byte offset. PDU types read and write their fields through it.
public struct BasicHeaderSegment: Sendable, Hashable {
    /// Length of every BHS (RFC 7143 §11.2.1).
    public static let length = 48

    public private(set) var bytes: [UInt8]

    /// A zeroed header with the opcode byte set.
    public init(opcode: ISCSIOpcode, immediate: Bool = false) {
        bytes = [UInt8](repeating: 0, count: Self.length)
        bytes[0] = opcode.rawValue | (immediate ? 0x40 : 0)
    }

    /// Wraps 48 received bytes.
    public init(bytes: [UInt8]) {
        precondition(bytes.count == Self.length, "a BHS is 48 bytes")
        self.bytes = bytes
    }

    /// The opcode field, or nil for an opcode RFC 7143 does not define.
    public var opcode: ISCSIOpcode? { ISCSIOpcode(rawValue: bytes[0] & 0x3F) }
    /// The I bit: immediate delivery (RFC 7143 §11.1.1.1).
    public var isImmediate: Bool { bytes[0] & 0x40 != 0 }
    /// The F bit of byte 1, common to most PDUs.
    public var isFinal: Bool {
        get { bytes[1] & 0x80 != 0 }
        set { setFlag(0x80, at: 1, newValue) }
    }
    /// TotalAHSLength in 4-byte words (RFC 7143 §11.2.1.2).
    public var totalAHSLength: Int { Int(bytes[4]) }
    /// DataSegmentLength in bytes, without padding (RFC 7143 §11.2.1.3).
    public var dataSegmentLength: Int {
        get { Int(bytes[5]) << 16 | Int(bytes[6]) << 8 | Int(bytes[7]) }
        set {
            bytes[5] = UInt8(truncatingIfNeeded: newValue >> 16)
            bytes[6] = UInt8(truncatingIfNeeded: newValue >> 8)
            bytes[7] = UInt8(truncatingIfNeeded: newValue)
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

    mutating func setTotalAHSLength(words: Int) { bytes[4] = UInt8(words) }

    func flag(_ mask: UInt8, at offset: Int) -> Bool { bytes[offset] & mask != 0 }
    mutating func setFlag(_ mask: UInt8, at offset: Int, _ on: Bool) {
        if on { bytes[offset] |= mask } else { bytes[offset] &= ~mask }
    }
    func u8(_ offset: Int) -> UInt8 { bytes[offset] }
    mutating func setU8(_ offset: Int, _ value: UInt8) { bytes[offset] = value }
    func u16(_ offset: Int) -> UInt16 { UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1]) }
    mutating func setU16(_ offset: Int, _ value: UInt16) {
        bytes[offset] = UInt8(value >> 8)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value)
    }
    func u32(_ offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
    mutating func setU32(_ offset: Int, _ value: UInt32) {
        for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (24 - 8 * index)) }
    }
    func u48(_ offset: Int) -> UInt64 {
        bytes[offset..<offset + 6].reduce(0) { $0 << 8 | UInt64($1) }
    }
    mutating func setU48(_ offset: Int, _ value: UInt64) {
        for index in 0..<6 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (40 - 8 * index)) }
    }
    func u64(_ offset: Int) -> UInt64 {
        bytes[offset..<offset + 8].reduce(0) { $0 << 8 | UInt64($1) }
    }
    mutating func setU64(_ offset: Int, _ value: UInt64) {
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (56 - 8 * index)) }
    }
    func sequenceNumber(_ offset: Int) -> SequenceNumber { SequenceNumber(u32(offset)) }
    mutating func setSequenceNumber(_ offset: Int, _ value: SequenceNumber) { setU32(offset, value.rawValue) }
}
