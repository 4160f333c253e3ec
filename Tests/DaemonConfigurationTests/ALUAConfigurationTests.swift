import Foundation
import SCSIProtocol
import Testing

@testable import DaemonConfiguration

/// `alua_state` and `preferred` of `[[target.portal_group]]`: the initial ALUA state of
/// every LUN through the group (SPC-4 §5.15). TargetAssemblyTests has how they reach
/// the device server.
@Suite("SPC-4 §5.15 ALUA configuration")
struct ALUAConfigurationTests {
    /// A target with two portal groups; `%GROUP2%` is replaced by extra keys of group 2
    /// (its keys start on line 9).
    static let twoGroups = """
        [[target]]
        name = "iqn.2026-11.io.swiftport:t"
        [[target.portal_group]]
        tag = 1
        portals = ["127.0.0.1:3272"]
        [[target.portal_group]]
        tag = 2
        portals = ["127.0.0.2:3272"]
        %GROUP2%
        [[target.lun]]
        id = 0
        backend = "ram"
        size = 4096
        """

    private func parse(_ group2: String) throws(ConfigurationErrors) -> [PortalGroupConfiguration] {
        try SwiftportConfiguration.parse(Self.twoGroups.replacingOccurrences(of: "%GROUP2%", with: group2), file: "a.toml")
            .targets[0].portalGroups
    }

    private func errors(_ group2: String) -> [ConfigurationError] {
        do {
            _ = try parse(group2)
            return []
        } catch {
            return error.errors
        }
    }

    @Test func defaultsAreActiveOptimizedAndNotPreferred() throws {
        let groups = try parse("")
        #expect(groups.map(\.aluaState) == [.activeOptimized, .activeOptimized])
        #expect(groups.map(\.preferred) == [false, false])
    }

    @Test(arguments: [
        ("active-optimized", AsymmetricAccessState.activeOptimized),
        ("active-non-optimized", .activeNonOptimized),
        ("standby", .standby),
        ("unavailable", .unavailable),
    ])
    func everyConfigurableStateIsRead(word: String, state: AsymmetricAccessState) throws {
        let groups = try parse("alua_state = \"\(word)\"\npreferred = true")
        #expect(groups[1].aluaState == state)
        #expect(groups[1].preferred)
        #expect(groups[0].aluaState == .activeOptimized)
    }

    @Test func badValuesAreReportedWithTheirLine() {
        let transitioning = errors("alua_state = \"transitioning\"")
        #expect(transitioning.map(\.line) == [9])
        #expect(transitioning.first?.message
            == "'alua_state' must be one of \"active-optimized\", \"active-non-optimized\", \"standby\", \"unavailable\", not 'transitioning'")
        #expect(transitioning.first?.suggestion == "write alua_state = \"active-optimized\"")

        let spelledOtherwise = errors("\nalua_state = \"Active_Non_Optimized\"")
        #expect(spelledOtherwise.map(\.line) == [10])
        #expect(spelledOtherwise.first?.suggestion == "write alua_state = \"active-non-optimized\"")

        let wrongType = errors("alua_state = 2\npreferred = \"yes\"")
        #expect(wrongType.map(\.line) == [9, 10])
        #expect(wrongType.map(\.message) == ["'alua_state' must be a string, not an integer", "'preferred' must be true or false, not a string"])

        let typo = errors("alua = \"standby\"")
        #expect(typo.first?.message == "unknown key 'alua' in [[target.portal_group]]")
    }

    @Test("explicit_alua is off unless configured")
    func explicitALUA() throws {
        let implicit = try SwiftportConfiguration.parse(Self.twoGroups.replacingOccurrences(of: "%GROUP2%", with: ""), file: "a.toml")
        #expect(!implicit.targets[0].explicitALUA)
        let text = Self.twoGroups.replacingOccurrences(of: "%GROUP2%", with: "")
            .replacingOccurrences(of: "name = \"iqn.2026-11.io.swiftport:t\"", with: "name = \"iqn.2026-11.io.swiftport:t\"\nexplicit_alua = true")
        let explicit = try SwiftportConfiguration.parse(text, file: "a.toml")
        #expect(explicit.targets[0].explicitALUA)
    }
}
