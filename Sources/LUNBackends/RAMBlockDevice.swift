import BlockStorage
import NIOConcurrencyHelpers
import NIOCore

/// A sparse in-memory medium: pages are allocated on first write, never-written and
/// unmapped blocks read as zeros, and the resident size is bounded.
public final class RAMBlockDevice: BlockDevice {
    /// Bytes per allocation page: large enough to keep the page table small, small
    /// enough that a sparse disk stays sparse.
    public static let pageSize = 64 << 10

    /// Resident pages by page index, and the bound on their number.
    private struct Pages {
        var pages: [UInt64: [UInt8]] = [:]
        let maximumPages: Int
    }

    public let geometry: BlockGeometry
    private let pages: NIOLockedValueBox<Pages>

    /// A medium of `blockCount` blocks of `blockSize` bytes holding at most
    /// `maximumResidentBytes` of written data (default: the whole medium). `blockSize`
    /// must divide ``pageSize``.
    public init(blockSize: Int = 512, blockCount: UInt64, maximumResidentBytes: UInt64? = nil) {
        precondition(blockSize > 0 && Self.pageSize % blockSize == 0, "block size \(blockSize) must divide \(Self.pageSize)")
        self.geometry = BlockGeometry(blockSize: blockSize, blockCount: blockCount)
        let limit = maximumResidentBytes ?? geometry.byteCount
        let maximumPages = Int(clamping: (limit + UInt64(Self.pageSize) - 1) / UInt64(Self.pageSize))
        self.pages = NIOLockedValueBox(Pages(maximumPages: maximumPages))
    }

    public var supportsUnmap: Bool { true }

    /// Bytes currently allocated, for tests and metrics.
    public var residentBytes: Int {
        pages.withLockedValue { $0.pages.count * Self.pageSize }
    }

    public func read(at lba: UInt64, blockCount: Int, allocator: ByteBufferAllocator) async throws -> ByteBuffer {
        var buffer = allocator.buffer(capacity: blockCount * geometry.blockSize)
        pages.withLockedValue { state in
            forEachPage(at: lba, byteCount: blockCount * geometry.blockSize) { index, range in
                if let page = state.pages[index] {
                    buffer.writeBytes(page[range])
                } else {
                    buffer.writeRepeatingByte(0, count: range.count)
                }
            }
        }
        return buffer
    }

    public func write(_ data: ByteBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws {
        try pages.withLockedValue { state in
            var source = data
            try forEachPage(at: lba, byteCount: data.readableBytes) { index, range in
                if state.pages[index] == nil {
                    guard state.pages.count < state.maximumPages else {
                        throw BlockStorageError(
                            .writeFailed,
                            "RAM disk is full: \(state.maximumPages) pages of \(Self.pageSize) bytes resident; raise its memory limit")
                    }
                    state.pages[index] = [UInt8](repeating: 0, count: Self.pageSize)
                }
                let bytes = source.readBytes(length: range.count) ?? []
                state.pages[index]!.replaceSubrange(range, with: bytes)
            }
        }
    }

    /// Nothing to do: RAM is as stable as this medium gets.
    public func flush() async throws {}

    /// Frees whole pages in the range and zeros the partial ones at its edges.
    public func unmap(at lba: UInt64, blockCount: Int) async throws {
        pages.withLockedValue { state in
            forEachPage(at: lba, byteCount: blockCount * geometry.blockSize) { index, range in
                if range.count == Self.pageSize {
                    state.pages[index] = nil
                } else if state.pages[index] != nil {
                    state.pages[index]!.replaceSubrange(range, with: repeatElement(0, count: range.count))
                }
            }
        }
    }

    /// Walks the pages a byte range touches, giving each page index and the byte range
    /// within that page, in order.
    private func forEachPage(at lba: UInt64, byteCount: Int, _ body: (UInt64, Range<Int>) throws -> Void) rethrows {
        var offset = lba * UInt64(geometry.blockSize)
        let end = offset + UInt64(byteCount)
        while offset < end {
            let index = offset / UInt64(Self.pageSize)
            let start = Int(offset % UInt64(Self.pageSize))
            let length = min(Self.pageSize - start, Int(end - offset))
            try body(index, start..<(start + length))
            offset += UInt64(length)
        }
    }
}
