import BlockStorage
import ISCSIProtocol
import ISCSITestSupport
import LUNBackends
import NIOCore
import NIOEmbedded
import SCSIProtocol
import Testing

@testable import ISCSITransport

/// A RAM disk whose writes can be held, and the target exporting it as LUN 0.
private func makeHoldingTarget() -> (FaultInjectingBlockDevice, TargetServices) {
    let disk = FaultInjectingBlockDevice(
        wrapping: RAMBlockDevice(blockSize: ConnectionHarness.blockSize, blockCount: 64), faults: .init())
    return (disk, ConnectionHarness.makeServices(ConnectionHarness.makeTarget(blockDevice: disk)))
}

/// A logged-in session with its power-on unit attention taken.
private func loggedInSession(_ services: TargetServices, isid: UInt64 = 0x4000_0000_0001) async throws -> ConnectionHarness {
    let harness = try await ConnectionHarness(services: services)
    try await harness.login(isid: ISID(rawValue: isid))
    try await harness.command(CDB.testUnitReady)
    _ = try await harness.nextPDU()
    return harness
}

/// Sends a one-block WRITE(10) of `seed`'s pattern at `lba` that `disk` holds in the
/// backend, and waits (bounded) until it is held there; later writes pass.
private func writeHeldInBackend(
    _ disk: FaultInjectingBlockDevice, _ harness: ConnectionHarness, lba: UInt32, seed: UInt8, cancellable: Bool = false
) async throws -> InitiatorTaskTag {
    disk.setFaults(.init(holdingWriteLBAs: [UInt64(lba)], heldWritesCancellable: cancellable))
    let tag = try await harness.command(
        CDB.write10(lba: lba, blocks: 1), write: true, expectedLength: UInt32(ConnectionHarness.blockSize),
        immediateData: .pattern(ConnectionHarness.blockSize, seed: seed))
    for _ in 0..<600 where disk.heldWriteCount == 0 {
        try await Task.sleep(for: .milliseconds(5))
    }
    try #require(disk.heldWriteCount == 1, "the write reached the backend and is held there")
    if !cancellable { disk.setFaults(.init()) }
    return tag
}

/// Sends a one-block WRITE(10) at `lba` without data and returns its tag and the R2T
/// that asks for the data; nil (recorded) when no R2T comes.
private func writeAwaitingData(_ harness: ConnectionHarness, lba: UInt32) async throws -> (InitiatorTaskTag, ReadyToTransfer)? {
    let tag = try await harness.command(CDB.write10(lba: lba, blocks: 1), write: true, expectedLength: UInt32(ConnectionHarness.blockSize))
    guard case .readyToTransfer(let r2t) = try await harness.nextPDU() else {
        Issue.record("expected an R2T for the write at LBA \(lba)")
        return nil
    }
    return (tag, r2t)
}

/// Aborts that stop (SAM-5 §7, RFC 7143 §11.6.2): a task management response, the end
/// of a dropped connection's tasks and a reinstating login wait until every affected
/// task has left the device server, so nothing of an aborted write reaches the medium
/// after the initiator was told it is gone (when a multipath host has already retried
/// it, with newer data, down another path).
@Suite("Task abort")
struct TaskAbortTests {
    static let lba: UInt32 = 8
    static let blockSize = ConnectionHarness.blockSize

    /// Sends a one-block WRITE(10) of `seed`'s pattern at `lba` with immediate data.
    @discardableResult
    private static func write(_ harness: ConnectionHarness, seed: UInt8) async throws -> InitiatorTaskTag {
        try await harness.command(
            CDB.write10(lba: lba, blocks: 1), write: true, expectedLength: UInt32(blockSize),
            immediateData: .pattern(blockSize, seed: seed))
    }

    private static func readBack(_ harness: ConnectionHarness) async throws -> ByteBuffer? {
        try await read(harness, lba: lba)
    }

    private static func read(_ harness: ConnectionHarness, lba: UInt32) async throws -> ByteBuffer? {
        try await harness.command(CDB.read10(lba: lba, blocks: 1), read: true, expectedLength: UInt32(blockSize))
        guard case .dataIn(let dataIn) = try await harness.nextPDU() else { return nil }
        return dataIn.data
    }

