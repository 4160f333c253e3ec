import NIOCore

/// Framing parameters that change at the start of Full Feature Phase (ARCHITECTURE.md
/// §5): digests and MaxRecvDataSegmentLength. One instance is shared by the framer and
/// encoder of a connection and touched only on that connection's event loop.
public final class ISCSIFramingSettings: @unchecked Sendable {
    /// RFC 7143 §13.12: the initiator may send 8192 bytes during login whatever we declare.
    public static let loginMaxDataSegmentLength = 8192
    /// The 24-bit DataSegmentLength field's ceiling (RFC 7143 §11.2.1.3).
    public static let largestDataSegmentLength = (1 << 24) - 1

    // The connection's event loop is the only thread that reads or writes these.
    // (Release builds skip run-time exclusivity checks everywhere: Package.swift.)

    /// CRC32C over BHS+AHS (HeaderDigest=CRC32C).
    public var headerDigest = false
    /// CRC32C over the padded data segment (DataDigest=CRC32C).
    public var dataDigest = false
    /// The longest data segment we accept from the peer: our declared
    /// MaxRecvDataSegmentLength (never less than the login-phase 8192).
    public var maxReceiveDataSegmentLength = ISCSIFramingSettings.loginMaxDataSegmentLength

    public init() {}
}

/// What the framer hands to the connection: a decoded PDU, or a PDU that must be
/// answered with a Reject (RFC 7143 §11.17) but does not end the connection.
public enum ISCSIInboundFrame: Sendable {
    case pdu(ISCSIPDU)
    case reject(ISCSIRejectReason, header: BasicHeaderSegment, error: ISCSIProtocolError)
}

/// How a byte stream splits into PDUs (RFC 7143 §11.2): BHS, AHS, header digest, data
/// segment padded to 4 bytes, data digest. ``ISCSIPDUStreamDecoder`` applies these to
/// a connection's reads: it never waits for more than the header promises, and a data
/// segment longer than MaxRecvDataSegmentLength is refused before it is read, so a
/// peer cannot make it buffer unbounded input.
public enum ISCSIPDUFramer {
    /// The wire length of the PDU `header` starts: BHS, AHS, header digest, padded data
    /// segment and data digest. Throws for a data segment longer than we accept, so the
    /// caller never waits for (or buffers) it.
    public static func frameLength(of header: BasicHeaderSegment, settings: ISCSIFramingSettings) throws(ISCSIProtocolError) -> Int {
        let dataLength = header.dataSegmentLength
        guard dataLength <= settings.maxReceiveDataSegmentLength else {
            throw ISCSIProtocolError(
                .dataSegmentTooLong,
                "DataSegmentLength \(dataLength) exceeds our MaxRecvDataSegmentLength \(settings.maxReceiveDataSegmentLength) (RFC 7143 §13.12)"
            )
        }
        let headerDigestLength = settings.headerDigest ? 4 : 0
        let dataDigestLength = settings.dataDigest && dataLength > 0 ? 4 : 0
        return BasicHeaderSegment.length + header.totalAHSLength * 4 + headerDigestLength + ((dataLength + 3) & ~3) + dataDigestLength
    }

