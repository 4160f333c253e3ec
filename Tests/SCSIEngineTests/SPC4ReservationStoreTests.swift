import SCSIEngine
import SCSIProtocol
import Testing

/// PERSISTENT RESERVE OUT with APTPL and the ``ReservationStore`` it saves through
/// (SPC-4 §5.12.5, §6.16): GOOD only once the store has the new state, the logical
/// unit held meanwhile, the thread free.
@Suite("SPC-4 §5.12.5 APTPL through the reservation store")
struct SPC4ReservationStoreTests {
    typealias PR = SPC4PersistentReservationTests

    /// On the main actor, so the engine runs on one thread shared with this test: were
    /// the save to block it, nothing below the first await would run (the time limit
    /// fails the test).
    @MainActor
    @Test("§6.16 GOOD comes only after the save completes; the unit waits, the thread does not", .timeLimit(.minutes(1)))
    func outAwaitsTheSave() async throws {
        let store = TestReservationStore(holdsSaves: true)
        let target = await PR.readyTarget(store: store)
        let register = Task {
            let status = await PR.out(target, 0, serviceActionKey: PR.keyA, aptpl: true).status
            await store.note("PERSISTENT RESERVE OUT answered")
            return status
        }
        await store.awaitHeldSave()
        // Commands that do not enter the unit run while the save is held.
        #expect(await target.execute(TestFixture.command(CDB.inquiry())).status == .good)
        // One that enters it waits behind the exclusive PERSISTENT RESERVE OUT.
        let readKeys = Task {
            let keys = await PR.keys(target).keys
            await store.note("PERSISTENT RESERVE IN answered")
            return keys
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(await store.events == [.saveHeld])
        await store.releaseSaves()
        #expect(await register.value == .good)
        #expect(await readKeys.value == [PR.keyA])
        let events = await store.events
        #expect(events.prefix(2) == [.saveHeld, .saved])
        #expect(Set(events.dropFirst(2)) == [.noted("PERSISTENT RESERVE OUT answered"), .noted("PERSISTENT RESERVE IN answered")])
    }

    @Test("§6.16 a save that fails ends the command in CHECK CONDITION, INTERNAL TARGET FAILURE")
    func failedSave() async {
        let target = await PR.readyTarget(store: TestReservationStore(failsSaves: true))
        #expect(await PR.out(target, 0, serviceActionKey: PR.keyA, aptpl: true).hasSense(.internalTargetFailure))
        // Without APTPL nothing is saved, so nothing fails.
        #expect(await PR.out(target, 0, serviceActionKey: PR.keyB, nexus: TestFixture.nexusB).status == .good)
    }

    @Test("§6.16.4 APTPL = 0 in a later REGISTER removes the record; a restart then restores nothing")
    func aptplOffRemovesTheRecord() async {
        let store = TestReservationStore()
        let first = await PR.readyTarget(store: store)
        #expect(await PR.out(first, 0, serviceActionKey: PR.keyA, aptpl: true).status == .good)
        #expect(await store.records.count == 1)
        #expect(await PR.out(first, 0, key: PR.keyA, serviceActionKey: PR.keyB).status == .good)
        #expect(await store.records.isEmpty)
        #expect(await store.events == [.saved, .removed])
        let second = await PR.readyTarget(store: store)
        #expect(await PR.keys(second).keys.isEmpty)
    }

    @Test("a unit added live comes back with the reservations saved for it")
    func addedUnitRestores() async throws {
        let store = TestReservationStore()
        let first = await PR.readyTarget(store: store)
        #expect(await PR.out(first, 0, serviceActionKey: PR.keyA, aptpl: true).status == .good)
        let removed = try await first.removeLogicalUnit(0)
        try await first.addLogicalUnit(removed)
        await TestFixture.ready(first)
        #expect(await PR.keys(first).keys == [PR.keyA])
        // The re-added unit knows the record's version: its next save is no conflict.
        #expect(await PR.out(first, 1, type: 0x03, key: PR.keyA).status == .good)
    }
}
