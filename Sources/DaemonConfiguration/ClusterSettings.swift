import LUNBackends

/// `[cluster]` and its `[[cluster.gateways]]` sections: this daemon is one of several
/// gateways exporting the same rbd LUNs, which share their persistent reservations
/// through objects in `state_pool` and fence a gateway that stops answering.
public struct ClusterSettings: Sendable, Equatable {
    /// One `[[cluster.gateways]]`: a gateway and the target port group its portals are
    /// (every target of that gateway has one portal group, with this tag).
    public struct Gateway: Sendable, Equatable {
        public var name: String
        public var portalGroup: UInt16

        public init(name: String, portalGroup: UInt16) {
            self.name = name
            self.portalGroup = portalGroup
        }
    }

    /// The cluster's name: the prefix of its objects in the state pool, so several
    /// gateway clusters can share one pool.
    public var name: String
    /// This daemon's gateway: one of `gateways`.
    public var gateway: String
    /// Every gateway of the cluster, this one among them.
    public var gateways: [Gateway]
    /// The RADOS pool (and namespace) of the shared state.
    public var statePool: String
    public var namespace: String?
    /// How the gateway reaches Ceph; its rbd LUNs must reach it the same way, so that
    /// fencing the gateway's client fences their writes too.
    public var cephConf: String
    public var client: String
    public var keyring: String?
    public var clusterTimeout: Int
    /// Seconds of silence after which a gateway is fenced: the gateways ping each
    /// other every third of it, and the OSD drops a silent gateway's watch after it
    /// (`heartbeat`).
    public var heartbeat: Int
    /// Seconds a change waits for the other gateways before it fences those that did
    /// not acknowledge it (`acknowledgement_timeout`).
    public var acknowledgementTimeout: Int
    /// Seconds a fenced gateway stays on the blocklist (`fence_duration`).
    public var fenceDuration: Int
    /// An owner-mode LUN (an image with the exclusive-lock feature) moves back to its
    /// home gateway when that one starts again (`failback`, default true).
    public var failback: Bool

    public init(
        name: String, gateway: String, gateways: [Gateway], statePool: String, namespace: String?, cephConf: String,
        client: String, keyring: String?, clusterTimeout: Int, heartbeat: Int, acknowledgementTimeout: Int, fenceDuration: Int,
        failback: Bool = true
    ) {
        self.name = name
        self.gateway = gateway
        self.gateways = gateways
        self.statePool = statePool
        self.namespace = namespace
        self.cephConf = cephConf
        self.client = client
        self.keyring = keyring
        self.clusterTimeout = clusterTimeout
        self.heartbeat = heartbeat
        self.acknowledgementTimeout = acknowledgementTimeout
        self.fenceDuration = fenceDuration
        self.failback = failback
    }

    public static let defaultHeartbeat = 5
    public static let defaultAcknowledgementTimeout = 5
    public static let defaultFenceDuration = 3600

    /// The objects of this cluster in the state pool start with this.
    public var objectPrefix: String { "swiftport.\(name)." }

    /// The other gateways' names.
    public var peers: [String] { gateways.map(\.name).filter { $0 != gateway } }

    /// This gateway's target port group.
    public var portalGroup: UInt16? { gateways.first { $0.name == gateway }?.portalGroup }

    /// The home gateway's target port group of an owner-mode LUN with NAA designator
    /// `naa`: a hash of the designator picks among the gateways in tag order, so the
    /// LUNs spread over the gateways, every gateway computes the same home, and adding a
    /// LUN moves no other LUN's home.
    public func homePortalGroup(naa: [UInt8]) -> UInt16 {
        let groups = gateways.map(\.portalGroup).sorted()
        // FNV-1a, 64 bits.
        let hash = naa.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        return groups[Int(hash % UInt64(groups.count))]
    }
}

extension ClusterSettings {
    static let keys = [
        "name", "gateway", "state_pool", "namespace", "ceph_conf", "client", "keyring", "cluster_timeout", "heartbeat",
        "acknowledgement_timeout", "fence_duration", "failback", "gateways",
    ]
    static let gatewayKeys = ["name", "portal_group"]
    static let secondsRange = 1...300
    /// The watch is pinged every second: a heartbeat of 3 s survives two lost pings.
    static let heartbeats = 3...300

