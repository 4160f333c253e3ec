import BlockStorage
import NIOCore

/// The write data of one task as it arrives: immediate data, then Data-Out PDUs in
/// order (DataPDUInOrder=Yes, RFC 7143 §13.19).
///
/// Each segment is kept as its slice of the receive buffer, nothing is copied: the
/// backend stores the segments one after the other (``SegmentedBuffer``).
struct DataOutBuffer {
    private var segments: SegmentedBuffer?

    /// Adds the next segment in buffer-offset order.
    mutating func append(_ segment: ByteBuffer) {
        guard segment.readableBytes > 0 else { return }
        if segments == nil {
            segments = SegmentedBuffer(segment)
        } else {
            segments!.append(segment)
        }
    }

    /// The data received (nil when none: not a write), leaving this empty.
    mutating func take() -> SegmentedBuffer? {
        defer { segments = nil }
        return segments
    }
}
