/// Every reason the device server reports in sense data, as a value (STYLE.md §4).
///
/// The mapping to sense key / ASC / ASCQ lives in exactly one place,
/// ``SenseCondition/code``, transcribed from SPC-4 Annex D (table D.2, ASC and ASCQ
/// assignments) the way LIO keeps its `sense_detail_table`.
public enum SenseCondition: Hashable, Sendable, CaseIterable {
    /// No error: REQUEST SENSE with nothing pending (SPC-4 §6.29).
    case noSense
    /// The operation code (or service action) is not supported (SPC-4 §4.5.6).
    case invalidCommandOperationCode
    /// LBA plus transfer length falls outside the medium (SBC-3 §4.5).
    case lbaOutOfRange
    /// A CDB field holds a value the device server does not support.
    case invalidFieldInCDB
    /// The LUN addresses no logical unit (SPC-4 §6.29, SAM-5 §5.8).
    case logicalUnitNotSupported
    /// A parameter list (MODE SELECT, UNMAP) field holds an unsupported value.
    case invalidFieldInParameterList
    /// The parameter list is shorter than its own headers say.
    case parameterListLengthError
    /// The transport delivered a different amount of Data-Out than the CDB requires
    /// (RFC 7143 §11.4.5.1; LIO answers the same way).
    case invalidFieldInCommandInformationUnit
    /// PC = saved values or SP = 1: this device server keeps no saved parameters.
    case savingParametersNotSupported
    /// Unit attention after power on, reset or bus device reset (generic, SAM-5 §5.14).
    case powerOnResetOrBusDeviceResetOccurred
    /// Unit attention after the daemon (device server) started.
    case powerOnOccurred
    /// Unit attention after a LOGICAL UNIT RESET from another I_T nexus (SAM-5 §7.7).
    case busDeviceResetFunctionOccurred
    /// Unit attention: another I_T nexus issued CLEAR TASK SET (SAM-5 §7.4).
    case commandsClearedByAnotherInitiator
    /// Unit attention: another I_T nexus changed mode parameters (SPC-4 §6.9).
    case modeParametersChanged
    /// Unit attention: the medium was resized.
    case capacityDataHasChanged
    /// Unit attention: logical units were added or removed (SPC-4 §6.33).
    case reportedLUNsDataHasChanged
    /// The logical unit is read-only (SBC-3 §4.13).
    case writeProtected
    /// The backend failed a read.
    case unrecoveredReadError
    /// The backend failed a write or a flush.
    case writeError
    /// The device server itself failed.
    case internalTargetFailure
    /// VERIFY / COMPARE AND WRITE found different data (SBC-3 §5.29).
    case miscompareDuringVerifyOperation
    /// The logical unit cannot serve media access commands yet.
    case logicalUnitNotReadyCauseNotReportable
    /// The logical unit will not serve media access until an operator acts (its
    /// backend was fenced off the storage).
    case logicalUnitNotReadyManualInterventionRequired
    /// The command is not served while the target port's group is transitioning
    /// between asymmetric access states (SPC-4 §5.15.2.5).
    case logicalUnitNotAccessibleAsymmetricAccessStateTransition
    /// The command is not served through a target port in the standby state (SPC-4 §5.15.2.4.4).
    case logicalUnitNotAccessibleTargetPortInStandbyState
    /// The command is not served through a target port in the unavailable state (SPC-4 §5.15.2.4.5).
    case logicalUnitNotAccessibleTargetPortInUnavailableState
    /// Unit attention: a target port group's asymmetric access state (or PREF) changed
    /// (SPC-4 §5.15.2.2, §6.39).
    case asymmetricAccessStateChanged
    /// Unit attention: another I_T nexus preempted or cleared the persistent
    /// reservation this nexus held or was registered under (SPC-4 §5.12.11).
    case reservationsPreempted
    /// Unit attention: the registrants-only or all-registrants reservation was
    /// released by its holder (SPC-4 §5.12.11.2).
    case reservationsReleased
    /// Unit attention: this nexus's registration was removed by PREEMPT (SPC-4 §5.12.11.4).
    case registrationsPreempted
    /// PERSISTENT RESERVE OUT RELEASE with a scope or type that differs from the
    /// reservation's (SPC-4 §5.12.11.2).
    case invalidReleaseOfPersistentReservation
    /// No room for another registration (SPC-4 §5.12.7).
    case insufficientRegistrationResources
    /// EXTENDED COPY: more CSCD (target) descriptors than the copy manager supports (SPC-4 §6.3.1).
    case tooManyTargetDescriptors
    /// EXTENDED COPY: a CSCD descriptor type the copy manager does not implement.
    case unsupportedTargetDescriptorTypeCode
    /// EXTENDED COPY: more segment descriptors than the copy manager supports.
    case tooManySegmentDescriptors
    /// EXTENDED COPY: a segment descriptor type the copy manager does not implement.
    case unsupportedSegmentDescriptorTypeCode
    /// EXTENDED COPY: a CSCD descriptor names no logical unit of this target (SPC-4 §6.3.4).
    case unreachableCopyTarget
    /// EXTENDED COPY: a segment failed; the copy was aborted (SPC-4 §6.3.3).
    case copyAborted