    /// Reads `[cluster]`; nil after reporting errors.
    init?(reading reader: TableReader, gatewayTables: [TableReader]) {
        let decoder = reader.decoder
        let errorsBefore = decoder.errors.count
        let name = reader.string("name", example: "\"ceph-gw\"")
        if reader.table["name"] == nil { reader.missing("name", example: "\"ceph-gw\"") }
        if let name, !Self.isObjectNameWord(name.value) {
            decoder.report(
                "cluster 'name' is part of RADOS object names: letters, digits, '-' and '_' only, not '\(name.value)'", line: name.line,
                suggestion: "write name = \"ceph-gw\"")
        }
        let gateway = reader.string("gateway", example: "\"gw-a\"")
        if reader.table["gateway"] == nil { reader.missing("gateway", example: "\"gw-a\"") }
        let pool = reader.string("state_pool", example: "\"rbd\"")
        if reader.table["state_pool"] == nil { reader.missing("state_pool", example: "\"rbd\"") }
        let namespace = reader.string("namespace", example: "\"swiftport\"")
        let connection = CephConnection(reading: reader)
        let heartbeat = reader.integer("heartbeat", in: Self.heartbeats, example: "\(Self.defaultHeartbeat)")
        let acknowledgement = reader.integer(
            "acknowledgement_timeout", in: Self.secondsRange, example: "\(Self.defaultAcknowledgementTimeout)")
        let fence = reader.integer("fence_duration", in: 0...86_400, example: "\(Self.defaultFenceDuration)")
        let failback = reader.boolean("failback")

        var gateways: [Gateway] = []
        var lines: [String: Int] = [:]
        var groupLines: [UInt16: Int] = [:]
        for table in gatewayTables {
            let gatewayName = table.string("name", example: "\"gw-a\"")
            if table.table["name"] == nil { table.missing("name", example: "\"gw-a\"") }
            let group = table.integer("portal_group", in: PortalGroupConfiguration.tagRange, example: "1")
            if table.table["portal_group"] == nil { table.missing("portal_group", example: "\(gatewayTables.count)") }
            if let gatewayName {
                if !Self.isObjectNameWord(gatewayName.value) {
                    decoder.report(
                        "a gateway's 'name' is part of RADOS object names: letters, digits, '-' and '_' only, not '\(gatewayName.value)'",
                        line: gatewayName.line)
                }
                decoder.checkUnique(gatewayName.value, line: gatewayName.line, in: &lines) { first in
                    "gateway '\(gatewayName.value)' is listed twice (first on line \(first))"
                }
            }
            if let group {
                decoder.checkUnique(group.value, line: group.line, in: &groupLines) { first in
                    "portal_group \(group.value) is another gateway's already (line \(first)): each gateway is a target port group of its own"
                }
            }
            guard let gatewayName, let group else { continue }
            gateways.append(Gateway(name: gatewayName.value, portalGroup: group.value))
        }
        if let gateway, !gateways.contains(where: { $0.name == gateway.value }) {
            decoder.report(
                "'gateway' names this daemon's gateway, which must be one of the [[cluster.gateways]] sections, not '\(gateway.value)'",
                line: gateway.line,
                suggestion: "add a [[cluster.gateways]] with name = \"\(gateway.value)\", or name one of \(gateways.map { "'\($0.name)'" }.joined(separator: ", "))")
        }
        guard let name, let gateway, let pool, let connection, decoder.errors.count == errorsBefore else { return nil }
        self.init(
            name: name.value, gateway: gateway.value, gateways: gateways, statePool: pool.value, namespace: namespace?.value,
            cephConf: connection.cephConf, client: connection.client, keyring: connection.keyring,
            clusterTimeout: connection.clusterTimeout, heartbeat: heartbeat?.value ?? Self.defaultHeartbeat,
            acknowledgementTimeout: acknowledgement?.value ?? Self.defaultAcknowledgementTimeout,
            fenceDuration: fence?.value ?? Self.defaultFenceDuration, failback: failback?.value ?? true)
    }

    private static func isObjectNameWord(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    /// Whether `location` reaches Ceph as the gateway does (same file, user, keyring
    /// and timeout, hence the same librados client).
    func sharesConnection(with location: RBDImageLocation) -> Bool {
        location.cephConf == cephConf && location.client == client && location.keyring == keyring
            && location.clusterTimeout == clusterTimeout
    }
}

/// The keys that say how to reach a Ceph cluster, read the same way for an rbd LUN and
/// for `[cluster]`: `ceph_conf`, `client`, `keyring`, `cluster_timeout`.
struct CephConnection {
    var cephConf: String
    var client: String
    var keyring: String?
    var clusterTimeout: Int

    /// Reads the keys; absent ones take RBDImageLocation's defaults. Nil after reporting errors.
    init?(reading reader: TableReader) {
        let decoder = reader.decoder
        let errorsBefore = decoder.errors.count
        let cephConf = reader.string("ceph_conf", example: "\"\(RBDImageLocation.defaultCephConf)\"")
        if let cephConf, !cephConf.value.hasPrefix("/") {
            decoder.report("'ceph_conf' must be absolute, not '\(cephConf.value)'", line: cephConf.line, suggestion: "write the full path, starting with '/'")
        }
        let client = reader.string("client", example: "\"\(RBDImageLocation.defaultClient)\"")
        if let client, client.value.isEmpty || client.value.hasPrefix("client.") {
            decoder.report(
                "'client' is the Ceph user without \"client.\", not '\(client.value)'", line: client.line,
                suggestion: "write client = \"\(client.value.hasPrefix("client.") ? String(client.value.dropFirst(7)) : "admin")\"")
        }
        let keyring = reader.string("keyring", example: "\"/etc/ceph/ceph.client.admin.keyring\"")
        if let keyring, !keyring.value.hasPrefix("/") {
            decoder.report("'keyring' must be absolute, not '\(keyring.value)'", line: keyring.line, suggestion: "write the full path, starting with '/'")
        }
        let timeout = reader.integer(
            "cluster_timeout", in: RBDImageLocation.clusterTimeouts, example: "\(RBDImageLocation.defaultClusterTimeout)")
        guard decoder.errors.count == errorsBefore else { return nil }
        self.cephConf = cephConf?.value ?? RBDImageLocation.defaultCephConf
        self.client = client?.value ?? RBDImageLocation.defaultClient
        self.keyring = keyring?.value
        self.clusterTimeout = timeout?.value ?? RBDImageLocation.defaultClusterTimeout
    }
}
