/// How a negotiated key's result is computed from the offer and our value
/// (RFC 7143 §6.2 and the "Result function" of each key in §13).
public enum NegotiationRule: Sendable, Hashable {
    /// Declarative: the sender states a value, nothing is answered (§6.2).
    case declarative
    /// List: the responder picks the first offered value it supports (§6.2.1).
    case list
    /// Numerical, result is the smaller / larger of offer and our value (§6.2.2).
    case minimum, maximum
    /// Boolean, result is AND / OR of offer and our value (§6.2.2).
    case booleanAnd, booleanOr
}

/// When a key may be exchanged (RFC 7143 §13, "Use:").
public enum NegotiationPhase: Sendable, Hashable {
    /// Only during login, in the leading connection for session-wide keys (LO / IO).
    case loginOnly
    /// Only during the security stage (AuthMethod, CHAP_*).
    case security
    /// Anywhere (ALL): login and Text requests.
    case any
    /// Only in Full Feature Phase (SendTargets).
    case fullFeatureOnly
}

/// The type and range of a key's values.
public enum NegotiationValueType: Sendable, Hashable {
    case boolean
    case numeric(ClosedRange<Int>)
    case text
}

/// One row of the key table (STYLE.md §5; model: SPDK `lib/iscsi/param.c`).
public struct NegotiationKey: Sendable, Hashable {
    public var name: String
    public var rule: NegotiationRule
    public var valueType: NegotiationValueType
    public var phase: NegotiationPhase
    /// True for session-wide keys (SW), false for connection-only keys (CO).
    public var sessionWide: Bool
    /// The RFC 7143 default used when a key is never negotiated.
    public var defaultValue: String
    /// The section that defines it.
    public var section: String

    /// Every key of RFC 7143 §13 and RFC 7144, by name.
    public static let table: [String: NegotiationKey] = Dictionary(
        uniqueKeysWithValues: all.map { ($0.name, $0) }
    )

    /// Largest value of a 24-bit length (MaxRecvDataSegmentLength and bursts, §13.12-§13.14).
    public static let largestSegmentLength = (1 << 24) - 1

    static let all: [NegotiationKey] = [
        .init(name: "AuthMethod", rule: .list, valueType: .text, phase: .security, sessionWide: false, defaultValue: "None", section: "§12.1"),
        .init(name: "HeaderDigest", rule: .list, valueType: .text, phase: .loginOnly, sessionWide: false, defaultValue: "None", section: "§13.1"),
        .init(name: "DataDigest", rule: .list, valueType: .text, phase: .loginOnly, sessionWide: false, defaultValue: "None", section: "§13.1"),
        .init(name: "MaxConnections", rule: .minimum, valueType: .numeric(1...65535), phase: .loginOnly, sessionWide: true, defaultValue: "1", section: "§13.2"),
        .init(name: "SendTargets", rule: .declarative, valueType: .text, phase: .fullFeatureOnly, sessionWide: true, defaultValue: "", section: "§13.3"),
        .init(name: "TargetName", rule: .declarative, valueType: .text, phase: .loginOnly, sessionWide: true, defaultValue: "", section: "§13.4"),
        .init(name: "InitiatorName", rule: .declarative, valueType: .text, phase: .loginOnly, sessionWide: true, defaultValue: "", section: "§13.5"),
        .init(name: "TargetAlias", rule: .declarative, valueType: .text, phase: .any, sessionWide: true, defaultValue: "", section: "§13.6"),
        .init(name: "InitiatorAlias", rule: .declarative, valueType: .text, phase: .any, sessionWide: true, defaultValue: "", section: "§13.7"),
        .init(name: "TargetAddress", rule: .declarative, valueType: .text, phase: .any, sessionWide: true, defaultValue: "", section: "§13.8"),
        .init(name: "TargetPortalGroupTag", rule: .declarative, valueType: .numeric(0...65535), phase: .loginOnly, sessionWide: true, defaultValue: "", section: "§13.9"),
        .init(name: "InitialR2T", rule: .booleanOr, valueType: .boolean, phase: .loginOnly, sessionWide: true, defaultValue: "Yes", section: "§13.10"),
        .init(name: "ImmediateData", rule: .booleanAnd, valueType: .boolean, phase: .loginOnly, sessionWide: true, defaultValue: "Yes", section: "§13.11"),
        .init(name: "MaxRecvDataSegmentLength", rule: .declarative, valueType: .numeric(512...largestSegmentLength), phase: .any, sessionWide: false, defaultValue: "8192", section: "§13.12"),
        .init(name: "MaxBurstLength", rule: .minimum, valueType: .numeric(512...largestSegmentLength), phase: .loginOnly, sessionWide: true, defaultValue: "262144", section: "§13.13"),
        .init(name: "FirstBurstLength", rule: .minimum, valueType: .numeric(512...largestSegmentLength), phase: .loginOnly, sessionWide: true, defaultValue: "65536", section: "§13.14"),
        .init(name: "DefaultTime2Wait", rule: .maximum, valueType: .numeric(0...3600), phase: .loginOnly, sessionWide: true, defaultValue: "2", section: "§13.15"),
        .init(name: "DefaultTime2Retain", rule: .minimum, valueType: .numeric(0...3600), phase: .loginOnly, sessionWide: true, defaultValue: "20", section: "§13.16"),
        .init(name: "MaxOutstandingR2T", rule: .minimum, valueType: .numeric(1...65535), phase: .loginOnly, sessionWide: true, defaultValue: "1", section: "§13.17"),
        .init(name: "DataPDUInOrder", rule: .booleanOr, valueType: .boolean, phase: .loginOnly, sessionWide: true, defaultValue: "Yes", section: "§13.18"),
        .init(name: "DataSequenceInOrder", rule: .booleanOr, valueType: .boolean, phase: .loginOnly, sessionWide: true, defaultValue: "Yes", section: "§13.19"),
        .init(name: "ErrorRecoveryLevel", rule: .minimum, valueType: .numeric(0...2), phase: .loginOnly, sessionWide: true, defaultValue: "0", section: "§13.20"),
        .init(name: "SessionType", rule: .declarative, valueType: .text, phase: .loginOnly, sessionWide: true, defaultValue: "Normal", section: "§13.21"),
        .init(name: "TaskReporting", rule: .list, valueType: .text, phase: .loginOnly, sessionWide: true, defaultValue: "RFC3720", section: "§13.23"),
        .init(name: "iSCSIProtocolLevel", rule: .minimum, valueType: .numeric(0...31), phase: .loginOnly, sessionWide: true, defaultValue: "1", section: "RFC 7144 §2.1"),
        // Markers were removed by RFC 7143 (§13.25 lists them as obsolete); initiators
        // written for RFC 3720 still offer them, and "No" is the only answer we give.
        .init(name: "OFMarker", rule: .booleanAnd, valueType: .boolean, phase: .loginOnly, sessionWide: false, defaultValue: "No", section: "RFC 3720 §A.3.1"),
        .init(name: "IFMarker", rule: .booleanAnd, valueType: .boolean, phase: .loginOnly, sessionWide: false, defaultValue: "No", section: "RFC 3720 §A.3.1"),
        .init(name: "OFMarkInt", rule: .declarative, valueType: .text, phase: .loginOnly, sessionWide: false, defaultValue: "", section: "RFC 3720 §A.3.2"),
        .init(name: "IFMarkInt", rule: .declarative, valueType: .text, phase: .loginOnly, sessionWide: false, defaultValue: "", section: "RFC 3720 §A.3.2"),
    ]
}
