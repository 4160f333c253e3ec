import ISCSIProtocol
import ISCSISession
import NIOCore
import Testing

/// Data-Out sequencing (RFC 7143 §11.7, §11.8, §13.10-§13.17).
@Suite("WriteTransfer")
struct WriteTransferTests {
    /// Hands out transfer tags 1, 2, 3, …
    private struct Tags {
        var next: UInt32 = 1
        mutating func make() -> TargetTransferTag {
            defer { next += 1 }
            return TargetTransferTag(next)
        }
    }

    private func dataOut(tag: TargetTransferTag = .reserved, dataSN: UInt32, offset: UInt32, length: Int, final: Bool = false) -> DataOut {
        var pdu = DataOut()
        pdu.targetTransferTag = tag
        pdu.dataSN = SequenceNumber(dataSN)
        pdu.bufferOffset = offset
        pdu.data = ByteBuffer(repeating: 0x5A, count: length)
        pdu.isFinal = final
        return pdu
    }

    @Test("immediate data, then R2Ts of MaxBurstLength, MaxOutstandingR2T at a time")
    func r2tSequence() throws {
        var tags = Tags()
        var transfer = WriteTransfer(expectedLength: 4096, immediateLength: 512, unsolicitedExpected: false,
                                     firstBurstLength: 65536, maxBurstLength: 1024, maxOutstandingR2T: 2)
        #expect(transfer.received == 512)
        #expect(!transfer.awaitingUnsolicited)
        let first = transfer.nextRequests { tags.make() }
        #expect(first.map(\.bufferOffset) == [512, 1536])
        #expect(first.map(\.desiredLength) == [1024, 1024])
        #expect(first.map(\.r2tSN) == [SequenceNumber(0), SequenceNumber(1)])
        #expect(first.map(\.targetTransferTag) == [TargetTransferTag(1), TargetTransferTag(2)])
        #expect(transfer.nextRequests { tags.make() }.isEmpty, "two outstanding already")

        // The first R2T answered in two PDUs, DataSN restarting at 0 per R2T.
        try transfer.accept(dataOut(tag: TargetTransferTag(1), dataSN: 0, offset: 512, length: 512))
        #expect(transfer.nextRequests { tags.make() }.isEmpty)
        try transfer.accept(dataOut(tag: TargetTransferTag(1), dataSN: 1, offset: 1024, length: 512, final: true))
        let second = transfer.nextRequests { tags.make() }
        #expect(second.map(\.bufferOffset) == [2560])
        #expect(second.map(\.r2tSN) == [SequenceNumber(2)])
        try transfer.accept(dataOut(tag: TargetTransferTag(2), dataSN: 0, offset: 1536, length: 1024, final: true))
        let third = transfer.nextRequests { tags.make() }
        #expect(third.map(\.bufferOffset) == [3584])
        #expect(third.map(\.desiredLength) == [512], "the last R2T asks only for what is left")
        try transfer.accept(dataOut(tag: TargetTransferTag(3), dataSN: 0, offset: 2560, length: 1024, final: true))
        #expect(!transfer.isComplete)
        try transfer.accept(dataOut(tag: TargetTransferTag(4), dataSN: 0, offset: 3584, length: 512, final: true))
        #expect(transfer.isComplete)
        #expect(transfer.nextRequests { tags.make() }.isEmpty)
    }

    @Test("unsolicited Data-Out up to FirstBurstLength before the first R2T (InitialR2T=No)")
    func unsolicited() throws {
        var tags = Tags()
        var transfer = WriteTransfer(expectedLength: 16384, immediateLength: 1024, unsolicitedExpected: true,
                                     firstBurstLength: 4096, maxBurstLength: 65536, maxOutstandingR2T: 1)
        #expect(transfer.awaitingUnsolicited)
        #expect(transfer.nextRequests { tags.make() }.isEmpty, "no R2T while unsolicited data is due")
        try transfer.accept(dataOut(dataSN: 0, offset: 1024, length: 2048))
        try transfer.accept(dataOut(dataSN: 1, offset: 3072, length: 1024, final: true))
        #expect(!transfer.awaitingUnsolicited)
        let requests = transfer.nextRequests { tags.make() }
        #expect(requests.map(\.bufferOffset) == [4096])
        #expect(requests.map(\.desiredLength) == [12288])
        try transfer.accept(dataOut(tag: TargetTransferTag(1), dataSN: 0, offset: 4096, length: 12288, final: true))
        #expect(transfer.isComplete)
    }

