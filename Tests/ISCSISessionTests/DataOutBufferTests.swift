import BlockStorage
import NIOCore
import Testing

@testable import ISCSISession

/// How a task's write data is kept from immediate data and Data-Out PDUs: as the
/// buffers they arrived in, never copied.
@Suite("Data-Out buffer")
struct DataOutBufferTests {
    private func segment(_ byte: UInt8, count: Int) -> ByteBuffer {
        ByteBuffer(repeating: byte, count: count)
    }

    private func sameStorage(_ a: ByteBuffer, _ b: ByteBuffer) -> Bool {
        a.withUnsafeReadableBytes { a in b.withUnsafeReadableBytes { a.baseAddress == $0.baseAddress } }
    }

    @Test func segmentsAreKeptInOrderWithoutCopies() {
        var data = DataOutBuffer()
        let lengths = [1024, 2048, 0, 512, 512]
        let segments = lengths.enumerated().map { segment(UInt8($0.offset + 1), count: $0.element) }
        for segment in segments { data.append(segment) }
        let taken = data.take()!
        #expect(taken.readableBytes == 4096)
        var kept: [ByteBuffer] = []
        taken.forEachSegment { kept.append($0) }
        let nonEmpty = segments.filter { $0.readableBytes > 0 }
        #expect(kept == nonEmpty, "empty segments are dropped, the others kept in order")
        #expect(zip(kept, nonEmpty).allSatisfy { sameStorage($0, $1) }, "no segment is copied")
        #expect(data.take() == nil)
    }

    @Test func noSegmentsIsNoData() {
        var data = DataOutBuffer()
        data.append(ByteBuffer())
        #expect(data.take() == nil)
    }
}

/// The segmented buffer's views: a prefix of slices, and one contiguous buffer.
@Suite("Segmented buffer")
struct SegmentedBufferTests {
    private let parts: [ByteBuffer] = [ByteBuffer(bytes: [1, 2, 3]), ByteBuffer(bytes: [4, 5]), ByteBuffer(bytes: [6, 7, 8, 9])]

    private var whole: SegmentedBuffer {
        var buffer = SegmentedBuffer(parts[0])
        for part in parts.dropFirst() { buffer.append(part) }
        return buffer
    }

    private func bytes(_ buffer: SegmentedBuffer) -> [UInt8] {
        var bytes: [UInt8] = []
        buffer.forEachSegment { bytes += $0.readableBytesView }
        return bytes
    }

    @Test func prefixSlicesAcrossSegments() throws {
        #expect(bytes(try #require(whole.prefix(2))) == [1, 2])
        #expect(bytes(try #require(whole.prefix(4))) == [1, 2, 3, 4])
        #expect(bytes(try #require(whole.prefix(9))) == Array(1...9))
        #expect(whole.prefix(10) == nil, "more than there is")
        #expect(whole.prefix(4)?.readableBytes == 4)
    }

    @Test func contiguousCopiesOnlySeveralSegments() {
        #expect(Array(whole.contiguous().readableBytesView) == Array(1...9))
        let single = SegmentedBuffer(parts[2])
        let contiguous = single.contiguous()
        #expect(contiguous.withUnsafeReadableBytes { a in parts[2].withUnsafeReadableBytes { a.baseAddress == $0.baseAddress } })
    }
}
