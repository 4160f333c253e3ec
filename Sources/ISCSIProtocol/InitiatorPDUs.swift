import NIOCore

// PDUs an initiator sends (RFC 7143 §11.2-§11.16). Each decodes from and encodes to a
// BasicHeaderSegment; fields reserved by the RFC are sent as zero and ignored on input.

/// NOP-Out (RFC 7143 §11.18): a ping, or the answer to a target's NOP-In.
public struct NOPOut: ISCSIPDUMessage, Hashable {
    public var immediate = true
    public var lun: UInt64 = 0
    public var initiatorTaskTag = InitiatorTaskTag.reserved
    public var targetTransferTag = TargetTransferTag.reserved
    public var cmdSN = SequenceNumber(0)
    public var expStatSN = SequenceNumber(0)
    public var data = ByteBuffer()
    public init() {}

    init(header: BasicHeaderSegment, data: ByteBuffer) {
        immediate = header.isImmediate
        lun = header.lun
        initiatorTaskTag = header.initiatorTaskTag
        targetTransferTag = TargetTransferTag(header.u32(20))
        cmdSN = header.sequenceNumber(24)
        expStatSN = header.sequenceNumber(28)
        self.data = data
    }

    public func encodedHeader() -> BasicHeaderSegment {
        var header = BasicHeaderSegment(opcode: .nopOut, immediate: immediate)
        header.isFinal = true
        header.lun = lun
        header.initiatorTaskTag = initiatorTaskTag
        header.setU32(20, targetTransferTag.rawValue)
        header.setSequenceNumber(24, cmdSN)
        header.setSequenceNumber(28, expStatSN)
        return header
    }
    public var dataSegment: ByteBuffer? { data }
}

/// Task attributes of a SCSI Command (RFC 7143 §11.3.1, SAM-5 §8.6).
public enum TaskAttribute: UInt8, Sendable, Hashable {
    case untagged = 0, simple = 1, ordered = 2, headOfQueue = 3, aca = 4
}

/// SCSI Command (RFC 7143 §11.3).
public struct SCSICommandRequest: ISCSIPDUMessage, Hashable {
    public var immediate = false
    public var isFinal = true
    public var isRead = false
    public var isWrite = false
    public var attribute = TaskAttribute.simple
    public var lun: UInt64 = 0
    public var initiatorTaskTag = InitiatorTaskTag(0)
    public var expectedDataTransferLength: UInt32 = 0
    public var cmdSN = SequenceNumber(0)
    public var expStatSN = SequenceNumber(0)
    /// The whole CDB: the 16 bytes of the BHS plus an extended-CDB AHS when longer.
    public var cdb: [UInt8] = []
    /// Expected Bidirectional Read Data Length AHS (RFC 7143 §11.3.1.2), if present.
    public var bidirectionalReadDataLength: UInt32?
    /// Immediate data.
    public var data = ByteBuffer()
    public init() {}

    /// AHS types (RFC 7143 §11.2.2.2).
    static let extendedCDBType: UInt8 = 1
    static let bidirectionalReadLengthType: UInt8 = 2

    init(header: BasicHeaderSegment, additionalHeaders: ByteBuffer, data: ByteBuffer) throws(ISCSIProtocolError) {
        immediate = header.isImmediate
        isFinal = header.isFinal
        isRead = header.flag(0x40, at: 1)
        isWrite = header.flag(0x20, at: 1)
        attribute = TaskAttribute(rawValue: header.u8(1) & 0x07) ?? .simple
        lun = header.lun
        initiatorTaskTag = header.initiatorTaskTag
        expectedDataTransferLength = header.u32(20)
        cmdSN = header.sequenceNumber(24)
        expStatSN = header.sequenceNumber(28)
        cdb = header.bytes(in: 32..<48)
        self.data = data
        var ahs = additionalHeaders
        while ahs.readableBytes > 0 {
            // AHSLength counts the AHS-specific bytes after AHSType, the reserved byte
            // included; each AHS is padded to 4 bytes (RFC 7143 §11.2.2.1-§11.2.2.4).
            guard let length = ahs.readInteger(as: UInt16.self), let type = ahs.readInteger(as: UInt8.self),
                length >= 1, let specific = ahs.readBytes(length: Int(length))
            else {
                throw ISCSIProtocolError(.invalidAdditionalHeader, "an AHS runs past TotalAHSLength")
            }
            ahs.moveReaderIndex(forwardBy: min((4 - (3 + Int(length)) % 4) % 4, ahs.readableBytes))
            let body = specific.dropFirst()
            switch type {
            case Self.extendedCDBType:
                cdb += body
            case Self.bidirectionalReadLengthType where body.count == 4:
                bidirectionalReadDataLength = body.reduce(0) { $0 << 8 | UInt32($1) }
            default:
                throw ISCSIProtocolError(.invalidAdditionalHeader, "AHS type \(type) with length \(length) is not supported")
            }
        }
    }

