/// What `<prefix>gateway.<name>` holds: the client a gateway's cluster connection is,
/// so that another gateway can fence it.
struct GatewayRecord: Hashable {
    var instance: UInt64
    var address: String

    static let header = "swiftport-gateway 1"

    var serialized: String { "\(Self.header)\ninstance \(instance)\naddress \(address)\n" }

    init(instance: UInt64, address: String) {
        self.instance = instance
        self.address = address
    }

    init?(serialized text: String) {
        let lines = text.split(separator: "\n")
        guard lines.count == 3, lines[0] == Self.header, lines[1].hasPrefix("instance "), lines[2].hasPrefix("address "),
              let instance = UInt64(lines[1].dropFirst("instance ".count))
        else { return nil }
        self.init(instance: instance, address: String(lines[2].dropFirst("address ".count)))
    }
}
