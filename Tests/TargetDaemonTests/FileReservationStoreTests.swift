import DaemonConfiguration
import Foundation
import ISCSITransport
import Logging
import NIOCore
import NIOPosix
import SCSIEngine
import SCSIProtocol
import Testing

@testable import TargetDaemon

/// The file ``ReservationStore`` of `state_dir/reservations`: atomic replacement
/// (temporary file, fsync, rename, directory fsync), removal, versions, errors that
/// name the file, and the daemon restoring APTPL reservations through it (SPC-4 §5.12.5).
@Suite("File reservation store")
struct FileReservationStoreTests {
    /// A fresh directory under the temporary directory, removed by `body`'s end.
    static func withDirectory(_ body: (String) async throws -> Void) async throws {
        let directory = NSTemporaryDirectory() + "swiftport-pr-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await body(directory)
    }

    static func open(_ directory: String) async throws -> FileReservationStore {
        try await FileReservationStore.open(directory: directory, threadPool: .singleton)
    }

    @Test("a saved record loads back, in the same store and after a restart, with a new version per save")
    func roundTrip() async throws {
        try await Self.withDirectory { directory in
            let store = try await Self.open(directory)
            #expect(try await store.load("lu") == nil)
            let first = try await store.save("generation 1\n", as: "lu", replacing: nil)
            #expect(try await store.load("lu") == ReservationRecord(text: "generation 1\n", version: first))
            let second = try await store.save("generation 2\n", as: "lu", replacing: first)
            #expect(second != first)
            #expect(try await Self.open(directory).load("lu")?.text == "generation 2\n")
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["pr-lu.state"])
        }
    }

    @Test("a removal deletes the file; removing no record does nothing")
    func removal() async throws {
        try await Self.withDirectory { directory in
            let store = try await Self.open(directory)
            let version = try await store.save("record", as: "lu", replacing: nil)
            try await store.remove("lu", replacing: version)
            #expect(try await store.load("lu") == nil)
            #expect(!FileManager.default.fileExists(atPath: directory + "/pr-lu.state"))
            try await store.remove("lu", replacing: nil)
            // Written again after a removal, with no version: no conflict.
            _ = try await store.save("again", as: "lu", replacing: nil)
        }
    }

    @Test("a crash between write and rename leaves the old record; the stray temporary file is ignored and deleted")
    func crashBeforeRename() async throws {
        try await Self.withDirectory { directory in
            _ = try await Self.open(directory).save("old record", as: "lu", replacing: nil)
            let temporary = directory + "/pr-lu.state.tmp"
            #expect(FileManager.default.createFile(atPath: temporary, contents: Data("new rec".utf8)))
            let restarted = try await Self.open(directory)
            #expect(try await restarted.load("lu")?.text == "old record")
            #expect(!FileManager.default.fileExists(atPath: temporary))
        }
    }

    @Test("a save from a stale version is a conflict and changes nothing")
    func staleVersionConflicts() async throws {
        try await Self.withDirectory { directory in
            let store = try await Self.open(directory)
            let first = try await store.save("one", as: "lu", replacing: nil)
            _ = try await store.save("two", as: "lu", replacing: first)
            let error = await #expect(throws: SCSIEngineError.self) {
                try await store.save("stale", as: "lu", replacing: first)
            }
            #expect(error?.code == .reservationStoreConflict)
            #expect(error?.message.contains(directory + "/pr-lu.state") == true)
            await #expect(throws: SCSIEngineError.self) { try await store.remove("lu", replacing: first) }
            #expect(try await store.load("lu")?.text == "two")
        }
    }

    @Test("a directory that cannot be written gives an error naming the file and what to check")
    func unwritableDirectory() async throws {
        try await Self.withDirectory { directory in
            let store = try await Self.open(directory)
            // Permission bits do not stop root; a regular file in the directory's place
            // stops everyone.
            try FileManager.default.removeItem(atPath: directory)
            #expect(FileManager.default.createFile(atPath: directory, contents: nil))
            let error = await #expect(throws: SCSIEngineError.self) {
                try await store.save("record", as: "lu", replacing: nil)
            }
            #expect(error?.code == .reservationStoreFailed)
            #expect(error?.message.contains("cannot create \(directory)/pr-lu.state.tmp") == true)
            #expect(error?.message.contains("check that the directory exists") == true)
            let below = await #expect(throws: SCSIEngineError.self) { try await Self.open(directory + "/reservations") }
            #expect(below?.message.contains("cannot create the directory \(directory)/reservations") == true)
        }
    }

    @Test("the system calls run on the thread pool: with its pool stopped the store fails, it does not run them inline")
    func runsOnThePool() async throws {
        try await Self.withDirectory { directory in
            let stopped = NIOThreadPool(numberOfThreads: 1)
            let error = await #expect(throws: SCSIEngineError.self) {
                try await FileReservationStore.open(directory: directory, threadPool: stopped)
            }
            #expect(error?.message.contains("thread pool") == true)
            #expect(!FileManager.default.fileExists(atPath: directory))
        }
    }

    @Test("§5.12.5 the daemon restores a registration made with APTPL when it builds its targets again")
    func daemonRestoresAPTPL() async throws {
        try await Self.withDirectory { directory in
            var daemon = DaemonSettings()
            daemon.stateDirectory = directory
            let configuration = SwiftportConfiguration(daemon: daemon, targets: [.ramTarget()])
            let logger = Logger(label: "pr-test") { _ in SwiftLogNoOpLogHandler() }
            let nexus = ITNexus(initiatorPortName: "iqn.2024-01.test:a,i,0x400001370001", relativeTargetPortIdentifier: 1, targetPortGroup: 1)
            func command(_ cdb: [UInt8], dataOut: [UInt8]? = nil) -> SCSICommand {
                SCSICommand(
                    cdb: cdb + [UInt8](repeating: 0, count: 16 - cdb.count), lun: 0, dataOut: dataOut.map { ByteBuffer(bytes: $0) },
                    expectedDataTransferLength: UInt32(dataOut?.count ?? 1024), nexus: nexus)
            }
            // PERSISTENT RESERVE OUT REGISTER, SERVICE ACTION RESERVATION KEY 0xAB, APTPL (SPC-4 §6.16.3).
            let register = [0x5F, 0, 0, 0, 0, 0, 0, 0, 24, 0] as [UInt8]
            let parameters = [UInt8](repeating: 0, count: 15) + [0xAB, 0, 0, 0, 0, 0x01, 0, 0, 0]
            // PERSISTENT RESERVE IN READ KEYS (SPC-4 §6.15.2).
            let readKeys = [0x5E, 0, 0, 0, 0, 0, 0, 0x04, 0, 0] as [UInt8]

            let first = try await TargetAssembly.exportedTargets(
                from: configuration,
                reservationStore: try await TargetAssembly.reservationStore(for: configuration, threadPool: .singleton, logger: logger),
                threadPool: .singleton, logger: logger)[0].device
            first.nexusLogin(nexus)
            while await first.execute(command([0, 0, 0, 0, 0, 0])).status != .good {}
            #expect(await first.execute(command(register, dataOut: parameters)).status == .good)
            #expect(FileManager.default.fileExists(atPath: directory + "/reservations"))

            let second = try await TargetAssembly.exportedTargets(
                from: configuration,
                reservationStore: try await TargetAssembly.reservationStore(for: configuration, threadPool: .singleton, logger: logger),
                threadPool: .singleton, logger: logger)[0].device
            second.nexusLogin(nexus)
            while await second.execute(command([0, 0, 0, 0, 0, 0])).status != .good {}
            let keys = await second.execute(command(readKeys)).dataIn.map { Array($0.readableBytesView) }
            #expect(keys.map { Array($0[4..<16]) } == [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0xAB])
        }
    }
}
