import DaemonConfiguration
import SCSIEngine
import SCSIProtocol
import Testing

@testable import TargetDaemon

/// How a target's configuration reaches its device server.
@Suite("Target assembly")
struct TargetAssemblyTests {
    @Test("each portal group is an ALUA target port group (SPC-4 §5.15) with its state and PREF")
    func eachPortalGroupIsATargetPortGroup() {
        let target = TargetConfiguration.ramTarget(portalGroups: [
            PortalGroupConfiguration(tag: 1, portals: [PortalAddress(host: "127.0.0.1")]),
            PortalGroupConfiguration(tag: 2, portals: [PortalAddress(host: "127.0.0.2")], aluaState: .standby, preferred: true),
        ])
        #expect(TargetAssembly.targetPortGroups(of: target, cluster: nil) == [
            TargetPortGroupDescriptor(tag: 1, relativeTargetPortIdentifiers: [1]),
            TargetPortGroupDescriptor(tag: 2, relativeTargetPortIdentifiers: [2], initialState: .standby, preferred: true),
        ])
    }

    @Test("a gateway of a cluster reports every gateway's target port group, in tag order, as every other gateway does")
    func everyGatewaysGroup() {
        let target = TargetConfiguration.ramTarget(portalGroups: [PortalGroupConfiguration(tag: 2, portals: [PortalAddress(host: "127.0.0.2")])])
        let cluster = ClusterSettings(
            name: "c", gateway: "gw-b",
            gateways: [.init(name: "gw-c", portalGroup: 3), .init(name: "gw-a", portalGroup: 1), .init(name: "gw-b", portalGroup: 2)],
            statePool: "rbd", namespace: nil, cephConf: "/etc/ceph/ceph.conf", client: "admin", keyring: nil, clusterTimeout: 30,
            heartbeat: 5, acknowledgementTimeout: 5, fenceDuration: 3600)
        #expect(TargetAssembly.targetPortGroups(of: target, cluster: cluster).map(\.tag) == [1, 2, 3])
    }
}

extension TargetConfiguration {
    /// What the daemon's tests assemble: one target with a 1 MiB RAM LUN 0, built as
    /// values (parsing is DaemonConfigurationTests' business).
    static func ramTarget(
        portalGroups: [PortalGroupConfiguration] = [PortalGroupConfiguration(tag: 1, portals: [PortalAddress(host: "127.0.0.1")])]
    ) -> TargetConfiguration {
        let name = "iqn.2026-11.io.swiftport:t"
        return TargetConfiguration(
            name: name, portalGroups: portalGroups,
            luns: [LUNConfiguration(id: 0, backend: .ram(size: 1 << 20), serial: LUNConfiguration.derivedSerial(targetName: name, lunID: 0))])
    }
}
