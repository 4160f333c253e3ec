import SCSIProtocol

/// What a port layer needs of a device server (SAM-5 §4.6): commands, task management,
/// and the I_T nexuses that come and go. ``SCSITargetDevice`` is the device server;
/// the transport wraps it in a decorator for what it adds on one port (the faults an
/// operator injects), so the per-command path of an undecorated port has no check for it.
public protocol SCSIDeviceServer: AnyObject, Sendable {
    /// Executes one command to completion; failures are CHECK CONDITION, never thrown.
    func execute(_ command: SCSICommand) async -> SCSICommandResult
    /// Runs a task management function once the tasks it ends have left the server.
    func taskManagement(_ function: TaskManagementFunction, lun: UInt64, nexus: ITNexus) async -> TaskManagementOutcome
    /// An I_T nexus logged in (unit attentions owed to it start here, SAM-5 §5.14).
    func nexusLogin(_ nexus: ITNexus)
    /// An I_T nexus is lost (SAM-5 §6.3.4).
    func nexusLogout(_ nexus: ITNexus)
}

extension SCSITargetDevice: SCSIDeviceServer {}