    /// Decodes one frame from the front of `buffer`, or returns nil (consuming
    /// nothing) when the whole PDU has not arrived yet.
    public static func decodeFrame(from buffer: inout ByteBuffer, settings: ISCSIFramingSettings) throws(ISCSIProtocolError) -> ISCSIInboundFrame? {
        guard let header = BasicHeaderSegment(buffer: buffer) else { return nil }
        let total = try frameLength(of: header, settings: settings)
        guard buffer.readableBytes >= total else { return nil }
        let ahsLength = header.totalAHSLength * 4
        let headerDigestLength = settings.headerDigest ? 4 : 0
        let dataLength = header.dataSegmentLength
        let paddedDataLength = (dataLength + 3) & ~3
        let dataDigestLength = settings.dataDigest && dataLength > 0 ? 4 : 0

        let start = buffer.readerIndex
        if settings.headerDigest {
            let covered = buffer.getSlice(at: start, length: BasicHeaderSegment.length + ahsLength)!
            let received = buffer.getInteger(at: start + BasicHeaderSegment.length + ahsLength, endianness: .little, as: UInt32.self)!
            guard CRC32C.checksum(covered) == received else {
                // The header cannot be trusted, so neither can the lengths: the
                // connection must go (RFC 7143 §7.8, ERL 0).
                throw ISCSIProtocolError(.headerDigestMismatch, "header digest mismatch on a PDU with opcode 0x\(String(format2: header.u8(0) & 0x3F))")
            }
        }
        buffer.moveReaderIndex(forwardBy: BasicHeaderSegment.length)
        let additionalHeaders = buffer.readSlice(length: ahsLength)!
        buffer.moveReaderIndex(forwardBy: headerDigestLength)
        let paddedData = buffer.readSlice(length: paddedDataLength)!
        if dataDigestLength > 0 {
            let received = buffer.readInteger(endianness: .little, as: UInt32.self)!
            guard CRC32C.checksum(paddedData) == received else {
                // RFC 7143 §7.8: answer a data digest error with Reject, discard the PDU.
                return .reject(.dataDigestError, header: header, error: ISCSIProtocolError(.invalidField, "data digest mismatch"))
            }
        }
        let data = paddedData.getSlice(at: paddedData.readerIndex, length: dataLength)!
        do {
            return .pdu(try ISCSIPDU(header: header, additionalHeaders: additionalHeaders, data: data))
        } catch {
            let reason: ISCSIRejectReason = error.code == .unknownOpcode ? .commandNotSupported : .invalidPDUField
            return .reject(reason, header: header, error: error)
        }
    }
}

/// Serializes PDUs: header (BHS, AHS, header digest) and data segment (padding, data
/// digest) are written as separate buffers so a data segment travels without a copy.
public final class ISCSIPDUEncoder: ChannelOutboundHandler, @unchecked Sendable {
    public typealias OutboundIn = ISCSIPDU
    public typealias OutboundOut = ByteBuffer

    private let settings: ISCSIFramingSettings

    public init(settings: ISCSIFramingSettings) {
        self.settings = settings
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let message = unwrapOutboundIn(data).message
        Self.write(message, settings: settings, context: context, promise: promise)
    }

    /// Encodes `message` and writes its buffers from `context` towards the socket; the
    /// promise completes with the last of them. For a handler that sends PDUs without
    /// this encoder in its pipeline (the target's connection handler: a PDU passed
    /// down the pipeline is boxed in `NIOAny` and cast back, for every PDU).
    public static func write<Message: ISCSIPDUMessage>(
        _ message: Message, settings: ISCSIFramingSettings, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?
    ) {
        let frame = encode(message, settings: settings, allocator: context.channel.allocator)
        context.write(NIOAny(frame.header), promise: frame.data == nil ? promise : nil)
        if let data = frame.data {
            context.write(NIOAny(data), promise: frame.trailer == nil ? promise : nil)
        }
        if let trailer = frame.trailer {
            context.write(NIOAny(trailer), promise: promise)
        }
    }

    /// The wire bytes of one PDU: header (BHS, AHS, header digest), the data segment
    /// untouched, and a trailer with its padding and data digest.
    public static func encode<Message: ISCSIPDUMessage>(
        _ message: Message,
        settings: ISCSIFramingSettings,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) -> (header: ByteBuffer, data: ByteBuffer?, trailer: ByteBuffer?) {
        var bhs = message.encodedHeader()
        let ahs = message.encodedAdditionalHeaders
        let data = message.dataSegment.flatMap { $0.readableBytes > 0 ? $0 : nil }
        bhs.setTotalAHSLength(words: (ahs?.readableBytes ?? 0) / 4)
        bhs.dataSegmentLength = data?.readableBytes ?? 0

        var header = allocator.buffer(capacity: BasicHeaderSegment.length + (ahs?.readableBytes ?? 0) + 4)
        bhs.write(to: &header)
        if let ahs { header.writeImmutableBuffer(ahs) }
        if settings.headerDigest {
            header.writeInteger(CRC32C.checksum(header), endianness: .little)
        }
        guard let data else { return (header, nil, nil) }
        let padding = (4 - data.readableBytes % 4) % 4
        guard padding > 0 || settings.dataDigest else { return (header, data, nil) }
        var trailer = allocator.buffer(capacity: 8)
        trailer.writeRepeatingByte(0, count: padding)
        if settings.dataDigest {
            let digest = CRC32C.checksum(trailer, continuing: CRC32C.checksum(data))
            trailer.writeInteger(digest, endianness: .little)
        }
        return (header, data, trailer)
    }
}
