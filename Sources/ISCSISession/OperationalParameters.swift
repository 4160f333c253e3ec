/// The values in force for a session and its connection after login (RFC 7143 §13).
/// Starts at the RFC defaults and is updated by every negotiated key.
public struct OperationalParameters: Sendable, Hashable {
    public var headerDigest = false
    public var dataDigest = false
    public var maxConnections = 1
    public var initialR2T = true
    public var immediateData = true
    /// The longest data segment we may send: the peer's declaration (§13.12).
    public var peerMaxRecvDataSegmentLength = 8192
    /// The longest data segment the peer may send us: our declaration.
    public var localMaxRecvDataSegmentLength = 8192
    public var maxBurstLength = 262_144
    public var firstBurstLength = 65536
    public var defaultTime2Wait = 2
    public var defaultTime2Retain = 20
    public var maxOutstandingR2T = 1
    public var dataPDUInOrder = true
    public var dataSequenceInOrder = true
    public var errorRecoveryLevel = 0

    public init() {}

    /// Records a negotiated or declared key. Keys that change nothing here (names,
    /// aliases, markers) are ignored.
    mutating func apply(key: String, value: String) {
        let number = Int(value)
        let flag = value == "Yes"
        switch key {
        case "HeaderDigest": headerDigest = value == "CRC32C"
        case "DataDigest": dataDigest = value == "CRC32C"
        case "MaxConnections": maxConnections = number ?? maxConnections
        case "InitialR2T": initialR2T = flag
        case "ImmediateData": immediateData = flag
        case "MaxBurstLength": maxBurstLength = number ?? maxBurstLength
        case "FirstBurstLength": firstBurstLength = number ?? firstBurstLength
        case "DefaultTime2Wait": defaultTime2Wait = number ?? defaultTime2Wait
        case "DefaultTime2Retain": defaultTime2Retain = number ?? defaultTime2Retain
        case "MaxOutstandingR2T": maxOutstandingR2T = number ?? maxOutstandingR2T
        case "DataPDUInOrder": dataPDUInOrder = flag
        case "DataSequenceInOrder": dataSequenceInOrder = flag
        case "ErrorRecoveryLevel": errorRecoveryLevel = number ?? errorRecoveryLevel
        default: break
        }
    }
}

/// What this side is willing to run with: the values it answers negotiations with.
public struct NegotiationPolicy: Sendable, Hashable {
    /// Accepted digests, most preferred first ("CRC32C", "None").
    public var headerDigests = ["None", "CRC32C"]
    public var dataDigests = ["None", "CRC32C"]
    public var maxRecvDataSegmentLength = 262_144
    public var maxBurstLength = 1_048_576
    public var firstBurstLength = 262_144
    public var initialR2T = false
    public var immediateData = true
    public var maxOutstandingR2T = 1
    /// Only ERL 0 is implemented (RFC 7143 §7.1.5).
    public var errorRecoveryLevel = 0
    /// One connection per session (no MC/S).
    public var maxConnections = 1
    public var defaultTime2Wait = 2
    public var defaultTime2Retain = 20

    public init() {}

    /// Our value for a key, in its wire form.
    func value(for key: String) -> String? {
        switch key {
        case "HeaderDigest": headerDigests.joined(separator: ",")
        case "DataDigest": dataDigests.joined(separator: ",")
        case "MaxConnections": String(maxConnections)
        case "InitialR2T": initialR2T ? "Yes" : "No"
        case "ImmediateData": immediateData ? "Yes" : "No"
        case "MaxRecvDataSegmentLength": String(maxRecvDataSegmentLength)
        case "MaxBurstLength": String(maxBurstLength)
        case "FirstBurstLength": String(firstBurstLength)
        case "DefaultTime2Wait": String(defaultTime2Wait)
        case "DefaultTime2Retain": String(defaultTime2Retain)
        case "MaxOutstandingR2T": String(maxOutstandingR2T)
        case "DataPDUInOrder", "DataSequenceInOrder": "Yes"
        case "ErrorRecoveryLevel": String(errorRecoveryLevel)
        case "iSCSIProtocolLevel": "1"
        case "TaskReporting": "RFC3720"
        case "OFMarker", "IFMarker": "No"
        default: nil
        }
    }
}
