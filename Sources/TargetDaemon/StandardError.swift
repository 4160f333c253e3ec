#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Messages for the operator on standard error, shared by both executables.
public enum StandardError {
    /// Writes `text` and a newline with write(2): the C `stderr` global is shared
    /// mutable state to Swift 6.
    public static func print(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            guard result > 0 else { return }
            written += result
        }
    }
}
