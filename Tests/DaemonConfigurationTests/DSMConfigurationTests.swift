import ISCSISession
import MultipathDSM
import Testing

@testable import DaemonConfiguration

/// `[dsm]` upstream CHAP and reconnect backoff, and a remote LUN's own upstream CHAP:
/// values read, and every bad line reported as file:line.
@Suite("DSM configuration: upstream CHAP and reconnect backoff")
struct DSMConfigurationTests {
    static let target = ConfigurationValidationTests.minimalTarget

    /// A target with one remote LUN; `extra` goes after its keys (line 9 on).
    static func remoteTarget(_ extra: String = "") -> String {
        """
        [[target]]
        name = "iqn.2026-11.io.swiftport:gw"
        portals = ["127.0.0.1:3260"]

        [[target.lun]]
        id = 0
        backend = "remote"
        upstream_portals = ["10.0.0.1:3260", "10.0.1.1:3260"]
        \(extra)
        """
    }

    /// Exactly one error, at conf/x.toml:`line`, containing `fragment`.
    private func expectSingleError(_ text: String, line: Int, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let found = configurationErrors(text)
        #expect(found.count == 1, "\(found)", sourceLocation: sourceLocation)
        #expect(found.first?.description.hasPrefix("conf/x.toml:\(line): ") == true, "\(found)", sourceLocation: sourceLocation)
        #expect(found.first?.description.contains(fragment) == true, "\(found)", sourceLocation: sourceLocation)
    }

    @Test func defaultsWithoutCHAP() throws {
        let dsm = try SwiftportConfiguration.parse("[dsm]\npolicy = \"RR\"\n" + Self.target, file: "d.toml").dsm
        #expect(dsm.authentication == UpstreamAuthentication())
        #expect(dsm.reconnect == ReconnectBackoff.standard)
        #expect(dsm.reconnect.initial == .seconds(1) && dsm.reconnect.maximum == .seconds(30) && dsm.reconnect.multiplier == 2)
    }

    @Test func upstreamCHAPAndBackoffAreRead() throws {
        let text = """
            [dsm]
            reconnect_initial_ms = 500
            reconnect_max_ms = 20000
            reconnect_multiplier = 3
            reconnect_jitter_percent = 0
            [dsm.auth]
            username = "gateway"
            secret = "gateway-secret-1"
            mutual_username = "array"
            mutual_secret = "array-secret-01"
            [dsm.discovery_auth]
            username = "gateway-disc"
            secret = "discovery-secret"

            """ + Self.target
        let dsm = try SwiftportConfiguration.parse(text, file: "d.toml").dsm
        #expect(dsm.authentication.session == CHAPCredentials(username: "gateway", secret: "gateway-secret-1", mutualUsername: "array", mutualSecret: "array-secret-01"))
        #expect(dsm.authentication.discovery == CHAPCredentials(username: "gateway-disc", secret: "discovery-secret"))
        #expect(dsm.reconnect == ReconnectBackoff(initial: .milliseconds(500), maximum: .seconds(20), multiplier: 3, jitter: 0))
    }

    @Test func remoteLUNBringsItsOwnCHAP() throws {
        let text = """
            [dsm.auth]
            username = "gateway"
            secret = "gateway-secret-1"
            [dsm.discovery_auth]
            username = "gateway-disc"
            secret = "discovery-secret"

            """ + Self.remoteTarget("""
            [target.lun.upstream_auth]
            username = "lun-user"
            secret = "lun-secret-0001"
            """)
        let configuration = try SwiftportConfiguration.parse(text, file: "d.toml")
        guard case .remote(_, _, _, let auth) = configuration.targets[0].luns[0].backend else {
            Issue.record("not a remote LUN")
            return
        }
        #expect(auth == UpstreamAuthentication(session: CHAPCredentials(username: "lun-user", secret: "lun-secret-0001")))
        // The LUN's own session CHAP wins; discovery falls back to [dsm]'s.
        let effective = auth.overriding(configuration.dsm.authentication)
        #expect(effective.session?.username == "lun-user")
        #expect(effective.discovery?.username == "gateway-disc")
    }

