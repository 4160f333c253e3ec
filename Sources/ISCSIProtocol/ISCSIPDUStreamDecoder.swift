import NIOCore

/// Splits one connection's byte stream into PDUs like ``ISCSIPDUFramer`` (whose
/// `decodeFrame` and `frameLength` it uses), without `ByteToMessageHandler`'s
/// cumulation buffer.
///
/// `ByteToMessageHandler` appends every read to the bytes left over from the last one,
/// so on a busy connection (where a read almost always ends inside a PDU) every byte
/// received is copied once more, and the copy grows by reallocation. This decodes
/// straight from the buffer the socket read into: only the PDU that straddles two reads
/// is copied, into a buffer of exactly its length. Data segments therefore reach the
/// connection as slices of the receive buffer.
///
/// Framing limits are the framer's: a data segment longer than MaxRecvDataSegmentLength
/// is refused from its header, before anything of it is buffered. After a framing
/// error the stream has lost its PDU boundaries, so nothing more is decoded.
public struct ISCSIPDUStreamDecoder {
    /// The start of a PDU that has not fully arrived, in a buffer of its own.
    private var partial: ByteBuffer?
    /// A framing error ended the stream.
    private var failed = false

    public init() {}

    /// The next PDU, reading from `input` (one read's bytes); nil once `input` is used
    /// up, keeping the start of a PDU it ends inside for the next read.
    public mutating func next(
        from input: inout ByteBuffer, settings: ISCSIFramingSettings
    ) throws(ISCSIProtocolError) -> ISCSIInboundFrame? {
        guard !failed else {
            input.moveReaderIndex(forwardBy: input.readableBytes)
            return nil
        }
        do {
            if partial != nil {
                return try completePartial(from: &input, settings: settings)
            }
            if let frame = try ISCSIPDUFramer.decodeFrame(from: &input, settings: settings) {
                return frame
            }
            if input.readableBytes > 0 {
                keepPartial(input, settings: settings)
                input.moveReaderIndex(forwardBy: input.readableBytes)
            }
            return nil
        } catch {
            failed = true
            partial = nil
            throw error
        }
    }

    /// Drops a partial PDU (the connection closed: nobody is left to answer it).
    public mutating func reset() {
        partial = nil
    }

    /// Moves bytes from `input` into the partial PDU until it is whole, and decodes it;
    /// nil when `input` ran out first (everything it held is then in `partial`).
    private mutating func completePartial(
        from input: inout ByteBuffer, settings: ISCSIFramingSettings
    ) throws(ISCSIProtocolError) -> ISCSIInboundFrame? {
        guard var buffer = partial else { return nil }
        partial = nil
        while true {
            let wanted: Int
            if let header = BasicHeaderSegment(buffer: buffer) {
                wanted = try ISCSIPDUFramer.frameLength(of: header, settings: settings) - buffer.readableBytes
            } else {
                wanted = BasicHeaderSegment.length - buffer.readableBytes
            }
            if wanted <= 0 { break }
            let count = min(wanted, input.readableBytes)
            if count > 0 {
                let chunk = input.readSlice(length: count)!
                buffer.writeImmutableBuffer(chunk)
            }
            if count < wanted {
                partial = buffer
                return nil
            }
        }
        return try ISCSIPDUFramer.decodeFrame(from: &buffer, settings: settings)
    }

    /// Copies the start of an incomplete PDU out of the receive buffer (so that buffer
    /// is not pinned) into a buffer sized for the whole PDU when its header is known.
    private mutating func keepPartial(_ input: ByteBuffer, settings: ISCSIFramingSettings) {
        var capacity = max(input.readableBytes, BasicHeaderSegment.length)
        if let header = BasicHeaderSegment(buffer: input),
            let length = try? ISCSIPDUFramer.frameLength(of: header, settings: settings)
        {
            capacity = max(capacity, length)
        }
        var buffer = ByteBufferAllocator().buffer(capacity: capacity)
        buffer.writeImmutableBuffer(input)
        partial = buffer
    }
}
