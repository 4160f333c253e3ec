@testable import CephCluster
import LUNBackends
import Logging
import NIOCore
import NIOPosix
import SCSIEngine
import SCSIProtocol
import Synchronization
import Testing

/// Device servers of two (or three) gateways sharing reservations through a real
/// cluster's objects and watch/notify: what a PERSISTENT RESERVE OUT through one
/// gateway does through the other, and the fencing of a gateway that does not answer.
/// Run by scripts/rbd-integration.sh like ``RADOSReservationStoreTests``.
@Suite("Gateways sharing reservations through RADOS", .enabled(if: testCephConf != nil, "needs SWIFTPORT_TEST_CEPH_CONF (scripts/rbd-integration.sh)"))
struct GatewaySharingTests {
    let prefix = "swiftport-test.\(UInt32.random(in: 0 ... .max)).\(UInt32.random(in: 0 ... .max))."
    static let logger = Logger(label: "gateway-test") { _ in SwiftLogNoOpLogHandler() }
    static let unit = LogicalUnitDescriptor(
        lun: 0, device: RAMBlockDevice(blockCount: 64), product: "VIRTUAL-DISK", revision: "0001", serial: "SHARED0",
        naaIdentifier: LogicalUnitDescriptor.naaIdentifier(seed: "gateway-sharing-test"))
    /// The initiator X through gateway A's port 1, Y through gateway B's port 2.
    static let x = ITNexus(initiatorPortName: "iqn.2026-12.test:x,i,0x1", relativeTargetPortIdentifier: 1, targetPortGroup: 1)
    static let y = ITNexus(initiatorPortName: "iqn.2026-12.test:y,i,0x2", relativeTargetPortIdentifier: 2, targetPortGroup: 2)
    static let keyX: UInt64 = 0x1111
    static let keyY: UInt64 = 0x2222

    /// A gateway's store: its own RADOS client (a timeout of its own gives a handle of
    /// its own), joined under `name` with `peers`.
    func gatewayStore(
        _ name: String, timeout: Int, peers: [String], acknowledgementTimeout: Int = 5, heartbeat: Int = 30
    ) async throws -> RADOSReservationStore {
        let store = try await RADOSReservationStore.open(
            cephConf: testCephConf!, client: "admin", keyring: nil, timeout: timeout, pool: "rbd", namespace: nil, objectPrefix: prefix,
            threadPool: NIOThreadPool.singleton)
        try await store.join(
            RADOSReservationStore.Membership(
                gateway: name, peers: peers, heartbeat: heartbeat, acknowledgementTimeout: acknowledgementTimeout, fenceDuration: 120,
                logger: Self.logger))
        return store
    }

    func device(_ store: RADOSReservationStore, nexus: ITNexus) async -> SCSITargetDevice {
        let device = await SCSITargetDevice.restoring(
            targetName: "iqn.2026-12.test:shared", logicalUnits: [Self.unit], logger: Self.logger, reservationStore: store)
        device.nexusLogin(nexus)
        while await device.execute(Self.command([0, 0, 0, 0, 0, 0], nexus: nexus)).status != .good {}
        return device
    }

    static func command(_ cdb: [UInt8], dataOut: [UInt8]? = nil, nexus: ITNexus) -> SCSICommand {
        SCSICommand(
            cdb: cdb + [UInt8](repeating: 0, count: 16 - cdb.count), lun: 0, dataOut: dataOut.map { ByteBuffer(bytes: $0) },
            expectedDataTransferLength: UInt32(dataOut?.count ?? 512), nexus: nexus)
    }

    /// PERSISTENT RESERVE OUT (SPC-4 §6.16): the service action, the type, the keys.
    static func reserveOut(
        _ device: SCSITargetDevice, _ action: UInt8, type: UInt8 = 0, key: UInt64 = 0, serviceActionKey: UInt64 = 0, nexus: ITNexus
    ) async -> SCSIStatus {
        let list = key.bigEndianBytes + serviceActionKey.bigEndianBytes + [UInt8](repeating: 0, count: 8)
        return await device.execute(command([0x5F, action, type, 0, 0, 0, 0, 0, 24, 0], dataOut: list, nexus: nexus)).status
    }

    static func write(_ device: SCSITargetDevice, nexus: ITNexus) async -> SCSIStatus {
        await device.execute(command([0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0], dataOut: [UInt8](repeating: 0x5A, count: 512), nexus: nexus)).status
    }

