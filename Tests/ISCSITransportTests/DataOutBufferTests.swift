import NIOCore
import Testing

@testable import ISCSITransport

/// How a task's write data is put together from immediate data and Data-Out PDUs.
@Suite("Data-Out buffer")
struct DataOutBufferTests {
    private func segment(_ byte: UInt8, count: Int) -> ByteBuffer {
        ByteBuffer(repeating: byte, count: count)
    }

    @Test func oneSegmentIsHandedOnAsItIs() {
        var data = DataOutBuffer()
        let only = segment(1, count: 4096)
        data.append(only, expectedLength: 4096, allocator: nil)
        let taken = data.take()
        #expect(taken == only)
        let sameStorage = taken!.withUnsafeReadableBytes { a in only.withUnsafeReadableBytes { a.baseAddress == $0.baseAddress } }
        #expect(sameStorage, "a single segment must not be copied")
        #expect(data.take() == nil)
    }

    @Test func segmentsAreGatheredInOrderIntoOneBufferOfTheExpectedLength() {
        var data = DataOutBuffer()
        let lengths = [1024, 2048, 512, 512]
        for (index, length) in lengths.enumerated() {
            data.append(segment(UInt8(index + 1), count: length), expectedLength: 4096, allocator: nil)
        }
        let gathered = data.take()!
        var expected = ByteBuffer()
        for (index, length) in lengths.enumerated() { expected.writeRepeatingByte(UInt8(index + 1), count: length) }
        #expect(gathered == expected)
        #expect(gathered.capacity == 4096, "gathered into one buffer of the expected length, never grown")
        #expect(data.take() == nil)
    }
}
