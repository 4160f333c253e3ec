import ISCSISession

/// CHAP that Swiftport's own initiator (the DSM, remote LUNs) uses toward upstream
/// targets: `[dsm.auth]` / `[dsm.discovery_auth]`, or per remote LUN
/// `[target.lun.upstream_auth]` / `[target.lun.upstream_discovery_auth]`.
///
/// The keys mean what they mean in a target's `[target.auth]`, seen from the other
/// end: `username`/`secret` are what this initiator answers the target's challenge
/// with (one-way CHAP); with `mutual_username`/`mutual_secret` the initiator also
/// challenges the target and requires it to answer with that name and secret (mutual
/// CHAP, RFC 7143 §12.1.3).
public struct UpstreamAuthentication: Sendable, Equatable {
    /// CHAP for normal sessions, one per path; nil: AuthMethod=None.
    public var session: CHAPCredentials?
    /// CHAP for SendTargets discovery sessions; nil: AuthMethod=None. Separate because
    /// targets often protect discovery differently, or not at all, and a target that
    /// uses None refuses an initiator that offers only CHAP.
    public var discovery: CHAPCredentials?

    public init(session: CHAPCredentials? = nil, discovery: CHAPCredentials? = nil) {
        self.session = session
        self.discovery = discovery
    }

    /// These settings where given, `defaults` (the `[dsm]` ones) for the rest.
    public func overriding(_ defaults: UpstreamAuthentication) -> UpstreamAuthentication {
        UpstreamAuthentication(session: session ?? defaults.session, discovery: discovery ?? defaults.discovery)
    }
}

extension UpstreamAuthentication {
    /// Reads the two sub-tables `sessionKey` and `discoveryKey` of `reader` (named
    /// `[parent.key]` in messages); a table with errors is reported and left out.
    init(reading reader: TableReader, sessionKey: String, discoveryKey: String, parent: String) {
        func credentials(_ key: String) -> CHAPCredentials? {
            reader.table(key, named: "[\(parent).\(key)]", keys: CHAPCredentials.keys).flatMap(CHAPCredentials.init(reading:))
        }
        self.init(session: credentials(sessionKey), discovery: credentials(discoveryKey))
    }
}
