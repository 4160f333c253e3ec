@testable import CephCluster
import Testing

/// The pieces of the gateway protocol that need no cluster: a notification's reply as
/// librados encodes it (librados.h, rados_notify2), and a gateway's member record.
@Suite("Notify reply and gateway record")
struct NotifyReplyTests {
    static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian, Array.init)
    }

    @Test("acknowledgements (with their payloads) and timeouts are read; a reply cut short is refused")
    func decodesTheReply() {
        let bytes: [UInt8] = Self.littleEndian(UInt32(2))
            + Self.littleEndian(UInt64(4115)) + Self.littleEndian(UInt64(1)) + Self.littleEndian(UInt32(3)) + [0x61, 0x62, 0x63]
            + Self.littleEndian(UInt64(4117)) + Self.littleEndian(UInt64(2)) + Self.littleEndian(UInt32(0))
            + Self.littleEndian(UInt32(1)) + Self.littleEndian(UInt64(4119)) + Self.littleEndian(UInt64(3))
        let reply = bytes.withUnsafeBytes { NotifyReply($0) }
        #expect(reply?.acknowledged == [4115, 4117])
        #expect(reply?.timedOut == [4119])
        for cut in [0, 3, 20, bytes.count - 1] {
            #expect(bytes.prefix(cut).withUnsafeBytes { NotifyReply($0) } == nil, "cut at \(cut)")
        }
    }

    @Test("a member record reads back; other text is refused")
    func memberRecord() {
        let record = GatewayRecord(instance: 4115, address: "127.0.0.1:0/2485981639")
        #expect(GatewayRecord(serialized: record.serialized) == record)
        #expect(GatewayRecord(serialized: "swiftport-gateway 1\ninstance x\naddress a\n") == nil)
        #expect(GatewayRecord(serialized: "swiftport-gateway 2\ninstance 1\naddress a\n") == nil)
    }
}

/// Who the heartbeats fence, pure: answers over time, no cluster.
@Suite("Heartbeat ledger")
struct HeartbeatLedgerTests {
    let start = ContinuousClock.now

    func at(_ seconds: Int) -> ContinuousClock.Instant { start + .seconds(seconds) }

    @Test("a member silent for the whole heartbeat is fenced once; one that answers is not")
    func silentMemberFencedOnce() {
        var ledger = HeartbeatLedger(silence: .seconds(10))
        #expect(ledger.observe(members: [1, 2], acknowledged: [1, 2], at: at(0)).isEmpty)
        #expect(ledger.observe(members: [1, 2], acknowledged: [1], at: at(5)).isEmpty)
        #expect(ledger.observe(members: [1, 2], acknowledged: [1], at: at(9)).isEmpty)
        #expect(ledger.observe(members: [1, 2], acknowledged: [1], at: at(10)) == [2])
        #expect(ledger.observe(members: [1, 2], acknowledged: [1], at: at(11)).isEmpty)
    }

    @Test("a gateway restarted (a new client under the same name) is not fenced for its predecessor's silence")
    func restartedGatewayStartsAfresh() {
        var ledger = HeartbeatLedger(silence: .seconds(10))
        #expect(ledger.observe(members: [1, 2], acknowledged: [1, 2], at: at(0)).isEmpty)
        // Client 2 killed; client 3 is the same gateway started again, its record just
        // written and its watch too late for this ping.
        #expect(ledger.observe(members: [1, 2], acknowledged: [1], at: at(3)).isEmpty)
        #expect(ledger.observe(members: [1, 3], acknowledged: [1], at: at(13)).isEmpty)
        #expect(ledger.observe(members: [1, 3], acknowledged: [1, 3], at: at(14)).isEmpty)
        #expect(ledger.observe(members: [1, 3], acknowledged: [1], at: at(23)).isEmpty)
        #expect(ledger.observe(members: [1, 3], acknowledged: [1], at: at(24)) == [3])
    }
}
