import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import LUNBackends

/// How a file device's blocking calls reach the thread pool.
@Suite("Blocking call batcher")
struct BlockingCallBatcherTests {
    /// Runs tasks on one event loop, as the target's connections do (SE-0417).
    final class LoopExecutor: TaskExecutor {
        let loop: any EventLoop
        init(_ loop: any EventLoop) { self.loop = loop }
        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            let executor = asUnownedTaskExecutor()
            loop.execute { job.runSynchronously(on: executor) }
        }
    }

    /// Starts `count` tasks in one tick of `loop`, each making one call through
    /// `batcher`; returns each call's result and the pool thread it ran on.
    private func callsInOneTick(
        _ count: Int, batcher: BlockingCallBatcher, loop: any EventLoop, callDuration: TimeInterval = 0
    ) async throws -> [(value: Int, thread: pthread_t)] {
        let executor = LoopExecutor(loop)
        let tasks = try await loop.submit {
            (0..<count).map { index in
                Task(executorPreference: executor) {
                    try await batcher.run { () -> (Int, UInt) in
                        if callDuration > 0 { Thread.sleep(forTimeInterval: callDuration) }
                        return (index, UInt(pthread_self()))
                    }
                }
            }
        }.get()
        var results: [(value: Int, thread: pthread_t)] = []
        for task in tasks {
            let (value, thread) = try await task.value
            results.append((value, pthread_t(thread)))
        }
        return results
    }

    @Test func callsMadeInOneLoopTickRunAsOneWorkItemOnOneThread() async throws {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let batcher = BlockingCallBatcher(threadPool: pool, spread: 4)
        let results = try await callsInOneTick(32, batcher: batcher, loop: group.next())
        #expect(results.map(\.value) == Array(0..<32))
        #expect(Set(results.map { UInt($0.thread) }).count == 1, "one batch, one pool thread")
        #expect(!batcher.spreadsBatches)
        try await group.shutdownGracefully()
        try await pool.shutdownGracefully()
    }

    @Test func slowCallsAreSpreadOverSeveralThreads() async throws {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let batcher = BlockingCallBatcher(threadPool: pool, spread: 4)
        // Calls of 2 ms, far above the 50 µs bound, raise the moving average past it.
        for _ in 0..<4 {
            _ = try await callsInOneTick(4, batcher: batcher, loop: group.next(), callDuration: 0.002)
        }
        #expect(batcher.spreadsBatches)
        let results = try await callsInOneTick(8, batcher: batcher, loop: group.next(), callDuration: 0.002)
        #expect(results.map(\.value) == Array(0..<8))
        #expect(Set(results.map { UInt($0.thread) }).count > 1, "a slow batch is spread")
        try await group.shutdownGracefully()
        try await pool.shutdownGracefully()
    }

    @Test func callsOffAnEventLoopAndErrorsComeBack() async throws {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        let batcher = BlockingCallBatcher(threadPool: pool, spread: 2)
        #expect(try await batcher.run { 42 } == 42)
        struct Failure: Error {}
        await #expect(throws: Failure.self) { try await batcher.run { () throws -> Int in throw Failure() } }
        try await pool.shutdownGracefully()
        await #expect(throws: NIOThreadPoolError.ThreadPoolInactive.self) { try await batcher.run { 1 } }
    }

    @Test("a call whose task is cancelled before a pool thread starts it never runs; one already started runs to its end")
    func poolCallCancelledBeforeItStarts() async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let batcher = BlockingCallBatcher(threadPool: pool, spread: 1)
        let ran = NIOLockedValueBox<[String]>([])
        let gate = DispatchSemaphore(value: 0)
        // Occupies the pool's one thread until the gate opens.
        let busy = Task { try await batcher.run { ran.withLockedValue { $0.append("busy") }; gate.wait() } }
        for _ in 0..<300 where ran.withLockedValue({ $0.isEmpty }) {
            try await Task.sleep(for: .milliseconds(10))
        }
        let queued = Task { try await batcher.run { ran.withLockedValue { $0.append("queued") } } }
        try await Task.sleep(for: .milliseconds(50))
        queued.cancel()
        gate.signal()
        try await busy.value
        await #expect(throws: CancellationError.self) { try await queued.value }
        #expect(ran.withLockedValue { $0 } == ["busy"])
        try await pool.shutdownGracefully()
    }
}
