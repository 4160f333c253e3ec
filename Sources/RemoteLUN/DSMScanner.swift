import ISCSIProtocol
import ISCSISession
import ISCSITransport
import Logging
import MultipathDSM
import SCSIProtocol

/// One path found by a scan: the logged-in connection, the LUN behind it, and what
/// discovery learned (the DSM's input).
public struct DiscoveredPath: Sendable {
    public var identity: PathIdentity
    public var connection: InitiatorConnection
    public var targetName: String
    public var lun: UInt16
    public var blockSize: Int
    public var blockCount: UInt64
}

/// Discovery down every portal (ARCHITECTURE.md §3: discovery lives in RemoteLUN, the
/// policy in MultipathDSM): SendTargets, login to each target through the portal it was
/// reached on, REPORT LUNS, then INQUIRY, VPD 0x80/0x83, READ CAPACITY and REPORT
/// TARGET PORT GROUPS on each LUN.
public struct DSMScanner: Sendable {
    /// CHAP algorithms offered upstream, most preferred first (RFC 7143 §12.1.3; the
    /// target picks the first it supports, and MD5 is the one every target has).
    public static let chapAlgorithms: [CHAPAlgorithm] = [.sha3_256, .sha256, .sha1, .md5]

    public var initiatorName: String
    /// How normal sessions (one per path) authenticate.
    public var authentication: InitiatorLoginStateMachine.Authentication
    /// How SendTargets discovery sessions authenticate: targets often protect discovery
    /// with other credentials, or none, than their targets (RFC 7143 §12.1).
    public var discoveryAuthentication: InitiatorLoginStateMachine.Authentication
    public var logger: Logger

    public init(
        initiatorName: String, authentication: InitiatorLoginStateMachine.Authentication = .none,
        discoveryAuthentication: InitiatorLoginStateMachine.Authentication = .none, logger: Logger
    ) {
        self.initiatorName = initiatorName
        self.authentication = authentication
        self.discoveryAuthentication = discoveryAuthentication
        self.logger = logger
    }

    /// CHAP with ``chapAlgorithms`` when credentials are given (mutual when they carry a
    /// target name and secret), else AuthMethod=None.
    public static func authentication(_ credentials: CHAPCredentials?) -> InitiatorLoginStateMachine.Authentication {
        credentials.map { .chap($0, algorithms: chapAlgorithms) } ?? .none
    }

    /// What a scan found, and what went wrong on the way (one line per failure).
    public struct Result: Sendable {
        public var paths: [DiscoveredPath]
        public var errors: [String]
    }

    public func scan(portals: [Portal], targetFilter: String? = nil) async -> Result {
        var result = Result(paths: [], errors: [])
        var nextPathID: UInt32 = 1
        for (index, portal) in portals.enumerated() {
            let targets: [String]
            do {
                targets = try await discover(portal, isid: isid(portal: index, target: 0))
            } catch {
                result.errors.append("\(portal): discovery failed: \(error)")
                continue
            }
            for (targetIndex, target) in targets.enumerated() where targetFilter == nil || targetFilter == target {
                do {
                    let connection = try await login(portal, target: target, isid: isid(portal: index, target: targetIndex + 1))
                    for lun in try await SCSIProbe.reportLUNs(connection) {
                        do {
                            result.paths.append(try await probe(connection, portal: portal, target: target, lun: lun, pathID: PathID(rawValue: nextPathID)))
                            nextPathID += 1
                        } catch {
                            result.errors.append("\(portal) \(target) LUN \(lun): \(error)")
                        }
                    }
                } catch {
                    result.errors.append("\(portal) \(target): \(error)")
                }
            }
        }
        return result
    }

    /// Logs in to one target through one portal (also used to reconnect a path).
    public func login(_ portal: Portal, target: String, isid: ISID) async throws -> InitiatorConnection {
        try await InitiatorConnection.connect(
            to: portal,
            login: .init(initiatorName: initiatorName, targetName: target, isid: isid, authentication: authentication),
            logger: logger)
    }

    /// An ISID per (portal, target) so every path is its own I_T nexus (RFC 7143 §11.12.5:
    /// type 01b "random", qualifier from the indices).
    public func isid(portal: Int, target: Int) -> ISID {
        ISID(rawValue: 0x4000_0000_0000 | UInt64(portal & 0xFF) << 16 | UInt64(target & 0xFFFF))
    }

    private func discover(_ portal: Portal, isid: ISID) async throws -> [String] {
        let connection = try await InitiatorConnection.connect(
            to: portal, login: .init(initiatorName: initiatorName, targetName: nil, isid: isid, authentication: discoveryAuthentication), logger: logger)
        defer { Task { await connection.logout() } }
        let text = try await connection.sendTargets()
        return text.pairs.filter { $0.key == "TargetName" }.map(\.value)
    }

    private func probe(_ connection: InitiatorConnection, portal: Portal, target: String, lun: UInt16, pathID: PathID) async throws -> DiscoveredPath {
        let label = "\(portal),\(connection.targetPortalGroupTag ?? 0) \(target) LUN \(lun)"
        let (identity, capacity) = try await SCSIProbe.identify(connection, lun: lun, pathID: pathID, label: label)
        return DiscoveredPath(
            identity: identity, connection: connection, targetName: target, lun: lun, blockSize: Int(capacity.blockLength),
            blockCount: capacity.blockCount)
    }
}
