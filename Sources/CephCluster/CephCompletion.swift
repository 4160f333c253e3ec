import CLibRBD

/// One kind of asynchronous completion of the Ceph C API (librbd's `rbd_completion_t`,
/// librados' `rados_completion_t`): how it is made, read and freed.
package protocol CephCompletionKind {
    associatedtype Outcome: Sendable
    static func create(_ api: swiftport_rbd_api, _ argument: UnsafeMutableRawPointer, _ callback: swiftport_rbd_callback,
                       _ completion: inout UnsafeMutableRawPointer?) -> Int32
    /// What the finished operation gave, read on the library's thread before `release`.
    static func outcome(_ api: swiftport_rbd_api, _ completion: UnsafeMutableRawPointer) -> Outcome
    /// The outcome of an operation that was never submitted (a negative errno).
    static func outcome(notStarted result: Int32) -> Outcome
    static func release(_ api: swiftport_rbd_api, _ completion: UnsafeMutableRawPointer)
}

extension CephCompletionKind {
    /// Starts one asynchronous operation (`start` submits it with the completion it is
    /// given, and returns a negative errno when it could not) and waits for its outcome.
    /// No thread waits: the library's callback resumes the caller.
    package static func run(_ api: swiftport_rbd_api, _ start: (UnsafeMutableRawPointer) -> Int32) async -> Outcome {
        await withCheckedContinuation { continuation in
            let pending = Unmanaged.passRetained(PendingCompletion<Self>(continuation, api: api) as PendingCompletionBase).toOpaque()
            var completion: UnsafeMutableRawPointer?
            let created = create(api, pending, cephCompletionCallback, &completion)
            guard created == 0, let completion else {
                Unmanaged<PendingCompletionBase>.fromOpaque(pending).release()
                return continuation.resume(returning: outcome(notStarted: min(created, -12)))  // ENOMEM when it said 0
            }
            let started = start(completion)
            if started < 0 {
                // Not submitted: no callback will come.
                release(api, completion)
                Unmanaged<PendingCompletionBase>.fromOpaque(pending).release()
                continuation.resume(returning: outcome(notStarted: started))
            }
        }
    }
}

/// What the C callback finds: one allocation per operation, its outcome read by the
/// kind's subclass.
package class PendingCompletionBase {
    func complete(_ completion: UnsafeMutableRawPointer) {}
}

private final class PendingCompletion<Kind: CephCompletionKind>: PendingCompletionBase {
    let continuation: CheckedContinuation<Kind.Outcome, Never>
    let api: swiftport_rbd_api

    init(_ continuation: CheckedContinuation<Kind.Outcome, Never>, api: swiftport_rbd_api) {
        self.continuation = continuation
        self.api = api
    }

    override func complete(_ completion: UnsafeMutableRawPointer) {
        let outcome = Kind.outcome(api, completion)
        Kind.release(api, completion)
        continuation.resume(returning: outcome)
    }
}

/// Runs on a library thread once an operation has completed.
private let cephCompletionCallback: swiftport_rbd_callback = { completion, argument in
    guard let completion, let argument else { return }
    Unmanaged<PendingCompletionBase>.fromOpaque(argument).takeRetainedValue().complete(completion)
}

/// librbd's completions: the operation's return value (negative errno on failure).
package enum RBDCompletion: CephCompletionKind {
    package static func create(_ api: swiftport_rbd_api, _ argument: UnsafeMutableRawPointer, _ callback: swiftport_rbd_callback,
                               _ completion: inout UnsafeMutableRawPointer?) -> Int32 {
        api.rbd_aio_create_completion(argument, callback, &completion)
    }
    package static func outcome(_ api: swiftport_rbd_api, _ completion: UnsafeMutableRawPointer) -> Int {
        api.rbd_aio_get_return_value(completion)
    }
    package static func outcome(notStarted result: Int32) -> Int { Int(result) }
    package static func release(_ api: swiftport_rbd_api, _ completion: UnsafeMutableRawPointer) {
        api.rbd_aio_release(completion)
    }
}

/// librados' completions: the return value and the version of the object operated on.
package enum RADOSCompletion: CephCompletionKind {
    package static func create(_ api: swiftport_rbd_api, _ argument: UnsafeMutableRawPointer, _ callback: swiftport_rbd_callback,
                               _ completion: inout UnsafeMutableRawPointer?) -> Int32 {
        api.rados_aio_create_completion2(argument, callback, &completion)
    }
    package static func outcome(_ api: swiftport_rbd_api, _ completion: UnsafeMutableRawPointer) -> (result: Int32, version: UInt64) {
        (api.rados_aio_get_return_value(completion), api.rados_aio_get_version(completion))
    }
    package static func outcome(notStarted result: Int32) -> (result: Int32, version: UInt64) { (result, 0) }
    package static func release(_ api: swiftport_rbd_api, _ completion: UnsafeMutableRawPointer) {
        api.rados_aio_release(completion)
    }
}