    /// Sense key, additional sense code and qualifier for this condition.
    public var code: SenseCode {
        let (key, asc, ascq) = triple
        return SenseCode(key: key, asc: asc, ascq: ascq)
    }

    /// The condition whose code this is, or nil for one this device server never
    /// reports (an initiator reading another target's sense); the reverse of ``code``,
    /// read from the same table.
    public init?(_ code: SenseCode) {
        guard let condition = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = condition
    }

    /// The table (SPC-4 Annex D, table D.2).
    private var triple: (SenseKey, UInt8, UInt8) {
        switch self {
        case .noSense: (.noSense, 0x00, 0x00)
        case .invalidCommandOperationCode: (.illegalRequest, 0x20, 0x00)
        case .lbaOutOfRange: (.illegalRequest, 0x21, 0x00)
        case .invalidFieldInCDB: (.illegalRequest, 0x24, 0x00)
        case .logicalUnitNotSupported: (.illegalRequest, 0x25, 0x00)
        case .invalidFieldInParameterList: (.illegalRequest, 0x26, 0x00)
        case .parameterListLengthError: (.illegalRequest, 0x1A, 0x00)
        case .invalidFieldInCommandInformationUnit: (.illegalRequest, 0x0E, 0x03)
        case .savingParametersNotSupported: (.illegalRequest, 0x39, 0x00)
        case .powerOnResetOrBusDeviceResetOccurred: (.unitAttention, 0x29, 0x00)
        case .powerOnOccurred: (.unitAttention, 0x29, 0x01)
        case .busDeviceResetFunctionOccurred: (.unitAttention, 0x29, 0x03)
        case .commandsClearedByAnotherInitiator: (.unitAttention, 0x2F, 0x00)
        case .modeParametersChanged: (.unitAttention, 0x2A, 0x01)
        case .capacityDataHasChanged: (.unitAttention, 0x2A, 0x09)
        case .reportedLUNsDataHasChanged: (.unitAttention, 0x3F, 0x0E)
        case .writeProtected: (.dataProtect, 0x27, 0x00)
        case .unrecoveredReadError: (.mediumError, 0x11, 0x00)
        case .writeError: (.mediumError, 0x0C, 0x00)
        case .internalTargetFailure: (.hardwareError, 0x44, 0x00)
        case .miscompareDuringVerifyOperation: (.miscompare, 0x1D, 0x00)
        case .logicalUnitNotReadyCauseNotReportable: (.notReady, 0x04, 0x00)
        case .logicalUnitNotReadyManualInterventionRequired: (.notReady, 0x04, 0x03)
        case .logicalUnitNotAccessibleAsymmetricAccessStateTransition: (.notReady, 0x04, 0x0A)
        case .logicalUnitNotAccessibleTargetPortInStandbyState: (.notReady, 0x04, 0x0B)
        case .logicalUnitNotAccessibleTargetPortInUnavailableState: (.notReady, 0x04, 0x0C)
        case .asymmetricAccessStateChanged: (.unitAttention, 0x2A, 0x06)
        case .reservationsPreempted: (.unitAttention, 0x2A, 0x03)
        case .reservationsReleased: (.unitAttention, 0x2A, 0x04)
        case .registrationsPreempted: (.unitAttention, 0x2A, 0x05)
        case .invalidReleaseOfPersistentReservation: (.illegalRequest, 0x26, 0x04)
        case .insufficientRegistrationResources: (.illegalRequest, 0x55, 0x04)
        case .tooManyTargetDescriptors: (.illegalRequest, 0x26, 0x06)
        case .unsupportedTargetDescriptorTypeCode: (.illegalRequest, 0x26, 0x07)
        case .tooManySegmentDescriptors: (.illegalRequest, 0x26, 0x08)
        case .unsupportedSegmentDescriptorTypeCode: (.illegalRequest, 0x26, 0x09)
        case .unreachableCopyTarget: (.copyAborted, 0x08, 0x04)
        case .copyAborted: (.copyAborted, 0x00, 0x00)
        }
    }
}
