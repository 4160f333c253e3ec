import Logging
import NIOConcurrencyHelpers
import NIOCore
import SCSIProtocol

/// The port layer's abort of other I_T nexuses' tasks: ends the tasks in logical unit
/// `lun` of every I_T nexus `matching` selects as ABORT TASK SET would on each (SAM-5
/// §7.2; each session cancels them and answers them TASK ABORTED, TAS = 1) and returns
/// once they have left the device server.
public typealias TaskAborter = @Sendable (_ lun: UInt16, _ matching: @escaping @Sendable (ITNexus) -> Bool) async -> Void

/// Aborts the device server asks of the port layer: the preempted I_T nexuses' tasks
/// of a PREEMPT AND ABORT (SPC-4 §5.12.11.2.6), and the tasks a reset or PREEMPT AND
/// ABORT made through another gateway ends here.
extension SCSITargetDevice {
    /// How long a change from another gateway waits for the tasks it aborts here
    /// before it is acknowledged anyway: the publisher fences a gateway that has not
    /// acknowledged within its acknowledgement timeout (5 s by default). The tasks are
    /// cancelled all the same.
    static let abortWaitForAnotherGateway = Duration.seconds(2)

    /// Has the port layer end other nexuses' tasks with `aborter` (the transport sets it
    /// for each target it exports). Without one, nothing is aborted.
    public func routeTaskAborts(to aborter: @escaping TaskAborter) {
        taskAborter.withLockedValue { $0 = aborter }
    }

    /// Ends the tasks in `unit` of the nexuses `matching` selects, returning once they
    /// have left the device server, or after `limit` (nil: no limit).
    func abortTasks(in unit: LogicalUnit, waitingAtMost limit: Duration?, matching: @escaping @Sendable (ITNexus) -> Bool) async {
        guard let aborter = taskAborter.withLockedValue({ $0 }) else { return }
        let lun = unit.number.rawValue
        guard let limit else { return await aborter(lun, matching) }
        let abort = Task { await aborter(lun, matching) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await abort.value }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }

    /// PREEMPT AND ABORT, before it waits for the unit's gate: the tasks in `unit` of the
    /// nexuses registered with SERVICE ACTION RESERVATION KEY (every other registrant's
    /// for key 0) end first, so one that is inside the gate (a write waiting for its
    /// Data-Out, or in the backend) does not hold the command up. Only when the issuer is
    /// registered with RESERVATION KEY: otherwise the command meets a conflict and
    /// aborts nothing. What it preempts in the end is aborted again inside the gate
    /// (``abortPreemptedTasks(in:_:)``), from the state it then finds.
    func abortTasksToBePreempted(_ context: CommandContext, _ unit: LogicalUnit) async {
        let nexus = context.nexus
        guard let buffer = try? await dataOut(context, byteCount: context.cdb.allocationLength),
              let parameters = try? PersistentReserveOutParameterList.parse(Array(buffer.readableBytesView), registerAndMove: false)
        else { return }
        let victims = unit.withState { state -> [Registrant] in
            guard let issuer = state.reservations.registration(of: nexus), issuer.key == parameters.reservationKey else { return [] }
            return state.reservations.registrations
                .filter { $0.registrant != issuer.registrant && (parameters.serviceActionReservationKey == 0 || $0.key == parameters.serviceActionReservationKey) }
                .map(\.registrant)
        }
        guard !victims.isEmpty else { return }
        await abortTasks(in: unit, waitingAtMost: nil) { nexus in victims.contains { $0.matches(nexus) } }
    }

    /// PREEMPT AND ABORT: the tasks in `unit` of the preempted registrants' I_T nexuses
    /// end before the command does (SPC-4 §5.12.11.2.6 c). The command holds the unit's
    /// gate, so those tasks are queued behind it, and leave the queue as they are
    /// cancelled (``LogicalUnitGate/enterUnlessCancelled(exclusive:headOfQueue:)``).
    func abortPreemptedTasks(in unit: LogicalUnit, _ notices: [PersistentReservations.Notice]) async {
        let preempted = notices.filter { $0.condition == .registrationsPreempted }.flatMap(\.registrants)
        guard !preempted.isEmpty else { return }
        await abortTasks(in: unit, waitingAtMost: nil) { nexus in preempted.contains { $0.matches(nexus) } }
        logger.info("tasks of the preempted nexuses aborted", metadata: ["lun": "\(unit.number)", "registrants": "\(preempted.count)"])
    }
}
