import BlockStorage
import CStreamingCopy
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// A sparse in-memory medium: pages are allocated on first write, never-written and
/// unmapped blocks read as zeros, and the resident size is bounded.
public final class RAMBlockDevice: BlockDevice {
    /// Bytes per allocation page. A read inside one page is a slice of it, not a copy
    /// (see ``read(at:blockCount:allocator:)``), so a page holds the largest read that
    /// initiators usually make in one command (1 MiB, our MaxBurstLength) and sequential
    /// reads of up to that size, aligned to their size, never span two.
    public static let pageSize = 1 << 20

    /// What a never-written page reads as: one shared buffer of zeros, sliced.
    private static let zeroPage = ByteBuffer(repeating: 0, count: pageSize)

    /// Physical block size reported to initiators: a 512-byte-block RAM disk presents
    /// itself as 512e (4 KiB physical), so initiators align I/O to whole pages of the
    /// host's memory and to what a file or disk behind a re-export would want.
    public static let physicalBlockSize = 4096

    /// Resident pages by page index, the bound on their number, and the medium's size.
    private struct Pages {
        var pages: [UInt64: ByteBuffer] = [:]
        var maximumPages: Int
        var blockCount: UInt64
    }

    private let blockSize: Int
    /// The resident-memory bound, or nil for "the whole medium" (follows a resize).
    private let maximumResidentBytes: UInt64?
    private let pages: NIOLockedValueBox<Pages>
    /// `pages.blockCount`, readable without the lock: the engine asks for the geometry
    /// on every command (range checks), from every session, and the lock is the one
    /// every read and write takes. Changed only by ``resize(toBlockCount:)``, under the lock.
    private let publishedBlockCount: Synchronization.Atomic<UInt64>

    /// A medium of `blockCount` blocks of `blockSize` bytes holding at most
    /// `maximumResidentBytes` of written data (default: the whole medium). `blockSize`
    /// must divide ``pageSize``.
    public init(blockSize: Int = 512, blockCount: UInt64, maximumResidentBytes: UInt64? = nil) {
        precondition(blockSize > 0 && Self.pageSize % blockSize == 0, "block size \(blockSize) must divide \(Self.pageSize)")
        self.blockSize = blockSize
        self.maximumResidentBytes = maximumResidentBytes
        let maximumPages = Self.pageCount(forBytes: maximumResidentBytes ?? UInt64(blockSize) * blockCount)
        self.pages = NIOLockedValueBox(Pages(maximumPages: maximumPages, blockCount: blockCount))
        self.publishedBlockCount = Synchronization.Atomic(blockCount)
    }

    public var geometry: BlockGeometry {
        BlockGeometry(
            blockSize: blockSize, blockCount: publishedBlockCount.load(ordering: .acquiring),
            physicalBlockSize: max(blockSize, Self.physicalBlockSize))
    }

    private static func pageCount(forBytes bytes: UInt64) -> Int {
        Int(clamping: (bytes + UInt64(pageSize) - 1) / UInt64(pageSize))
    }

    /// Growing is free (new blocks read as zeros); shrinking frees the pages past the
    /// new end and zeros the tail of the last one, so a later grow reads zeros there.
    public func resize(toBlockCount blockCount: UInt64) async throws {
        let newEnd = blockCount * UInt64(blockSize)
        pages.withLockedValue { state in
            if newEnd < state.blockCount * UInt64(blockSize) {
                let pageSize = UInt64(Self.pageSize)
                let tail = Int(newEnd % pageSize)
                if tail > 0, state.pages[newEnd / pageSize] != nil {
                    state.pages[newEnd / pageSize]!.zero(tail..<Self.pageSize)
                }
                let firstDropped = (newEnd + pageSize - 1) / pageSize
                state.pages = state.pages.filter { $0.key < firstDropped }
            }
            state.blockCount = blockCount
            publishedBlockCount.store(blockCount, ordering: .releasing)
            if maximumResidentBytes == nil { state.maximumPages = Self.pageCount(forBytes: newEnd) }
        }
    }

    public var supportsUnmap: Bool { true }

    /// Bytes currently allocated, for tests and metrics.
    public var residentBytes: Int {
        pages.withLockedValue { $0.pages.count * Self.pageSize }
    }

