#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A numeric IPv4 or IPv6 address, parsed and printed by the C library so that our
/// canonical text form is the one `ss`, `ip` and the initiators print.
///
/// Host names are deliberately not accepted for portals and networks: a portal is a
/// listening address and SendTargets reports it verbatim (RFC 7143 §13.8, TargetAddress).
struct IPAddress: Hashable {
    /// 4 bytes (IPv4) or 16 bytes (IPv6), network order.
    var bytes: [UInt8]

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (no brackets, no zone index).
    init?(_ text: String) {
        for (family, count) in [(AF_INET, 4), (AF_INET6, 16)] {
            var buffer = [UInt8](repeating: 0, count: count)
            if inet_pton(family, text, &buffer) == 1 {
                bytes = buffer
                return
            }
        }
        return nil
    }

    var isIPv6: Bool { bytes.count == 16 }

    /// The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), which is
    /// how a dual-stack socket reports an IPv4 peer.
    var unmappedIPv4: IPAddress? {
        guard isIPv6, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return nil }
        return IPAddress(bytes: Array(bytes[12...]))
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Canonical text: `10.0.0.1`, `::1`, `fe80::1` (RFC 5952 form from `inet_ntop`).
    var text: String {
        var output = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = isIPv6 ? AF_INET6 : AF_INET
        let result = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &output, socklen_t(output.count)) }
        precondition(result != nil, "inet_ntop cannot fail for a 4- or 16-byte address")
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Sets every bit after the first `prefixLength` to zero.
    func masked(to prefixLength: Int) -> IPAddress {
        IPAddress(bytes: bytes.enumerated().map { index, byte in
            let keep = min(max(prefixLength - index * 8, 0), 8)
            return keep == 8 ? byte : byte & ~(UInt8.max >> keep)
        })
    }
}
