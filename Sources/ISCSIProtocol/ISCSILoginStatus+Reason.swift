extension ISCSILoginStatus {
    /// What a Login Response status means, in RFC 7143 §11.13.5's words, for error
    /// messages an administrator reads ("authentication failed (login status 0x0201)").
    public var reason: String {
        Self.reasons[self] ?? "status class \(statusClass), detail \(detail)"
    }

    /// Status-Class and Status-Detail as four hex digits, as RFC 7143 §11.13.5 lists them.
    public var code: String {
        "0x" + String(format2: statusClass) + String(format2: detail)
    }

    /// RFC 7143 §11.13.5, Status-Class and Status-Detail.
    private static let reasons: [ISCSILoginStatus: String] = [
        .success: "success",
        .targetMovedTemporarily: "target moved temporarily",
        .targetMovedPermanently: "target moved permanently",
        .initiatorError: "initiator error",
        .authenticationFailure: "authentication failed",
        .authorizationFailure: "authorization failure: the initiator is not allowed to reach this target",
        .notFound: "target not found",
        .targetRemoved: "target removed",
        .unsupportedVersion: "unsupported iSCSI version",
        .tooManyConnections: "too many connections",
        .missingParameter: "missing parameter",
        .cantIncludeInSession: "connection cannot be included in the session",
        .sessionTypeNotSupported: "session type not supported",
        .sessionDoesNotExist: "session does not exist",
        .invalidDuringLogin: "invalid request during login",
        .targetError: "target error",
        .serviceUnavailable: "service unavailable",
        .outOfResources: "target out of resources",
    ]
}
