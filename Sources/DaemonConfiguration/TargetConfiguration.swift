import ISCSISession

/// One iSCSI target (`[[target]]`): its name, where it listens, who may log in, and its LUNs.
public struct TargetConfiguration: Sendable, Equatable {
    /// TargetName (RFC 7143 §4.2.7): `iqn.`, `eui.` or `naa.` form, lower case.
    public var name: String
    /// TargetAlias (RFC 7143 §13.6), shown by initiators next to the name.
    public var alias: String?
    /// At least one group with at least one portal.
    public var portalGroups: [PortalGroupConfiguration]
    /// CHAP for normal sessions; nil means no authentication (AuthMethod=None).
    public var auth: CHAPCredentials?
    /// InitiatorNames allowed to log in; empty allows any.
    public var allowedInitiators: [String]
    /// Source networks allowed to connect; empty allows any.
    public var allowedNetworks: [IPNetwork]
    /// At least one LUN, with distinct ids.
    public var luns: [LUNConfiguration]
    /// `explicit_alua`: initiators may change ALUA states with SET TARGET PORT GROUPS
    /// (TPGS 11b). Off (the default), only the operator does (TPGS 01b, implicit ALUA).
    public var explicitALUA: Bool

    public init(
        name: String,
        alias: String? = nil,
        portalGroups: [PortalGroupConfiguration],
        auth: CHAPCredentials? = nil,
        allowedInitiators: [String] = [],
        allowedNetworks: [IPNetwork] = [],
        luns: [LUNConfiguration],
        explicitALUA: Bool = false
    ) {
        self.name = name
        self.alias = alias
        self.portalGroups = portalGroups
        self.auth = auth
        self.allowedInitiators = allowedInitiators
        self.allowedNetworks = allowedNetworks
        self.luns = luns
        self.explicitALUA = explicitALUA
    }
}
