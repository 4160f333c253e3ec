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

    public init() {}
}

extension DSMSettings {
    static let keys = ["supported_devices", "policy", "initiator_name"]

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
    }
}
