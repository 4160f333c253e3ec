/// Every problem found in one configuration file, in line order, so the user can fix them
/// all in one edit instead of one per run.
public struct ConfigurationErrors: Error, Sendable, Equatable, CustomStringConvertible {
    /// At least one error; sorted by line, then in the order they were found.
    public var errors: [ConfigurationError]

    public init(_ errors: [ConfigurationError]) {
        self.errors = errors
    }

    /// One error per line, in line order.
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
