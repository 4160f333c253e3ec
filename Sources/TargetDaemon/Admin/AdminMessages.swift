/// One request on the admin socket: the `swiftport` command line after the program
/// name, e.g. ["portal", "disable", "127.0.0.1:3260"]. One JSON object per line.
public struct AdminRequest: Codable, Sendable, Equatable {
    public var arguments: [String]
    public init(arguments: [String]) { self.arguments = arguments }
}

/// The answer: text for people, and the same facts as JSON for scripts when asked.
public struct AdminResponse: Codable, Sendable, Equatable {
    public var ok: Bool
    /// Human-readable output, or the error message when `ok` is false.
    public var output: String
    public init(ok: Bool, output: String) {
        self.ok = ok
        self.output = output
    }
}