    private static func taskManagementResponse(_ pdu: ISCSIPDU?) -> TaskManagementResponse? {
        guard case .taskManagementResponse(let response) = pdu else { return nil }
        return response
    }

    @Test("ABORT TASK of a write under way in the backend is answered only once the write has ended; the newer write from another path is what reads back")
    func abortTaskWaitsForTheWrite() async throws {
        let (disk, services) = makeHoldingTarget()
        let pathA = try await loggedInSession(services, isid: 0x4000_0000_0001)
        let pathB = try await loggedInSession(services, isid: 0x4000_0000_0002)

        let stale = try await writeHeldInBackend(disk, pathA, lba: Self.lba, seed: 1)

        let abort = try await pathA.taskManagement(.abortTask, referencedTaskTag: stale)
        let early = try await pathA.nextPDU(within: .milliseconds(300))
        #expect(early == nil, "no TMF response while the aborted write is still in the backend: \(String(describing: early))")

        var answer = Self.taskManagementResponse(early)
        if early != nil {
            // What a multipath host does once the abort is answered: the write again,
            // with newer data, down the other path. Only then does the stale one land.
            try await Self.write(pathB, seed: 2)
            _ = try await pathB.nextPDU()
            disk.releaseHeldWrites()
            try await Task.sleep(for: .milliseconds(50))
        } else {
            disk.releaseHeldWrites()
            answer = Self.taskManagementResponse(try await pathA.nextPDU())
            try await Self.write(pathB, seed: 2)
            guard case .scsiResponse(let written) = try await pathB.nextPDU() else {
                Issue.record("no SCSI Response to the retried write")
                return
            }
            #expect(written.status == 0)
        }
        #expect(answer?.initiatorTaskTag == abort)
        #expect(answer?.response == .functionComplete)
        #expect(try await pathA.nothingPending(), "no SCSI Response for the aborted task")
        #expect(try await Self.readBack(pathB) == .pattern(Self.blockSize, seed: 2), "the retried write is on the medium, not the aborted one")
    }

    @Test("ABORT TASK of a write still queued in the backend drops it: the medium keeps its old data")
    func abortTaskDropsQueuedWrite() async throws {
        let (disk, services) = makeHoldingTarget()
        let path = try await loggedInSession(services, isid: 0x4000_0000_0001)
        let queued = try await writeHeldInBackend(disk, path, lba: Self.lba, seed: 1, cancellable: true)

        let abort = try await path.taskManagement(.abortTask, referencedTaskTag: queued)
        let answer = Self.taskManagementResponse(try await path.nextPDU())
        #expect(answer?.initiatorTaskTag == abort)
        #expect(answer?.response == .functionComplete)
        #expect(disk.droppedWriteCount == 1, "the write was taken back before it started")
        disk.setFaults(.init())
        #expect(try await Self.readBack(path) == ByteBuffer(repeating: 0, count: Self.blockSize))
    }

