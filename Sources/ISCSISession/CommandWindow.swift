import ISCSIProtocol

/// The CmdSN window of a session (RFC 7143 §4.2.2.1, §3.2.2.1): commands are handed on
/// in CmdSN order; immediate ones go at once; anything outside [ExpCmdSN, MaxCmdSN] is
/// ignored. Generic over the queued item so the transport can park whole PDUs here.
///
/// `receive` runs once per command, so it is inlinable: specialized in the transport
/// for its item type instead of instantiating generic metadata on every call.
public struct CommandWindow<Item> {
    /// The next CmdSN we expect.
    public var expCmdSN: SequenceNumber { nextExpected }
    @usableFromInline var nextExpected: SequenceNumber
    /// How many commands may be outstanding: MaxCmdSN = ExpCmdSN + depth - 1.
    public let depth: UInt32
    /// Arrived ahead of a gap, keyed by CmdSN.
    @usableFromInline var waiting: [UInt32: Item] = [:]

    public init(expCmdSN: SequenceNumber, depth: UInt32) {
        self.nextExpected = expCmdSN
        self.depth = depth
    }

    /// The largest CmdSN the initiator may send now.
    @inlinable
    public var maxCmdSN: SequenceNumber { nextExpected.advanced(by: depth - 1) }

    /// What happened to an arriving command.
    public enum Disposition {
        /// Outside the window (a duplicate or beyond MaxCmdSN): silently dropped (§4.2.2.1).
        case outOfWindow
        /// Ready to run, followed by any queued commands it unblocked, in order (usually
        /// none: an empty array, which costs no allocation on the per-command path).
        case deliver(Item, unblocked: [Item])
        /// Parked until the gap before it fills.
        case queued
    }

    /// Accepts a command carrying `cmdSN`. Immediate commands do not advance ExpCmdSN.
    @inlinable
    public mutating func receive(_ item: Item, cmdSN: SequenceNumber, immediate: Bool) -> Disposition {
        if immediate { return .deliver(item, unblocked: []) }
        guard nextExpected.precedesOrEquals(cmdSN), cmdSN.precedesOrEquals(maxCmdSN) else { return .outOfWindow }
        guard cmdSN == nextExpected else {
            guard waiting[cmdSN.rawValue] == nil else { return .outOfWindow }
            waiting[cmdSN.rawValue] = item
            return .queued
        }
        nextExpected = nextExpected.advanced(by: 1)
        var unblocked: [Item] = []
        while !waiting.isEmpty, let next = waiting.removeValue(forKey: nextExpected.rawValue) {
            unblocked.append(next)
            nextExpected = nextExpected.advanced(by: 1)
        }
        return .deliver(item, unblocked: unblocked)
    }

    /// Commands parked behind a gap; dropped when the connection ends.
    public var queuedCount: Int { waiting.count }
}

extension CommandWindow: Sendable where Item: Sendable {}
extension CommandWindow.Disposition: Sendable where Item: Sendable {}
