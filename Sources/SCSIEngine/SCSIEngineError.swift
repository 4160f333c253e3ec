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
        /// A change to a reservation record named a version the store no longer holds:
        /// another writer changed it first (``ReservationStore``).
        public static let reservationStoreConflict = Code("reservationStoreConflict")
        /// An operator request named a target port group the target device does not have.
        public static let unknownTargetPortGroup = Code("unknownTargetPortGroup")
        /// An operator request named a LUN the target device does not have.
        public static let unknownLogicalUnit = Code("unknownLogicalUnit")
        /// A logical unit was added under a number the target already uses.
        public static let duplicateLogicalUnit = Code("duplicateLogicalUnit")
        /// An operator request named an asymmetric access state this device server
        /// does not implement (SPC-4 §5.15.2.4.6, §5.15.2.4.7).
        public static let unsupportedAccessState = Code("unsupportedAccessState")
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
