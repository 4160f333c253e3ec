/// An iSCSI TransportID (SPC-4 §7.6.4.6, table 394/395): how PERSISTENT RESERVE
/// OUT (SPEC_I_PT, REGISTER AND MOVE) and READ FULL STATUS name an initiator port.
///
/// FORMAT CODE 00b carries the iSCSI name alone and designates every initiator port
/// with that name; 01b carries the initiator port name "name,i,0xISID".
public struct ISCSITransportIdentifier: Hashable, Sendable {
    /// PROTOCOL IDENTIFIER for iSCSI (SPC-4 table 362).
    public static let protocolIdentifier: UInt8 = 0x5
    /// The separator between the iSCSI name and the ISID in an initiator port name
    /// (RFC 7143 §4.2.7.1, SPC-4 §7.6.4.6).
    public static let isidSeparator = ",i,0x"
    /// The smallest TransportID: header plus 20 bytes of name (SPC-4 §7.6.4.6).
    public static let minimumLength = 24

    /// The iSCSI name, or the full initiator port name when ``isPortName`` is set.
    public var name: String

    /// Whether ``name`` includes the ISID (FORMAT CODE 01b).
    public var isPortName: Bool { name.contains(Self.isidSeparator) }

    public init(name: String) {
        self.name = name
    }

    /// The TransportID on the wire: NUL terminated and padded to a multiple of four
    /// bytes, at least ``minimumLength`` in all.
    public var bytes: [UInt8] {
        var payload = Array(name.utf8) + [0]
        payload += [UInt8](repeating: 0, count: (4 - payload.count % 4) % 4)
        if payload.count < Self.minimumLength - 4 {
            payload += [UInt8](repeating: 0, count: Self.minimumLength - 4 - payload.count)
        }
        let format: UInt8 = isPortName ? 0x40 : 0x00
        return [format | Self.protocolIdentifier, 0] + UInt16(payload.count).bigEndianBytes + payload
    }

    /// Decodes the TransportID starting at `offset` of a parameter list and returns it
    /// with its total length. A protocol other than iSCSI, an unknown FORMAT CODE or a
    /// name that is not NUL terminated is INVALID FIELD IN PARAMETER LIST pointing at
    /// the offending byte; a TransportID running past the list is PARAMETER LIST
    /// LENGTH ERROR.
    public static func parse(_ list: [UInt8], at offset: Int) throws(SenseData) -> (ISCSITransportIdentifier, length: Int) {
        guard offset + 4 <= list.count else { throw SenseData(.parameterListLengthError) }
        let format = list[offset] >> 6
        guard list[offset] & 0x0F == protocolIdentifier else {
            throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: offset, bit: 3))
        }
        guard format <= 1 else {
            throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: offset, bit: 7))
        }
        let additional = Int(list[offset + 2]) << 8 | Int(list[offset + 3])
        guard offset + 4 + additional <= list.count else { throw SenseData(.parameterListLengthError) }
        let payload = list[(offset + 4)..<(offset + 4 + additional)]
        guard let end = payload.firstIndex(of: 0), end > payload.startIndex else {
            throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: offset + 4))
        }
        let name = String(decoding: payload[payload.startIndex..<end], as: UTF8.self)
        let identifier = ISCSITransportIdentifier(name: name)
        guard identifier.isPortName == (format == 1) else {
            throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: offset, bit: 7))
        }
        return (identifier, 4 + additional)
    }
}
