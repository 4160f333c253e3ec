import NIOCore

/// Runs Swift tasks on one NIO event loop (a `TaskExecutor`, SE-0417).
///
/// A connection's SCSI commands run as tasks that prefer this executor, so a command
/// whose backend completes without suspending (the RAM disk) runs start to finish on
/// the connection's own loop: no hop to the cooperative pool and back per command, and
/// its response is written in the same loop tick as its neighbours' and flushed with
/// them. Backends that block still do so on their own thread pool (ARCHITECTURE.md §5),
/// and a task suspended there resumes here.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        eventLoop.execute { job.runSynchronously(on: executor) }
    }
}