    @Test("PREEMPT through gateway B: X's next WRITE through gateway A meets RESERVATION CONFLICT, never GOOD")
    func preemptAcrossGateways() async throws {
        let storeA = try await gatewayStore("a", timeout: 50, peers: ["b"])
        let storeB = try await gatewayStore("b", timeout: 51, peers: ["a"])
        let a = await device(storeA, nexus: Self.x)
        let b = await device(storeB, nexus: Self.y)
        #expect(await Self.reserveOut(a, 0x00, serviceActionKey: Self.keyX, nexus: Self.x) == .good)
        #expect(await Self.reserveOut(a, 0x01, type: 0x01, key: Self.keyX, nexus: Self.x) == .good)
        #expect(await Self.write(b, nexus: Self.y) == .reservationConflict)
        #expect(await Self.reserveOut(b, 0x00, serviceActionKey: Self.keyY, nexus: Self.y) == .good)
        #expect(await Self.reserveOut(b, 0x04, type: 0x01, key: Self.keyY, serviceActionKey: Self.keyX, nexus: Self.y) == .good)
        // The unit attention (REGISTRATIONS PREEMPTED) first, then the conflict.
        #expect(await Self.write(a, nexus: Self.x) == .checkCondition)
        #expect(await Self.write(a, nexus: Self.x) == .reservationConflict)
        #expect(await Self.write(b, nexus: Self.y) == .good)
        try await storeA.leave()
        try await storeB.leave()
    }

    @Test("a gateway that does not acknowledge a change is fenced before the change answers GOOD", .timeLimit(.minutes(2)))
    func silentGatewayIsFenced() async throws {
        let storeA = try await gatewayStore("a", timeout: 52, peers: ["c"], acknowledgementTimeout: 2)
        let storeC = try await gatewayStore("c", timeout: 53, peers: ["a"])
        // Gateway C hears the change but never finishes applying it.
        storeC.onChange { _ in await withCheckedContinuation { (_: CheckedContinuation<Bool, Never>) in } }
        let toldFenced = Mutex(0)
        storeC.onFenced { toldFenced.withLock { $0 += 1 } }
        let a = await device(storeA, nexus: Self.x)
        #expect(try await storeC.load("anything") == nil)
        #expect(await Self.reserveOut(a, 0x00, serviceActionKey: Self.keyX, nexus: Self.x) == .good)
        // C's client is on the blocklist: the cluster refuses it from now on, and C is
        // told so once.
        await #expect(throws: SCSIEngineError.self) { _ = try await storeC.load("anything") }
        await #expect(throws: SCSIEngineError.self) { _ = try await storeC.load("anything") }
        #expect(toldFenced.withLock { $0 } == 1)
        try await storeA.leave()
    }

    @Test("a gateway that stops answering the heartbeats is fenced with no change made", .timeLimit(.minutes(1)))
    func silentGatewayFencedByHeartbeats() async throws {
        let storeA = try await gatewayStore("a", timeout: 56, peers: ["e"], heartbeat: 3)
        let told = Mutex<[String]>([])
        storeA.onPeerFenced { peer in told.withLock { $0.append(peer) } }
        let storeE = try await RADOSReservationStore.open(
            cephConf: testCephConf!, client: "admin", keyring: nil, timeout: 57, pool: "rbd", namespace: nil, objectPrefix: prefix,
            threadPool: NIOThreadPool.singleton)
        try await storeE.writeWhole(
            storeE.memberObject("e"), GatewayRecord(instance: storeE.clientInstance, address: storeE.cluster.address).serialized)
        var fences: [RADOSReservationStore.FenceEvent] = []
        for _ in 0..<100 where fences.isEmpty {
            try await Task.sleep(for: .milliseconds(100))
            fences = try await storeA.status(timeout: 1).fences
        }
        #expect(fences.map(\.gateway) == ["e"])
        #expect(fences.first?.unit == nil)
        for _ in 0..<50 where told.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(told.withLock { $0 } == ["e"])
        await #expect(throws: SCSIEngineError.self) { _ = try await storeE.load("anything") }
        try await storeA.leave()
    }

    @Test("a gateway with a record but no watch (its heartbeat lapsed) is fenced at the next change")
    func lapsedGatewayIsFenced() async throws {
        let storeA = try await gatewayStore("a", timeout: 54, peers: ["d"])
        // Gateway D's client, recorded as a member but not watching: a gateway whose
        // process froze or died, after the OSD dropped its watch.
        let storeD = try await RADOSReservationStore.open(
            cephConf: testCephConf!, client: "admin", keyring: nil, timeout: 55, pool: "rbd", namespace: nil, objectPrefix: prefix,
            threadPool: NIOThreadPool.singleton)
        try await storeD.writeWhole(
            storeD.memberObject("d"), GatewayRecord(instance: storeD.clientInstance, address: storeD.cluster.address).serialized)
        let a = await device(storeA, nexus: Self.x)
        #expect(await Self.reserveOut(a, 0x00, serviceActionKey: Self.keyX, nexus: Self.x) == .good)
        await #expect(throws: SCSIEngineError.self) { _ = try await storeD.load("anything") }
        // Its record is gone: the next change does not fence it again.
        #expect(try await storeA.read(storeA.memberObject("d")) == nil)
        try await storeA.leave()
    }
}
