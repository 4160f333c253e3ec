/// REPORT LUNS parameter data (SPC-4 §6.33.2, table 277): LUN LIST LENGTH, 4 reserved
/// bytes, then one 8-byte LUN per logical unit. Written by the device server, read by
/// an initiator.
extension LogicalUnitNumber {
    /// The header before the first LUN.
    static let reportLUNsHeaderLength = 8
    /// Bytes per LUN in the list (SAM-5 §4.7).
    static let wireLength = 8

    /// The parameter data listing `numbers`.
    public static func reportLUNsParameterData(_ numbers: [LogicalUnitNumber]) -> [UInt8] {
        let list = numbers.flatMap(\.wireValue.bigEndianBytes)
        return UInt32(list.count).bigEndianBytes + [0, 0, 0, 0] + list
    }

    /// The LUNs of REPORT LUNS parameter data, as far as the allocation let them
    /// come. LUNs in an addressing method other than single-level peripheral or flat
    /// space (well-known logical units, hierarchical addresses) are left out: they
    /// name nothing this initiator can address.
    ///
    /// - Throws: ``SCSIProtocolError`` `truncated` without the 8-byte header.
    public static func list(decodingReportLUNs bytes: [UInt8]) throws(SCSIProtocolError) -> [LogicalUnitNumber] {
        try SCSIProtocolError.require(reportLUNsHeaderLength, of: bytes.count, in: "REPORT LUNS data")
        let end = min(bytes.count, reportLUNsHeaderLength + Int(bytes[0..<4].bigEndianValue))
        return stride(from: reportLUNsHeaderLength, through: end - wireLength, by: wireLength).compactMap {
            LogicalUnitNumber(wireValue: bytes[$0..<($0 + wireLength)].bigEndianValue)
        }
    }
}