    @Test(arguments: [
        ("[dsm.auth]\nusername = \"u\"\nsecret = \"too-short\"", [3], "'secret' is 9 characters long; CHAP secrets must have at least 12"),
        ("[dsm.auth]\nusername = \"u\"", [1], "[dsm.auth] has no 'secret'"),
        ("[dsm.auth]\nusername = \"u\"\nsecret = 123456789012", [3], "'secret' must be a string"),
        ("[dsm.discovery_auth]\nusername = \"u\"\nsecret = \"twelve-chars\"\nmutual_username = \"t\"\nmutual_secret = \"short\"", [5], "'mutual_secret' is 5 characters long"),
        ("[dsm.discovery_auth]\nusername = \"u\"\nsecret = \"twelve-chars\"\nmutual_username = \"t\"\nmutual_secret = \"twelve-chars\"", [5], "'mutual_secret' must differ from 'secret' (RFC 7143 §12.1.3)"),
        ("[dsm.auth]\nusername = \"u\"\nsecret = \"twelve-chars\"\nmutual_secret = \"other-secret\"", [1], "[dsm.auth] has no 'mutual_username'"),
        // The misspelt key, and the secret it should have been.
        ("[dsm.auth]\nusername = \"u\"\nsecrt = \"twelve-chars\"", [3, 1], "unknown key 'secrt' in [dsm.auth]; did you mean 'secret'?"),
        ("[dsm]\nauth = \"gateway:secret\"", [2], "'auth' must be a table"),
    ])
    func chapErrors(section: String, lines: [Int], fragment: String) {
        let found = configurationErrors(section + "\n" + Self.target)
        #expect(Set(found.map(\.line)) == Set(lines), "\(found)")
        // The error the case is about is on the first line listed.
        let error = found.first { $0.description.contains(fragment) }
        #expect(error?.description.hasPrefix("conf/x.toml:\(lines[0]): ") == true, "\(found)")
    }

    @Test(arguments: [
        ("reconnect_initial_ms = 0", 2, "'reconnect_initial_ms' must be between 1 and 3600000"),
        ("reconnect_max_ms = 5000\nreconnect_initial_ms = 10000", 2, "'reconnect_max_ms' (5000) must not be less than 'reconnect_initial_ms' (10000)"),
        ("reconnect_initial_ms = 60000", 2, "'reconnect_max_ms' (30000) must not be less than 'reconnect_initial_ms' (60000)"),
        ("reconnect_multiplier = 0", 2, "'reconnect_multiplier' must be between 1 and 16"),
        ("reconnect_multiplier = 1.5", 2, "floating-point values are not supported"),
        ("reconnect_jitter_percent = 101", 2, "'reconnect_jitter_percent' must be between 0 and 100"),
        ("reconnect_max_ms = \"30s\"", 2, "'reconnect_max_ms' must be an integer"),
    ])
    func backoffErrors(keys: String, line: Int, fragment: String) {
        expectSingleError("[dsm]\n\(keys)\n" + Self.target, line: line, fragment)
    }

    @Test func remoteLUNCHAPErrorsNameTheirLine() {
        expectSingleError(Self.remoteTarget("[target.lun.upstream_discovery_auth]\nusername = \"u\"\nsecret = \"short\""), line: 11, "'secret' is 5 characters long")
        expectSingleError(Self.remoteTarget("[target.lun.upstream_auth]\nsecret = \"twelve-chars\""), line: 9, "[target.lun.upstream_auth] has no 'username'")
    }

    @Test func upstreamCHAPOnALocalLUNIsAnError() {
        let text = Self.target + "\n[target.lun.upstream_auth]\nusername = \"u\"\nsecret = \"twelve-chars\""
        expectSingleError(text, line: 9, "'upstream_auth' applies only to a remote LUN, not to backend \"ram\"")
    }
}
