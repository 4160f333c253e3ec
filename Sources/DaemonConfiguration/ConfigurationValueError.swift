/// Why a single configuration value (a portal, a network, a size, an iSCSI name) is
/// invalid, without a location: the value parsers are also used outside files (the
/// admin socket), and the configuration decoder adds file and line.
public struct ConfigurationValueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with the value, quoting it.
    public var message: String
    /// What to write instead, when there is a single obvious fix.
    public var suggestion: String?

    public init(_ message: String, suggestion: String? = nil) {
        self.message = message
        self.suggestion = suggestion
    }

    public var description: String {
        guard let suggestion else { return message }
        return "\(message); \(suggestion)"
    }
}
