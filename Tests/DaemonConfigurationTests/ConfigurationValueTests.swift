import Testing

@testable import DaemonConfiguration

/// The value parsers: sizes, portals, networks.
@Suite("Configuration values")
struct ConfigurationValueTests {
    static let validSizes: [(String, UInt64)] = [
        ("4096", 4096), ("0", 0), ("1K", 1024), ("1KiB", 1024), ("512MiB", 512 << 20), ("512m", 512 << 20),
        ("1GiB", 1 << 30), ("1 GiB", 1 << 30), ("2G", 2 << 30), ("1T", 1 << 40), ("3TiB", 3 << 40), (" 8k ", 8192),
    ]

    @Test(arguments: validSizes)
    func sizes(text: String, bytes: UInt64) throws {
        #expect(try ByteSize.parse(text) == bytes)
    }

    @Test(arguments: [
        ("1GB", "write \"1GiB\""), ("10MB", "write \"10MiB\""), ("1PiB", "unknown size unit 'PiB'"),
        ("GiB", "is not a size"), ("", "is not a size"), ("-1G", "is not a size"), ("1.5G", "unknown size unit '.5G'"),
        ("99999999999T", "too large"),
    ])
    func invalidSizes(text: String, fragment: String) {
        do {
            _ = try ByteSize.parse(text)
            Issue.record("'\(text)' parsed")
        } catch {
            #expect(error.description.contains(fragment), "\(error)")
        }
    }

    @Test(arguments: [
        ("127.0.0.1:3260", "127.0.0.1", 3260, "127.0.0.1:3260"),
        ("10.0.0.1", "10.0.0.1", 3260, "10.0.0.1:3260"),
        ("0.0.0.0:3261", "0.0.0.0", 3261, "0.0.0.0:3261"),
        ("[::1]:3260", "::1", 3260, "[::1]:3260"),
        ("[::]", "::", 3260, "[::]:3260"),
        ("[FD00:0:0::0001]:860", "fd00::1", 860, "[fd00::1]:860"),
    ])
    func portals(text: String, host: String, port: Int, description: String) throws {
        let portal = try PortalAddress(parsing: text)
        #expect(portal == PortalAddress(host: host, port: port))
        #expect(portal.description == description)
    }

    @Test(arguments: [
        ("::1", "must be in brackets"), ("[::1", "without ']'"), ("[::1]3260", "not ':PORT'"),
        ("1.2.3.4:0", "between 1 and 65535"), ("1.2.3.4:65536", "between 1 and 65535"), ("1.2.3.4:", "port ''"),
        ("host:3260", "not a numeric IPv4 or IPv6 address"), ("[1.2.3.4]:3260", "not a numeric"), ("1.2.3:3260", "not a numeric"),
    ])
    func invalidPortals(text: String, fragment: String) {
        do {
            _ = try PortalAddress(parsing: text)
            Issue.record("'\(text)' parsed")
        } catch {
            #expect(error.description.contains(fragment), "\(error)")
        }
    }

    @Test func networksContainAddresses() throws {
        let tenEight = try IPNetwork(parsing: "10.0.0.0/8")
        #expect(tenEight.description == "10.0.0.0/8")
        #expect(tenEight.contains("10.255.1.2"))
        #expect(!tenEight.contains("11.0.0.1"))
        #expect(tenEight.contains("::ffff:10.1.2.3"), "IPv4-mapped peers of dual-stack sockets")
        #expect(!tenEight.contains("::1"))
        #expect(!tenEight.contains("not-an-address"))

        let odd = try IPNetwork(parsing: "192.168.4.0/22")
        #expect(odd.contains("192.168.7.255"))
        #expect(!odd.contains("192.168.8.0"))

        let loopback6 = try IPNetwork(parsing: "::1/128")
        #expect(loopback6.contains("::1"))
        #expect(loopback6.contains("0:0:0:0:0:0:0:1"))
        #expect(!loopback6.contains("::2"))
        #expect(!loopback6.contains("127.0.0.1"))

        let ula = try IPNetwork(parsing: "fd00::/8")
        #expect(ula.contains("fd12:3456::1"))
        #expect(!ula.contains("fe80::1"))

        let host = try IPNetwork(parsing: "192.0.2.7")
        #expect(host.prefixLength == 32)
        #expect(host.contains("192.0.2.7") && !host.contains("192.0.2.8"))

        let everything = try IPNetwork(parsing: "0.0.0.0/0")
        #expect(everything.contains("203.0.113.9"))
    }

    @Test(arguments: [
        ("10.0.0.1/8", "write \"10.0.0.0/8\""), ("10.0.0.0/33", "between 0 and 32"), ("::/129", "between 0 and 128"),
        ("10.0.0.0/x", "prefix length 'x'"), ("example.com/8", "not a network in CIDR notation"), ("1.2.3.4/8/8", "CIDR"),
        ("fd00::1/8", "write \"fd00::/8\""),
    ])
    func invalidNetworks(text: String, fragment: String) {
        do {
            _ = try IPNetwork(parsing: text)
            Issue.record("'\(text)' parsed")
        } catch {
            #expect(error.description.contains(fragment), "\(error)")
        }
    }
}
