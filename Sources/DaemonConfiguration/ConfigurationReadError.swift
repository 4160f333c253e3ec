/// The configuration file could not be read at all (missing, unreadable, not UTF-8).
///
/// Kept apart from ``ConfigurationErrors`` because the remedy differs: the file's content
/// is not at fault, its location or permissions are, and `swiftport config check` exits
/// with a different status (2 rather than 1).
public struct ConfigurationReadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path as given.
    public var path: String
    /// The reason, e.g. the `strerror` text for the failing system call.
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// `cannot read conf/x.toml: No such file or directory`
    public var description: String {
        "cannot read \(path): \(reason)"
    }
}
