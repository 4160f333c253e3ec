import SCSIProtocol
import Testing

/// The initiator-side decoders read back, field by field, what the device server's
/// encoders write (STYLE.md §7 layer 1), and refuse short or malformed input with
/// ``SCSIProtocolError`` instead of trapping.
@Suite("Initiator-side codec round trips")
struct InitiatorCodecTests {
    static let peripheral = PeripheralDevice.directAccessBlockDevice

    /// The ``SCSIProtocolError`` code `body` throws; nil when it returns or throws
    /// anything else.
    static func errorCode<T>(_ body: () throws -> T) -> SCSIProtocolError.Code? {
        do {
            _ = try body()
            return nil
        } catch {
            return (error as? SCSIProtocolError)?.code
        }
    }

    @Test("SPC-4 §6.6.2 standard INQUIRY data: peripheral, TPGS, 3PC and the three ASCII fields")
    func standardInquiry() throws {
        var data = StandardInquiryData(peripheral: Self.peripheral, vendor: "SWIFTPRT", product: "VIRTUAL-DISK", revision: "0001")
        data.targetPortGroupSupport = StandardInquiryData.implicitALUA | StandardInquiryData.explicitALUA
        data.thirdPartyCopy = true
        let decoded = try StandardInquiryData(decoding: data.bytes)
        #expect(decoded.peripheral == Self.peripheral)
        #expect(decoded.vendor == "SWIFTPRT")
        #expect(decoded.product == "VIRTUAL-DISK    ")
        #expect(decoded.revision == "0001")
        #expect(decoded.targetPortGroupSupport == 0b11)
        #expect(decoded.thirdPartyCopy)
        #expect(Self.errorCode { try StandardInquiryData(decoding: Array(data.bytes.prefix(35))) } == .truncated)
    }

    @Test("SPC-4 §7.8.18 Unit Serial Number page")
    func unitSerialNumber() throws {
        let page = VitalProductData.unitSerialNumber("SP0SERIAL", peripheral: Self.peripheral)
        #expect(try VitalProductData.unitSerialNumber(decoding: page) == "SP0SERIAL")
        // Right-aligned serials lose their padding.
        #expect(try VitalProductData.unitSerialNumber(decoding: [0, 0x80, 0, 6, 0x20, 0x20, 0x41, 0x42, 0x43, 0x20]) == "ABC")
        #expect(Self.errorCode { try VitalProductData.unitSerialNumber(decoding: Array(page.prefix(6))) } == .truncated)
        #expect(Self.errorCode { try VitalProductData.unitSerialNumber(decoding: [0, 0x83, 0, 0]) } == .malformed)
        #expect(Self.errorCode { try VitalProductData.unitSerialNumber(decoding: [0, 0x80]) } == .truncated)
    }

