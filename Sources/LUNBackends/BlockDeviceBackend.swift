import BlockStorage
import NIOPosix
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens a Linux block device (for example /dev/sdb or an LVM volume) as a medium.
///
/// The I/O path is ``FileBlockDevice``'s; only the probe differs: the size comes from
/// seeking to the end (what BLKGETSIZE64 reports, without needing a variadic ioctl in
/// Swift) and the logical and physical block sizes from sysfs.
public enum BlockDeviceBackend {
    /// Opens `path`, which must be a block device, with the same read/write path as a file.
    public static func open(path: String, threadPool: NIOThreadPool) async throws -> FileBlockDevice {
        try await threadPool.runIfActive {
            let descriptor = try systemCall(.openFailed, "open block device \(path) read-write") {
                try SystemPackage.FileDescriptor.open(FilePath(path), .readWrite)
            }
            do {
                var status = stat()
                try checkedCall(.openFailed, "stat \(path)") { fstat(descriptor.rawValue, &status) }
                guard status.st_mode & S_IFMT == S_IFBLK else {
                    throw BlockStorageError(.openFailed, "\(path) is not a block device; configure it as a file backend")
                }
                let size = UInt64(try systemCall(.openFailed, "find the size of \(path)") {
                    try descriptor.seek(offset: 0, from: .end)
                })
                let blockSize = queueLimit("logical_block_size", of: UInt64(status.st_rdev)) ?? 512
                let physicalBlockSize = queueLimit("physical_block_size", of: UInt64(status.st_rdev))
                guard size >= UInt64(blockSize) else {
                    throw BlockStorageError(.openFailed, "\(path) holds \(size) bytes, less than one \(blockSize)-byte block")
                }
                return FileBlockDevice(
                    descriptor: descriptor, path: path,
                    geometry: BlockGeometry(
                        blockSize: blockSize, blockCount: size / UInt64(blockSize), physicalBlockSize: physicalBlockSize),
                    isBlockDevice: true, threadPool: threadPool)
            } catch {
                try? descriptor.close()
                throw error
            }
        }
    }

    /// Reads /sys/dev/block/MAJOR:MINOR/queue/NAME (logical_block_size is what BLKSSZGET
    /// reports, physical_block_size what BLKPBSZGET does); a partition has no queue
    /// directory of its own, so its parent's is tried next.
    private static func queueLimit(_ name: String, of device: UInt64) -> Int? {
        // glibc's dev_t encoding (sys/sysmacros.h gnu_dev_major/gnu_dev_minor).
        let major = ((device >> 8) & 0xFFF) | ((device >> 32) & ~UInt64(0xFFF))
        let minor = (device & 0xFF) | ((device >> 12) & ~UInt64(0xFF))
        for relative in ["queue/\(name)", "../queue/\(name)"] {
            let path = FilePath("/sys/dev/block/\(major):\(minor)/\(relative)")
            guard let file = try? SystemPackage.FileDescriptor.open(path, .readOnly) else { continue }
            defer { try? file.close() }
            var bytes = [UInt8](repeating: 0, count: 32)
            let count = (try? bytes.withUnsafeMutableBytes { try file.read(into: $0) }) ?? 0
            let text = String(decoding: bytes.prefix(count), as: UTF8.self)
            if let value = Int(text.trimmingWhitespace), value > 0 { return value }
        }
        return nil
    }
}

extension String {
    /// The string without leading and trailing spaces and newlines (sysfs values end in "\n").
    fileprivate var trimmingWhitespace: String {
        String(self.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
