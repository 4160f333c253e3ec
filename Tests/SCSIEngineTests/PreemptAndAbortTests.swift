import ISCSITestSupport
import LUNBackends
import SCSIEngine
import SCSIProtocol
import Synchronization
import Testing

/// PREEMPT AND ABORT (SPC-4 §5.12.11.2.6): the preempted I_T nexuses' tasks in the
/// logical unit are aborted, through the port layer (``TaskAborter``), before the
/// command completes; on every gateway when the reservations are shared. And the tasks
/// a reset through another gateway ends.
@Suite("SPC-4 §5.12.11.2.6 PREEMPT AND ABORT aborts the preempted nexuses' tasks")
struct PreemptAndAbortTests {
    typealias PR = SPC4PersistentReservationTests

    /// What a test port layer was asked to abort.
    final class AbortLog: Sendable {
        struct Request: Sendable, Equatable {
            var lun: UInt16
            /// The nexuses of the fixture it selected.
            var nexuses: Set<String>
        }
        private let requests = Mutex<[Request]>([])
        var all: [Request] { requests.withLock { $0 } }

        /// An aborter that records each request, taking `delay` to finish.
        func aborter(delay: Duration = .zero) -> TaskAborter {
            { lun, matching in
                let selected = Set([TestFixture.nexusA, TestFixture.nexusB].filter(matching).map(\.initiatorPortName))
                try? await Task.sleep(for: delay)
                self.requests.withLock { $0.append(Request(lun: lun, nexuses: selected)) }
            }
        }
    }

    static let nameB = TestFixture.nexusB.initiatorPortName

    @Test("the preempted nexus's tasks are aborted before the command answers GOOD; PREEMPT does not abort")
    func preemptedTasksAbortedFirst() async {
        let target = TestFixture.target()
        let log = AbortLog()
        // Slow, so that an answer not waiting for it would come first.
        target.routeTaskAborts(to: log.aborter(delay: .milliseconds(50)))
        await TestFixture.ready(target)
        await TestFixture.ready(target, nexus: TestFixture.nexusB)
        #expect(await PR.out(target, 0, serviceActionKey: PR.keyA).status == .good)
        #expect(await PR.out(target, 0, serviceActionKey: PR.keyB, nexus: TestFixture.nexusB).status == .good)
        #expect(await PR.out(target, 1, type: 0x01, key: PR.keyB, nexus: TestFixture.nexusB).status == .good)
        #expect(await PR.out(target, 4, type: 0x01, key: PR.keyA, serviceActionKey: PR.keyB).status == .good)
        #expect(log.all.isEmpty, "PREEMPT aborts nothing")
        await SPC4ALUATests.clearUnitAttentions(target, nexus: TestFixture.nexusB)
        #expect(await PR.out(target, 0, serviceActionKey: PR.keyB, nexus: TestFixture.nexusB).status == .good)
        #expect(await PR.out(target, 5, type: 0x01, key: PR.keyA, serviceActionKey: PR.keyB).status == .good)
        // Before the command waits for the gate (a task of B's inside it would hold it
        // up), and again inside it, for what it preempted in the end.
        #expect(log.all == [.init(lun: 0, nexuses: [Self.nameB]), .init(lun: 0, nexuses: [Self.nameB])])
    }

    @Test("a task queued behind an exclusive command and aborted leaves the queue at once")
    func abortedWaiterLeavesTheGate() async throws {
        let disk = FaultInjectingBlockDevice(wrapping: RAMBlockDevice(blockCount: 2048), faults: .init(holdingWriteLBAs: [5]))
        let target = TestFixture.target([TestFixture.descriptor(device: disk)])
        await TestFixture.ready(target)
        // COMPARE AND WRITE passes the gate exclusively; its write is held inside.
        let expected = [UInt8](repeating: 0, count: 512), replacement = pattern(blocks: 1)
        let holder = Task {
            await target.execute(TestFixture.command(CDB.compareAndWrite(lba: 5, blocks: 1), dataOut: expected + replacement))
        }
        for _ in 0..<600 where disk.heldWriteCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
        try #require(disk.heldWriteCount == 1)
        let queued = Task { await target.execute(TestFixture.command(CDB.read10(lba: 0, blocks: 1))) }
        try await Task.sleep(for: .milliseconds(50))
        queued.cancel()
        #expect(await queued.value.status == .taskAborted)
        #expect(disk.heldWriteCount == 1, "answered while the holder is still inside")
        disk.releaseHeldWrites()
        #expect(await holder.value.status == .good)
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 0, blocks: 1))).status == .good, "the gate is whole")
    }

    @Test("shared: PREEMPT AND ABORT through gateway B aborts the preempted nexus's tasks on gateway A before it answers")
    func preemptAndAbortAcrossGateways() async {
        let space = TestSharedReservationSpace()
        let a = await SPC4SharedReservationTests.gateway(1, of: space, nexus: TestFixture.nexusA)
        let b = await SPC4SharedReservationTests.gateway(2, of: space, nexus: TestFixture.nexusB)
        let logA = AbortLog(), logB = AbortLog()
        a.routeTaskAborts(to: logA.aborter(delay: .milliseconds(50)))
        b.routeTaskAborts(to: logB.aborter())
        #expect(await PR.out(a, 0, serviceActionKey: PR.keyA).status == .good)
        #expect(await PR.out(a, 1, type: 0x01, key: PR.keyA).status == .good)
        #expect(await PR.out(b, 0, serviceActionKey: PR.keyB, nexus: TestFixture.nexusB).status == .good)
        #expect(await PR.out(b, 5, type: 0x01, key: PR.keyB, serviceActionKey: PR.keyA, nexus: TestFixture.nexusB).status == .good)
        #expect(logA.all == [.init(lun: 0, nexuses: [TestFixture.nexusA.initiatorPortName])])
        // B's own part, before the gate and inside it: the preempted nexus has no session
        // there, but is asked for all the same.
        #expect(logB.all == [.init(lun: 0, nexuses: [TestFixture.nexusA.initiatorPortName])] + [.init(lun: 0, nexuses: [TestFixture.nexusA.initiatorPortName])])
        #expect(space.published.last.map { ReservationChange(serialized: $0.serialized) == $0 } == true)
    }

    @Test("shared: a LOGICAL UNIT RESET through gateway A ends every task in the unit on gateway B")
    func resetAcrossGateways() async {
        let space = TestSharedReservationSpace()
        let a = await SPC4SharedReservationTests.gateway(1, of: space, nexus: TestFixture.nexusA)
        let b = await SPC4SharedReservationTests.gateway(2, of: space, nexus: TestFixture.nexusB)
        let logB = AbortLog()
        b.routeTaskAborts(to: logB.aborter())
        _ = await a.taskManagement(.logicalUnitReset, lun: TestFixture.wireLUN(0), nexus: TestFixture.nexusA)
        #expect(logB.all == [.init(lun: 0, nexuses: [TestFixture.nexusA.initiatorPortName, Self.nameB])])
    }
}
