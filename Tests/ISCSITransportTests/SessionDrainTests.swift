import NIOConcurrencyHelpers
import Testing

@testable import ISCSITransport

/// What a reinstating login waits for (RFC 7143 §6.3.5).
@Suite("SessionDrain")
struct SessionDrainTests {
    @Test("whenAllDrained runs once the last session drains, at once when there are none")
    func allDrained() {
        let runs = NIOLockedValueBox(0)
        let first = SessionDrain(), second = SessionDrain()
        SessionDrain.whenAllDrained([first, second]) { runs.withLockedValue { $0 += 1 } }
        first.markDrained()
        #expect(runs.withLockedValue { $0 } == 0, "the second still has tasks")
        second.markDrained()
        #expect(runs.withLockedValue { $0 } == 1)

        SessionDrain.whenAllDrained([first]) { runs.withLockedValue { $0 += 1 } }
        #expect(runs.withLockedValue { $0 } == 2, "already drained: at once")
        SessionDrain.whenAllDrained([]) { runs.withLockedValue { $0 += 1 } }
        #expect(runs.withLockedValue { $0 } == 3)
    }
}
