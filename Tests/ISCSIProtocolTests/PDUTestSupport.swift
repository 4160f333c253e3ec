import ISCSIProtocol
import NIOCore
import Testing

/// Shared helpers for the codec tests: encode a PDU to one contiguous buffer, compare
/// decoded PDUs (ISCSIPDU itself is not Equatable, every message type is Hashable).
enum PDUCodec {
    /// Framing settings with the given digests and receive limit.
    static func settings(
        headerDigest: Bool = false, dataDigest: Bool = false,
        maxReceiveDataSegmentLength: Int = ISCSIFramingSettings.largestDataSegmentLength
    ) -> ISCSIFramingSettings {
        let settings = ISCSIFramingSettings()
        settings.headerDigest = headerDigest
        settings.dataDigest = dataDigest
        settings.maxReceiveDataSegmentLength = maxReceiveDataSegmentLength
        return settings
    }

    /// The wire bytes of `pdu` (header, data segment and trailer joined).
    static func encode(_ pdu: ISCSIPDU, settings: ISCSIFramingSettings) -> ByteBuffer {
        let frame = ISCSIPDUEncoder.encode(pdu.message, settings: settings)
        var bytes = frame.header
        if var data = frame.data { bytes.writeBuffer(&data) }
        if var trailer = frame.trailer { bytes.writeBuffer(&trailer) }
        return bytes
    }

    /// The wire bytes of `pdu` without digests, as an array.
    static func bytes(_ pdu: ISCSIPDU) -> [UInt8] {
        Array(encode(pdu, settings: settings()).readableBytesView)
    }

    /// True when both PDUs are the same message type with equal fields.
    static func same(_ lhs: ISCSIPDU, _ rhs: ISCSIPDU) -> Bool {
        guard let left = lhs.message as? any Hashable, let right = rhs.message as? any Hashable else { return false }
        return AnyHashable(left) == AnyHashable(right)
    }

    /// Decodes exactly one PDU from `buffer`, requiring it to be a PDU and not a Reject.
    static func decodePDU(_ buffer: inout ByteBuffer, settings: ISCSIFramingSettings) throws -> ISCSIPDU {
        let frame = try #require(try ISCSIPDUFramer.decodeFrame(from: &buffer, settings: settings))
        guard case .pdu(let pdu) = frame else {
            Issue.record("expected a PDU, got \(frame)")
            throw CodecTestError.unexpectedFrame
        }
        return pdu
    }
}

enum CodecTestError: Error {
    case unexpectedFrame
}

/// An Equatable stand-in for `ISCSIInboundFrame` so `ByteToMessageDecoderVerifier` can
/// compare outputs: a PDU by its digest-free wire bytes, a Reject by reason and header.
enum FrameSummary: Equatable, Sendable {
    case pdu([UInt8])
    case reject(ISCSIRejectReason, header: [UInt8])

    init(_ frame: ISCSIInboundFrame) {
        switch frame {
        case .pdu(let pdu): self = .pdu(PDUCodec.bytes(pdu))
        case .reject(let reason, let header, _): self = .reject(reason, header: header.bytes)
        }
    }
}

/// `ISCSIPDUFramer.decodeFrame` behind a decoder whose output is `FrameSummary`.
struct SummarizingFramer: ByteToMessageDecoder {
    typealias InboundOut = FrameSummary
    let settings: ISCSIFramingSettings

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try ISCSIPDUFramer.decodeFrame(from: &buffer, settings: settings) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(FrameSummary(frame)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// A named PDU for parameterised tests.
struct PDUSample: Sendable, CustomTestStringConvertible {
    let name: String
    let pdu: ISCSIPDU
    var testDescription: String { name }
}

/// Which digests a test runs with.
enum DigestMode: String, CaseIterable, Sendable {
    case none, header, data, both
    var headerDigest: Bool { self == .header || self == .both }
    var dataDigest: Bool { self == .data || self == .both }
}

extension ByteBuffer {
    /// A buffer holding `count` bytes of a deterministic pattern.
    static func pattern(_ count: Int, seed: UInt8 = 1) -> ByteBuffer {
        ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) })
    }
}
