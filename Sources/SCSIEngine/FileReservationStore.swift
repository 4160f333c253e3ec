#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A ``ReservationStore`` keeping one file per logical unit in a directory
/// (`<directory>/pr-<name>.state`). A save writes a temporary file, fsyncs it, renames
/// it over the record and fsyncs the directory, so a crash at any point leaves the old
/// or the new record (SPC-4 §5.12.5 requires the state to survive power loss).
///
/// The calls block on the file system; PERSISTENT RESERVE OUT is rare, and the
/// device server runs them while it holds the logical unit exclusively.
public struct FileReservationStore: ReservationStore {
    public let directory: String

    /// A store in `directory`, which is created (mode 0700) if missing.
    public init(directory: String) throws {
        self.directory = directory
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw Self.failure("create directory \(directory)")
        }
    }

    public func load(_ name: String) throws -> String? {
        let path = self.path(name)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw Self.failure("open \(path)")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.failure("read \(path)")
            }
            if count == 0 { break }
            bytes += chunk.prefix(count)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func save(_ record: String?, as name: String) throws {
        let path = self.path(name)
        guard let record else {
            if unlink(path) != 0 && errno != ENOENT { throw Self.failure("remove \(path)") }
            try synchronizeDirectory()
            return
        }
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Self.failure("create \(temporary)") }
        do {
            let bytes = Array(record.utf8)
            var done = 0
            while done < bytes.count {
                let count = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + done, bytes.count - done) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw Self.failure("write \(temporary)")
                }
                done += count
            }
            guard fsync(descriptor) == 0 else { throw Self.failure("fsync \(temporary)") }
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let failure = Self.failure("rename \(temporary) to \(path)")
            unlink(temporary)
            throw failure
        }
        try synchronizeDirectory()
    }

    private func path(_ name: String) -> String {
        "\(directory)/pr-\(name).state"
    }

    /// fsync of the directory makes the rename itself durable.
    private func synchronizeDirectory() throws {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.failure("open directory \(directory)") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Self.failure("fsync directory \(directory)") }
    }

    private static func failure(_ what: String) -> SCSIEngineError {
        SCSIEngineError(.reservationStoreFailed, "cannot \(what): \(String(cString: strerror(errno)))")
    }
}