    @Test("immediate data alone can complete a write")
    func immediateOnly() {
        var transfer = WriteTransfer(expectedLength: 512, immediateLength: 512, unsolicitedExpected: false,
                                     firstBurstLength: 65536, maxBurstLength: 262_144, maxOutstandingR2T: 1)
        #expect(transfer.isComplete)
        #expect(transfer.nextRequests { TargetTransferTag(1) }.isEmpty)
    }

    @Test("unsolicited data beyond FirstBurstLength is refused")
    func unsolicitedBeyondFirstBurst() {
        var transfer = WriteTransfer(expectedLength: 16384, immediateLength: 0, unsolicitedExpected: true,
                                     firstBurstLength: 4096, maxBurstLength: 65536, maxOutstandingR2T: 1)
        #expect(throws: WriteTransfer.Violation.self) {
            try transfer.accept(dataOut(dataSN: 0, offset: 0, length: 8192))
        }
    }

    @Test("an unsolicited burst ended early with the F bit is refused, not left hanging")
    func shortUnsolicitedBurst() throws {
        var tags = Tags()
        var transfer = WriteTransfer(expectedLength: 16384, immediateLength: 0, unsolicitedExpected: true,
                                     firstBurstLength: 4096, maxBurstLength: 65536, maxOutstandingR2T: 1)
        // RFC 7143 §13.14 / LIO: unsolicited data is FirstBurstLength or the whole
        // transfer. Accepting a short burst would make the first R2T start at 4096
        // while 1024..<4096 was never sent.
        do {
            try transfer.accept(dataOut(dataSN: 0, offset: 0, length: 1024, final: true))
        } catch {
            return  // refused: fine
        }
        let requests = transfer.nextRequests { tags.make() }
        #expect(requests.first?.bufferOffset == transfer.received, "R2T must start where the data stopped")
    }

    @Test("wrong offset, DataSN, transfer tag or length is refused", arguments: 0..<5)
    func violations(kind: Int) throws {
        var tags = Tags()
        var transfer = WriteTransfer(expectedLength: 2048, immediateLength: 0, unsolicitedExpected: false,
                                     firstBurstLength: 65536, maxBurstLength: 1024, maxOutstandingR2T: 1)
        let r2t = try #require(transfer.nextRequests { tags.make() }.first)
        try transfer.accept(dataOut(tag: r2t.targetTransferTag, dataSN: 0, offset: 0, length: 512))
        let bad: DataOut = switch kind {
        case 0: dataOut(tag: r2t.targetTransferTag, dataSN: 1, offset: 1024, length: 512)  // skips 512..<1024
        case 1: dataOut(tag: r2t.targetTransferTag, dataSN: 0, offset: 512, length: 512)  // DataSN repeated
        case 2: dataOut(tag: TargetTransferTag(99), dataSN: 1, offset: 512, length: 512)  // unknown TTT
        case 3: dataOut(tag: r2t.targetTransferTag, dataSN: 1, offset: 512, length: 2048)  // past EDTL
        default: dataOut(dataSN: 0, offset: 512, length: 512)  // unsolicited when none is allowed
        }
        #expect(throws: WriteTransfer.Violation.self) { try transfer.accept(bad) }
        #expect(transfer.received == 512, "a refused PDU changes nothing")
    }

    @Test("after an abort, each outstanding R2T's sequence ends with its last byte or with F; other Data-Out changes nothing")
    func drainAfterAbort() {
        var tags = Tags()
        var transfer = WriteTransfer(expectedLength: 4096, immediateLength: 0, unsolicitedExpected: false,
                                     firstBurstLength: 65536, maxBurstLength: 1024, maxOutstandingR2T: 2)
        _ = transfer.nextRequests { tags.make() }  // TTT 1: 0..<1024, TTT 2: 1024..<2048
        #expect(transfer.hasOutstandingRequests)
        transfer.drain(dataOut(tag: TargetTransferTag(9), dataSN: 0, offset: 0, length: 1024, final: true))
        transfer.drain(dataOut(tag: .reserved, dataSN: 0, offset: 0, length: 1024, final: true))
        transfer.drain(dataOut(tag: TargetTransferTag(1), dataSN: 0, offset: 0, length: 512))
        #expect(transfer.hasOutstandingRequests, "unknown tags, unsolicited data and a partial sequence end nothing")
        transfer.drain(dataOut(tag: TargetTransferTag(1), dataSN: 1, offset: 512, length: 512))
        transfer.drain(dataOut(tag: TargetTransferTag(2), dataSN: 0, offset: 1024, length: 100, final: true))
        #expect(!transfer.hasOutstandingRequests)
    }
}