    @Test("LOGICAL UNIT RESET from another session waits for the writes in the logical unit to end, and ends the other session's tasks with TASK ABORTED")
    func logicalUnitResetDrainsOtherSessions() async throws {
        let (disk, services) = makeHoldingTarget()
        let pathA = try await loggedInSession(services, isid: 0x4000_0000_0001)
        let pathB = try await loggedInSession(services, isid: 0x4000_0000_0002)
        let before = try await Self.read(pathB, lba: Self.lba + 1)
        let write = try await writeHeldInBackend(disk, pathA, lba: Self.lba, seed: 1)
        // A second write on path A still waits for the data of its R2T.
        guard let (waiting, r2t) = try await writeAwaitingData(pathA, lba: Self.lba + 1) else { return }

        let reset = try await pathB.taskManagement(.logicalUnitReset)
        let early = try await pathB.nextPDU(within: .milliseconds(300))
        #expect(early == nil, "no LOGICAL UNIT RESET response while a write is in the backend: \(String(describing: early))")
        disk.releaseHeldWrites()
        // TAS = 1 (SAM-5 §5.3.2): path A hears TASK ABORTED for both, the waiting write
        // at once, the held one once it has left the backend, so its host retries them
        // instead of waiting for a command timeout.
        var aborted: [InitiatorTaskTag: UInt8] = [:]
        while aborted.count < 2 {
            guard case .scsiResponse(let response) = try await pathA.nextPDU() else {
                Issue.record("expected a SCSI Response on path A")
                return
            }
            aborted[response.initiatorTaskTag] = response.status
        }
        #expect(aborted == [write: SCSIStatus.taskAborted.rawValue, waiting: SCSIStatus.taskAborted.rawValue])
        // Path B's response waits until path A's initiator has acknowledged those
        // responses (RFC 7143 §11.6.2 d), which the target asks for with a NOP-In.
        #expect(try await pathB.nextPDU(within: .milliseconds(200)) == nil, "no response before path A's acknowledgement")
        #expect(try await pathA.nextPDU(within: .milliseconds(200)) == nil, "path A answers the NOP-In, nothing else")
        let answer = early == nil ? Self.taskManagementResponse(try await pathB.nextPDU()) : Self.taskManagementResponse(early)
        #expect(answer?.initiatorTaskTag == reset)
        #expect(answer?.response == .functionComplete)
        try await pathA.sendFinalDataOut(.pattern(Self.blockSize, seed: 2), task: waiting, answering: r2t)
        #expect(try await pathA.nextPDU(within: .milliseconds(100)) == nil, "the late Data-Out of an ended task is ignored")
        try await pathB.command(CDB.testUnitReady)
        _ = try await pathB.nextPDU()  // BUS DEVICE RESET FUNCTION OCCURRED
        #expect(try await Self.read(pathB, lba: Self.lba + 1) == before, "the aborted write's data never reached the medium")
    }

    /// Sends PERSISTENT RESERVE OUT `action` (SPC-4 §6.16) with RESERVATION KEY `key`
    /// and SERVICE ACTION RESERVATION KEY `serviceActionKey`, Write Exclusive.
    private static func sendReserveOut(_ harness: ConnectionHarness, _ action: UInt8, key: UInt64, serviceActionKey: UInt64) async throws {
        var list = ByteBuffer()
        list.writeInteger(key)
        list.writeInteger(serviceActionKey)
        list.writeBytes([UInt8](repeating: 0, count: 8))
        try await harness.command([0x5F, action, 0x01, 0, 0, 0, 0, 0, 24, 0], write: true, expectedLength: 24, immediateData: list)
    }

    private static func status(_ pdu: ISCSIPDU?) -> UInt8? {
        guard case .scsiResponse(let response) = pdu else { return nil }
        return response.status
    }

    @Test("PREEMPT AND ABORT ends the preempted session's tasks in the unit (TASK ABORTED) before it answers GOOD (SPC-4 §5.12.11.2.6)")
    func preemptAndAbortEndsThePreemptedTasks() async throws {
        let (_, services) = makeHoldingTarget()
        let pathA = try await loggedInSession(services, isid: 0x4000_0000_0001)
        let pathB = try await loggedInSession(services, isid: 0x4000_0000_0002)
        try await Self.sendReserveOut(pathA, 0x00, key: 0, serviceActionKey: 0xAAAA)
        #expect(Self.status(try await pathA.nextPDU()) == SCSIStatus.good.rawValue)
        try await Self.sendReserveOut(pathB, 0x00, key: 0, serviceActionKey: 0xBBBB)
        #expect(Self.status(try await pathB.nextPDU()) == SCSIStatus.good.rawValue)
        let before = try await Self.read(pathA, lba: Self.lba)
        // Path B's write waits for the data of its R2T: inside the unit's gate, which
        // PREEMPT AND ABORT passes exclusively, so only aborting it first lets it in.
        guard let (waiting, r2t) = try await writeAwaitingData(pathB, lba: Self.lba) else { return }
        try await Self.sendReserveOut(pathA, 0x05, key: 0xAAAA, serviceActionKey: 0xBBBB)
        #expect(try await pathA.nextPDU(within: .milliseconds(300)) == nil, "no answer while path B's write is under way")
        guard case .scsiResponse(let aborted) = try await pathB.nextPDU() else {
            Issue.record("expected a SCSI Response on path B")
            return
        }
        #expect(aborted.initiatorTaskTag == waiting && aborted.status == SCSIStatus.taskAborted.rawValue)
        // The answer waits for path B's initiator to acknowledge that (a NOP-In it answers).
        #expect(try await pathA.nextPDU(within: .milliseconds(200)) == nil, "no answer before path B's acknowledgement")
        #expect(try await pathB.nextPDU(within: .milliseconds(200)) == nil, "path B answers the NOP-In, nothing else")
        #expect(Self.status(try await pathA.nextPDU()) == SCSIStatus.good.rawValue)
        try await pathB.sendFinalDataOut(.pattern(Self.blockSize, seed: 3), task: waiting, answering: r2t)
        #expect(try await Self.read(pathA, lba: Self.lba) == before, "the aborted write's data never reached the medium")
    }