    public func encodedHeader() -> BasicHeaderSegment {
        var header = BasicHeaderSegment(opcode: .scsiCommand, immediate: immediate)
        header.isFinal = isFinal
        header.setFlag(0x40, at: 1, isRead)
        header.setFlag(0x20, at: 1, isWrite)
        header.setU8(1, header.u8(1) | attribute.rawValue)
        header.lun = lun
        header.initiatorTaskTag = initiatorTaskTag
        header.setU32(20, expectedDataTransferLength)
        header.setSequenceNumber(24, cmdSN)
        header.setSequenceNumber(28, expStatSN)
        for (index, byte) in cdb.prefix(16).enumerated() { header.setU8(32 + index, byte) }
        return header
    }

    public var encodedAdditionalHeaders: ByteBuffer? {
        guard cdb.count > 16 || bidirectionalReadDataLength != nil else { return nil }
        var buffer = ByteBuffer()
        if cdb.count > 16 {
            let extra = cdb.dropFirst(16)
            buffer.writeInteger(UInt16(extra.count + 1))
            buffer.writeInteger(Self.extendedCDBType)
            buffer.writeInteger(UInt8(0))
            buffer.writeBytes(extra)
            buffer.writeRepeatingByte(0, count: (4 - (3 + extra.count + 1) % 4) % 4)
        }
        if let length = bidirectionalReadDataLength {
            buffer.writeInteger(UInt16(5))
            buffer.writeInteger(Self.bidirectionalReadLengthType)
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(length)
        }
        return buffer
    }
    public var dataSegment: ByteBuffer? { data }
}

/// Task management function codes (RFC 7143 §11.5.1).
public enum TaskManagementFunctionCode: UInt8, Sendable, Hashable {
    case abortTask = 1, abortTaskSet = 2, clearACA = 3, clearTaskSet = 4
    case logicalUnitReset = 5, targetWarmReset = 6, targetColdReset = 7
    case taskReassign = 8
}

/// Task Management Function Request (RFC 7143 §11.5).
public struct TaskManagementRequest: ISCSIPDUMessage, Hashable {
    public var immediate = true
    /// The raw function code; unknown codes are answered "function not supported".
    public var function: UInt8 = 0
    public var lun: UInt64 = 0
    public var initiatorTaskTag = InitiatorTaskTag(0)
    public var referencedTaskTag = InitiatorTaskTag.reserved
    public var cmdSN = SequenceNumber(0)
    public var expStatSN = SequenceNumber(0)
    public var refCmdSN = SequenceNumber(0)
    public var expDataSN = SequenceNumber(0)
    public init() {}

    init(header: BasicHeaderSegment) {
        immediate = header.isImmediate
        function = header.u8(1) & 0x7F
        lun = header.lun
        initiatorTaskTag = header.initiatorTaskTag
        referencedTaskTag = InitiatorTaskTag(header.u32(20))
        cmdSN = header.sequenceNumber(24)
        expStatSN = header.sequenceNumber(28)
        refCmdSN = header.sequenceNumber(32)
        expDataSN = header.sequenceNumber(36)
    }

    public func encodedHeader() -> BasicHeaderSegment {
        var header = BasicHeaderSegment(opcode: .taskManagementRequest, immediate: immediate)
        header.setU8(1, 0x80 | function)
        header.lun = lun
        header.initiatorTaskTag = initiatorTaskTag
        header.setU32(20, referencedTaskTag.rawValue)
        header.setSequenceNumber(24, cmdSN)
        header.setSequenceNumber(28, expStatSN)
        header.setSequenceNumber(32, refCmdSN)
        header.setSequenceNumber(36, expDataSN)
        return header
    }
    public var dataSegment: ByteBuffer? { nil }
}

