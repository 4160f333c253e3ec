/// Sense data for one CHECK CONDITION (or REQUEST SENSE reply), SPC-4 §4.5.
///
/// Command handlers throw it: it conforms to `Error` so that a handler can bail out
/// with `throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 1))`
/// and the dispatcher turns it into CHECK CONDITION in one place.
public struct SenseData: Error, Hashable, Sendable {
    public var condition: SenseCondition
    /// The INFORMATION field (e.g. the first failing LBA, or the miscompare offset).
    public var information: UInt64?
    /// The field pointer for ILLEGAL REQUEST conditions.
    public var field: FieldPointer?

    public init(_ condition: SenseCondition, information: UInt64? = nil, field: FieldPointer? = nil) {
        self.condition = condition
        self.information = information
        self.field = field
    }

    /// The sense data this error reports, in either format.
    public var reported: ReportedSense {
        ReportedSense(code: condition.code, information: information, field: field)
    }

    /// Fixed format sense data (SPC-4 §4.5.3, table 45), 18 bytes.
    public var fixedFormat: [UInt8] { reported.fixedFormat }

    /// Descriptor format sense data (SPC-4 §4.5.2).
    public var descriptorFormat: [UInt8] { reported.descriptorFormat }
}
