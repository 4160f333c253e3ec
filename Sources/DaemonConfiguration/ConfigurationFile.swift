#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a configuration file with the C library, so that the configuration code needs
/// no Foundation.
enum ConfigurationFile {
    /// The file's contents as UTF-8 text.
    static func read(_ path: String) throws(ConfigurationReadError) -> String {
        guard let stream = fopen(path, "rb") else {
            throw ConfigurationReadError(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(stream) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&chunk, 1, chunk.count, stream)
            bytes.append(contentsOf: chunk[..<count])
            if count < chunk.count { break }
        }
        if ferror(stream) != 0 {
            throw ConfigurationReadError(path: path, reason: String(cString: strerror(errno)))
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigurationReadError(path: path, reason: "the file is not UTF-8 text")
        }
        return text
    }
}
