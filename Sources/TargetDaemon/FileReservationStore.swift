#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOPosix
import SCSIEngine
import Synchronization

/// A ``ReservationStore`` keeping one file per logical unit in a directory
/// (`<directory>/pr-<name>.state`), the daemon's `state_dir/reservations`.
///
/// A save writes a temporary file beside the record, fsyncs it, renames it over the
/// record and fsyncs the directory, so a crash at any point leaves the old or the new
/// record (SPC-4 §5.12.5 requires the state to survive power loss); a removal fsyncs
/// the directory too. A temporary file left by a crash is never read, and the next
/// load of its record deletes it.
///
/// The system calls block, so they run on the daemon's thread pool, never on the
/// event loop that awaits them; one at a time, so a load's clean-up cannot meet a save
/// writing the same temporary file. The store is the only writer of its directory:
/// versions are counted in memory, which makes a save from a stale copy (two device
/// servers attached to one record) a conflict rather than a lost update.
public final class FileReservationStore: ReservationStore {
    public let directory: String
    private let threadPool: NIOThreadPool
    /// The version of each record this store has loaded or written, and the last
    /// version given. Its lock is held for a whole operation, on a thread of `threadPool`.
    private let versions = Mutex(Versions())

    /// Versions are counted over the whole store, so a record removed and written
    /// again never repeats one that a stale copy may still name.
    private struct Versions {
        var current: [String: ReservationRecord.Version] = [:]
        var last: UInt64 = 0

        mutating func next(for name: String) -> ReservationRecord.Version {
            last += 1
            current[name] = ReservationRecord.Version(rawValue: last)
            return ReservationRecord.Version(rawValue: last)
        }
    }

    private init(directory: String, threadPool: NIOThreadPool) {
        self.directory = directory
        self.threadPool = threadPool
    }

    /// A store in `directory`, which is created (mode 0700) if missing.
    public static func open(directory: String, threadPool: NIOThreadPool) async throws -> FileReservationStore {
        let store = FileReservationStore(directory: directory, threadPool: threadPool)
        try await store.offload {
            if mkdir(directory, 0o700) != 0 && errno != EEXIST {
                throw store.failure("create the directory", directory, fix: "create it or pick another state_dir")
            }
        }
        return store
    }

    public func load(_ name: String) async throws -> ReservationRecord? {
        try await offload { [self] in
            try versions.withLock { versions in
                let path = self.path(name)
                // What a crash between write and rename left; the record is intact.
                unlink(temporaryPath(name))
                let descriptor = openFile(path, O_RDONLY | O_CLOEXEC)
                if descriptor < 0 {
                    if errno == ENOENT {
                        versions.current[name] = nil
                        return nil
                    }
                    throw failure("open", path, fix: "check that swiftportd may read it")
                }
                defer { close(descriptor) }
                let text = try readAll(descriptor, path: path)
                return ReservationRecord(text: text, version: versions.current[name] ?? versions.next(for: name))
            }
        }
    }

    public func save(
        _ text: String, as name: String, replacing version: ReservationRecord.Version?
    ) async throws -> ReservationRecord.Version {
        try await offload { [self] in
            try versions.withLock { versions in
                let path = self.path(name)
                try checkVersion(of: name, at: path, is: version, in: versions)
                let temporary = temporaryPath(name)
                let descriptor = openFile(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
                guard descriptor >= 0 else { throw failure("create", temporary, fix: Self.writableAdvice) }
                do {
                    try writeAll(Array(text.utf8), to: descriptor, path: temporary)
                    guard fsync(descriptor) == 0 else { throw failure("fsync", temporary, fix: Self.writableAdvice) }
                } catch {
                    close(descriptor)
                    unlink(temporary)
                    throw error
                }
                close(descriptor)
                guard rename(temporary, path) == 0 else {
                    let error = failure("rename \(temporary) over", path, fix: Self.writableAdvice)
                    unlink(temporary)
                    throw error
                }
                try synchronizeDirectory()
                return versions.next(for: name)
            }
        }
    }

    public func remove(_ name: String, replacing version: ReservationRecord.Version?) async throws {
        guard version != nil else { return }
        try await offload { [self] in
            try versions.withLock { versions in
                let path = self.path(name)
                try checkVersion(of: name, at: path, is: version, in: versions)
                if unlink(path) != 0 && errno != ENOENT { throw failure("remove", path, fix: Self.writableAdvice) }
                try synchronizeDirectory()
                versions.current[name] = nil
            }
        }
    }

    /// Runs `body` on the thread pool. Not cancelled with its task: the change it makes
    /// is already in the logical unit's state, and what persists must match it.
    private func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            threadPool.submit { [directory] state in
                guard case .active = state else {
                    continuation.resume(
                        throwing: SCSIEngineError(
                            .reservationStoreFailed, "the thread pool of the reservation store in \(directory) has stopped"))
                    return
                }
                continuation.resume(with: Result(catching: body))
            }
        }
    }

    private func path(_ name: String) -> String {
        "\(directory)/pr-\(name).state"
    }

    /// In the record's directory, so that the rename stays inside one file system.
    private func temporaryPath(_ name: String) -> String {
        path(name) + ".tmp"
    }

    /// Refuses a change made from another version than the one this store holds.
    private func checkVersion(
        of name: String, at path: String, is version: ReservationRecord.Version?, in versions: Versions
    ) throws {
        guard versions.current[name] != version else { return }
        throw SCSIEngineError(
            .reservationStoreConflict,
            "\(path) is at version \(versions.current[name].map(String.init(describing:)) ?? "none"), not \(version.map(String.init(describing:)) ?? "none"): "
                + "two device servers write it; give every logical unit its own NAA identity")
    }

    private func readAll(_ descriptor: Int32, path: String) throws -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("read", path, fix: "check the file system")
            }
            if count == 0 { return String(decoding: bytes, as: UTF8.self) }
            bytes += chunk.prefix(count)
        }
    }

    private func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws {
        var done = 0
        while done < bytes.count {
            let count = bytes[done...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("write", path, fix: Self.writableAdvice)
            }
            done += count
        }
    }

    /// fsync of the directory makes the rename or the removal itself durable.
    private func synchronizeDirectory() throws {
        let descriptor = openFile(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("open the directory", directory, fix: Self.writableAdvice) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("fsync the directory", directory, fix: Self.writableAdvice) }
    }

    private static let writableAdvice = "check that the directory exists, swiftportd may write it and its file system has space"

    /// The error for a failed system call, read from `errno`: what, where, why, and what
    /// the operator can do.
    private func failure(_ what: String, _ path: String, fix: String) -> SCSIEngineError {
        SCSIEngineError(
            .reservationStoreFailed,
            "cannot \(what) \(path): \(String(cString: strerror(errno))); \(fix) (persistent reservations with APTPL live there)")
    }
}

/// open(2), named apart from ``FileReservationStore/open(directory:threadPool:)``.
private func openFile(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
    open(path, flags, mode)
}
