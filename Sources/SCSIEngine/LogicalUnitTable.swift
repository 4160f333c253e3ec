import SCSIProtocol

/// The logical units of one target device at one moment: never changed, replaced as a
/// whole when a unit is added or removed (``SCSITargetDevice/addLogicalUnit(_:)``).
final class LogicalUnitTable: Sendable {
    /// The logical units in ascending LUN order.
    let units: [LogicalUnit]
    /// `units` indexed by LUN number, up to the highest present: the per-command
    /// lookup, without hashing.
    private let byNumber: [LogicalUnit?]

    /// A table of `units`; the first of several with one number wins (the config
    /// parser refuses duplicates first).
    init(_ units: [LogicalUnit]) {
        var byNumber = [LogicalUnit?](repeating: nil, count: Int(units.map(\.number.rawValue).max() ?? 0) + 1)
        for unit in units where byNumber[Int(unit.number.rawValue)] == nil {
            byNumber[Int(unit.number.rawValue)] = unit
        }
        self.byNumber = byNumber
        self.units = byNumber.compactMap { $0 }
    }

    /// The logical unit numbered `lun`.
    func unit(numbered lun: UInt16) -> LogicalUnit? {
        Int(lun) < byNumber.count ? byNumber[Int(lun)] : nil
    }
}
