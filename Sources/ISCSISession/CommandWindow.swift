import ISCSIProtocol

/// The CmdSN window of a session (RFC 7143 §4.2.2.1, §3.2.2.1): commands are handed on
/// in CmdSN order; immediate ones go at once; anything outside [ExpCmdSN, MaxCmdSN] is
/// ignored. Generic over the queued item so the transport can park whole PDUs here.
public struct CommandWindow<Item: Sendable>: Sendable {
    /// The next CmdSN we expect.
    public private(set) var expCmdSN: SequenceNumber
    /// How many commands may be outstanding: MaxCmdSN = ExpCmdSN + depth - 1.
    public let depth: UInt32
    /// Arrived ahead of a gap, keyed by CmdSN.
    private var waiting: [UInt32: Item] = [:]

    public init(expCmdSN: SequenceNumber, depth: UInt32) {
        self.expCmdSN = expCmdSN
        self.depth = depth
    }

    /// The largest CmdSN the initiator may send now.
    public var maxCmdSN: SequenceNumber { expCmdSN.advanced(by: depth - 1) }

    /// What happened to an arriving command.
    public enum Disposition: Sendable {
        /// Outside the window (a duplicate or beyond MaxCmdSN): silently dropped (§4.2.2.1).
        case outOfWindow
        /// Ready to run, followed by any queued commands it unblocked, in order (usually
        /// none: an empty array, which costs no allocation on the per-command path).
        case deliver(Item, unblocked: [Item])
        /// Parked until the gap before it fills.
        case queued
    }

    /// Accepts a command carrying `cmdSN`. Immediate commands do not advance ExpCmdSN.
    public mutating func receive(_ item: Item, cmdSN: SequenceNumber, immediate: Bool) -> Disposition {
        if immediate { return .deliver(item, unblocked: []) }
        guard expCmdSN.precedesOrEquals(cmdSN), cmdSN.precedesOrEquals(maxCmdSN) else { return .outOfWindow }
        guard cmdSN == expCmdSN else {
            guard waiting[cmdSN.rawValue] == nil else { return .outOfWindow }
            waiting[cmdSN.rawValue] = item
            return .queued
        }
        expCmdSN = expCmdSN.advanced(by: 1)
        var unblocked: [Item] = []
        while !waiting.isEmpty, let next = waiting.removeValue(forKey: expCmdSN.rawValue) {
            unblocked.append(next)
            expCmdSN = expCmdSN.advanced(by: 1)
        }
        return .deliver(item, unblocked: unblocked)
    }

    /// Commands parked behind a gap; dropped when the connection ends.
    public var queuedCount: Int { waiting.count }
}
