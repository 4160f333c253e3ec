/// A received CDB with big-endian field accessors (SPC-4 §4.2).
///
/// Bytes past the end of the array read as zero, so a short CDB from a peer can never
/// trap; ``validate()`` rejects CDBs that are too short for their group code.
public struct CommandDescriptorBlock: Hashable, Sendable {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var operationCode: SCSIOperationCode { SCSIOperationCode(rawValue: self[0]) }

    /// The SERVICE ACTION field of a 12/16-byte service-action CDB (byte 1, bits 4..0).
    public var serviceAction: UInt8 { self[1] & 0x1F }

    /// The byte at `index`, or 0 past the end.
    public subscript(index: Int) -> UInt8 {
        index < bytes.count ? bytes[index] : 0
    }

    /// Whether bit `bit` of byte `byte` is set.
    public func bit(_ bit: Int, ofByte byte: Int) -> Bool {
        self[byte] & (1 << bit) != 0
    }

    /// A big-endian unsigned field of `width` bytes starting at `offset`.
    public func field(at offset: Int, width: Int) -> UInt64 {
        (offset..<(offset + width)).reduce(0) { ($0 << 8) | UInt64(self[$1]) }
    }

    /// Offset of the CONTROL byte: the last byte of the fixed-length CDB.
    public var controlByteOffset: Int? {
        operationCode.cdbLength.map { $0 - 1 }
    }

    /// Checks what every command shares: the CDB is as long as its group code says and
    /// the CONTROL byte asks for nothing unsupported. NACA = 1 requests ACA, which this
    /// device server does not implement (SAM-5 §5.9.2, SPC-4 §4.2.5.5): INVALID FIELD
    /// IN CDB pointing at the NACA bit.
    public func validate() throws(SenseData) {
        guard let length = operationCode.cdbLength, let control = controlByteOffset else { return }
        guard bytes.count >= length else {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 0))
        }
        if bit(2, ofByte: control) {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: control, bit: 2))
        }
    }
}
