import CephCluster
import NIOPosix
import SCSIEngine
import Testing

/// The shared reservation store against a real cluster: scripts/rbd-integration.sh runs
/// this suite with `SWIFTPORT_TEST_CEPH_CONF` naming its one-node cluster (and fails if
/// it was skipped); a plain `swift test` has no cluster and skips it.
@Suite("RADOS reservation store", .enabled(if: testCephConf != nil, "needs SWIFTPORT_TEST_CEPH_CONF (scripts/rbd-integration.sh)"))
struct RADOSReservationStoreTests {
    /// Every run writes objects of its own, so runs against one cluster never meet.
    let prefix = "swiftport-test.\(UInt32.random(in: 0 ... .max)).\(UInt32.random(in: 0 ... .max))."

    /// A store as a gateway opens it. Two timeouts give two cluster handles (the
    /// handle is shared per configuration, user and timeout), so `gateway: 1` and
    /// `gateway: 2` are two RADOS clients, as two gateways are.
    func store(gateway: Int = 1) async throws -> RADOSReservationStore {
        try await RADOSReservationStore.open(
            cephConf: testCephConf!, client: "admin", keyring: nil, timeout: 29 + gateway, pool: "rbd", namespace: nil, objectPrefix: prefix,
            threadPool: NIOThreadPool.singleton)
    }

    func expectConflict(_ operation: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            try await operation()
            Issue.record("a change from a stale version was accepted", sourceLocation: sourceLocation)
        } catch let error as SCSIEngineError {
            #expect(error.code == .reservationStoreConflict, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("a record is absent, created once, read back with the version its save returned")
    func createAndLoad() async throws {
        let store = try await store()
        #expect(try await store.load("lun-a") == nil)
        let text = "generation 1\nregistration 0x1 iqn.2026-12.io.example:host,i,0x1 ✓\n"
        let version = try await store.save(text, as: "lun-a", replacing: nil)
        #expect(try await store.load("lun-a") == ReservationRecord(text: text, version: version))
        // Created already: a second first save is someone else's.
        await expectConflict { _ = try await store.save("other", as: "lun-a", replacing: nil) }
        #expect(try await store.load("lun-a")?.text == text)
    }

    @Test("a save names the version it replaces: from a stale copy it changes nothing")
    func compareAndSwap() async throws {
        let store = try await store()
        let first = try await store.save("one", as: "lun-b", replacing: nil)
        let second = try await store.save("two", as: "lun-b", replacing: first)
        #expect(second != first)
        await expectConflict { _ = try await store.save("stale", as: "lun-b", replacing: first) }
        #expect(try await store.load("lun-b") == ReservationRecord(text: "two", version: second))
    }

    @Test("two gateways: the one that writes second from the same version loses, and sees the winner's record")
    func twoGateways() async throws {
        let a = try await store(gateway: 1), b = try await store(gateway: 2)
        let base = try await a.save("base", as: "lun-c", replacing: nil)
        let seen = try #require(try await b.load("lun-c"))
        #expect(seen == ReservationRecord(text: "base", version: base))
        let won = try await b.save("from b", as: "lun-c", replacing: base)
        await expectConflict { _ = try await a.save("from a", as: "lun-c", replacing: base) }
        #expect(try await a.load("lun-c") == ReservationRecord(text: "from b", version: won))
    }

    @Test("a removal names the version too; removing nothing is nothing")
    func remove() async throws {
        let store = try await store()
        try await store.remove("lun-d", replacing: nil)
        let first = try await store.save("one", as: "lun-d", replacing: nil)
        let second = try await store.save("two", as: "lun-d", replacing: first)
        await expectConflict { try await store.remove("lun-d", replacing: first) }
        try await store.remove("lun-d", replacing: second)
        #expect(try await store.load("lun-d") == nil)
        // Gone: a change naming its last version is a conflict, not a re-creation.
        await expectConflict { _ = try await store.save("three", as: "lun-d", replacing: second) }
        #expect(try await store.load("lun-d") == nil)
    }
}
