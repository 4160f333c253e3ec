import Foundation
import Glibc

/// Tells systemd (a `Type=notify` unit) how the daemon is doing, with the datagrams of
/// sd_notify(3) on the socket `$NOTIFY_SOCKET` names: `READY=1` once every portal is
/// bound, `STOPPING=1` when the daemon begins to stop, `WATCHDOG=1` keepalives when the
/// unit sets `WatchdogSec` (`$WATCHDOG_USEC`), `STATUS=` text for `systemctl status`.
/// No libsystemd: the protocol is one `sendto` of newline-separated assignments.
/// Without `$NOTIFY_SOCKET` (not started by systemd) every call does nothing.
public struct ServiceManagerNotifier: Sendable {
    /// The socket's address: a path, or an abstract name (`@` in the variable, a NUL
    /// byte on the wire).
    let socketPath: String?
    /// How often to send `WATCHDOG=1`: half the watchdog timeout, as sd_watchdog_enabled(3)
    /// advises; nil without a watchdog (or one meant for another process).
    public let watchdogInterval: Duration?

    /// The notifier `environment` (the process's, by default) describes.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, processID: Int32 = getpid()) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let forUs = environment["WATCHDOG_PID"].map { Int32($0) == processID } ?? true
        if forUs, let text = environment["WATCHDOG_USEC"], let microseconds = UInt64(text), microseconds > 0 {
            watchdogInterval = .microseconds(microseconds / 2)
        } else {
            watchdogInterval = nil
        }
    }

    /// Whether a service manager listens.
    public var isActive: Bool { socketPath != nil }

    /// The datagram for `assignments` (`READY=1`, ...), each on a line of its own; a
    /// newline inside a value would start another assignment, so it becomes a space.
    static func message(_ assignments: [String]) -> String {
        assignments.map { $0.replacing("\n", with: " ") }.joined(separator: "\n")
    }

    /// Every portal is bound: the unit is started (`READY=1`).
    public func ready(status: String) { send(["READY=1", "STATUS=\(status)"]) }

    /// The daemon begins to stop (`STOPPING=1`).
    public func stopping() { send(["STOPPING=1", "STATUS=stopping: closing listeners and sessions"]) }

    /// The daemon still serves (`WATCHDOG=1`).
    public func watchdog() { send(["WATCHDOG=1"]) }

    /// Sends one datagram; failures are ignored, as sd_notify's callers do (the
    /// manager may have gone away).
    func send(_ assignments: [String]) {
        guard let socketPath else { return }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            for (index, byte) in path.enumerated() { bytes[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (path.first == 0 ? 0 : 1))
        let text = Self.message(assignments)
        _ = text.withCString { pointer in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(descriptor, pointer, strlen(pointer), 0, $0, length) }
            }
        }
    }
}
