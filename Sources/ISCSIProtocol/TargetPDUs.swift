import NIOCore

// PDUs a target sends (RFC 7143 §11.4-§11.19).

/// The three sequence fields every target PDU carries at bytes 24-35 (RFC 7143
/// §11.4.6-§11.4.7): the connection stamps them when it sends.
public struct StatusSequence: Hashable, Sendable {
    public var statSN = SequenceNumber(0)
    public var expCmdSN = SequenceNumber(0)
    public var maxCmdSN = SequenceNumber(0)
    public init() {}
    public init(statSN: SequenceNumber, expCmdSN: SequenceNumber, maxCmdSN: SequenceNumber) {
        self.statSN = statSN
        self.expCmdSN = expCmdSN
        self.maxCmdSN = maxCmdSN
    }

    init(_ header: BasicHeaderSegment) {
        statSN = header.sequenceNumber(24)
        expCmdSN = header.sequenceNumber(28)
        maxCmdSN = header.sequenceNumber(32)
    }
    func write(into header: inout BasicHeaderSegment) {
        header.setSequenceNumber(24, statSN)
        header.setSequenceNumber(28, expCmdSN)
        header.setSequenceNumber(32, maxCmdSN)
    }
}

/// NOP-In (RFC 7143 §11.19): the answer to a NOP-Out, or the target's own ping.
public struct NOPIn: ISCSIPDUMessage, Hashable {
    public var lun: UInt64 = 0
    public var initiatorTaskTag = InitiatorTaskTag.reserved
    public var targetTransferTag = TargetTransferTag.reserved
    public var sequence = StatusSequence()
    public var data = ByteBuffer()
    public init() {}

    init(header: BasicHeaderSegment, data: ByteBuffer) {
        lun = header.lun
        initiatorTaskTag = header.initiatorTaskTag
        targetTransferTag = TargetTransferTag(header.u32(20))
        sequence = StatusSequence(header)
        self.data = data
    }
    public func encodedHeader() -> BasicHeaderSegment {
        var header = BasicHeaderSegment(opcode: .nopIn)
        header.isFinal = true
        header.lun = lun
        header.initiatorTaskTag = initiatorTaskTag
        header.setU32(20, targetTransferTag.rawValue)
        sequence.write(into: &header)
        return header
    }
    public var dataSegment: ByteBuffer? { data }
}

/// Residual flags and count shared by SCSI Response and Data-In (RFC 7143 §11.4.1).
public enum Residual: Hashable, Sendable {
    case none
    /// The target wanted to move more than the expected length: U... "O" bit.
    case overflow(UInt32)
    /// The target moved less than the expected length: "U" bit.
    case underflow(UInt32)

    var flags: UInt8 {
        switch self {
        case .none: 0
        case .overflow: 0x04
        case .underflow: 0x02
        }
    }
    var count: UInt32 {
        switch self {
        case .none: 0
        case .overflow(let count), .underflow(let count): count
        }
    }
    init(flags: UInt8, count: UInt32) {
        if flags & 0x04 != 0 {
            self = .overflow(count)
        } else if flags & 0x02 != 0 {
            self = .underflow(count)
        } else {
            self = .none
        }
    }
}

/// SCSI Response (RFC 7143 §11.4).
public struct SCSIResponse: ISCSIPDUMessage, Hashable {
    /// iSCSI response code: 0x00 command completed at target, 0x01 target failure.
    public var response: UInt8 = 0
    public var status: UInt8 = 0
    public var residual = Residual.none
    public var bidirectionalReadResidual = Residual.none
    public var initiatorTaskTag = InitiatorTaskTag(0)
    public var sequence = StatusSequence()
    public var expDataSN = SequenceNumber(0)
    /// Sense data, sent as SenseLength + bytes (RFC 7143 §11.4.7.2).
    public var sense: [UInt8] = []
    public init() {}

    init(header: BasicHeaderSegment, data: ByteBuffer) {
        response = header.u8(2)
        status = header.u8(3)
        residual = Residual(flags: header.u8(1), count: header.u32(44))
        bidirectionalReadResidual = Residual(flags: header.u8(1) >> 2, count: header.u32(40))
        initiatorTaskTag = header.initiatorTaskTag
        sequence = StatusSequence(header)
        expDataSN = header.sequenceNumber(36)
        var data = data
        if let length = data.readInteger(as: UInt16.self) {
            sense = data.readBytes(length: min(Int(length), data.readableBytes)) ?? []
        }
    }
    public func encodedHeader() -> BasicHeaderSegment {
        var header = BasicHeaderSegment(opcode: .scsiResponse)
        header.setU8(1, 0x80 | residual.flags | bidirectionalReadResidual.flags << 2)
        header.setU8(2, response)
        header.setU8(3, status)
        header.initiatorTaskTag = initiatorTaskTag
        sequence.write(into: &header)
        header.setSequenceNumber(36, expDataSN)
        header.setU32(40, bidirectionalReadResidual.count)
        header.setU32(44, residual.count)
        return header
    }
    public var dataSegment: ByteBuffer? {
        guard !sense.isEmpty else { return nil }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(sense.count + 2)
        buffer.writeInteger(UInt16(sense.count))
        buffer.writeBytes(sense)
        return buffer
    }
}

