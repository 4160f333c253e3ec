/// Every error the DSM reports: one struct with an extensible code (STYLE.md §4).
///
/// Configuration errors (a bad supported-device entry, a malformed INF line) carry the
/// file and line they came from so an operator can fix them; I/O errors (no path left)
/// carry no location.
public struct MultipathDSMError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, as a value callers can switch on without parsing messages.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) { self.name = name }

        /// A supported-device entry violates the vendor(8) + product(≤16) rules.
        public static let invalidSupportedDeviceEntry = Code("invalidSupportedDeviceEntry")
        /// An INF line could not be read (quotes, fields, flags, unknown %string%).
        public static let malformedINFLine = Code("malformedINFLine")
        /// A path was offered to a device whose identity it does not share.
        public static let identityMismatch = Code("identityMismatch")
        /// Every path is gone and the no-path retry time ran out (or is zero).
        public static let noPathAvailable = Code("noPathAvailable")

        public var description: String { name }
    }

    public var code: Code
    /// Where the bad text came from: a file name, or "config" for TOML strings.
    public var file: String?
    /// 1-based line (the first physical line of a continued INF line).
    public var line: Int?
    /// What is wrong, in words an operator can act on.
    public var message: String

    public init(_ code: Code, file: String? = nil, line: Int? = nil, message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.message = message
    }

    /// `file:line: message`, the shape compilers use, so editors can jump to it.
    public var description: String {
        switch (file, line) {
        case let (file?, line?): "\(file):\(line): \(message)"
        case let (file?, nil): "\(file): \(message)"
        default: message
        }
    }
}
