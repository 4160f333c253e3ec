import ISCSIProtocol
import ISCSISession
import Logging
import NIOCore
import SCSIEngine
import SCSIProtocol

/// What every connection of the daemon shares: the exported targets, the session
/// table and the settings that apply to all portals.
public struct TargetServices: Sendable {
    public var targets: [ExportedTarget]
    public var sessions: SessionTable
    public var discoveryCredentials: CHAPCredentials?
    public var policy: NegotiationPolicy
    /// Commands an initiator may have outstanding per session (MaxCmdSN window).
    public var commandWindow: UInt32
    /// Idle time before the target pings with NOP-In; nil disables (RFC 7143 §11.19).
    public var nopInInterval: TimeAmount?
    /// How long a NOP-In ping may go unanswered before the connection is dropped.
    public var nopInTimeout: TimeAmount
    public var logger: Logger
    /// Operator-injected faults per portal (for testing initiators' multipath).
    public var faults: FaultInjector

    public init(targets: [ExportedTarget], sessions: SessionTable = SessionTable(), faults: FaultInjector = FaultInjector(), discoveryCredentials: CHAPCredentials? = nil,
                policy: NegotiationPolicy = NegotiationPolicy(), commandWindow: UInt32 = 128,
                nopInInterval: TimeAmount? = .seconds(30), nopInTimeout: TimeAmount = .seconds(30), logger: Logger) {
        self.targets = targets
        self.sessions = sessions
        self.faults = faults
        self.discoveryCredentials = discoveryCredentials
        self.policy = policy
        self.commandWindow = commandWindow
        self.nopInInterval = nopInInterval
        self.nopInTimeout = nopInTimeout
        self.logger = logger
        // The port layer carries out the aborts the device servers ask for.
        for target in targets {
            let name = target.name
            target.device.routeTaskAborts { [sessions] lun, matching in
                await sessions.abortTasks(ofTarget: name, lun: LogicalUnitNumber(rawValue: lun).wireValue, matching: matching)
            }
        }
    }

    /// Targets reachable through a listening portal.
    func targets(on portal: Portal) -> [ExportedTarget] {
        targets.filter { $0.portalGroup(containing: portal) != nil }
    }

    /// The login machine's view of one connection: the targets on its portal, with the
    /// peer's address already checked against each target's networks.
    func loginConfiguration(portal: Portal, peer: SocketAddress?) -> TargetLoginConfiguration {
        let reachable = targets(on: portal).map { target in
            TargetLoginConfiguration.Target(
                name: target.name,
                alias: target.alias,
                credentials: target.credentials,
                allowedInitiators: target.allowedInitiators,
                peerAddressAllowed: peer.map(target.peerAllowed) ?? false,
                portalGroupTag: target.portalGroup(containing: portal)?.tag ?? 1
            )
        }
        return TargetLoginConfiguration(targets: reachable, discoveryCredentials: discoveryCredentials, policy: policy, commandWindow: commandWindow)
    }

    /// The SendTargets answer (RFC 7143 §13.3, Appendix C): each target the initiator
    /// may see, with every portal as "address:port,tag". `selector` is "All", a target
    /// name, or empty (the session's own target). In a Normal session (`sessionTarget`
    /// set) "All" names the session's own target only, as Appendix C has it; and a
    /// target the initiator may not log in to, by name or by `peer`'s network, is
    /// never named.
    func sendTargets(
        selector: String, initiatorName: String, sessionTarget: String?, peer: SocketAddress?, localAddress: SocketAddress?
    ) -> TextParameters {
        let wanted: (ExportedTarget) -> Bool = switch selector {
        case "All" where sessionTarget == nil: { _ in true }
        case "All", "": { $0.name == sessionTarget }
        default: { $0.name == selector }
        }
        var text = TextParameters()
        for target in targets where wanted(target) && target.admits(initiatorName: initiatorName) && peer.map(target.peerAllowed) ?? false {
            text.append("TargetName", target.name)
            for group in target.portalGroups {
                for portal in group.portals {
                    var advertised = portal
                    if portal.isWildcard, let local = localAddress?.ipAddress { advertised.host = local }
                    text.append("TargetAddress", "\(advertised),\(group.tag)")
                }
            }
        }
        return text
    }
}