/// Task management responses (RFC 7143 §11.6.1).
public enum TaskManagementResponseCode: UInt8, Sendable, Hashable {
    case functionComplete = 0
    case taskDoesNotExist = 1
    case lunDoesNotExist = 2
    case taskStillAllegiant = 3
    case taskAllegianceReassignmentNotSupported = 4
    case functionNotSupported = 5
    case functionAuthorizationFailed = 6
    case functionRejected = 255
}

/// Task Management Function Response (RFC 7143 §11.6).
public struct TaskManagementResponse: ISCSIPDUMessage, Hashable {
    public var response = TaskManagementResponseCode.functionComplete
    public var initiatorTaskTag = InitiatorTaskTag(0)
    public var sequence = StatusSequence()
    public init() {}

    init(header: BasicHeaderSegment) {
        response = TaskManagementResponseCode(rawValue: header.u8(2)) ?? .functionRejected
        initiatorTaskTag = header.initiatorTaskTag
        sequence = StatusSequence(header)
    }
    public func encodedHeader() -> BasicHeaderSegment {
        var header = BasicHeaderSegment(opcode: .taskManagementResponse)
        header.isFinal = true
        header.setU8(2, response.rawValue)
        header.initiatorTaskTag = initiatorTaskTag
        sequence.write(into: &header)
        return header
    }
    public var dataSegment: ByteBuffer? { nil }
}

/// Login Response (RFC 7143 §11.13).
public struct LoginResponse: ISCSIPDUMessage, Hashable {
    public var transit = false
    public var `continue` = false
    /// CSG and NSG exactly as sent (2 bits each), so a decoded response re-encodes
    /// unchanged even with the reserved value 2 (RFC 7143 §11.13.3).
    private var currentStageBits: UInt8 = 0
    private var nextStageBits: UInt8 = 0
    /// CSG; the reserved value 2 reads as the security stage.
    public var currentStage: LoginStage {
        get { LoginStage(rawValue: currentStageBits) ?? .securityNegotiation }
        set { currentStageBits = newValue.rawValue }
    }
    /// NSG, meaningful only with the T bit; the reserved value 2 reads as security.
    public var nextStage: LoginStage {
        get { LoginStage(rawValue: nextStageBits) ?? .securityNegotiation }
        set { nextStageBits = newValue.rawValue }
    }
    /// True when CSG or NSG holds the reserved value 2: a protocol error in a response.
    public var hasReservedStage: Bool { currentStageBits == 2 || nextStageBits == 2 }
    public var versionMax: UInt8 = 0
    public var versionActive: UInt8 = 0
    public var isid = ISID(rawValue: 0)
    public var tsih = TSIH.new
    public var initiatorTaskTag = InitiatorTaskTag(0)
    public var sequence = StatusSequence()
    public var status = ISCSILoginStatus.success
    public var data = ByteBuffer()
    public init() {}

    init(header: BasicHeaderSegment, data: ByteBuffer) {
        transit = header.flag(0x80, at: 1)
        `continue` = header.flag(0x40, at: 1)
        currentStageBits = (header.u8(1) >> 2) & 0x03
        nextStageBits = header.u8(1) & 0x03
        versionMax = header.u8(2)
        versionActive = header.u8(3)
        isid = ISID(rawValue: header.u48(8))
        tsih = TSIH(header.u16(14))
        initiatorTaskTag = header.initiatorTaskTag
        sequence = StatusSequence(header)
        status = ISCSILoginStatus(statusClass: header.u8(36), detail: header.u8(37))
        self.data = data
    }
    public func encodedHeader() -> BasicHeaderSegment {
        var header = BasicHeaderSegment(opcode: .loginResponse)
        header.setFlag(0x80, at: 1, transit)
        header.setFlag(0x40, at: 1, `continue`)
        header.setU8(1, header.u8(1) | currentStageBits << 2 | nextStageBits)
        header.setU8(2, versionMax)
        header.setU8(3, versionActive)
        header.setU48(8, isid.rawValue)
        header.setU16(14, tsih.rawValue)
        header.initiatorTaskTag = initiatorTaskTag
        sequence.write(into: &header)
        header.setU8(36, status.statusClass)
        header.setU8(37, status.detail)
        return header
    }
    public var dataSegment: ByteBuffer? { data }
}