/// Login stages (RFC 7143 §11.12.3, CSG/NSG).
public enum LoginStage: UInt8, Sendable, Hashable, Comparable {
    case securityNegotiation = 0
    case operationalNegotiation = 1
    case fullFeaturePhase = 3
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Login Request (RFC 7143 §11.12).
public struct LoginRequest: ISCSIPDUMessage, Hashable {
    public var transit = false
    public var `continue` = false
    /// CSG and NSG exactly as sent (2 bits each), so a decoded request re-encodes
    /// unchanged even when it carries the reserved value 2 (RFC 7143 §11.12.3).
    private var currentStageBits: UInt8 = 0
    private var nextStageBits: UInt8 = 0
    /// CSG; nil for the reserved value 2.
    public var currentStage: LoginStage? {
        get { LoginStage(rawValue: currentStageBits) }
        set { currentStageBits = newValue?.rawValue ?? 2 }
    }
    /// NSG; nil for the reserved value 2. Meaningful only with the T bit.
    public var nextStage: LoginStage? {
        get { LoginStage(rawValue: nextStageBits) }
        set { nextStageBits = newValue?.rawValue ?? 2 }
    }
    public var versionMax: UInt8 = 0
    public var versionMin: UInt8 = 0
    public var isid = ISID(rawValue: 0)
    public var tsih = TSIH.new
    public var initiatorTaskTag = InitiatorTaskTag(0)
    public var connectionID: ConnectionID = 0
    public var cmdSN = SequenceNumber(0)
    public var expStatSN = SequenceNumber(0)
    /// Text key=value pairs, possibly a fragment when `continue` is set.
    public var data = ByteBuffer()
    public init() {}

    init(header: BasicHeaderSegment, data: ByteBuffer) {
        transit = header.flag(0x80, at: 1)
        `continue` = header.flag(0x40, at: 1)
        currentStageBits = (header.u8(1) >> 2) & 0x03
        nextStageBits = header.u8(1) & 0x03
        versionMax = header.u8(2)
        versionMin = header.u8(3)
        isid = ISID(rawValue: header.u48(8))
        tsih = TSIH(header.u16(14))
        initiatorTaskTag = header.initiatorTaskTag
        connectionID = header.u16(20)
        cmdSN = header.sequenceNumber(24)
        expStatSN = header.sequenceNumber(28)
        self.data = data
    }

    public func encodedHeader() -> BasicHeaderSegment {
        var header = BasicHeaderSegment(opcode: .loginRequest, immediate: true)
        header.setFlag(0x80, at: 1, transit)
        header.setFlag(0x40, at: 1, `continue`)
        header.setU8(1, header.u8(1) | currentStageBits << 2 | nextStageBits)
        header.setU8(2, versionMax)
        header.setU8(3, versionMin)
        header.setU48(8, isid.rawValue)
        header.setU16(14, tsih.rawValue)
        header.initiatorTaskTag = initiatorTaskTag
        header.setU16(20, connectionID)
        header.setSequenceNumber(24, cmdSN)
        header.setSequenceNumber(28, expStatSN)
        return header
    }
    public var dataSegment: ByteBuffer? { data }
}

/// Text Request (RFC 7143 §11.10).
public struct TextRequest: ISCSIPDUMessage, Hashable {
    public var immediate = false
    public var isFinal = true
    public var `continue` = false
    public var lun: UInt64 = 0
    public var initiatorTaskTag = InitiatorTaskTag(0)
    public var targetTransferTag = TargetTransferTag.reserved
    public var cmdSN = SequenceNumber(0)
    public var expStatSN = SequenceNumber(0)
    public var data = ByteBuffer()
    public init() {}

    init(header: BasicHeaderSegment, data: ByteBuffer) {
        immediate = header.isImmediate
        isFinal = header.isFinal
        `continue` = header.flag(0x40, at: 1)
        lun = header.lun
        initiatorTaskTag = header.initiatorTaskTag
        targetTransferTag = TargetTransferTag(header.u32(20))
        cmdSN = header.sequenceNumber(24)
        expStatSN = header.sequenceNumber(28)
        self.data = data
    }

    public func encodedHeader() -> BasicHeaderSegment {
        var header = BasicHeaderSegment(opcode: .textRequest, immediate: immediate)
        header.isFinal = isFinal
        header.setFlag(0x40, at: 1, `continue`)
        header.lun = lun
        header.initiatorTaskTag = initiatorTaskTag
        header.setU32(20, targetTransferTag.rawValue)
        header.setSequenceNumber(24, cmdSN)
        header.setSequenceNumber(28, expStatSN)
        return header
    }
    public var dataSegment: ByteBuffer? { data }
}

/// SCSI Data-Out (RFC 7143 §11.7).
public struct DataOut: ISCSIPDUMessage, Hashable {
    public var isFinal = false
    public var lun: UInt64 = 0
    public var initiatorTaskTag = InitiatorTaskTag(0)
    public var targetTransferTag = TargetTransferTag.reserved
    public var expStatSN = SequenceNumber(0)
    public var dataSN = SequenceNumber(0)
    public var bufferOffset: UInt32 = 0
    public var data = ByteBuffer()
    public init() {}

