import ISCSIProtocol
import SCSIEngine

extension TaskManagementFunction {
    /// The device server's function for an iSCSI function code (RFC 7143 §11.5.1); nil
    /// for those the session machine answers alone (ABORT TASK, CLEAR ACA, TASK REASSIGN).
    init?(_ code: TaskManagementFunctionCode) {
        switch code {
        case .abortTaskSet: self = .abortTaskSet
        case .clearTaskSet: self = .clearTaskSet
        case .logicalUnitReset: self = .logicalUnitReset
        case .targetWarmReset: self = .targetWarmReset
        case .targetColdReset: self = .targetColdReset
        case .abortTask, .clearACA, .taskReassign: return nil
        }
    }
}

extension TaskManagementResponseCode {
    /// The iSCSI response for the device server's outcome (RFC 7143 §11.6.1).
    init(_ outcome: TaskManagementOutcome) {
        switch outcome {
        case .functionComplete: self = .functionComplete
        case .logicalUnitDoesNotExist: self = .lunDoesNotExist
        case .functionRejected: self = .functionRejected
        }
    }
}

extension SessionTable {
    /// Carries out a task management function that session `issuer` of `targetName`
    /// received: CLEAR TASK SET and the resets end every other session's tasks in the
    /// unit (or target) first, so none of them touches the medium after the response
    /// (SAM-5 §7.4, §7.7, §7.9); then the device server resets and drains the unit.
    /// ABORT TASK SET reaches the issuer's own tasks only.
    func perform(
        _ function: TaskManagementFunction, lun: UInt64, nexus: ITNexus, on device: any SCSIDeviceServer,
        issuer: TSIH, targetName: String
    ) async -> TaskManagementResponseCode {
        switch function {
        case .abortTaskSet:
            break
        case .clearTaskSet, .logicalUnitReset:
            await abortTasks(ofTarget: targetName, lun: lun, except: issuer)
        case .targetWarmReset, .targetColdReset:
            await abortTasks(ofTarget: targetName, lun: nil, except: issuer)
        }
        return TaskManagementResponseCode(await device.taskManagement(function, lun: lun, nexus: nexus))
    }
}