/// Text Response (RFC 7143 §11.11).
public struct TextResponse: ISCSIPDUMessage, Hashable {
    public var isFinal = true
    public var `continue` = false
    public var lun: UInt64 = 0
    public var initiatorTaskTag = InitiatorTaskTag(0)
    public var targetTransferTag = TargetTransferTag.reserved
    public var sequence = StatusSequence()
    public var data = ByteBuffer()
    public init() {}

    init(header: BasicHeaderSegment, data: ByteBuffer) {
        isFinal = header.isFinal
        `continue` = header.flag(0x40, at: 1)
        lun = header.lun
        initiatorTaskTag = header.initiatorTaskTag
        targetTransferTag = TargetTransferTag(header.u32(20))
        sequence = StatusSequence(header)
        self.data = data
    }
    public func encodedHeader() -> BasicHeaderSegment {
        var header = BasicHeaderSegment(opcode: .textResponse)
        header.isFinal = isFinal
        header.setFlag(0x40, at: 1, `continue`)
        header.lun = lun
        header.initiatorTaskTag = initiatorTaskTag
        header.setU32(20, targetTransferTag.rawValue)
        sequence.write(into: &header)
        return header
    }
    public var dataSegment: ByteBuffer? { data }
}

/// SCSI Data-In (RFC 7143 §11.7). With the S bit it also carries the status
/// (phase collapse, §11.7.2), and then StatSN and residuals are valid.
public struct DataIn: ISCSIPDUMessage, Hashable {
    public var isFinal = false
    public var acknowledge = false
    /// Status, when the S bit is set.
    public var status: UInt8?
    public var residual = Residual.none
    public var lun: UInt64 = 0
    public var initiatorTaskTag = InitiatorTaskTag(0)
    public var targetTransferTag = TargetTransferTag.reserved
    public var sequence = StatusSequence()
    public var dataSN = SequenceNumber(0)
    public var bufferOffset: UInt32 = 0
    public var data = ByteBuffer()
    public init() {}

    init(header: BasicHeaderSegment, data: ByteBuffer) {
        isFinal = header.isFinal
        acknowledge = header.flag(0x40, at: 1)
        status = header.flag(0x01, at: 1) ? header.u8(3) : nil
        residual = Residual(flags: header.u8(1), count: header.u32(44))
        lun = header.lun
        initiatorTaskTag = header.initiatorTaskTag
        targetTransferTag = TargetTransferTag(header.u32(20))
        sequence = StatusSequence(header)
        dataSN = header.sequenceNumber(36)
        bufferOffset = header.u32(40)
        self.data = data
    }
    public func encodedHeader() -> BasicHeaderSegment {
        var header = BasicHeaderSegment(opcode: .dataIn)
        header.isFinal = isFinal
        header.setFlag(0x40, at: 1, acknowledge)
        if let status {
            header.setU8(1, header.u8(1) | 0x01 | residual.flags)
            header.setU8(3, status)
            header.setU32(44, residual.count)
        }
        header.lun = lun
        header.initiatorTaskTag = initiatorTaskTag
        header.setU32(20, targetTransferTag.rawValue)
        sequence.write(into: &header)
        if status == nil { header.setU32(24, 0) }  // StatSN is reserved without the S bit
        header.setSequenceNumber(36, dataSN)
        header.setU32(40, bufferOffset)
        return header
    }
    public var dataSegment: ByteBuffer? { data }
}

/// Logout responses (RFC 7143 §11.15.1).
public enum LogoutResponseCode: UInt8, Sendable, Hashable {
    case success = 0, cidNotFound = 1, recoveryNotSupported = 2, cleanupFailed = 3
}

/// Logout Response (RFC 7143 §11.15).
public struct LogoutResponse: ISCSIPDUMessage, Hashable {
    public var response = LogoutResponseCode.success
    public var initiatorTaskTag = InitiatorTaskTag(0)
    public var sequence = StatusSequence()
    public var time2Wait: UInt16 = 0
    public var time2Retain: UInt16 = 0
    public init() {}

    init(header: BasicHeaderSegment) {
        response = LogoutResponseCode(rawValue: header.u8(2)) ?? .cleanupFailed
        initiatorTaskTag = header.initiatorTaskTag
        sequence = StatusSequence(header)
        time2Wait = header.u16(40)
        time2Retain = header.u16(42)
    }
    public func encodedHeader() -> BasicHeaderSegment {
        var header = BasicHeaderSegment(opcode: .logoutResponse)
        header.isFinal = true
        header.setU8(2, response.rawValue)
        header.initiatorTaskTag = initiatorTaskTag
        sequence.write(into: &header)
        header.setU16(40, time2Wait)
        header.setU16(42, time2Retain)
        return header
    }
    public var dataSegment: ByteBuffer? { nil }
}

