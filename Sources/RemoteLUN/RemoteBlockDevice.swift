import BlockStorage
import ISCSITransport
import Logging
import MultipathDSM
import NIOCore
import SCSIProtocol

/// A claimed multipath device on upstream portals, used as a LUN backend (the gateway of
/// ARCHITECTURE.md §1: "the resource is remote, reached over the network"). Each I/O
/// goes down the path the DSM selects; a path failure is retried on another path, so a
/// lost upstream portal fails over instead of failing the I/O.
public final class RemoteBlockDevice: BlockDevice {
    public let geometry: BlockGeometry
    private let controller: MultipathController
    /// Retries of one I/O on other paths before giving up (the DSM does not count per I/O).
    static let maximumAttempts = 8

    /// Builds the device from the paths of one claimed logical unit.
    public init(unit: ClaimedLogicalUnit, paths: [DiscoveredPath], configuration: MultipathConfiguration, scanner: DSMScanner, logger: Logger) throws {
        guard let first = paths.first else {
            throw BlockStorageError(.openFailed, "no path to the remote logical unit \(unit.identity)")
        }
        geometry = BlockGeometry(blockSize: first.blockSize, blockCount: first.blockCount)
        controller = MultipathController(unit: unit, paths: paths, configuration: configuration, scanner: scanner, logger: logger)
    }

    /// Starts the TEST UNIT READY path checker and timers; stops with `shutdown()`.
    public func start() async { await controller.startChecker() }
    public func shutdown() async { await controller.shutdown() }

    /// The DSM's view of the device: paths, states, counters.
    public func status() async -> DeviceStatus { await controller.status }

    public func read(at lba: UInt64, blockCount: Int, allocator: ByteBufferAllocator) async throws -> ByteBuffer {
        let cdb = CommandDescriptorBlock.read16(lba: lba, blockCount: UInt32(clamping: blockCount))
        return try await controller.perform(cdb: cdb, dataOut: nil, expectedDataIn: blockCount * geometry.blockSize, blocks: UInt64(blockCount), failure: .readFailed)
    }

    public func write(_ data: ByteBuffer, at lba: UInt64, forceUnitAccess: Bool) async throws {
        let blocks = data.readableBytes / geometry.blockSize
        let cdb = CommandDescriptorBlock.write16(lba: lba, blockCount: UInt32(clamping: blocks), forceUnitAccess: forceUnitAccess)
        _ = try await controller.perform(cdb: cdb, dataOut: data, expectedDataIn: 0, blocks: UInt64(blocks), failure: .writeFailed)
    }

    public func flush() async throws {
        _ = try await controller.perform(cdb: .synchronizeCache16(), dataOut: nil, expectedDataIn: 0, blocks: 0, failure: .flushFailed)
    }

    public func unmap(at lba: UInt64, blockCount: Int) async throws {
        throw BlockStorageError(.unsupported, "UNMAP is not passed to remote logical units")
    }
}

