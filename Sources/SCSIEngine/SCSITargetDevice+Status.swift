import SCSIProtocol

/// TEST UNIT READY (SPC-4 §6.37), REQUEST SENSE (SPC-4 §6.29), START STOP UNIT
/// (SBC-3 §5.25): the commands that report or change readiness.
extension SCSITargetDevice {
    /// GOOD: the medium is always ready. A pending unit attention was already reported
    /// by the dispatcher, which is how initiators clear them.
    func testUnitReady(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        .good
    }

    /// Returns the pending unit attention (and clears it), LOGICAL UNIT NOT SUPPORTED
    /// for a LUN with no logical unit, else NO SENSE, with GOOD status. DESC = 1 asks
    /// for descriptor format (SPC-4 §6.29).
    func requestSense(_ context: CommandContext, _ unit: LogicalUnit?) async throws(SenseData) -> SCSICommandResult {
        let condition: SenseCondition
        if let unit {
            condition = unit.withState { $0.unitAttentions.take(for: context.nexus) } ?? .noSense
        } else {
            condition = .logicalUnitNotSupported
        }
        let sense = SenseData(condition)
        let bytes = context.cdb.bit(0, ofByte: 1) ? sense.descriptorFormat : sense.fixedFormat
        return .good(bytes, allocationLength: context.cdb.allocationLength)
    }

    /// Accepted and ignored: the medium cannot be stopped or ejected.
    func startStopUnit(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        .good
    }
}
