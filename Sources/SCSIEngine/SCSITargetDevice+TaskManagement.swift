import Logging
import SCSIProtocol

/// Task management (SAM-5 §7, RFC 7143 §11.5). The port layer owns the task list and
/// aborts its own session's tasks; the device server waits for the tasks of every
/// session in the logical unit where the function reaches beyond the issuer's, and
/// establishes the unit attentions and resets the state that SAM-5 requires.
extension SCSITargetDevice {
    /// Performs `function` on the logical unit `lun` (the 64-bit wire LUN; ignored for
    /// target resets) for a TMF received on `nexus`.
    ///
    /// - ABORT TASK SET: only the issuer's tasks end; nothing to establish (SAM-5 §7.3).
    /// - CLEAR TASK SET: COMMANDS CLEARED BY ANOTHER INITIATOR to the other I_T
    ///   nexuses, whose tasks were cleared too (SAM-5 §7.4, shared task set, TST 000b).
    /// - LOGICAL UNIT RESET: mode parameters back to defaults and BUS DEVICE RESET
    ///   FUNCTION OCCURRED to the other I_T nexuses (SAM-5 §7.7).
    /// - TARGET WARM RESET: a logical unit reset of every logical unit, reported as
    ///   POWER ON, RESET, OR BUS DEVICE RESET OCCURRED (RFC 7143 §11.5.1, SAM-2 TARGET
    ///   RESET).
    /// - TARGET COLD RESET: as after power on: every I_T nexus, the issuer included, is
    ///   owed the power-on unit attention again (RFC 7143 §11.5.1).
    ///
    /// CLEAR TASK SET and the resets reach the tasks of every I_T nexus, so they return
    /// only once every task in the logical unit (every unit, for the target resets)
    /// has left it: they pass its gate exclusively, which waits for the commands inside
    /// and holds back those that come after. So none of an aborted task's I/O reaches
    /// the medium after the response (RFC 7143 §11.6.2). The port layer has already
    /// cancelled the other nexuses' tasks in them (their sessions answer TASK ABORTED,
    /// TAS = 1), so a task still waiting at the gate ends there without touching the
    /// medium. ABORT TASK SET reaches only the issuer's tasks, which its port layer
    /// waits for.
    public func taskManagement(_ function: TaskManagementFunction, lun: UInt64, nexus: ITNexus) async -> TaskManagementOutcome {
        switch function {
        case .abortTaskSet, .clearTaskSet, .logicalUnitReset:
            guard let unit = unit(addressedBy: lun) else {
                return .logicalUnitDoesNotExist
            }
            let drains = function != .abortTaskSet
            if drains { await unit.gate.enter(exclusive: true) }
            defer { if drains { unit.gate.leave(exclusive: true) } }
            switch function {
            case .clearTaskSet:
                unit.withState { $0.unitAttentions.establish(.commandsClearedByAnotherInitiator, except: nexus) }
            case .logicalUnitReset:
                reset(unit, as: .busDeviceResetFunctionOccurred)
                await shareReset(of: unit, as: .busDeviceResetFunctionOccurred)
            default:
                break
            }
        case .targetWarmReset:
            for unit in units {
                await unit.gate.enter(exclusive: true)
                reset(unit, as: .powerOnResetOrBusDeviceResetOccurred)
                await shareReset(of: unit, as: .powerOnResetOrBusDeviceResetOccurred)
                unit.gate.leave(exclusive: true)
            }
        case .targetColdReset:
            for unit in units {
                await unit.gate.enter(exclusive: true)
                defer { unit.gate.leave(exclusive: true) }
                unit.resetModeParameters()
                unit.withState {
                    $0.unitAttentions.forgetAllNexuses()
                    $0.spc2ReservationHolder = nil
                }
                // Through the other gateways, as a reset their nexuses hear of.
                await shareReset(of: unit, as: .powerOnResetOrBusDeviceResetOccurred)
            }
        }
        logger.info("task management", metadata: ["function": "\(function)", "lun": "\(lun)", "nexus": "\(nexus)"])
        return .functionComplete
    }

    /// A logical unit reset also ends an SPC-2 reservation; persistent reservations
    /// survive it (SPC-2 §5.5.1, SPC-4 §5.12.1).
    /// LOGICAL UNIT RESET and TARGET RESET establish the unit attention for every I_T
    /// nexus, the one that asked included (SAM-5 §7.7, §7.9; libiscsi's
    /// MultipathIO.Reset checks every path).
    private func reset(_ unit: LogicalUnit, as condition: SenseCondition) {
        unit.resetModeParameters()
        unit.withState {
            $0.unitAttentions.establish(condition, except: nil)
            $0.spc2ReservationHolder = nil
        }
    }

    /// A reset of a unit whose reservations are shared reaches the other gateways: its
    /// SPC-2 reservation ends there too, and their I_T nexuses get `condition`
    /// (SAM-5 §7.7: every I_T nexus of the logical unit). A failure is logged; the
    /// reset stands here.
    private func shareReset(of unit: LogicalUnit, as condition: SenseCondition) async {
        guard let shared = sharedReservationStore else { return }
        _ = try? await changeShared(unit, in: shared, by: nil, "reset") { state throws(SenseData) in
            state.spc2Holder = nil
            return .changed(reset: condition)
        }
    }

    /// Tells the device server that `nexus` is gone (the iSCSI session ended or its
    /// last connection dropped): RESERVE(6)/(10) reservations it held are released
    /// (SPC-2 §5.5.1, I_T nexus loss). Registrations and persistent reservations
    /// survive (SPC-4 §5.12.1). The port layer calls it once per lost nexus.
    public func nexusLogout(_ nexus: ITNexus) {
        let shared = sharedReservationStore
        for unit in units {
            let held = unit.withState { state -> Bool in
                guard state.spc2ReservationHolder == nexus else { return false }
                state.spc2ReservationHolder = nil
                return true
            }
            // Shared, the release must reach the record and the other gateways.
            if held, let shared {
                Task {
                    _ = try? await changeShared(unit, in: shared, by: nexus, "release at I_T nexus loss") { state throws(SenseData) in
                        guard state.spc2Holder == nexus else { return .unchanged }
                        state.spc2Holder = nil
                        return .changed()
                    }
                }
            }
        }
        logger.debug("I_T nexus lost", metadata: ["nexus": "\(nexus)"])
    }
}
