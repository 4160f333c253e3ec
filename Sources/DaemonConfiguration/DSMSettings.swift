import MultipathDSM

/// `[dsm]`: how Swiftport's own initiator claims and drives upstream multipath devices
/// (remote LUNs and `swiftport dsm`). ARCHITECTURE.md §4.
public struct DSMSettings: Sendable, Equatable {
    /// MPIOSupportedDeviceList entries: 8-character vendor + product prefix.
    public var supportedDevices: [SupportedDeviceEntry] = [try! SupportedDeviceEntry(parsing: "SWIFTPRT")]
    /// Load-balance policy (MSDSM names: FOO, RR, RRWS, LQD, WP, LB).
    public var policy = LoadBalancePolicy.roundRobinWithSubset
    /// The initiator name used upstream.
    public var initiatorName = "iqn.2026-11.io.swiftport:gateway"
    /// `[dsm.auth]` and `[dsm.discovery_auth]`: CHAP toward upstream targets, for every
    /// remote LUN that does not bring its own.
    public var authentication = UpstreamAuthentication()
    /// How failed upstream paths are retried: `reconnect_initial_ms`, `reconnect_max_ms`,
    /// `reconnect_multiplier`, `reconnect_jitter_percent`.
    public var reconnect = ReconnectBackoff.standard

    public init() {}
}

extension DSMSettings {
    static let keys = [
        "supported_devices", "policy", "initiator_name", "auth", "discovery_auth",
        "reconnect_initial_ms", "reconnect_max_ms", "reconnect_multiplier", "reconnect_jitter_percent",
    ]
    /// Reconnect delays from 1 ms to an hour: beyond that a path is as good as abandoned.
    static let reconnectDelayRange: ClosedRange<Int> = 1...3_600_000
    /// Integers only: the configuration's TOML has no floats (see ``TOMLValue``).
    static let reconnectMultiplierRange: ClosedRange<Int> = 1...16

    /// Reads `[dsm]`; absent keys keep their defaults.
    init(reading reader: TableReader?) {
        self.init()
        guard let reader else { return }
        if let entries = reader.strings("supported_devices", example: "[\"SWIFTPRT\"]") {
            var parsed: [SupportedDeviceEntry] = []
            for entry in entries {
                do {
                    parsed.append(try SupportedDeviceEntry(parsing: entry.value))
                } catch {
                    reader.decoder.report(error.message, line: entry.line, suggestion: "write the vendor padded to 8 characters, then the product prefix, e.g. \"SWIFTPRT VIRTUAL-DISK\"")
                }
            }
            supportedDevices = parsed
        }
        if let policy = reader.string("policy", example: "\"RRWS\"") {
            if let value = LoadBalancePolicy(rawValue: policy.value.uppercased()) {
                self.policy = value
            } else {
                reader.decoder.report(
                    "'policy' must be one of FOO, RR, RRWS, LQD, WP, LB (MSDSM's Fail Over Only, Round Robin, Round Robin with Subset, Least Queue Depth, Weighted Paths, Least Blocks), not '\(policy.value)'",
                    line: policy.line, suggestion: "write policy = \"RRWS\"")
            }
        }
        if let name = reader.string("initiator_name", example: "\"iqn.2026-11.io.swiftport:gateway\"") {
            initiatorName = name.value
        }
        authentication = UpstreamAuthentication(reading: reader, sessionKey: "auth", discoveryKey: "discovery_auth", parent: "dsm")
        readReconnect(reader)
    }

    /// The reconnect backoff keys; absent ones keep ``ReconnectBackoff/standard``'s values.
    private mutating func readReconnect(_ reader: TableReader) {
        let standard = ReconnectBackoff.standard
        let initial = reader.integer("reconnect_initial_ms", in: Self.reconnectDelayRange, example: "1000")
        let maximum = reader.integer("reconnect_max_ms", in: Self.reconnectDelayRange, example: "30000")
        let multiplier = reader.integer("reconnect_multiplier", in: Self.reconnectMultiplierRange, example: "2")
        let jitter = reader.integer("reconnect_jitter_percent", in: 0...100, example: "20")
        let initialDelay = initial.map { Duration.milliseconds($0.value) } ?? standard.initial
        let maximumDelay = maximum.map { Duration.milliseconds($0.value) } ?? standard.maximum
        if maximumDelay < initialDelay {
            let shown = maximum ?? initial!
            reader.decoder.report(
                "'reconnect_max_ms' (\(Self.milliseconds(maximumDelay))) must not be less than 'reconnect_initial_ms' (\(Self.milliseconds(initialDelay)))",
                line: shown.line,
                suggestion: "write reconnect_max_ms = \(Self.milliseconds(initialDelay)) or more"
            )
            return
        }
        reconnect = ReconnectBackoff(
            initial: initialDelay, maximum: maximumDelay,
            multiplier: multiplier.map { Double($0.value) } ?? standard.multiplier,
            jitter: jitter.map { Double($0.value) / 100 } ?? standard.jitter)
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
