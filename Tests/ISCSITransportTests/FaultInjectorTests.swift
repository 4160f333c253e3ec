import ISCSIProtocol
import LUNBackends
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import SCSIEngine
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

    @Test("an observer hears every change of its portal's faults until it ends the observation")
    func observation() {
        let injector = FaultInjector()
        injector.set(PortalFaults(latencyMilliseconds: 5), on: first)
        let heard = NIOLockedValueBox<[PortalFaults]>([])
        let (observation, now) = injector.observe(first) { faults in heard.withLockedValue { $0.append(faults) } }
        #expect(now.latencyMilliseconds == 5, "the faults in force when it starts")
        injector.set(PortalFaults(dropEveryNthConnection: 2), on: second)
        injector.set(PortalFaults(failWithSense: SenseCode(key: .notReady, asc: 0x04, ascq: 0x0A)), on: first)
        injector.set(PortalFaults(), on: first)
        #expect(heard.withLockedValue { $0 } == [PortalFaults(failWithSense: SenseCode(key: .notReady, asc: 0x04, ascq: 0x0A)), PortalFaults()])
        #expect(injector.observerCount(on: first) == 1)
        injector.endObservation(observation)
        injector.endObservation(observation)
        injector.set(PortalFaults(latencyMilliseconds: 7), on: first)
        #expect(heard.withLockedValue { $0.count } == 2, "nothing after the end")
        #expect(injector.observerCount(on: first) == 0)
    }

    @Test("the decorator fails commands with the injected sense without running them, or answers them late")
    func decorator() async throws {
        let server = CountingDeviceServer()
        #expect(FaultInjectingDeviceServer(wrapping: server, faults: PortalFaults(dropEveryNthConnection: 2)) == nil,
                "a drop-only fault needs no decorator")

        let failing = try #require(FaultInjectingDeviceServer(
            wrapping: server, faults: PortalFaults(failWithSense: SenseCode(key: .notReady, asc: 0x04, ascq: 0x0A))))
        let failed = await failing.execute(command)
        #expect(failed.status == .checkCondition)
        #expect(failed.sense?[2] == 0x02 && failed.sense?[12] == 0x04 && failed.sense?[13] == 0x0A, "NOT READY, 04/0A")
        #expect(server.executed.withLockedValue { $0 } == 0, "the command never reached the device server")

        let slow = try #require(FaultInjectingDeviceServer(wrapping: server, faults: PortalFaults(latencyMilliseconds: 30)))
        let clock = ContinuousClock()
        let start = clock.now
        let answered = await slow.execute(command)
        #expect(clock.now - start >= .milliseconds(30))
        #expect(answered.status == .good)
        #expect(server.executed.withLockedValue { $0 } == 1)
        #expect(await slow.taskManagement(.logicalUnitReset, lun: 0, nexus: nexus) == .functionComplete, "task management passes through")
    }

    @Test("a connection's commands fail while its portal has a failure fault, and run again once it is cleared")
    func connectionFollowsFaults() async throws {
        let services = ConnectionHarness.makeServices(
            ConnectionHarness.makeTarget(blockDevice: RAMBlockDevice(blockSize: ConnectionHarness.blockSize, blockCount: 64)))
        let harness = try await ConnectionHarness(services: services)
        try await harness.login()
        #expect(services.faults.observerCount(on: ConnectionHarness.portal) == 1)

        services.faults.set(PortalFaults(failWithSense: SenseCode(key: .notReady, asc: 0x04, ascq: 0x0B)), on: ConnectionHarness.portal)
        await harness.channel.testingEventLoop.run()
        for _ in 0..<2 {
            try await harness.command(CDB.testUnitReady)
            let status = try await responseStatus(harness)
            #expect(status.status == 0x02 && status.asc == 0x04 && status.ascq == 0x0B, "the injected NOT READY, not the power-on unit attention")
        }

        services.faults.set(PortalFaults(), on: ConnectionHarness.portal)
        await harness.channel.testingEventLoop.run()
        try await harness.command(CDB.testUnitReady)
        #expect(try await responseStatus(harness).asc == 0x29, "the device server again: its power-on unit attention")
        try await harness.command(CDB.testUnitReady)
        #expect(try await responseStatus(harness).status == 0x00)

        try await harness.channel.close()
        #expect(services.faults.observerCount(on: ConnectionHarness.portal) == 0, "the observation ends with the connection")
    }

    private func responseStatus(_ harness: ConnectionHarness) async throws -> (status: UInt8, asc: UInt8?, ascq: UInt8?) {
        let pdu = try await harness.nextPDU()
        guard case .scsiResponse(let response) = pdu else { throw HarnessError.unexpectedPDU }
        let sense = response.sense
        return (response.status, sense.count > 13 ? sense[12] : nil, sense.count > 13 ? sense[13] : nil)
    }

    private let nexus = ITNexus(initiatorPortName: "iqn.2024-01.org.swiftport.test:initiator,i,0x1", relativeTargetPortIdentifier: 1, targetPortGroup: 1)
    private var command: SCSICommand {
        SCSICommand(cdb: CDB.testUnitReady, lun: 0, dataOutSegments: nil, expectedDataTransferLength: 0, nexus: nexus, taskAttribute: .simple)
    }
}

/// A device server that answers GOOD and counts the commands it was given.
private final class CountingDeviceServer: SCSIDeviceServer {
    let executed = NIOLockedValueBox(0)
    func execute(_ command: SCSICommand) async -> SCSICommandResult {
        executed.withLockedValue { $0 += 1 }
        return SCSICommandResult(status: .good)
    }
    func taskManagement(_ function: TaskManagementFunction, lun: UInt64, nexus: ITNexus) async -> TaskManagementOutcome { .functionComplete }
    func nexusLogin(_ nexus: ITNexus) {}
    func nexusLogout(_ nexus: ITNexus) {}
}
