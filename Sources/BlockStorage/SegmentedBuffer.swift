import NIOCore

/// Bytes kept in the buffers they arrived in, in order, without copying them together:
/// the data segments of the PDUs that carried one write (immediate data, then Data-Out;
/// RFC 7143 §11.7), each a slice of a socket read. A backend stores them one after the
/// other (a copy per segment into memory, a write per segment into a file), so each
/// byte is copied once, where it is stored.
public struct SegmentedBuffer: Sendable {
    /// The first segment; the others follow in `rest` (usually none, and an empty
    /// array allocates nothing).
    private var first: ByteBuffer
    private var rest: [ByteBuffer] = []
    /// Bytes in all segments together.
    public private(set) var readableBytes: Int

    public init(_ buffer: ByteBuffer) {
        first = buffer
        readableBytes = buffer.readableBytes
    }

    /// Adds `segment` after the others.
    public mutating func append(_ segment: ByteBuffer) {
        rest.append(segment)
        readableBytes += segment.readableBytes
    }

    /// Calls `body` with each segment, in order.
    public func forEachSegment(_ body: (ByteBuffer) throws -> Void) rethrows {
        try body(first)
        for segment in rest { try body(segment) }
    }

    /// The first `byteCount` bytes, as slices of the segments (nothing copied); nil
    /// when there are fewer.
    public func prefix(_ byteCount: Int) -> SegmentedBuffer? {
        guard byteCount < readableBytes else { return byteCount == readableBytes ? self : nil }
        guard byteCount > first.readableBytes else { return SegmentedBuffer(first.getSlice(at: first.readerIndex, length: byteCount)!) }
        var prefix = SegmentedBuffer(first)
        for segment in rest where prefix.readableBytes < byteCount {
            prefix.append(segment.getSlice(at: segment.readerIndex, length: min(segment.readableBytes, byteCount - prefix.readableBytes))!)
        }
        return prefix
    }

    /// All the bytes in one buffer: the only segment itself, or the segments copied
    /// into a new buffer, for readers that need the bytes side by side.
    public func contiguous(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        guard !rest.isEmpty else { return first }
        var buffer = allocator.buffer(capacity: readableBytes)
        forEachSegment { buffer.writeImmutableBuffer($0) }
        return buffer
    }
}
