/// Parsing a MODE SELECT parameter list (SPC-4 §6.9, §7.5.4).
extension ModeParameterList {
    /// A page as received, with the parameter-list offset of its first byte so errors
    /// can point at the offending field.
    public struct ReceivedPage: Hashable, Sendable {
        public var page: ModePage
        public var offset: Int
    }

    /// What a MODE SELECT parameter list contains.
    public struct Received: Hashable, Sendable {
        public var blockDescriptors: [BlockDescriptor]
        public var pages: [ReceivedPage]
    }

    /// Splits `list` into block descriptors and pages. Lengths that run past the end
    /// of the list are PARAMETER LIST LENGTH ERROR; subpage-format pages (SPF = 1) are
    /// INVALID FIELD IN PARAMETER LIST since we implement none.
    public static func parse(_ list: [UInt8], format: Format) throws(SenseData) -> Received {
        guard list.count >= format.headerLength else {
            throw SenseData(.parameterListLengthError)
        }
        let descriptorLength: Int
        let longLBA: Bool
        switch format {
        case .six:
            descriptorLength = Int(list[3])
            longLBA = false
        case .ten:
            descriptorLength = Int(list[6]) << 8 | Int(list[7])
            longLBA = list[4] & 0x01 != 0
        }
        var offset = format.headerLength
        guard list.count >= offset + descriptorLength else {
            throw SenseData(.parameterListLengthError)
        }
        let descriptorSize = longLBA ? 16 : 8
        guard descriptorLength % descriptorSize == 0 else {
            throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: format == .six ? 3 : 6))
        }
        var descriptors: [BlockDescriptor] = []
        while offset < format.headerLength + descriptorLength {
            let raw = list[offset..<(offset + descriptorSize)]
            let value = { (range: Range<Int>) in raw[range].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
            let base = offset
            descriptors.append(
                longLBA
                    ? BlockDescriptor(blockCount: value(base..<base + 8), blockLength: UInt32(value(base + 12..<base + 16)))
                    : BlockDescriptor(blockCount: value(base..<base + 4), blockLength: UInt32(value(base + 5..<base + 8))))
            offset += descriptorSize
        }
        var pages: [ReceivedPage] = []
        while offset < list.count {
            guard list[offset] & 0x40 == 0 else {
                throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: offset, bit: 6))
            }
            guard offset + 2 <= list.count, offset + 2 + Int(list[offset + 1]) <= list.count else {
                throw SenseData(.parameterListLengthError)
            }
            let length = Int(list[offset + 1])
            let page = ModePage(code: ModePage.Code(rawValue: list[offset] & 0x3F),
                                parameters: Array(list[(offset + 2)..<(offset + 2 + length)]))
            pages.append(ReceivedPage(page: page, offset: offset))
            offset += 2 + length
        }
        return Received(blockDescriptors: descriptors, pages: pages)
    }
}