    init(header: BasicHeaderSegment, data: ByteBuffer) {
        isFinal = header.isFinal
        lun = header.lun
        initiatorTaskTag = header.initiatorTaskTag
        targetTransferTag = TargetTransferTag(header.u32(20))
        expStatSN = header.sequenceNumber(28)
        dataSN = header.sequenceNumber(36)
        bufferOffset = header.u32(40)
        self.data = data
    }

    public func encodedHeader() -> BasicHeaderSegment {
        var header = BasicHeaderSegment(opcode: .dataOut)
        header.isFinal = isFinal
        header.lun = lun
        header.initiatorTaskTag = initiatorTaskTag
        header.setU32(20, targetTransferTag.rawValue)
        header.setSequenceNumber(28, expStatSN)
        header.setSequenceNumber(36, dataSN)
        header.setU32(40, bufferOffset)
        return header
    }
    public var dataSegment: ByteBuffer? { data }
}

/// Logout reason codes (RFC 7143 §11.14.1).
public enum LogoutReason: UInt8, Sendable, Hashable {
    case closeSession = 0, closeConnection = 1, removeConnectionForRecovery = 2
}

/// Logout Request (RFC 7143 §11.14).
public struct LogoutRequest: ISCSIPDUMessage, Hashable {
    public var immediate = false
    /// Raw reason code; unknown codes are rejected by the session layer.
    public var reasonCode: UInt8 = LogoutReason.closeSession.rawValue
    public var initiatorTaskTag = InitiatorTaskTag(0)
    public var connectionID: ConnectionID = 0
    public var cmdSN = SequenceNumber(0)
    public var expStatSN = SequenceNumber(0)
    public init() {}

    init(header: BasicHeaderSegment) {
        immediate = header.isImmediate
        reasonCode = header.u8(1) & 0x7F
        initiatorTaskTag = header.initiatorTaskTag
        connectionID = header.u16(20)
        cmdSN = header.sequenceNumber(24)
        expStatSN = header.sequenceNumber(28)
    }

    public func encodedHeader() -> BasicHeaderSegment {
        var header = BasicHeaderSegment(opcode: .logoutRequest, immediate: immediate)
        header.setU8(1, 0x80 | reasonCode)
        header.initiatorTaskTag = initiatorTaskTag
        header.setU16(20, connectionID)
        header.setSequenceNumber(24, cmdSN)
        header.setSequenceNumber(28, expStatSN)
        return header
    }
    public var dataSegment: ByteBuffer? { nil }
}

/// SNACK Request (RFC 7143 §11.16). Only meaningful at ErrorRecoveryLevel > 0.
public struct SNACKRequest: ISCSIPDUMessage, Hashable {
    public var type: UInt8 = 0
    public var lun: UInt64 = 0
    public var initiatorTaskTag = InitiatorTaskTag.reserved
    public var targetTransferTag = TargetTransferTag.reserved
    public var expStatSN = SequenceNumber(0)
    public var beginRun: UInt32 = 0
    public var runLength: UInt32 = 0
    public init() {}

    init(header: BasicHeaderSegment) {
        type = header.u8(1) & 0x0F
        lun = header.lun
        initiatorTaskTag = header.initiatorTaskTag
        targetTransferTag = TargetTransferTag(header.u32(20))
        expStatSN = header.sequenceNumber(28)
        beginRun = header.u32(40)
        runLength = header.u32(44)
    }

    public func encodedHeader() -> BasicHeaderSegment {
        var header = BasicHeaderSegment(opcode: .snackRequest)
        header.setU8(1, 0x80 | type)
        header.lun = lun
        header.initiatorTaskTag = initiatorTaskTag
        header.setU32(20, targetTransferTag.rawValue)
        header.setSequenceNumber(28, expStatSN)
        header.setU32(40, beginRun)
        header.setU32(44, runLength)
        return header
    }
    public var dataSegment: ByteBuffer? { nil }
}