    @Test("a reinstating login completes only once the old session's writes have left the backend")
    func reinstatementWaitsForTheOldSession() async throws {
        let (disk, services) = makeHoldingTarget()
        let old = try await loggedInSession(services, isid: 0x4000_0000_0001)
        _ = try await writeHeldInBackend(disk, old, lba: Self.lba, seed: 1)

        let releasedAt = ContinuousClock.now + .milliseconds(400)
        let release = Task {
            try await Task.sleep(until: releasedAt)
            disk.releaseHeldWrites()
        }
        let reinstating = try await ConnectionHarness(services: services)
        try await reinstating.login(isid: ISID(rawValue: 0x4000_0000_0001))
        #expect(ContinuousClock.now >= releasedAt, "the login completed while the old session's write was still in the backend")
        #expect(disk.heldWriteCount == 0)
        try await release.value
        #expect(!old.channel.isActive, "the old session's connection was closed")
    }

    @Test("ABORT TASK SET of a write whose R2T is unanswered is answered only once the initiator has ended that R2T's Data-Out, and nothing of it reaches the medium (RFC 7143 §11.5.1)")
    func abortTaskSetWaitsForTheR2TData() async throws {
        let (_, services) = makeHoldingTarget()
        let harness = try await loggedInSession(services)
        let before = try await Self.readBack(harness)
        guard let (write, r2t) = try await writeAwaitingData(harness, lba: Self.lba) else { return }
        let abort = try await harness.taskManagement(.abortTaskSet)
        let early = try await harness.nextPDU(within: .milliseconds(100))
        #expect(early == nil, "no response while the initiator still owes R2T \(r2t.targetTransferTag): \(String(describing: early))")
        // The initiator ends the sequence at once with F, as §11.5.1 asks.
        try await harness.sendFinalDataOut(.pattern(Self.blockSize / 2, seed: 7), task: write, answering: r2t)
        let response = Self.taskManagementResponse(try await harness.nextPDU())
        #expect(response?.initiatorTaskTag == abort && response?.response == .functionComplete)
        #expect(try await Self.readBack(harness) == before, "the aborted write left the medium as it was")
    }
}

/// Task attributes (SAM-5 §8.6) against a write held in the backend.
@Suite("Task attributes")
struct TaskAttributeTests {
    private static func session() async throws -> (FaultInjectingBlockDevice, ConnectionHarness) {
        let (disk, services) = makeHoldingTarget()
        return (disk, try await loggedInSession(services))
    }

    private static func tag(of pdu: ISCSIPDU) -> InitiatorTaskTag? {
        switch pdu {
        case .scsiResponse(let response): response.initiatorTaskTag
        case .dataIn(let dataIn): dataIn.status == nil ? nil : dataIn.initiatorTaskTag
        default: nil
        }
    }

