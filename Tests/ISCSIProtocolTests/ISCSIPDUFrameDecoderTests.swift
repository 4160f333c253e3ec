import ISCSIProtocol
import NIOCore
import NIOEmbedded
import Testing

/// `ISCSIPDUFrameDecoder` frames exactly as `ISCSIPDUFramer` does under any
/// segmentation of the stream (RFC 7143 §11.2), including the PDUs that straddle reads.
@Suite("ISCSIPDUFrameDecoder")
struct ISCSIPDUFrameDecoderTests {
    /// Feeds `chunks` through the decoder and returns what came out.
    static func frames(_ chunks: [ByteBuffer], settings: ISCSIFramingSettings) throws -> [FrameSummary] {
        let channel = EmbeddedChannel(handler: ISCSIPDUFrameDecoder(settings: settings))
        defer { _ = try? channel.finish() }
        var out: [FrameSummary] = []
        for chunk in chunks {
            try channel.writeInbound(chunk)
            while let frame = try channel.readInbound(as: ISCSIInboundFrame.self) { out.append(FrameSummary(frame)) }
        }
        return out
    }

    static func stream(settings: ISCSIFramingSettings, samples: [PDUSample] = PDUSamples.all) -> (wire: ByteBuffer, expected: [FrameSummary]) {
        var wire = ByteBuffer()
        var expected: [FrameSummary] = []
        for sample in samples {
            var bytes = PDUCodec.encode(sample.pdu, settings: settings)
            wire.writeBuffer(&bytes)
            expected.append(.pdu(PDUCodec.bytes(sample.pdu)))
        }
        return (wire, expected)
    }

    @Test("one buffer, fixed-size chunks and byte-by-byte give the same frames", arguments: [DigestMode.none, .both])
    func segmentation(digests: DigestMode) throws {
        let settings = PDUCodec.settings(headerDigest: digests.headerDigest, dataDigest: digests.dataDigest)
        let (wire, expected) = Self.stream(settings: settings)
        #expect(try Self.frames([wire], settings: settings) == expected)
        // Byte by byte over the samples with short data segments (debug builds are slow).
        let (short, shortExpected) = Self.stream(settings: settings, samples: ISCSIPDUFramerTests.verifierSamples)
        var bytes: [ByteBuffer] = []
        for index in 0..<short.readableBytes { bytes.append(short.getSlice(at: short.readerIndex + index, length: 1)!) }
        #expect(try Self.frames(bytes, settings: settings) == shortExpected)
        for size in [3, 47, 48, 49, 52, 1000, 4099] {
            var rest = wire
            var chunks: [ByteBuffer] = []
            while rest.readableBytes > 0 { chunks.append(rest.readSlice(length: min(size, rest.readableBytes))!) }
            #expect(try Self.frames(chunks, settings: settings) == expected, "chunks of \(size)")
        }
    }

    @Test("every split point of a two-PDU stream")
    func everySplit() throws {
        let settings = PDUCodec.settings()
        var dataOut = DataOut()
        dataOut.data = .pattern(4097)
        var wire = PDUCodec.encode(.dataOut(dataOut), settings: settings)
        var second = PDUCodec.encode(.nopOut(NOPOut()), settings: settings)
        wire.writeBuffer(&second)
        let expected: [FrameSummary] = [.pdu(PDUCodec.bytes(.dataOut(dataOut))), .pdu(PDUCodec.bytes(.nopOut(NOPOut())))]
        for split in 1..<wire.readableBytes {
            let chunks = [wire.getSlice(at: 0, length: split)!, wire.getSlice(at: split, length: wire.readableBytes - split)!]
            #expect(try Self.frames(chunks, settings: settings) == expected, "split at \(split)")
        }
    }

    @Test("an over-long data segment is refused from the header alone, and the stream ends there")
    func refusesLongSegment() throws {
        let settings = PDUCodec.settings(maxReceiveDataSegmentLength: 8192)
        var dataOut = DataOut()
        dataOut.data = .pattern(8193)
        let wire = PDUCodec.encode(.dataOut(dataOut), settings: settings)
        let channel = EmbeddedChannel(handler: ISCSIPDUFrameDecoder(settings: settings))
        // Split inside the header: the error comes as soon as the header is whole.
        try channel.writeInbound(wire.getSlice(at: 0, length: 20)!)
        #expect(throws: ISCSIProtocolError.self) { try channel.writeInbound(wire.getSlice(at: 20, length: 40)!) }
        try channel.writeInbound(PDUCodec.encode(.nopOut(NOPOut()), settings: settings))
        #expect(try channel.readInbound(as: ISCSIInboundFrame.self) == nil)
        _ = try? channel.finish()
    }
}
