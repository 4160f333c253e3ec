/// Typed wire values of RFC 7143 (STYLE.md §6): each integer with a meaning is a type.

/// A 32-bit sequence number compared with serial number arithmetic (RFC 1982, as
/// RFC 7143 §4.2.2.1 requires for CmdSN, StatSN, DataSN and R2TSN).
public struct SequenceNumber: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ value: UInt32) { self.rawValue = value }

    /// The number `n` steps after this one, wrapping at 2^32.
    public func advanced(by n: UInt32) -> SequenceNumber { SequenceNumber(rawValue &+ n) }

    /// Serial "less than" (RFC 1982 §3.2): true when `self` precedes `other` by less
    /// than 2^31. Pairs exactly 2^31 apart are undefined; we call them not less.
    public func precedes(_ other: SequenceNumber) -> Bool {
        let difference = other.rawValue &- rawValue
        return difference != 0 && difference < 0x8000_0000
    }

    /// Serial `self <= other`.
    public func precedesOrEquals(_ other: SequenceNumber) -> Bool {
        self == other || precedes(other)
    }

    public var description: String { String(rawValue) }
}

/// Initiator Task Tag: names a task on the initiator side (RFC 7143 §11.1.4.1).
/// 0xFFFFFFFF is reserved (NOP-In not answering a NOP-Out, asynchronous messages).
public struct InitiatorTaskTag: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ value: UInt32) { self.rawValue = value }
    public static let reserved = InitiatorTaskTag(0xFFFF_FFFF)
    public var description: String { "0x" + String(rawValue, radix: 16) }
}

/// Target Transfer Tag: names a transfer on the target side (R2T, NOP-In ping, Text
/// continuation). 0xFFFFFFFF means "none" (RFC 7143 §11.7.4).
public struct TargetTransferTag: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ value: UInt32) { self.rawValue = value }
    public static let reserved = TargetTransferTag(0xFFFF_FFFF)
    public var description: String { "0x" + String(rawValue, radix: 16) }
}

/// Initiator Session ID, 6 bytes (RFC 7143 §11.12.5): with the initiator name it names
/// the initiator port, and so the session.
public struct ISID: Hashable, Sendable, CustomStringConvertible {
    /// The 48-bit value in wire order (T, A, B, C, D fields), high bits first.
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue & 0xFFFF_FFFF_FFFF }
    /// "0x" and 12 hex digits, as in the SCSI initiator port name ",i,0x...".
    public var description: String {
        let hex = String(rawValue, radix: 16)
        return "0x" + String(repeating: "0", count: 12 - hex.count) + hex
    }
}

/// Target Session Identifying Handle (RFC 7143 §11.12.6): 0 in a login that creates
/// a session, otherwise the handle the target gave.
public struct TSIH: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ value: UInt16) { self.rawValue = value }
    public static let new = TSIH(0)
    public var description: String { String(rawValue) }
}

/// Connection ID within a session (RFC 7143 §11.12.7).
public typealias ConnectionID = UInt16