    @Test("an ORDERED task waits for the tasks before it, and the SIMPLE task after it waits for it")
    func orderedWaitsForEarlierTasks() async throws {
        let (disk, harness) = try await Self.session()
        let write = try await writeHeldInBackend(disk, harness, lba: 8, seed: 9)
        let ordered = try await harness.command(CDB.read10(lba: 8, blocks: 1), read: true, expectedLength: 512, attribute: .ordered)
        let simple = try await harness.command(CDB.read10(lba: 20, blocks: 1), read: true, expectedLength: 512)
        let early = try await harness.nextPDU(within: .milliseconds(200))
        #expect(early == nil, "nothing completes while the write before the ORDERED task is in the backend: \(String(describing: early))")
        disk.releaseHeldWrites()
        var order: [InitiatorTaskTag] = early.flatMap(Self.tag(of:)).map { [$0] } ?? []
        var orderedData: ByteBuffer?
        while order.count < 3 {
            let pdu = try await harness.nextPDU()
            if case .dataIn(let dataIn) = pdu, dataIn.initiatorTaskTag == ordered { orderedData = dataIn.data }
            if let tag = Self.tag(of: pdu) { order.append(tag) }
        }
        #expect(order == [write, ordered, simple])
        #expect(orderedData == .pattern(512, seed: 9), "the ORDERED read saw the write before it")
    }

    @Test("an ORDERED task after a write still waiting for its Data-Out is held until the write has its data")
    func orderedWaitsForEarlierWriteData() async throws {
        let (_, harness) = try await Self.session()
        let payload = ByteBuffer.pattern(512, seed: 4)
        guard let (write, r2t) = try await writeAwaitingData(harness, lba: 8) else { return }
        let ordered = try await harness.command(CDB.read10(lba: 8, blocks: 1), read: true, expectedLength: 512, attribute: .ordered)
        let early = try await harness.nextPDU(within: .milliseconds(100))
        #expect(early == nil, "the ORDERED read waits for the write before it: \(String(describing: early))")
        try await harness.sendFinalDataOut(payload, task: write, answering: r2t)
        var order: [InitiatorTaskTag] = early.flatMap(Self.tag(of:)).map { [$0] } ?? []
        var orderedData: ByteBuffer?
        while order.count < 2 {
            let pdu = try await harness.nextPDU()
            if case .dataIn(let dataIn) = pdu, dataIn.initiatorTaskTag == ordered { orderedData = dataIn.data }
            if let tag = Self.tag(of: pdu) { order.append(tag) }
        }
        #expect(order == [write, ordered])
        #expect(orderedData == payload)
    }

    @Test("a HEAD OF QUEUE task runs at once, past an ORDERED task that waits")
    func headOfQueuePassesWaitingTasks() async throws {
        let (disk, harness) = try await Self.session()
        let write = try await writeHeldInBackend(disk, harness, lba: 8, seed: 9)
        let ordered = try await harness.command(CDB.read10(lba: 8, blocks: 1), read: true, expectedLength: 512, attribute: .ordered)
        let urgent = try await harness.command(CDB.read10(lba: 20, blocks: 1), read: true, expectedLength: 512, attribute: .headOfQueue)
        let first = try #require(try await harness.nextPDU(within: .milliseconds(500)), "the HEAD OF QUEUE read is answered while the write is held")
        #expect(Self.tag(of: first) == urgent)
        disk.releaseHeldWrites()
        var rest: [InitiatorTaskTag] = []
        while rest.count < 2 {
            if let tag = Self.tag(of: try await harness.nextPDU()) { rest.append(tag) }
        }
        #expect(rest == [write, ordered])
    }

    @Test("an ACA task is refused: no ACA condition exists with NACA = 0 (ILLEGAL REQUEST, INVALID FIELD IN CDB)")
    func acaRefused() async throws {
        let (_, harness) = try await Self.session()
        try await harness.command(CDB.testUnitReady, attribute: .aca)
        guard case .scsiResponse(let response) = try await harness.nextPDU() else {
            Issue.record("expected a SCSI Response")
            return
        }
        #expect(response.status == 0x02)
        let sense = Array(response.sense)
        #expect(sense.count >= 14 && sense[2] & 0x0F == 0x05 && sense[12] == 0x24, "ILLEGAL REQUEST, INVALID FIELD IN CDB: \(sense)")
    }
}