    @Test("SPC-4 §7.8.6 Device Identification page: every descriptor with its code set, association, type and PIV")
    func deviceIdentification() throws {
        let naa: [UInt8] = [0x60, 0x01, 0x40, 0x50, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
        let descriptors: [DesignationDescriptor] = [
            .naa(naa), .relativeTargetPort(3), .targetPortGroup(2),
            .scsiNameString("iqn.2024-01.org.swiftport:disk1", association: .targetDevice),
        ]
        let page = VitalProductData.deviceIdentification(descriptors, peripheral: Self.peripheral)
        let decoded = try VitalProductData.deviceIdentification(decoding: page)
        #expect(decoded == descriptors)
        #expect(decoded.compactMap(\.targetPortGroup) == [2])
        #expect(decoded.compactMap(\.scsiName) == ["iqn.2024-01.org.swiftport:disk1"])
        #expect(decoded[0].association == .logicalUnit && decoded[0].type == .naa && !decoded[0].isISCSISpecific)
        #expect(decoded[1].isISCSISpecific)
    }

    @Test("SPC-4 §7.8.6 a designator running past its page is malformed; a page cut short is truncated")
    func deviceIdentificationMalformed() {
        // PAGE LENGTH 8: one descriptor header claiming 16 bytes of designator.
        let overrun: [UInt8] = [0, 0x83, 0, 8, 0x01, 0x03, 0, 16, 1, 2, 3, 4]
        #expect(Self.errorCode { try VitalProductData.deviceIdentification(decoding: overrun) } == .malformed)
        let page = VitalProductData.deviceIdentification([.targetPortGroup(1)], peripheral: Self.peripheral)
        #expect(Self.errorCode { try VitalProductData.deviceIdentification(decoding: Array(page.dropLast())) } == .truncated)
    }

    @Test("SBC-3 §6.5.3 Block Limits page, and the fields an SBC-2 page leaves out read as 0")
    func blockLimits() throws {
        let limits = BlockLimits(
            maximumTransferLength: 0x0001_0000, optimalTransferLengthGranularity: 8, optimalTransferLength: 0x100,
            maximumUnmapLBACount: 0xFFFF_FFFF, maximumUnmapBlockDescriptorCount: 256, maximumWriteSameLength: 0x1_0000_0000,
            maximumCompareAndWriteLength: 1)
        #expect(try VitalProductData.blockLimits(decoding: VitalProductData.blockLimits(limits, peripheral: Self.peripheral)) == limits)
        let sbc2: [UInt8] = [0, 0xB0, 0, 0x0C, 0, 0, 0, 8, 0, 0, 0x10, 0, 0, 0, 0, 0x40]
        let old = try VitalProductData.blockLimits(decoding: sbc2)
        #expect((old.optimalTransferLengthGranularity, old.maximumTransferLength, old.optimalTransferLength) == (8, 0x1000, 0x40))
        #expect((old.maximumUnmapLBACount, old.maximumWriteSameLength) == (0, 0))
    }

    @Test("SBC-3 §5.15.2/§5.16.2 READ CAPACITY(10) and (16) data", arguments: [
        ReadCapacityData(blockCount: 2048, blockLength: 512),
        ReadCapacityData(blockCount: 0x2_0000_0000, blockLength: 4096, logicalBlocksPerPhysicalBlockExponent: 3,
                         provisioningManagementEnabled: true, readsZerosWhenUnmapped: true),
    ])
    func readCapacity(_ capacity: ReadCapacityData) throws {
        #expect(try ReadCapacityData(decodingReadCapacity16: capacity.readCapacity16Bytes) == capacity)
        let ten = try ReadCapacityData(decodingReadCapacity10: capacity.readCapacity10Bytes)
        #expect(ten.blockLength == capacity.blockLength)
        #expect(ten.needsReadCapacity16 == (capacity.blockCount > UInt64(UInt32.max)))
        if !ten.needsReadCapacity16 { #expect(ten.blockCount == capacity.blockCount) }
        #expect(Self.errorCode { try ReadCapacityData(decodingReadCapacity16: Array(capacity.readCapacity16Bytes.prefix(12))) } == .truncated)
        #expect(Self.errorCode { try ReadCapacityData(decodingReadCapacity10: Array(capacity.readCapacity10Bytes.prefix(7))) } == .truncated)
    }

    @Test("SPC-4 §6.33.2 REPORT LUNS data: peripheral and flat space LUNs; others left out; a cut list ends early")
    func reportLUNs() throws {
        let luns = [0, 1, 255, 256, 16383].map(LogicalUnitNumber.init(rawValue:))
        let data = LogicalUnitNumber.reportLUNsParameterData(luns)
        #expect(try LogicalUnitNumber.list(decodingReportLUNs: data) == luns)
        #expect(try LogicalUnitNumber.list(decodingReportLUNs: Array(data.prefix(8 + 8 * 2 + 3))) == Array(luns.prefix(2)))
        // REPORT LUNS well-known logical unit (C101h, SPC-4 §8.2): no single-level LUN.
        let wellKnown: [UInt8] = [0, 0, 0, 16, 0, 0, 0, 0, 0xC1, 0x01, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0]
        #expect(try LogicalUnitNumber.list(decodingReportLUNs: wellKnown) == [LogicalUnitNumber(rawValue: 7)])
        #expect(Self.errorCode { try LogicalUnitNumber.list(decodingReportLUNs: [0, 0, 0, 8]) } == .truncated)
    }

    @Test("SPC-4 §6.27.2 REPORT TARGET PORT GROUPS data in both header formats", arguments: [nil, UInt8(10)])
    func reportTargetPortGroups(implicitTransitionTime: UInt8?) throws {
        let groups = [
            TargetPortGroupStatus(groupID: 1, state: .activeOptimized, preferred: true, supportedStates: 0x8F, statusCode: 0,
                                  relativeTargetPortIdentifiers: [1, 3]),
            TargetPortGroupStatus(groupID: 2, state: .standby, supportedStates: 0x8F, statusCode: 1, relativeTargetPortIdentifiers: [2]),
            TargetPortGroupStatus(groupID: 0x1234, state: .offline, supportedStates: 0xDF, statusCode: 2),
        ]
        let data = TargetPortGroupStatus.reportTargetPortGroupsParameterData(groups, implicitTransitionTime: implicitTransitionTime)
        #expect(try TargetPortGroupStatus.list(decodingReportTargetPortGroups: data) == groups)
    }

    @Test("SPC-4 §6.27.2 RTPG: short header, RETURN DATA LENGTH past the data, descriptor overrun, reserved state")
    func reportTargetPortGroupsMalformed() {
        #expect(Self.errorCode { try TargetPortGroupStatus.list(decodingReportTargetPortGroups: [0, 0, 0]) } == .truncated)
        #expect(Self.errorCode { try TargetPortGroupStatus.list(decodingReportTargetPortGroups: [0, 0, 0, 8, 0, 0, 0, 1]) } == .truncated)
        // A descriptor whose TARGET PORT COUNT says 2 with no port after it.
        let overrun: [UInt8] = [0, 0, 0, 8, 0x00, 0x01, 0, 1, 0, 0, 0, 2]
        #expect(Self.errorCode { try TargetPortGroupStatus.list(decodingReportTargetPortGroups: overrun) } == .malformed)
        let reserved: [UInt8] = [0, 0, 0, 8, 0x05, 0x01, 0, 1, 0, 0, 0, 0]
        #expect(Self.errorCode { try TargetPortGroupStatus.list(decodingReportTargetPortGroups: reserved) } == .malformed)
    }

    @Test("SPC-4 §4.5 sense data: every condition in both formats, with INFORMATION and field pointer",
          arguments: SenseCondition.allCases)
    func sense(condition: SenseCondition) throws {
        let field = condition.code.key == .illegalRequest ? FieldPointer(.cdb, byte: 2, bit: 5) : nil
        let sense = SenseData(condition, information: 0x1234, field: field)
        for bytes in [sense.fixedFormat, sense.descriptorFormat] {
            let decoded = try ReportedSense(decoding: bytes)
            #expect(decoded == sense.reported)
            #expect(decoded.condition == condition)
            #expect(decoded.information == 0x1234)
            #expect(decoded.field == field)
        }
    }

    @Test("SPC-4 §4.5 an INFORMATION beyond 32 bits is only in descriptor format; deferred errors are told apart")
    func senseInformationAndDeferred() throws {
        let reported = ReportedSense(code: SenseCondition.writeError.code, information: 0x1_0000_0000, isDeferred: true)
        #expect(try ReportedSense(decoding: reported.descriptorFormat) == reported)
        let fixed = try ReportedSense(decoding: reported.fixedFormat)
        #expect(fixed.information == nil && fixed.isDeferred && fixed.code == reported.code)
    }

    @Test("SPC-4 §4.5 short or unknown sense data is an error",
          arguments: [[], [0x70, 0, 5, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24], [0x72, 5, 0x24, 0], [0x72, 5, 0x24, 0, 0, 0, 0, 4, 0, 10, 0x80, 0],
                      [0x7F, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]] as [[UInt8]])
    func senseMalformed(bytes: [UInt8]) {
        let code = Self.errorCode { try ReportedSense(decoding: bytes) }
        #expect(code == (bytes.first == 0x7F ? .malformed : .truncated))
    }

    @Test("SPC-4 §4.5.6 KEY/ASC/ASCQ text parses back")
    func senseCodeText() {
        let code = SenseCondition.logicalUnitNotAccessibleTargetPortInStandbyState.code
        #expect(code.description == "02/04/0B")
        #expect(SenseCode(parsing: "02/04/0B") == code)
        #expect(SenseCode(parsing: "12/04/0B") == nil)
        #expect(SenseCode(parsing: "02/04") == nil)
    }
}
