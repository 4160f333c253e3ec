import Glibc
import Testing

@testable import TargetDaemon

/// sd_notify(3)'s datagrams, sent to a socket of the test's own as systemd would listen.
@Suite("systemd notification (Type=notify)")
struct ServiceManagerNotifierTests {
    /// A datagram socket bound at a fresh path (or abstract name), and what it receives.
    final class Listener {
        let descriptor: Int32
        let name: String

        init(abstract: Bool) throws {
            descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            name = (abstract ? "@" : "/tmp/") + "swiftport-notify-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            var path = Array(name.utf8)
            if abstract { path[0] = 0 }
            withUnsafeMutableBytes(of: &address.sun_path) { bytes in for (index, byte) in path.enumerated() { bytes[index] = byte } }
            let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (abstract ? 0 : 1))
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
            try #require(bound == 0)
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        /// The next datagram's text, nil after 2 s.
        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(descriptor, &buffer, buffer.count, 0)
            return count < 0 ? nil : String(decoding: buffer[..<count], as: UTF8.self)
        }

        deinit {
            close(descriptor)
            if !name.hasPrefix("@") { unlink(name) }
        }
    }

    @Test("READY=1 with STATUS, STOPPING=1 and WATCHDOG=1 reach the socket, a path or an abstract name", arguments: [false, true])
    func datagrams(abstract: Bool) throws {
        let listener = try Listener(abstract: abstract)
        let notifier = ServiceManagerNotifier(environment: ["NOTIFY_SOCKET": listener.name])
        #expect(notifier.isActive)
        notifier.ready(status: "serving 2 target(s)")
        #expect(listener.receive() == "READY=1\nSTATUS=serving 2 target(s)")
        notifier.watchdog()
        #expect(listener.receive() == "WATCHDOG=1")
        notifier.stopping()
        #expect(listener.receive()?.hasPrefix("STOPPING=1\n") == true)
    }

    @Test("no NOTIFY_SOCKET: nothing is sent; a newline in a value cannot start another assignment")
    func inactive() {
        #expect(!ServiceManagerNotifier(environment: [:]).isActive)
        #expect(ServiceManagerNotifier.message(["READY=1", "STATUS=a\nWATCHDOG=1"]) == "READY=1\nSTATUS=a WATCHDOG=1")
    }

    @Test("the watchdog: half of WATCHDOG_USEC, only when WATCHDOG_PID is this process or absent")
    func watchdogInterval() {
        #expect(ServiceManagerNotifier(environment: ["WATCHDOG_USEC": "10000000"], processID: 7).watchdogInterval == .seconds(5))
        #expect(ServiceManagerNotifier(environment: ["WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "7"], processID: 7).watchdogInterval == .seconds(5))
        #expect(ServiceManagerNotifier(environment: ["WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "8"], processID: 7).watchdogInterval == nil)
        #expect(ServiceManagerNotifier(environment: ["WATCHDOG_USEC": "0"]).watchdogInterval == nil)
        #expect(ServiceManagerNotifier(environment: [:]).watchdogInterval == nil)
    }
}
