import ISCSIProtocol

/// Everything the target-side login needs to know about the portal it runs on,
/// resolved by the transport for one connection (so the machine stays pure).
public struct TargetLoginConfiguration: Sendable, Hashable {
    /// A target reachable through this portal.
    public struct Target: Sendable, Hashable {
        public var name: String
        public var alias: String?
        /// CHAP the initiator must pass; nil means AuthMethod=None.
        public var credentials: CHAPCredentials?
        /// Initiator names allowed to log in; empty allows every name.
        public var allowedInitiators: [String]
        /// False when the connection's source address is outside the target's networks.
        public var peerAddressAllowed: Bool
        /// The TargetPortalGroupTag of this portal for this target (RFC 7143 §13.9).
        public var portalGroupTag: UInt16

        public init(name: String, alias: String? = nil, credentials: CHAPCredentials? = nil, allowedInitiators: [String] = [], peerAddressAllowed: Bool = true, portalGroupTag: UInt16 = 1) {
            self.name = name
            self.portalGroupTag = portalGroupTag
            self.alias = alias
            self.credentials = credentials
            self.allowedInitiators = allowedInitiators
            self.peerAddressAllowed = peerAddressAllowed
        }
    }

    /// Targets reachable on this portal, by name.
    public var targets: [String: Target]
    /// CHAP for discovery sessions; nil means AuthMethod=None.
    public var discoveryCredentials: CHAPCredentials?
    public var policy: NegotiationPolicy
    /// How many commands an initiator may have outstanding (MaxCmdSN - ExpCmdSN + 1).
    public var commandWindow: UInt32

    public init(targets: [Target], discoveryCredentials: CHAPCredentials? = nil, policy: NegotiationPolicy = .init(), commandWindow: UInt32 = 128) {
        self.targets = Dictionary(targets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.discoveryCredentials = discoveryCredentials
        self.policy = policy
        self.commandWindow = commandWindow
    }
}

/// Session types (RFC 7143 §13.21).
public enum SessionType: String, Sendable, Hashable {
    case normal = "Normal"
    case discovery = "Discovery"
}

/// A finished login: who logged in to what, and the parameters in force.
public struct LoginResult: Sendable, Hashable {
    public var initiatorName: String
    public var initiatorAlias: String?
    /// The target, nil for a discovery session.
    public var targetName: String?
    public var sessionType: SessionType
    public var isid: ISID
    /// The TSIH the initiator sent: 0 creates a session (or reinstates one with the same ISID).
    public var requestedTSIH: TSIH
    public var connectionID: ConnectionID
    public var parameters: OperationalParameters
    /// ExpCmdSN of the first Full Feature Phase command (the login's CmdSN, §4.2.2.1).
    public var expectedCmdSN: SequenceNumber
    /// The StatSN of the first response after login.
    public var nextStatSN: SequenceNumber

    /// The SCSI initiator port name (RFC 7143 §10.1.1 / SAM): name + ",i,0x" + ISID.
    public var initiatorPortName: String { "\(initiatorName),i,\(isid)" }
}
