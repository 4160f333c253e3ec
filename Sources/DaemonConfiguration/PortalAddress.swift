/// An address and TCP port on which a target portal listens (RFC 7143 §3.4.1 "network
/// portal"), written `127.0.0.1:3260`, `[::1]:3260`, or without a port for 3260.
public struct PortalAddress: Sendable, Hashable, CustomStringConvertible {
    /// The IANA port for iSCSI targets (RFC 7143 §13.8, default port of TargetAddress).
    public static let defaultPort = 3260

    /// A numeric address in canonical form (`0.0.0.0` and `::` listen on every address).
    public var host: String
    /// TCP port, 1...65535.
    public var port: Int

    public init(host: String, port: Int = PortalAddress.defaultPort) {
        self.host = host
        self.port = port
    }

    /// Parses `ADDR`, `ADDR:PORT`, `[IPv6]` or `[IPv6]:PORT`.
    public init(parsing text: String) throws(ConfigurationValueError) {
        var hostText = Substring(text)
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw ConfigurationValueError("portal '\(text)' has '[' without ']'", suggestion: "write it as \"[::1]:3260\"")
            }
            hostText = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else {
                    throw ConfigurationValueError("portal '\(text)' has text after ']' that is not ':PORT'", suggestion: "write it as \"[::1]:3260\"")
                }
                portText = rest.dropFirst()
            }
        } else if text.filter({ $0 == ":" }).count > 1 {
            throw ConfigurationValueError(
                "IPv6 portal '\(text)' must be in brackets",
                suggestion: "write \"[\(text)]:\(Self.defaultPort)\""
            )
        } else if let colon = text.firstIndex(of: ":") {
            hostText = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let address = IPAddress(String(hostText)), address.isIPv6 == text.hasPrefix("[") else {
            throw ConfigurationValueError(
                "'\(hostText)' in portal '\(text)' is not a numeric IPv4 or IPv6 address",
                suggestion: "portals listen on an address, e.g. \"0.0.0.0:3260\" or \"[::]:3260\"; host names are not accepted"
            )
        }
        var port = Self.defaultPort
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw ConfigurationValueError(
                    "port '\(portText)' in portal '\(text)' is not a number between 1 and 65535",
                    suggestion: "the iSCSI port is \(Self.defaultPort)"
                )
            }
            port = number
        }
        self.init(host: address.text, port: port)
    }

    /// `127.0.0.1:3260` or `[::1]:3260`, the TargetAddress form of RFC 7143 §13.8.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
