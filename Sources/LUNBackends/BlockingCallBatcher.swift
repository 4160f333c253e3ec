import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Runs a device's blocking system calls on the thread pool, handing over the calls
/// made during one event-loop tick together.
///
/// Handing each read or write to the pool on its own costs two thread wake-ups per I/O
/// (a pool thread, then the event loop to resume the command), about as much CPU as a
/// whole RAM-disk command; at queue depth 32 that doubled the target's CPU per 4 KiB
/// I/O. Here the first call an event loop makes in a tick opens a batch and schedules
/// its hand-over after the work already queued on that loop, so the commands that
/// arrived together go to the pool as one work item (one wake-up), and the work item
/// resumes all of them with one task on the loop (one wake-up, one take of the loop's
/// lock, where resuming each from the pool thread contended for it once per call).
///
/// One work item runs its calls one after another, which suits media that answer in
/// microseconds (the page cache, tmpfs, fast SSDs). When calls take longer on average
/// (a disk that really seeks), a batch is spread over up to `spread` work items so the
/// device still sees several requests at once.
final class BlockingCallBatcher: Sendable {
    /// Runs on a pool thread and returns what resumes the caller.
    private typealias Call = @Sendable (NIOThreadPool.WorkItemState) -> (@Sendable () -> Void)

    /// Calls above this mean duration make batches spread over several threads.
    static let slowCallNanoseconds: Int64 = 50_000

    private let threadPool: NIOThreadPool
    private let spread: Int
    /// Open batches by event loop.
    private let batches = NIOLockedValueBox<[ObjectIdentifier: [Call]]>([:])
    /// Moving average of one call's duration, in nanoseconds.
    private let meanCallNanoseconds = NIOLockedValueBox<Int64>(0)

    init(threadPool: NIOThreadPool, spread: Int) {
        self.threadPool = threadPool
        self.spread = max(1, spread)
    }

    /// Runs `body` on a pool thread and returns its result. Off an event loop (tests,
    /// administration) the call is handed over at once.
    ///
    /// A call whose task is cancelled (its SCSI task was aborted) before a pool thread
    /// starts it is dropped and throws `CancellationError`: the port layer then answers
    /// the abort without waiting for I/O that would only be thrown away. Once started,
    /// a call runs to its end.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let cancelled = NIOLockedValueBox(false)
        return try await withTaskCancellationHandler {
            try await submit(body, unless: cancelled)
        } onCancel: {
            cancelled.withLockedValue { $0 = true }
        }
    }

    private func submit<T: Sendable>(_ body: @escaping @Sendable () throws -> T, unless cancelled: NIOLockedValueBox<Bool>) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let call: Call = { state in
                let result: Result<T, any Error> =
                    state != .active ? .failure(NIOThreadPoolError.ThreadPoolInactive())
                    : cancelled.withLockedValue({ $0 }) ? .failure(CancellationError())
                    : Result(catching: body)
                return { continuation.resume(with: result) }
            }
            guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else {
                threadPool.submit { state in call(state)() }
                return
            }
            let key = ObjectIdentifier(loop)
            let opensBatch = batches.withLockedValue { batches in
                batches[key, default: []].append(call)
                return batches[key]!.count == 1
            }
            if opensBatch {
                loop.execute { self.handOver(batchOf: key, resumingOn: loop) }
            }
        }
    }

    /// Whether batches are currently spread over several pool threads (for tests).
    var spreadsBatches: Bool {
        meanCallNanoseconds.withLockedValue { $0 } > Self.slowCallNanoseconds
    }

    private func handOver(batchOf key: ObjectIdentifier, resumingOn loop: any EventLoop) {
        guard let calls = batches.withLockedValue({ $0.removeValue(forKey: key) }), !calls.isEmpty else { return }
        let items = spreadsBatches ? min(calls.count, spread) : 1
        for item in 0..<items {
            let share = stride(from: item, to: calls.count, by: items).map { calls[$0] }
            threadPool.submit { state in
                let start = NIODeadline.now()
                let resumptions = share.map { $0(state) }
                self.record(callNanoseconds: (NIODeadline.now() - start).nanoseconds / Int64(share.count))
                loop.execute { for resume in resumptions { resume() } }
            }
        }
    }

    /// Exponential moving average over calls, weight 1/8.
    private func record(callNanoseconds sample: Int64) {
        meanCallNanoseconds.withLockedValue { $0 += (sample - $0) / 8 }
    }
}
