import NIOCore

/// SCSI status byte values (SAM-5 §5.3).
public struct SCSIStatus: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let good = SCSIStatus(rawValue: 0x00)
    public static let checkCondition = SCSIStatus(rawValue: 0x02)
    public static let conditionMet = SCSIStatus(rawValue: 0x04)
    public static let busy = SCSIStatus(rawValue: 0x08)
    public static let reservationConflict = SCSIStatus(rawValue: 0x18)
    public static let taskSetFull = SCSIStatus(rawValue: 0x28)
    public static let acaActive = SCSIStatus(rawValue: 0x30)
    public static let taskAborted = SCSIStatus(rawValue: 0x40)
}

/// The completion of a `SCSICommand`.
public struct SCSICommandResult: Sendable {
    public var status: SCSIStatus
    /// Sense data (fixed or descriptor format) when status is CHECK CONDITION.
    public var sense: [UInt8]?
    /// Data-In payload. May be shorter than the allocation; the port layer truncates to
    /// the expected length and reports residuals (RFC 7143 §11.4.5).
    public var dataIn: ByteBuffer?
    /// For write-type commands: the number of Data-Out bytes the CDB asked for, so the
    /// port layer can report residual over/underflow against the expected length.
    public var dataOutLengthUsed: Int?

    public init(status: SCSIStatus, sense: [UInt8]? = nil, dataIn: ByteBuffer? = nil, dataOutLengthUsed: Int? = nil) {
        self.status = status
        self.sense = sense
        self.dataIn = dataIn
        self.dataOutLengthUsed = dataOutLengthUsed
    }
}
