/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `fd00::/8`), used for
/// `allowed_networks` access control on a target.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// Network address, all host bits zero, in canonical form.
    public var address: String
    /// Number of leading bits that must match (0...32 for IPv4, 0...128 for IPv6).
    public var prefixLength: Int
    private var networkBytes: [UInt8]

    /// Parses `ADDR/PREFIX`, or a single address (a /32 or /128 network).
    public init(parsing text: String) throws(ConfigurationValueError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let network = IPAddress(String(parts[0])) else {
            throw ConfigurationValueError(
                "'\(text)' is not a network in CIDR notation",
                suggestion: "write an address and a prefix length, e.g. \"10.0.0.0/8\" or \"fd00::/8\""
            )
        }
        let maximum = network.bytes.count * 8
        var prefixLength = maximum
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...maximum).contains(length) else {
                throw ConfigurationValueError(
                    "prefix length '\(parts[1])' in '\(text)' must be a number between 0 and \(maximum)"
                )
            }
            prefixLength = length
        }
        let masked = network.masked(to: prefixLength)
        guard masked == network else {
            throw ConfigurationValueError(
                "'\(text)' has bits set after the first \(prefixLength)",
                suggestion: "write \"\(masked.text)/\(prefixLength)\""
            )
        }
        self.address = masked.text
        self.prefixLength = prefixLength
        self.networkBytes = masked.bytes
    }

    /// Whether `address` (numeric text) lies in this network. An IPv4-mapped IPv6
    /// address (`::ffff:10.1.2.3`, as dual-stack sockets report IPv4 peers) matches
    /// IPv4 networks. Text that is not an address is in no network.
    public func contains(_ address: String) -> Bool {
        guard var candidate = IPAddress(address) else { return false }
        if networkBytes.count == 4, let ipv4 = candidate.unmappedIPv4 {
            candidate = ipv4
        }
        return candidate.bytes.count == networkBytes.count && candidate.masked(to: prefixLength).bytes == networkBytes
    }

    /// `10.0.0.0/8`
    public var description: String {
        "\(address)/\(prefixLength)"
    }
}
