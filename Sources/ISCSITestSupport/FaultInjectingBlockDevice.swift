import BlockStorage
import NIOConcurrencyHelpers
import NIOCore

/// A test double that wraps a `BlockDevice` and fails chosen operations, so tests can
/// check that backend failures become MEDIUM ERROR sense data and never a crash.
public final class FaultInjectingBlockDevice: BlockDevice {
    /// Which operations fail.
    public struct Faults: Sendable, Hashable {
        /// Reads touching any of these LBAs fail.
        public var failingReadLBAs: Set<UInt64>
        /// Writes touching any of these LBAs fail.
        public var failingWriteLBAs: Set<UInt64>
        /// Every read, write, flush and unmap fails once this many have succeeded.
        public var failAfterOperations: Int?
        /// Flushes fail.
        public var failFlush: Bool

        public init(
            failingReadLBAs: Set<UInt64> = [], failingWriteLBAs: Set<UInt64> = [],
            failAfterOperations: Int? = nil, failFlush: Bool = false
        ) {
            self.failingReadLBAs = failingReadLBAs
            self.failingWriteLBAs = failingWriteLBAs
            self.failAfterOperations = failAfterOperations
            self.failFlush = failFlush
        }
    }

    private struct State {
        var faults: Faults
        var completedOperations = 0
    }

    private let wrapped: any BlockDevice
    private let state: NIOLockedValueBox<State>

    public init(wrapping device: any BlockDevice, faults: Faults) {
        self.wrapped = device
        self.state = NIOLockedValueBox(State(faults: faults))
    }

    /// Replaces the fault plan, e.g. to heal the device mid-test.
    public func setFaults(_ faults: Faults) {
        state.withLockedValue { $0.faults = faults }
    }

    public var geometry: BlockGeometry { wrapped.geometry }
    public var supportsUnmap: Bool { wrapped.supportsUnmap }

    public func read(at lba: UInt64, blockCount: Int, allocator: ByteBufferAllocator) async throws -> ByteBuffer {
        try admit(.readFailed, "read", lba: lba, blockCount: blockCount, failing: \.failingReadLBAs)
        return try await wrapped.read(at: lba, blockCount: blockCount, allocator: allocator)
    }

    public func write(_ data: ByteBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws {
        let blocks = data.readableBytes / max(geometry.blockSize, 1)
        try admit(.writeFailed, "write", lba: lba, blockCount: blocks, failing: \.failingWriteLBAs)
        try await wrapped.write(data, at: lba, forceUnitAccess: forceUnitAccess)
    }

    public func flush() async throws {
        try admit(.flushFailed, "flush", lba: 0, blockCount: 0, failing: nil)
        try await wrapped.flush()
    }

    public func unmap(at lba: UInt64, blockCount: Int) async throws {
        try admit(.writeFailed, "unmap", lba: lba, blockCount: blockCount, failing: \.failingWriteLBAs)
        try await wrapped.unmap(at: lba, blockCount: blockCount)
    }

    /// Counts the operation, or throws the injected failure.
    private func admit(
        _ code: BlockStorageError.Code, _ operation: String, lba: UInt64, blockCount: Int,
        failing: KeyPath<Faults, Set<UInt64>>?
    ) throws {
        try state.withLockedValue { state in
            let faults = state.faults
            if let limit = faults.failAfterOperations, state.completedOperations >= limit {
                throw BlockStorageError(code, "injected \(operation) failure after \(limit) operations")
            }
            if failing == nil && faults.failFlush {
                throw BlockStorageError(code, "injected \(operation) failure")
            }
            if let failing, let bad = faults[keyPath: failing].first(where: { $0 >= lba && $0 < lba + UInt64(blockCount) }) {
                throw BlockStorageError(code, "injected \(operation) failure at LBA \(bad)")
            }
            state.completedOperations += 1
        }
    }
}
