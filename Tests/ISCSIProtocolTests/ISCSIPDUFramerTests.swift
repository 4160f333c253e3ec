import ISCSIProtocol
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

/// The framer's guarantees (RFC 7143 §11.2, §7.8, §13.12): exact framing under any
/// segmentation, bounded buffering, and digest failures mapped to the right outcome.
@Suite("ISCSIPDUFramer")
struct ISCSIPDUFramerTests {
    /// Drip-feeding is quadratic in debug builds, so the verifier gets the samples with
    /// short data segments; the round-trip tests cover the long ones.
    static let verifierSamples = PDUSamples.all.filter { ($0.pdu.message.dataSegment?.readableBytes ?? 0) <= 600 }

    @Test("ByteToMessageDecoderVerifier: drip-fed, many-in-one and shuffled input", arguments: [DigestMode.none, .both])
    func verifier(digests: DigestMode) throws {
        let settings = PDUCodec.settings(headerDigest: digests.headerDigest, dataDigest: digests.dataDigest)
        #expect(Self.verifierSamples.count >= 20)
        let pairs = Self.verifierSamples.map { sample in
            (PDUCodec.encode(sample.pdu, settings: settings), [FrameSummary.pdu(PDUCodec.bytes(sample.pdu))])
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            SummarizingFramer(settings: settings)
        }
    }

    @Test("ByteToMessageDecoderVerifier with Reject outcomes mixed in")
    func verifierWithRejects() throws {
        let settings = PDUCodec.settings(headerDigest: true, dataDigest: true)
        var nop = NOPOut()
        nop.data = .pattern(9)
        var corrupted = PDUCodec.encode(.nopOut(nop), settings: settings)
        corrupted.setInteger(UInt8(0xAA), at: 48 + 4)  // first data byte
        let header = corrupted.getBytes(at: 0, length: 48)!

        var unknown = [UInt8](repeating: 0, count: 48)
        unknown[0] = 0x1C
        var unknownWire = ByteBuffer(bytes: unknown)
        unknownWire.writeInteger(CRC32C.checksum(ByteBuffer(bytes: unknown)), endianness: .little)

        let pairs: [(ByteBuffer, [FrameSummary])] = [
            (corrupted, [.reject(.dataDigestError, header: header)]),
            (unknownWire, [.reject(.commandNotSupported, header: unknown)]),
            (PDUCodec.encode(.logoutRequest(LogoutRequest()), settings: settings), [.pdu(PDUCodec.bytes(.logoutRequest(LogoutRequest())))]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            SummarizingFramer(settings: settings)
        }
    }

    @Test("DataSegmentLength beyond MaxRecvDataSegmentLength is refused from the header alone")
    func refusesLongSegmentEarly() throws {
        let settings = PDUCodec.settings(maxReceiveDataSegmentLength: 8192)
        var dataOut = DataOut()
        dataOut.data = .pattern(8193)
        let wire = PDUCodec.encode(.dataOut(dataOut), settings: settings)
        var headerOnly = wire.getSlice(at: 0, length: 48)!
        let error = #expect(throws: ISCSIProtocolError.self) {
            _ = try ISCSIPDUFramer.decodeFrame(from: &headerOnly, settings: settings)
        }
        #expect(error?.code == .dataSegmentTooLong)

        // Exactly the limit is fine.
        dataOut.data = .pattern(8192)
        var atLimit = PDUCodec.encode(.dataOut(dataOut), settings: settings)
        _ = try PDUCodec.decodePDU(&atLimit, settings: settings)
    }

    @Test("header digest mismatch throws (RFC 7143 §7.8: the connection must end)", arguments: [0, 20, 48])
    func headerDigestMismatch(corruptAt offset: Int) throws {
        let settings = PDUCodec.settings(headerDigest: true)
        var wire = PDUCodec.encode(.nopOut(NOPOut()), settings: settings)
        wire.setInteger(wire.getInteger(at: offset, as: UInt8.self)! ^ 0x01, at: offset)
        let error = #expect(throws: ISCSIProtocolError.self) {
            _ = try ISCSIPDUFramer.decodeFrame(from: &wire, settings: settings)
        }
        #expect(error?.code == .headerDigestMismatch)
    }

    @Test("data digest mismatch yields Reject(data digest error) and skips the PDU")
    func dataDigestMismatch() throws {
        let settings = PDUCodec.settings(dataDigest: true)
        var dataOut = DataOut()
        dataOut.data = .pattern(10)
        var wire = PDUCodec.encode(.dataOut(dataOut), settings: settings)
        let digestOffset = wire.writerIndex - 4
        wire.setInteger(wire.getInteger(at: digestOffset, as: UInt32.self)! &+ 1, at: digestOffset)
        var next = PDUCodec.encode(.nopOut(NOPOut()), settings: settings)
        wire.writeBuffer(&next)

        let frame = try #require(try ISCSIPDUFramer.decodeFrame(from: &wire, settings: settings))
        guard case .reject(let reason, let header, _) = frame else {
            Issue.record("expected a reject, got \(frame)")
            return
        }
        #expect(reason == .dataDigestError)
        #expect(header.opcode == .dataOut)
        let following = try PDUCodec.decodePDU(&wire, settings: settings)
        #expect(PDUCodec.same(following, .nopOut(NOPOut())))
    }

    @Test("an undefined opcode yields Reject(command not supported)", arguments: [UInt8(0x07), 0x11, 0x1C, 0x27, 0x3E])
    func unknownOpcode(opcode: UInt8) throws {
        var bytes = [UInt8](repeating: 0, count: 48)
        bytes[0] = opcode
        bytes[7] = 3  // three data bytes, padded to four
        var wire = ByteBuffer(bytes: bytes + [1, 2, 3, 0])
        let frame = try #require(try ISCSIPDUFramer.decodeFrame(from: &wire, settings: PDUCodec.settings()))
        guard case .reject(let reason, let header, let error) = frame else {
            Issue.record("expected a reject, got \(frame)")
            return
        }
        #expect(reason == .commandNotSupported)
        #expect(header.bytes == bytes)
        #expect(error.code == .unknownOpcode)
        #expect(wire.readableBytes == 0)
    }

    @Test("an unsupported AHS type yields Reject(invalid PDU field)")
    func unsupportedAHS() throws {
        var command = SCSICommandRequest()
        command.cdb = [UInt8](repeating: 0, count: 16)
        var wire = PDUCodec.encode(.scsiCommand(command), settings: PDUCodec.settings())
        var bytes = Array(wire.readableBytesView)
        bytes[4] = 1
        bytes.insert(contentsOf: [0x00, 0x01, 0x09, 0x00], at: 48)
        wire = ByteBuffer(bytes: bytes)
        let frame = try #require(try ISCSIPDUFramer.decodeFrame(from: &wire, settings: PDUCodec.settings()))
        guard case .reject(let reason, _, let error) = frame else {
            Issue.record("expected a reject, got \(frame)")
            return
        }
        #expect(reason == .invalidPDUField)
        #expect(error.code == .invalidAdditionalHeader)
    }

    @Test("the encoder handler writes header, data and trailer in order")
    func encoderHandler() throws {
        let settings = PDUCodec.settings(headerDigest: true, dataDigest: true)
        let channel = EmbeddedChannel(handler: ISCSIPDUEncoder(settings: settings))
        var nop = NOPOut()
        nop.data = .pattern(6)
        try channel.writeOutbound(ISCSIPDU.nopOut(nop))
        var joined = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { joined.writeBuffer(&part) }
        #expect(joined == PDUCodec.encode(.nopOut(nop), settings: settings))
        #expect(try channel.finish().isClean)
    }
}
