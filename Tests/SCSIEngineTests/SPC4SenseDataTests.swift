import SCSIProtocol
import Testing

/// Sense data formats (SPC-4 §4.5) and the condition table.
@Suite("SPC-4 §4.5 sense data")
struct SPC4SenseDataTests {
    @Test("§4.5.3 fixed format with INFORMATION and field pointer")
    func fixedFormat() {
        let sense = SenseData(.invalidFieldInCDB, information: 0x1234, field: FieldPointer(.cdb, byte: 2, bit: 5))
        #expect(sense.fixedFormat == [0xF0, 0, 0x05, 0, 0, 0x12, 0x34, 10, 0, 0, 0, 0, 0x24, 0, 0, 0xCD, 0x00, 0x02])
    }

    @Test("§4.5.2 descriptor format with information and sense key specific descriptors")
    func descriptorFormat() {
        let sense = SenseData(.lbaOutOfRange, information: 7, field: FieldPointer(.parameterList, byte: 8))
        #expect(sense.descriptorFormat == [0x72, 0x05, 0x21, 0x00, 0, 0, 0, 20,
                                           0x00, 0x0A, 0x80, 0x00, 0, 0, 0, 0, 0, 0, 0, 7,
                                           0x02, 0x06, 0x00, 0x00, 0x80, 0x00, 0x08, 0x00])
    }

    @Test("Annex D codes", arguments: [
        (SenseCondition.invalidCommandOperationCode, UInt8(0x05), UInt8(0x20), UInt8(0x00)),
        (.lbaOutOfRange, 0x05, 0x21, 0x00),
        (.logicalUnitNotSupported, 0x05, 0x25, 0x00),
        (.busDeviceResetFunctionOccurred, 0x06, 0x29, 0x03),
        (.reportedLUNsDataHasChanged, 0x06, 0x3F, 0x0E),
        (.writeProtected, 0x07, 0x27, 0x00),
        (.unrecoveredReadError, 0x03, 0x11, 0x00),
        (.miscompareDuringVerifyOperation, 0x0E, 0x1D, 0x00),
    ])
    func codes(condition: SenseCondition, key: UInt8, asc: UInt8, ascq: UInt8) {
        let code = condition.code
        #expect((code.key.rawValue, code.asc, code.ascq) == (key, asc, ascq))
    }
}
