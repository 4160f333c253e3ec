import ISCSISession
import NIOCore
import SCSIEngine

/// One iSCSI target as the transport exports it: its device server, who may log in,
/// and the portal groups it is reachable through.
public struct ExportedTarget: Sendable {
    /// A target portal group (RFC 7143 §4.4.1): a tag and the portals in it.
    public struct PortalGroup: Sendable, Hashable {
        public var tag: UInt16
        public var portals: [Portal]
        public init(tag: UInt16, portals: [Portal]) {
            self.tag = tag
            self.portals = portals
        }
    }

    public var name: String
    public var alias: String?
    public var device: SCSITargetDevice
    public var credentials: CHAPCredentials?
    /// Initiator names allowed to log in (and to see this target in SendTargets); empty allows all.
    public var allowedInitiators: [String]
    /// Whether a peer address may log in (CIDR ACL); decided by the daemon's config.
    public var peerAllowed: @Sendable (SocketAddress) -> Bool
    public var portalGroups: [PortalGroup]

    public init(name: String, alias: String? = nil, device: SCSITargetDevice, credentials: CHAPCredentials? = nil,
                allowedInitiators: [String] = [], peerAllowed: @escaping @Sendable (SocketAddress) -> Bool = { _ in true },
                portalGroups: [PortalGroup]) {
        self.name = name
        self.alias = alias
        self.device = device
        self.credentials = credentials
        self.allowedInitiators = allowedInitiators
        self.peerAllowed = peerAllowed
        self.portalGroups = portalGroups
    }

    /// The portal group a portal belongs to for this target, if any.
    func portalGroup(containing portal: Portal) -> PortalGroup? {
        portalGroups.first { $0.portals.contains(portal) }
    }

    /// Whether an initiator may see and log in to this target by name.
    func admits(initiatorName: String) -> Bool {
        allowedInitiators.isEmpty || allowedInitiators.contains(initiatorName)
    }
}

/// A network portal: an address and TCP port we listen on (RFC 7143 §4.4.1).
public struct Portal: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// "host:port", with IPv6 addresses in brackets as TargetAddress wants (§13.8).
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// True for 0.0.0.0 / :: listeners, which advertise the connection's local address.
    var isWildcard: Bool { host == "0.0.0.0" || host == "::" }
}