    /// A read inside one page shares the page's storage: the Data-In PDUs are slices of
    /// it and nothing is copied until the socket write. A write to the page while such
    /// a read is still queued for sending copies the page first (the buffer's
    /// copy-on-write), so the read still sends what it read. A read across pages is
    /// copied into one new buffer.
    public func read(at lba: UInt64, blockCount: Int, allocator: ByteBufferAllocator) async throws -> ByteBuffer {
        let byteCount = blockCount * blockSize
        let start = lba * UInt64(blockSize)
        let offset = Int(start % UInt64(Self.pageSize))
        if offset + byteCount <= Self.pageSize {
            let page = pages.withLockedValue { $0.pages[start / UInt64(Self.pageSize)] } ?? Self.zeroPage
            return page.getSlice(at: offset, length: byteCount)!
        }
        var buffer = allocator.buffer(capacity: byteCount)
        pages.withLockedValue { state in
            forEachPage(at: lba, byteCount: byteCount) { index, range in
                let page = state.pages[index] ?? Self.zeroPage
                buffer.writeImmutableBuffer(page.getSlice(at: range.lowerBound, length: range.count)!)
            }
        }
        return buffer
    }

    public func write(_ data: ByteBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws {
        try await write(SegmentedBuffer(data), at: lba, forceUnitAccess: forceUnitAccess)
    }

    public func write(_ data: SegmentedBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws {
        try pages.withLockedValue { state in
            // A write checked against the old size may race a shrink; it must not leave
            // data past the end for a later grow to expose.
            let start = lba * UInt64(blockSize)
            guard start + UInt64(data.readableBytes) <= state.blockCount * UInt64(blockSize) else {
                throw BlockStorageError(.writeFailed, "write at LBA \(lba) ends past the medium, which was just shrunk")
            }
            // Each segment is copied straight into the pages, in place.
            var offset = start
            try data.forEachSegment { segment in
                try segment.withUnsafeReadableBytes { source in
                    var consumed = 0
                    try forEachPage(from: offset, byteCount: source.count) { index, range in
                        if state.pages[index] == nil {
                            guard state.pages.count < state.maximumPages else {
                                throw BlockStorageError(
                                    .writeFailed,
                                    "RAM disk is full: \(state.maximumPages) pages of \(Self.pageSize) bytes resident; raise its memory limit")
                            }
                            state.pages[index] = ByteBuffer(repeating: 0, count: Self.pageSize)
                        }
                        // In place, unless a read's slice still shares the page (then
                        // copied first); past the cache, since the page is cold.
                        state.pages[index]!.withUnsafeMutableReadableBytes { page in
                            swiftport_streaming_copy(
                                page.baseAddress! + range.lowerBound, source.baseAddress! + consumed, range.count)
                        }
                        consumed += range.count
                    }
                }
                offset += UInt64(segment.readableBytes)
            }
        }
    }

    /// Nothing to do: RAM is as stable as this medium gets.
    public func flush() async throws {}

    /// Frees whole pages in the range and zeros the partial ones at its edges.
    public func unmap(at lba: UInt64, blockCount: Int) async throws {
        pages.withLockedValue { state in
            forEachPage(at: lba, byteCount: blockCount * blockSize) { index, range in
                if range.count == Self.pageSize {
                    state.pages[index] = nil
                } else if state.pages[index] != nil {
                    state.pages[index]!.zero(range)
                }
            }
        }
    }

    /// Walks the pages the blocks from `lba` touch (see ``forEachPage(from:byteCount:_:)``).
    private func forEachPage(at lba: UInt64, byteCount: Int, _ body: (UInt64, Range<Int>) throws -> Void) rethrows {
        try forEachPage(from: lba * UInt64(blockSize), byteCount: byteCount, body)
    }

    /// Walks the pages a byte range touches, giving each page index and the byte range
    /// within that page, in order.
    private func forEachPage(from start: UInt64, byteCount: Int, _ body: (UInt64, Range<Int>) throws -> Void) rethrows {
        var offset = start
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

extension ByteBuffer {
    /// Sets the bytes of `range` (absolute indices) to zero.
    fileprivate mutating func zero(_ range: Range<Int>) {
        withUnsafeMutableReadableBytes { bytes in
            _ = UnsafeMutableRawBufferPointer(rebasing: bytes[range]).initializeMemory(as: UInt8.self, repeating: 0)
        }
    }
}
