/// One problem in a configuration file, written for the person who edits it: where it is
/// (file and line), what is wrong, and, when we can tell, what to write instead.
///
/// TOML syntax errors and semantic (validation) errors share this type so that
/// `swiftport config check` prints both the same way.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file as the user named it (not resolved), so the message matches their command line.
    public var file: String
    /// 1-based line; the key's line, or the table header's line for a missing key.
    public var line: Int
    /// What is wrong, quoting the key and the offending value.
    public var message: String
    /// What to write instead, when there is a single obvious fix.
    public var suggestion: String?

    public init(file: String, line: Int, message: String, suggestion: String? = nil) {
        self.file = file
        self.line = line
        self.message = message
        self.suggestion = suggestion
    }

    /// `conf/x.toml:12: 'block_size' must be 512 or 4096, not 1000; write block_size = 512`
    public var description: String {
        let location = "\(file):\(line): \(message)"
        guard let suggestion else { return location }
        return "\(location); \(suggestion)"
    }
}
