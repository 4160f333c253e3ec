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
        #expect(TargetAssembly.targetPortGroups(of: target) == [
            TargetPortGroupDescriptor(tag: 1, relativeTargetPortIdentifiers: [1]),
            TargetPortGroupDescriptor(tag: 2, relativeTargetPortIdentifiers: [2], initialState: .standby, preferred: true),
        ])
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