/// Ready To Transfer, R2T (RFC 7143 §11.8).
public struct ReadyToTransfer: ISCSIPDUMessage, Hashable {
    public var lun: UInt64 = 0
    public var initiatorTaskTag = InitiatorTaskTag(0)
    public var targetTransferTag = TargetTransferTag(0)
    /// StatSN here is the next StatSN, not consumed (§11.8).
    public var sequence = StatusSequence()
    public var r2tSN = SequenceNumber(0)
    public var bufferOffset: UInt32 = 0
    public var desiredDataTransferLength: UInt32 = 0
    public init() {}

    init(header: BasicHeaderSegment) {
        lun = header.lun
        initiatorTaskTag = header.initiatorTaskTag
        targetTransferTag = TargetTransferTag(header.u32(20))
        sequence = StatusSequence(header)
        r2tSN = header.sequenceNumber(36)
        bufferOffset = header.u32(40)
        desiredDataTransferLength = header.u32(44)
    }
    public func encodedHeader() -> BasicHeaderSegment {
        var header = BasicHeaderSegment(opcode: .readyToTransfer)
        header.isFinal = true
        header.lun = lun
        header.initiatorTaskTag = initiatorTaskTag
        header.setU32(20, targetTransferTag.rawValue)
        sequence.write(into: &header)
        header.setSequenceNumber(36, r2tSN)
        header.setU32(40, bufferOffset)
        header.setU32(44, desiredDataTransferLength)
        return header
    }
    public var dataSegment: ByteBuffer? { nil }
}

/// Asynchronous Message (RFC 7143 §11.9).
public struct AsyncMessage: ISCSIPDUMessage, Hashable {
    /// AsyncEvent codes (§11.9.1): 0 SCSI async event, 1 logout request, 2 connection
    /// drop, 3 session drop, 4 negotiation request.
    public var asyncEvent: UInt8 = 0
    public var asyncVCode: UInt8 = 0
    public var lun: UInt64 = 0
    public var sequence = StatusSequence()
    public var parameter1: UInt16 = 0
    public var parameter2: UInt16 = 0
    public var parameter3: UInt16 = 0
    public var data = ByteBuffer()
    public init() {}

    init(header: BasicHeaderSegment, data: ByteBuffer) {
        asyncEvent = header.u8(36)
        asyncVCode = header.u8(37)
        lun = header.lun
        sequence = StatusSequence(header)
        parameter1 = header.u16(38)
        parameter2 = header.u16(40)
        parameter3 = header.u16(42)
        self.data = data
    }
    public func encodedHeader() -> BasicHeaderSegment {
        var header = BasicHeaderSegment(opcode: .asyncMessage)
        header.isFinal = true
        header.lun = lun
        header.initiatorTaskTag = .reserved
        sequence.write(into: &header)
        header.setU8(36, asyncEvent)
        header.setU8(37, asyncVCode)
        header.setU16(38, parameter1)
        header.setU16(40, parameter2)
        header.setU16(42, parameter3)
        return header
    }
    public var dataSegment: ByteBuffer? { data }
}

/// Reject (RFC 7143 §11.17): carries the header of the PDU it rejects.
public struct Reject: ISCSIPDUMessage, Hashable {
    /// Raw reason; see `ISCSIRejectReason`.
    public var reason: UInt8 = ISCSIRejectReason.protocolError.rawValue
    public var sequence = StatusSequence()
    public var dataSNOrR2TSN = SequenceNumber(0)
    /// The rejected PDU's BHS (48 bytes).
    public var rejectedHeader: [UInt8] = []
    public init() {}

    public init(reason: ISCSIRejectReason, rejectedHeader: BasicHeaderSegment) {
        self.reason = reason.rawValue
        self.rejectedHeader = rejectedHeader.bytes
    }

    init(header: BasicHeaderSegment, data: ByteBuffer) {
        reason = header.u8(2)
        sequence = StatusSequence(header)
        dataSNOrR2TSN = header.sequenceNumber(36)
        rejectedHeader = data.getBytes(at: data.readerIndex, length: data.readableBytes) ?? []
    }
    public func encodedHeader() -> BasicHeaderSegment {
        var header = BasicHeaderSegment(opcode: .reject)
        header.isFinal = true
        header.setU8(2, reason)
        header.initiatorTaskTag = .reserved
        sequence.write(into: &header)
        header.setSequenceNumber(36, dataSNOrR2TSN)
        return header
    }
    public var dataSegment: ByteBuffer? { ByteBuffer(bytes: rejectedHeader) }
}
