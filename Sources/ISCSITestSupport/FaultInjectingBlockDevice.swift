import BlockStorage
import NIOConcurrencyHelpers
import NIOCore

/// A test double that wraps a `BlockDevice` and fails or holds chosen operations, so
/// tests can check that backend failures become MEDIUM ERROR sense data and never a
/// crash, and that a task aborted while its write is in the backend is answered only
/// once that write has ended (RFC 7143 §11.6.2, SAM-5 §7).
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
        /// Writes touching any of these LBAs wait in the backend until
        /// ``releaseHeldWrites()``, then reach the medium.
        public var holdingWriteLBAs: Set<UInt64>
        /// Whether a held write is dropped, never reaching the medium, when its task is
        /// cancelled (queued I/O a backend can still take back); without it, a held write
        /// stands for I/O already under way, which only ``releaseHeldWrites()`` ends.
        public var heldWritesCancellable: Bool

        public init(
            failingReadLBAs: Set<UInt64> = [], failingWriteLBAs: Set<UInt64> = [],
            failAfterOperations: Int? = nil, failFlush: Bool = false,
            holdingWriteLBAs: Set<UInt64> = [], heldWritesCancellable: Bool = false
        ) {
            self.failingReadLBAs = failingReadLBAs
            self.failingWriteLBAs = failingWriteLBAs
            self.failAfterOperations = failAfterOperations
            self.failFlush = failFlush
            self.holdingWriteLBAs = holdingWriteLBAs
            self.heldWritesCancellable = heldWritesCancellable
        }
    }

    /// One write waiting in the backend.
    private struct HeldWrite {
        var id: Int
        var continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var faults: Faults
        var completedOperations = 0
        var held: [HeldWrite] = []
        var nextHeldID = 0
        /// Held writes that were cancelled and dropped.
        var droppedWrites = 0
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

    /// How many writes wait in the backend now.
    public var heldWriteCount: Int { state.withLockedValue { $0.held.count } }

    /// How many held writes were dropped because their task was cancelled.
    public var droppedWriteCount: Int { state.withLockedValue { $0.droppedWrites } }

    /// Lets every held write go on to the medium, and holds no more.
    public func releaseHeldWrites() {
        let held = state.withLockedValue { state in
            defer {
                state.held = []
                state.faults.holdingWriteLBAs = []
            }
            return state.held
        }
        for write in held { write.continuation.resume(returning: true) }
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
        try await holdIfAsked(lba: lba, blockCount: blocks)
        try await wrapped.write(data, at: lba, forceUnitAccess: forceUnitAccess)
    }

    /// Waits while the write touches a held LBA; throws `CancellationError` when a
    /// cancellable hold is cancelled, so the write never reaches the medium.
    private func holdIfAsked(lba: UInt64, blockCount: Int) async throws {
        let range = lba..<lba + UInt64(blockCount)
        let id = state.withLockedValue { state -> Int? in
            guard state.faults.holdingWriteLBAs.contains(where: range.contains) else { return nil }
            defer { state.nextHeldID += 1 }
            return state.nextHeldID
        }
        guard let id else { return }
        let cancellable = state.withLockedValue { $0.faults.heldWritesCancellable }
        let proceed = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let cancelledAlready = state.withLockedValue { state -> Bool in
                    if cancellable && Task.isCancelled { return true }
                    state.held.append(HeldWrite(id: id, continuation: continuation))
                    return false
                }
                if cancelledAlready { continuation.resume(returning: false) }
            }
        } onCancel: {
            guard cancellable else { return }
            let dropped = state.withLockedValue { state -> HeldWrite? in
                guard let index = state.held.firstIndex(where: { $0.id == id }) else { return nil }
                return state.held.remove(at: index)
            }
            dropped?.continuation.resume(returning: false)
        }
        if !proceed {
            state.withLockedValue { $0.droppedWrites += 1 }
            throw CancellationError()
        }
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
