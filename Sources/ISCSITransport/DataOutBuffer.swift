import NIOCore

/// The write data of one task as it arrives: immediate data, then Data-Out PDUs in
/// order (DataPDUInOrder=Yes, RFC 7143 §13.19).
///
/// A transfer that arrives in one segment (the usual small write carried as immediate
/// data, or one Data-Out PDU answering one R2T) is handed to the device server as that
/// segment's slice of the receive buffer, without a copy. Longer transfers are gathered
/// into one buffer of the expected length, so each byte is copied once.
struct DataOutBuffer {
    private var buffer: ByteBuffer?
    private var gathering = false

    /// Adds the next segment in buffer-offset order.
    mutating func append(_ segment: ByteBuffer, expectedLength: Int, allocator: ByteBufferAllocator?) {
        if gathering {
            // `buffer` is the only reference to the gathered bytes, so this appends in place.
            buffer!.writeImmutableBuffer(segment)
            return
        }
        guard let first = buffer, first.readableBytes > 0 else {
            buffer = segment
            return
        }
        // A new buffer: writing into `buffer` while `first` still refers to its storage
        // would copy everything gathered so far (copy on write) on every segment.
        let capacity = max(expectedLength, first.readableBytes + segment.readableBytes)
        var gathered = (allocator ?? ByteBufferAllocator()).buffer(capacity: capacity)
        gathered.writeImmutableBuffer(first)
        gathered.writeImmutableBuffer(segment)
        buffer = gathered
        gathering = true
    }

    /// The data gathered (nil when the task has none: not a write), leaving this empty.
    mutating func take() -> ByteBuffer? {
        defer {
            buffer = nil
            gathering = false
        }
        return buffer
    }
}
