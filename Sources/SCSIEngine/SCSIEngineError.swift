/// Why a device server operation outside the SCSI command path failed (STYLE.md §4:
/// one error struct per module with an extensible code). Command failures are sense
/// data, never this.
public struct SCSIEngineError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; extensible without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// Persistent reservation state could not be read or written.
        public static let reservationStoreFailed = Code("reservationStoreFailed")
        /// An operator request named a target port group the target device does not have.
        public static let unknownTargetPortGroup = Code("unknownTargetPortGroup")
        /// An operator request named a LUN the target device does not have.
        public static let unknownLogicalUnit = Code("unknownLogicalUnit")
        /// An operator's resize was refused (bad size, or the backend cannot resize).
        public static let resizeFailed = Code("resizeFailed")
        public var description: String { name }
    }

    public var code: Code
    /// What went wrong, for an operator reading the log.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
