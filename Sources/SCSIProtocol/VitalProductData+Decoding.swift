/// Initiator-side readers of the VPD pages ``VitalProductData`` builds (SPC-4 §7.8,
/// SBC-3 §6.5): each is the inverse of the builder of the same name.
extension VitalProductData {
    /// The common page header (SPC-4 §7.8.1).
    static let headerLength = 4
    /// PAGE LENGTH of the Block Limits page (SBC-3 §6.5.3).
    static let blockLimitsPageLength = 0x3C

    /// The PERIPHERAL byte and the payload of a page, checked to be the page asked for
    /// and as long as its PAGE LENGTH says.
    ///
    /// - Throws: ``SCSIProtocolError`` `truncated` when the header or payload is cut
    ///   short, `malformed` when PAGE CODE is another page's.
    public static func payload(
        of bytes: [UInt8], page code: VitalProductDataPageCode
    ) throws(SCSIProtocolError) -> (peripheral: PeripheralDevice, payload: ArraySlice<UInt8>) {
        try SCSIProtocolError.require(headerLength, of: bytes.count, in: "VPD page 0x\(String(code.rawValue, radix: 16))")
        guard bytes[1] == code.rawValue else {
            throw SCSIProtocolError(
                .malformed, "VPD page 0x\(String(bytes[1], radix: 16)) came back for page 0x\(String(code.rawValue, radix: 16))")
        }
        let end = headerLength + Int(bytes[2..<4].bigEndianValue)
        try SCSIProtocolError.require(end, of: bytes.count, in: "VPD page 0x\(String(code.rawValue, radix: 16))")
        return (PeripheralDevice(rawValue: bytes[0]), bytes[headerLength..<end])
    }

    /// PRODUCT SERIAL NUMBER of the Unit Serial Number page (SPC-4 §7.8.18), without
    /// the spaces that align it.
    public static func unitSerialNumber(decoding bytes: [UInt8]) throws(SCSIProtocolError) -> String {
        let serial = String(asciiField: try payload(of: bytes, page: .unitSerialNumber).payload)
        return String(serial.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }

    /// The designation descriptors of the Device Identification page (SPC-4 §7.8.6),
    /// in page order, of every type and association.
    ///
    /// - Throws: ``SCSIProtocolError`` `malformed` when a descriptor runs past the page.
    public static func deviceIdentification(decoding bytes: [UInt8]) throws(SCSIProtocolError) -> [DesignationDescriptor] {
        let page = try payload(of: bytes, page: .deviceIdentification).payload
        var descriptors: [DesignationDescriptor] = []
        var offset = page.startIndex
        while offset < page.endIndex {
            let header = DesignationDescriptor.headerLength
            guard offset + header <= page.endIndex, offset + header + Int(page[offset + 3]) <= page.endIndex else {
                throw SCSIProtocolError(.malformed, "a designation descriptor at page byte \(offset) runs past the page")
            }
            let piv = page[offset + 1] & 0x80 != 0
            descriptors.append(
                DesignationDescriptor(
                    codeSet: .init(rawValue: page[offset] & 0x0F),
                    association: .init(rawValue: (page[offset + 1] >> 4) & 0x03),
                    type: .init(rawValue: page[offset + 1] & 0x0F),
                    isISCSISpecific: piv && page[offset] >> 4 == DesignationDescriptor.iscsiProtocolIdentifier,
                    designator: Array(page[(offset + header)..<(offset + header + Int(page[offset + 3]))])))
            offset += header + Int(page[offset + 3])
        }
        return descriptors
    }

    /// The Block Limits page (SBC-3 §6.5.3). Fields past a shorter PAGE LENGTH (an
    /// SBC-2 device's 0Ch) read as 0, which every one of them means "not reported".
    public static func blockLimits(decoding bytes: [UInt8]) throws(SCSIProtocolError) -> BlockLimits {
        var page = Array(try payload(of: bytes, page: .blockLimits).payload)
        page += [UInt8](repeating: 0, count: max(0, blockLimitsPageLength - page.count))
        func field(_ range: Range<Int>) -> UInt64 { page[range].bigEndianValue }
        return BlockLimits(
            maximumTransferLength: UInt32(field(4..<8)), optimalTransferLengthGranularity: UInt16(field(2..<4)),
            optimalTransferLength: UInt32(field(8..<12)), maximumUnmapLBACount: UInt32(field(16..<20)),
            maximumUnmapBlockDescriptorCount: UInt32(field(20..<24)), maximumWriteSameLength: field(32..<40),
            maximumCompareAndWriteLength: UInt8(field(1..<2)))
    }
}
