import BlockStorage
import NIOCore

/// The I_T nexus a command arrived on (SAM-5 §4.7): which initiator port, through
/// which target port. Unit attentions and reservations are kept per nexus.
public struct ITNexus: Hashable, Sendable, CustomStringConvertible {
    /// The initiator port name: iSCSI initiator name + ",i,0x" + ISID (RFC 7143 §4.2.7.1 / SAM).
    public var initiatorPortName: String
    /// The target port's relative identifier (VPD 0x83 relative target port designator).
    public var relativeTargetPortIdentifier: UInt16
    /// The target port group the target port belongs to (ALUA, SPC-4 §5.15).
    public var targetPortGroup: UInt16

    public init(initiatorPortName: String, relativeTargetPortIdentifier: UInt16, targetPortGroup: UInt16) {
        self.initiatorPortName = initiatorPortName
        self.relativeTargetPortIdentifier = relativeTargetPortIdentifier
        self.targetPortGroup = targetPortGroup
    }

    public var description: String { "\(initiatorPortName) via port \(relativeTargetPortIdentifier)" }
}

/// One SCSI command as the port layer hands it to the device server (the SRB of the
/// Storport mapping, ARCHITECTURE.md §2).
public struct SCSICommand: Sendable {
    /// The CDB, 6 to 260 bytes (extended CDBs arrive through an AHS).
    public var cdb: [UInt8]
    /// The 64-bit SAM LUN field as it came on the wire.
    public var lun: UInt64
    /// Data-Out payload for write-type commands in the buffers it arrived in (one per
    /// PDU, in order): media writes store them as they are.
    public var dataOutSegments: SegmentedBuffer?
    /// Expected Data Transfer Length from the transport (bytes the initiator allocated
    /// for Data-In, or sent as Data-Out).
    public var expectedDataTransferLength: UInt32
    /// Who sent it.
    public var nexus: ITNexus
    /// How it is ordered against the other tasks of the logical unit (SAM-5 §8.6).
    public var taskAttribute: SCSITaskAttribute

    public init(
        cdb: [UInt8], lun: UInt64, dataOutSegments: SegmentedBuffer?, expectedDataTransferLength: UInt32, nexus: ITNexus,
        taskAttribute: SCSITaskAttribute = .simple
    ) {
        self.cdb = cdb
        self.lun = lun
        self.dataOutSegments = dataOutSegments
        self.expectedDataTransferLength = expectedDataTransferLength
        self.nexus = nexus
        self.taskAttribute = taskAttribute
    }

    public init(cdb: [UInt8], lun: UInt64, dataOut: ByteBuffer?, expectedDataTransferLength: UInt32, nexus: ITNexus) {
        self.init(
            cdb: cdb, lun: lun, dataOutSegments: dataOut.map(SegmentedBuffer.init), expectedDataTransferLength: expectedDataTransferLength,
            nexus: nexus)
    }
}

/// Task attributes (SAM-5 §8.6): how a task is ordered against the others in its
/// logical unit's task set.
public enum SCSITaskAttribute: Sendable, Hashable {
    /// Runs alongside the other SIMPLE tasks, in any order.
    case simple
    /// Starts only once every task that entered the task set before it has ended, and
    /// every later task waits for it (§8.6.3).
    case ordered
    /// Starts before the tasks still waiting in the task set (§8.6.4).
    case headOfQueue
    /// Only for an established ACA condition (§8.6.5), which NACA = 0 never leaves.
    case aca
}

/// Task management functions the port layer forwards to the device server (SAM-5 §7).
public enum TaskManagementFunction: Sendable, Hashable {
    case abortTaskSet
    case clearTaskSet
    case logicalUnitReset
    case targetWarmReset
    case targetColdReset
}
