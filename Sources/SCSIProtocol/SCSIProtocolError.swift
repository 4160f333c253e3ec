/// Why initiator-side decoding of SCSI data failed (STYLE.md §4: one error struct per
/// module with an extensible code). Decoders throw it for what a peer sent; they never
/// trap on it.
public struct SCSIProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure; extensible without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// Fewer bytes than the format, or its own length field, requires.
        public static let truncated = Code("truncated")
        /// A field holds a value the format does not allow (a page code other than the
        /// one asked for, an unknown sense data response code, a descriptor running
        /// past the end of its list).
        public static let malformed = Code("malformed")
        public var description: String { name }
    }

    public var code: Code
    /// What was wrong, naming the structure and the figures.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// Throws ``Code/truncated`` unless `count` bytes hold at least `needed`.
    static func require(_ needed: Int, of count: Int, in what: String) throws(SCSIProtocolError) {
        guard count >= needed else {
            throw SCSIProtocolError(.truncated, "\(what) is \(count) bytes, needs \(needed)")
        }
    }
}
