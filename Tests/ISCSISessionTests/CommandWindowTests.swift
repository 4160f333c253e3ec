import ISCSIProtocol
import ISCSISession
import Testing

/// CmdSN ordering (RFC 7143 §3.2.2.1, §4.2.2.1).
@Suite("CommandWindow")
struct CommandWindowTests {
    private func delivered(_ disposition: CommandWindow<Int>.Disposition) -> [Int]? {
        if case .deliver(let item, let unblocked) = disposition { return [item] + unblocked }
        return nil
    }

    private func isQueued(_ disposition: CommandWindow<Int>.Disposition) -> Bool {
        if case .queued = disposition { return true }
        return false
    }

    private func isOutOfWindow(_ disposition: CommandWindow<Int>.Disposition) -> Bool {
        if case .outOfWindow = disposition { return true }
        return false
    }

    @Test("in-order commands are delivered at once and advance ExpCmdSN")
    func inOrder() {
        var window = CommandWindow<Int>(expCmdSN: SequenceNumber(10), depth: 4)
        #expect(window.maxCmdSN == SequenceNumber(13))
        #expect(delivered(window.receive(1, cmdSN: SequenceNumber(10), immediate: false)) == [1])
        #expect(delivered(window.receive(2, cmdSN: SequenceNumber(11), immediate: false)) == [2])
        #expect(window.expCmdSN == SequenceNumber(12))
        #expect(window.maxCmdSN == SequenceNumber(15))
    }

    @Test("a gap queues later commands; filling it delivers them in CmdSN order")
    func gapFill() {
        var window = CommandWindow<Int>(expCmdSN: SequenceNumber(1), depth: 8)
        #expect(isQueued(window.receive(3, cmdSN: SequenceNumber(3), immediate: false)))
        #expect(isQueued(window.receive(4, cmdSN: SequenceNumber(4), immediate: false)))
        #expect(isQueued(window.receive(6, cmdSN: SequenceNumber(6), immediate: false)))
        #expect(window.queuedCount == 3)
        #expect(window.expCmdSN == SequenceNumber(1))
        #expect(delivered(window.receive(1, cmdSN: SequenceNumber(1), immediate: false)) == [1])
        #expect(delivered(window.receive(2, cmdSN: SequenceNumber(2), immediate: false)) == [2, 3, 4])
        #expect(window.expCmdSN == SequenceNumber(5))
        #expect(window.queuedCount == 1)
        #expect(delivered(window.receive(5, cmdSN: SequenceNumber(5), immediate: false)) == [5, 6])
        #expect(window.queuedCount == 0)
    }

    @Test("duplicates and commands beyond MaxCmdSN are dropped")
    func outOfWindow() {
        var window = CommandWindow<Int>(expCmdSN: SequenceNumber(100), depth: 4)
        #expect(isOutOfWindow(window.receive(0, cmdSN: SequenceNumber(99), immediate: false)))
        #expect(isOutOfWindow(window.receive(0, cmdSN: SequenceNumber(104), immediate: false)))
        #expect(isQueued(window.receive(0, cmdSN: SequenceNumber(103), immediate: false)))
        #expect(isOutOfWindow(window.receive(0, cmdSN: SequenceNumber(103), immediate: false)), "a second copy of a queued CmdSN")
        _ = window.receive(0, cmdSN: SequenceNumber(100), immediate: false)
        #expect(isOutOfWindow(window.receive(0, cmdSN: SequenceNumber(100), immediate: false)), "already delivered")
        #expect(isOutOfWindow(window.receive(0, cmdSN: SequenceNumber(0x8000_0064), immediate: false)))
    }

    @Test("immediate commands bypass ordering and do not advance ExpCmdSN")
    func immediate() {
        var window = CommandWindow<Int>(expCmdSN: SequenceNumber(5), depth: 2)
        #expect(delivered(window.receive(9, cmdSN: SequenceNumber(5), immediate: true)) == [9])
        #expect(delivered(window.receive(8, cmdSN: SequenceNumber(500), immediate: true)) == [8])
        #expect(window.expCmdSN == SequenceNumber(5))
    }

    @Test("the window wraps at 2^32")
    func wrap() {
        var window = CommandWindow<Int>(expCmdSN: SequenceNumber(0xFFFF_FFFE), depth: 4)
        #expect(window.maxCmdSN == SequenceNumber(1))
        #expect(isQueued(window.receive(3, cmdSN: SequenceNumber(0), immediate: false)))
        #expect(isQueued(window.receive(4, cmdSN: SequenceNumber(1), immediate: false)))
        #expect(isOutOfWindow(window.receive(0, cmdSN: SequenceNumber(2), immediate: false)))
        #expect(delivered(window.receive(1, cmdSN: SequenceNumber(0xFFFF_FFFE), immediate: false)) == [1])
        #expect(delivered(window.receive(2, cmdSN: SequenceNumber(0xFFFF_FFFF), immediate: false)) == [2, 3, 4])
        #expect(window.expCmdSN == SequenceNumber(2))
        #expect(window.maxCmdSN == SequenceNumber(5))
    }
}
