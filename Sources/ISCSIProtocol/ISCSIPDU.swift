import NIOCore

/// One iSCSI PDU of either direction (RFC 7143 §11), typed by opcode.
public enum ISCSIPDU: Sendable {
    case nopOut(NOPOut)
    case scsiCommand(SCSICommandRequest)
    case taskManagementRequest(TaskManagementRequest)
    case loginRequest(LoginRequest)
    case textRequest(TextRequest)
    case dataOut(DataOut)
    case logoutRequest(LogoutRequest)
    case snackRequest(SNACKRequest)
    case nopIn(NOPIn)
    case scsiResponse(SCSIResponse)
    case taskManagementResponse(TaskManagementResponse)
    case loginResponse(LoginResponse)
    case textResponse(TextResponse)
    case dataIn(DataIn)
    case logoutResponse(LogoutResponse)
    case readyToTransfer(ReadyToTransfer)
    case asyncMessage(AsyncMessage)
    case reject(Reject)

    /// The message inside, for generic encoding.
    public var message: any ISCSIPDUMessage {
        switch self {
        case .nopOut(let m): m
        case .scsiCommand(let m): m
        case .taskManagementRequest(let m): m
        case .loginRequest(let m): m
        case .textRequest(let m): m
        case .dataOut(let m): m
        case .logoutRequest(let m): m
        case .snackRequest(let m): m
        case .nopIn(let m): m
        case .scsiResponse(let m): m
        case .taskManagementResponse(let m): m
        case .loginResponse(let m): m
        case .textResponse(let m): m
        case .dataIn(let m): m
        case .logoutResponse(let m): m
        case .readyToTransfer(let m): m
        case .asyncMessage(let m): m
        case .reject(let m): m
        }
    }

    /// Decodes a framed PDU: the BHS, its AHS bytes and its (unpadded) data segment.
    public init(header: BasicHeaderSegment, additionalHeaders: ByteBuffer, data: ByteBuffer) throws(ISCSIProtocolError) {
        guard let opcode = header.opcode else {
            throw ISCSIProtocolError(.unknownOpcode, "opcode 0x\(String(format2: header.u8(0) & 0x3F)) is not defined by RFC 7143")
        }
        switch opcode {
        case .nopOut: self = .nopOut(NOPOut(header: header, data: data))
        case .scsiCommand:
            self = .scsiCommand(try SCSICommandRequest(header: header, additionalHeaders: additionalHeaders, data: data))
        case .taskManagementRequest: self = .taskManagementRequest(TaskManagementRequest(header: header))
        case .loginRequest: self = .loginRequest(LoginRequest(header: header, data: data))
        case .textRequest: self = .textRequest(TextRequest(header: header, data: data))
        case .dataOut: self = .dataOut(DataOut(header: header, data: data))
        case .logoutRequest: self = .logoutRequest(LogoutRequest(header: header))
        case .snackRequest: self = .snackRequest(SNACKRequest(header: header))
        case .nopIn: self = .nopIn(NOPIn(header: header, data: data))
        case .scsiResponse: self = .scsiResponse(SCSIResponse(header: header, data: data))
        case .taskManagementResponse: self = .taskManagementResponse(TaskManagementResponse(header: header))
        case .loginResponse: self = .loginResponse(LoginResponse(header: header, data: data))
        case .textResponse: self = .textResponse(TextResponse(header: header, data: data))
        case .dataIn: self = .dataIn(DataIn(header: header, data: data))
        case .logoutResponse: self = .logoutResponse(LogoutResponse(header: header))
        case .readyToTransfer: self = .readyToTransfer(ReadyToTransfer(header: header))
        case .asyncMessage: self = .asyncMessage(AsyncMessage(header: header, data: data))
        case .reject: self = .reject(Reject(header: header, data: data))
        }
    }
}

/// What every typed PDU can do: produce its header, AHS and data segment.
public protocol ISCSIPDUMessage: Sendable {
    /// The BHS with every field of this PDU filled in; the framer adds lengths.
    func encodedHeader() -> BasicHeaderSegment
    /// Additional header segments, already padded to 4-byte words (usually empty).
    var encodedAdditionalHeaders: ByteBuffer? { get }
    /// The data segment, unpadded.
    var dataSegment: ByteBuffer? { get }
}

extension ISCSIPDUMessage {
    public var encodedAdditionalHeaders: ByteBuffer? { nil }
}

/// A framing or decoding failure, with the code the connection acts on.
public struct ISCSIProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public static let unknownOpcode = Code("unknownOpcode")
        public static let invalidField = Code("invalidField")
        public static let headerDigestMismatch = Code("headerDigestMismatch")
        public static let dataSegmentTooLong = Code("dataSegmentTooLong")
        public static let invalidAdditionalHeader = Code("invalidAdditionalHeader")
        public static let malformedText = Code("malformedText")
        public var description: String { name }
    }

    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { "\(code): \(message)" }
}