/// The DSM state and the live connections of one remote device, behind an actor.
actor MultipathController {
    private var device: MultipathDevice<ContinuousClock.Instant>
    private var connections: [PathID: InitiatorConnection]
    private let routes: [PathID: (portal: Portal, target: String, lun: UInt16, isid: ISIDSeed)]
    private let scanner: DSMScanner
    private let logger: Logger
    private var checker: Task<Void, Never>?

    /// What reconnecting a path needs to log in again as the same I_T nexus.
    struct ISIDSeed { var portalIndex: Int; var targetIndex: Int }

    init(unit: ClaimedLogicalUnit, paths: [DiscoveredPath], configuration: MultipathConfiguration, scanner: DSMScanner, logger: Logger) {
        device = MultipathDevice(unit, configuration: configuration, now: .now)
        var connections: [PathID: InitiatorConnection] = [:]
        var routes: [PathID: (Portal, String, UInt16, ISIDSeed)] = [:]
        for (index, path) in paths.enumerated() {
            connections[path.identity.pathID] = path.connection
            routes[path.identity.pathID] = (path.connection.portal, path.targetName, path.lun, ISIDSeed(portalIndex: 100 + index, targetIndex: 1))
        }
        self.connections = connections
        self.routes = routes
        self.scanner = scanner
        self.logger = logger
    }

    var status: DeviceStatus { device.status }

    func startChecker() {
        guard checker == nil else { return }
        checker = Task { [weak self] in
            while !Task.isCancelled {
                guard let pause = await self?.pauseBeforeNextCheck() else { return }
                try? await Task.sleep(for: pause)
                await self?.checkPaths()
            }
        }
    }

    /// Until the DSM's next checker round or failed-path retry (its reconnect backoff),
    /// at most a second so the timers (failback, no-path deadline) keep running.
    private func pauseBeforeNextCheck() -> Duration {
        let now = ContinuousClock.now
        let wait = device.nextCheck(now: now).map { now.duration(to: $0) } ?? .seconds(1)
        return min(max(wait, .milliseconds(10)), .seconds(1))
    }

    func shutdown() async {
        checker?.cancel()
        for connection in connections.values { await connection.logout() }
        connections = [:]
    }

    /// Runs one command, retrying on the path the DSM names after a path failure,
    /// waiting while the DSM queues (no path), failing with its error when it gives up.
    func perform(cdb: CommandDescriptorBlock, dataOut: ByteBuffer?, expectedDataIn: Int, blocks: UInt64, failure: BlockStorageError.Code) async throws -> ByteBuffer {
        var attempts = 0
        while true {
            perform(device.tick(now: .now))
            switch device.route() {
            case .fail(let error):
                throw BlockStorageError(failure, "remote I/O failed: \(error)")
            case .queue:
                try await Task.sleep(for: .milliseconds(100))
                continue
            case .send(let path):
                attempts += 1
                guard attempts <= RemoteBlockDevice.maximumAttempts else {
                    throw BlockStorageError(failure, "remote I/O failed after \(attempts - 1) attempts on every path")
                }
                guard let connection = connections[path], let route = routes[path] else {
                    perform(device.handle(.transportError, on: path, now: .now))
                    continue
                }
                device.beginIO(path: path, blocks: blocks)
                let outcome: IOOutcome
                var result: InitiatorConnection.CommandResult?
                do {
                    let answer = try await connection.execute(cdb: cdb.bytes, lun: route.lun, dataOut: dataOut, expectedDataIn: expectedDataIn)
                    result = answer
                    outcome = answer.status == 0 ? .completed : .checkCondition(SCSIProbe.senseCode(of: answer))
                } catch {
                    logger.notice("path \(path) failed: \(error)")
                    connections[path] = nil
                    outcome = .transportError
                }
                let completion = device.endIO(path: path, blocks: blocks, outcome: outcome, now: .now)
                perform(completion.actions)
                switch completion.disposition {
                case .complete:
                    guard let result, result.status == 0 else {
                        throw BlockStorageError(failure, "remote command failed: status 0x\(String(result?.status ?? 0, radix: 16)), sense \(outcome)")
                    }
                    return result.dataIn
                case .retry, .queue:
                    continue
                case .fail(let error):
                    throw BlockStorageError(failure, "remote I/O failed: \(error)")
                }
            }
        }
    }

    /// TEST UNIT READY down every path that is due; a path whose session is gone is
    /// logged in again first (due only as the DSM's reconnect backoff allows).
    private func checkPaths() async {
        for path in device.pathsDueForCheck(now: .now) {
            guard let route = routes[path] else { continue }
            var connection = connections[path]
            var loginError: (any Error)?
            if connection == nil {
                do {
                    connection = try await scanner.login(route.portal, target: route.target, isid: scanner.isid(portal: route.isid.portalIndex, target: route.isid.targetIndex))
                    logger.notice("path \(path) logged in again to \(route.portal)")
                } catch {
                    loginError = error
                }
                connections[path] = connection
            }
            let result: PathEvent.CheckResult
            if let connection {
                do {
                    result = try await SCSIProbe.testUnitReady(connection, lun: route.lun).map { .sense($0) } ?? .ready
                } catch {
                    connections[path] = nil
                    result = .unreachable
                }
            } else {
                result = .unreachable
            }
            let now = ContinuousClock.now
            perform(device.handle(.checked(result), on: path, now: now))
            if let loginError, let retry = device.nextRetry(of: path) {
                let wait = now.duration(to: retry).components
                let milliseconds = wait.seconds * 1000 + wait.attoseconds / 1_000_000_000_000_000
                logger.notice("path \(path): reconnect failed: \(loginError); next try in \(milliseconds) ms")
            }
        }
        perform(device.tick(now: .now))
    }

    private func perform(_ actions: [DeviceAction]) {
        for action in actions {
            if case .refreshALUA(let path) = action, let connection = connections[path], let lun = routes[path]?.lun {
                Task {
                    if let groups = try? await SCSIProbe.targetPortGroups(connection, lun: lun) { self.applyALUA(groups) }
                }
            }
        }
    }

    private func applyALUA(_ groups: [TargetPortGroupStatus]) {
        perform(device.updateALUA(groups, now: .now))
    }
}
