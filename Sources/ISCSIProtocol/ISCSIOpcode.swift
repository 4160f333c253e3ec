/// PDU opcodes (RFC 7143 §11.1.1.1). Initiator opcodes are 0x00-0x1F, target
/// opcodes 0x20-0x3F.
public enum ISCSIOpcode: UInt8, Sendable, Hashable, CaseIterable {
    // Initiator → target
    case nopOut = 0x00
    case scsiCommand = 0x01
    case taskManagementRequest = 0x02
    case loginRequest = 0x03
    case textRequest = 0x04
    case dataOut = 0x05
    case logoutRequest = 0x06
    case snackRequest = 0x10
    // Target → initiator
    case nopIn = 0x20
    case scsiResponse = 0x21
    case taskManagementResponse = 0x22
    case loginResponse = 0x23
    case textResponse = 0x24
    case dataIn = 0x25
    case logoutResponse = 0x26
    case readyToTransfer = 0x31
    case asyncMessage = 0x32
    case reject = 0x3F
}

/// Reject reasons (RFC 7143 §11.17.1).
public enum ISCSIRejectReason: UInt8, Sendable, Hashable {
    case dataDigestError = 0x02
    case snackReject = 0x03
    case protocolError = 0x04
    case commandNotSupported = 0x05
    case immediateCommandRejected = 0x06
    case taskInProgress = 0x07
    case invalidDataACK = 0x08
    case invalidPDUField = 0x09
    case outOfResources = 0x0A
    case waitingForLogout = 0x0C
}

/// Login status (RFC 7143 §11.13.5): class and detail in one value, named cases for
/// every status we send.
public struct ISCSILoginStatus: Hashable, Sendable, CustomStringConvertible {
    public var statusClass: UInt8
    public var detail: UInt8
    public init(statusClass: UInt8, detail: UInt8) {
        self.statusClass = statusClass
        self.detail = detail
    }

    public static let success = Self(statusClass: 0, detail: 0)
    public static let targetMovedTemporarily = Self(statusClass: 1, detail: 1)
    public static let targetMovedPermanently = Self(statusClass: 1, detail: 2)
    public static let initiatorError = Self(statusClass: 2, detail: 0)
    public static let authenticationFailure = Self(statusClass: 2, detail: 1)
    public static let authorizationFailure = Self(statusClass: 2, detail: 2)
    public static let notFound = Self(statusClass: 2, detail: 3)
    public static let targetRemoved = Self(statusClass: 2, detail: 4)
    public static let unsupportedVersion = Self(statusClass: 2, detail: 5)
    public static let tooManyConnections = Self(statusClass: 2, detail: 6)
    public static let missingParameter = Self(statusClass: 2, detail: 7)
    public static let cantIncludeInSession = Self(statusClass: 2, detail: 8)
    public static let sessionTypeNotSupported = Self(statusClass: 2, detail: 9)
    public static let sessionDoesNotExist = Self(statusClass: 2, detail: 10)
    public static let invalidDuringLogin = Self(statusClass: 2, detail: 11)
    public static let targetError = Self(statusClass: 3, detail: 0)
    public static let serviceUnavailable = Self(statusClass: 3, detail: 1)
    public static let outOfResources = Self(statusClass: 3, detail: 2)

    public var description: String {
        "0x" + String(statusClass, radix: 16) + String(format2: detail)
    }
}

extension String {
    /// Two lower-case hex digits.
    init(format2 value: UInt8) {
        let hex = String(value, radix: 16)
        self = hex.count == 1 ? "0" + hex : hex
    }
}
