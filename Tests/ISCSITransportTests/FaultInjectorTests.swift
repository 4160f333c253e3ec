import SCSIProtocol
import Testing

@testable import ISCSITransport

/// The fault table operators set with `swiftport fault`: what a command sees.
@Suite("FaultInjector")
struct FaultInjectorTests {
    private let first = Portal(host: "127.0.0.1", port: 3260)
    private let second = Portal(host: "127.0.0.2", port: 3260)

    @Test("a fault is seen on its own portal only, and is gone once cleared")
    func setAndClear() {
        let injector = FaultInjector()
        #expect(injector.faults(on: first).isEmpty)
        injector.set(PortalFaults(latencyMilliseconds: 40), on: first)
        injector.set(PortalFaults(dropEveryNthConnection: 2), on: second)
        #expect(injector.faults(on: first).latencyMilliseconds == 40)
        #expect(injector.faults(on: second).dropEveryNthConnection == 2)
        #expect(injector.faults(on: second).latencyMilliseconds == nil)

        injector.set(PortalFaults(), on: first)
        #expect(injector.faults(on: first).isEmpty)
        #expect(injector.faults(on: second).dropEveryNthConnection == 2, "clearing one portal keeps the other's")
        injector.set(PortalFaults(), on: second)
        #expect(injector.faults(on: second).isEmpty)
        #expect(injector.all.isEmpty)
    }

    @Test("every Nth new connection on a faulty portal is dropped")
    func dropEveryNth() {
        let injector = FaultInjector()
        injector.set(PortalFaults(dropEveryNthConnection: 3), on: first)
        let drops = (1...6).map { _ in injector.shouldDropNewConnection(on: first) }
        #expect(drops == [false, false, true, false, false, true])
        #expect(!injector.shouldDropNewConnection(on: second))
    }

    @Test("a command sees latency and failure faults of its portal; a drop-only fault costs it nothing")
    func commandFaults() {
        let injector = FaultInjector()
        injector.set(PortalFaults(dropEveryNthConnection: 2), on: second)
        #expect(injector.commandFaults(on: second) == nil)
        injector.set(PortalFaults(failWithSense: SenseCode(key: .notReady, asc: 0x04, ascq: 0x0A)), on: first)
        #expect(injector.commandFaults(on: first)?.failWithSense?.asc == 0x04)
        #expect(injector.commandFaults(on: second)?.failWithSense == nil)
        injector.set(PortalFaults(), on: first)
        #expect(injector.commandFaults(on: first) == nil)
    }
}
