import ISCSIProtocol
import NIOCore
import Testing

/// Every PDU type of RFC 7143 §11 with non-default fields, encoded and framed back.
enum PDUSamples {
    static let status = StatusSequence(statSN: SequenceNumber(0x1122_3344), expCmdSN: SequenceNumber(0xFFFF_FFFE), maxCmdSN: SequenceNumber(0x0000_0040))

    static func text(_ pairs: [(String, String)]) -> ByteBuffer {
        ByteBuffer(bytes: TextParameters(pairs).encoded)
    }

    static func scsiCommand(cdbLength: Int, bidirectionalReadLength: UInt32? = nil, immediateData: Int = 0) -> SCSICommandRequest {
        var command = SCSICommandRequest()
        command.immediate = true
        command.isFinal = false
        command.isRead = true
        command.isWrite = immediateData > 0 || bidirectionalReadLength != nil
        command.attribute = .ordered
        command.lun = 0x0001_0000_0000_0000
        command.initiatorTaskTag = InitiatorTaskTag(0xDEAD_BEEF)
        command.expectedDataTransferLength = 65536
        command.cmdSN = SequenceNumber(0xFFFF_FFFF)
        command.expStatSN = SequenceNumber(17)
        command.cdb = (0..<cdbLength).map { UInt8(truncatingIfNeeded: 0x7F &+ $0) }
        command.bidirectionalReadDataLength = bidirectionalReadLength
        command.data = .pattern(immediateData)
        return command
    }

    static var all: [PDUSample] {
        var samples: [PDUSample] = []

        var nopOut = NOPOut()
        nopOut.lun = 0x0002_0000_0000_0000
        nopOut.initiatorTaskTag = InitiatorTaskTag(9)
        nopOut.targetTransferTag = TargetTransferTag(0x1234)
        nopOut.cmdSN = SequenceNumber(100)
        nopOut.expStatSN = SequenceNumber(200)
        nopOut.data = .pattern(5)
        samples.append(PDUSample(name: "NOP-Out, 5 data bytes", pdu: .nopOut(nopOut)))

        samples.append(PDUSample(name: "SCSI Command, 16-byte CDB", pdu: .scsiCommand(scsiCommand(cdbLength: 16))))
        samples.append(PDUSample(name: "SCSI Command, 32-byte CDB (extended CDB AHS)", pdu: .scsiCommand(scsiCommand(cdbLength: 32))))
        samples.append(PDUSample(name: "SCSI Command, 18-byte CDB (padded AHS)", pdu: .scsiCommand(scsiCommand(cdbLength: 18))))
        samples.append(PDUSample(name: "SCSI Command, bidirectional read length AHS", pdu: .scsiCommand(scsiCommand(cdbLength: 16, bidirectionalReadLength: 0x0102_0304))))
        samples.append(PDUSample(name: "SCSI Command, both AHS and 513 immediate bytes", pdu: .scsiCommand(scsiCommand(cdbLength: 32, bidirectionalReadLength: 4096, immediateData: 513))))

        var tmf = TaskManagementRequest()
        tmf.function = TaskManagementFunctionCode.abortTask.rawValue
        tmf.lun = 0x0003_0000_0000_0000
        tmf.initiatorTaskTag = InitiatorTaskTag(77)
        tmf.referencedTaskTag = InitiatorTaskTag(76)
        tmf.cmdSN = SequenceNumber(5)
        tmf.expStatSN = SequenceNumber(6)
        tmf.refCmdSN = SequenceNumber(4)
        tmf.expDataSN = SequenceNumber(3)
        samples.append(PDUSample(name: "Task Management Request", pdu: .taskManagementRequest(tmf)))

        var login = LoginRequest()
        login.transit = true
        login.currentStage = .securityNegotiation
        login.nextStage = .operationalNegotiation
        login.versionMax = 0
        login.versionMin = 0
        login.isid = ISID(rawValue: 0x4000_0137_0001)
        login.tsih = TSIH(0)
        login.initiatorTaskTag = InitiatorTaskTag(1)
        login.connectionID = 3
        login.cmdSN = SequenceNumber(1)
        login.expStatSN = SequenceNumber(0)
        login.data = text([("InitiatorName", "iqn.2024-01.test:i"), ("TargetName", "iqn.2024-01.test:t"), ("AuthMethod", "None")])
        samples.append(PDUSample(name: "Login Request", pdu: .loginRequest(login)))

        var textRequest = TextRequest()
        textRequest.immediate = true
        textRequest.isFinal = false
        textRequest.continue = true
        textRequest.lun = 0
        textRequest.initiatorTaskTag = InitiatorTaskTag(0x55)
        textRequest.targetTransferTag = TargetTransferTag(0x66)
        textRequest.cmdSN = SequenceNumber(7)
        textRequest.expStatSN = SequenceNumber(8)
        textRequest.data = text([("SendTargets", "All"), ("MaxRecvDataSegmentLength", "65536"), ("X-com.example.odd", "v")])
        samples.append(PDUSample(name: "Text Request, three keys", pdu: .textRequest(textRequest)))

        var dataOut = DataOut()
        dataOut.isFinal = true
        dataOut.lun = 0x0001_0000_0000_0000
        dataOut.initiatorTaskTag = InitiatorTaskTag(11)
        dataOut.targetTransferTag = TargetTransferTag(12)
        dataOut.expStatSN = SequenceNumber(13)
        dataOut.dataSN = SequenceNumber(14)
        dataOut.bufferOffset = 8192
        dataOut.data = .pattern(1023)
        samples.append(PDUSample(name: "Data-Out, 1023 bytes", pdu: .dataOut(dataOut)))

        var logout = LogoutRequest()
        logout.immediate = true
        logout.reasonCode = LogoutReason.closeConnection.rawValue
        logout.initiatorTaskTag = InitiatorTaskTag(21)
        logout.connectionID = 2
        logout.cmdSN = SequenceNumber(22)
        logout.expStatSN = SequenceNumber(23)
        samples.append(PDUSample(name: "Logout Request", pdu: .logoutRequest(logout)))

        var snack = SNACKRequest()
        snack.type = 1
        snack.lun = 0x0004_0000_0000_0000
        snack.initiatorTaskTag = InitiatorTaskTag(31)
        snack.targetTransferTag = TargetTransferTag(32)
        snack.expStatSN = SequenceNumber(33)
        snack.beginRun = 34
        snack.runLength = 35
        samples.append(PDUSample(name: "SNACK Request", pdu: .snackRequest(snack)))

        var nopIn = NOPIn()
        nopIn.lun = 0x0005_0000_0000_0000
        nopIn.initiatorTaskTag = InitiatorTaskTag(41)
        nopIn.targetTransferTag = TargetTransferTag(42)
        nopIn.sequence = status
        nopIn.data = .pattern(3)
        samples.append(PDUSample(name: "NOP-In, 3 data bytes", pdu: .nopIn(nopIn)))

        var response = SCSIResponse()
        response.response = 0
        response.status = 0x02
        response.residual = .underflow(512)
        response.bidirectionalReadResidual = .overflow(7)
        response.initiatorTaskTag = InitiatorTaskTag(51)
        response.sequence = status
        response.expDataSN = SequenceNumber(52)
        response.sense = [0x70, 0, 0x06, 0, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0x29, 0x00, 0, 0, 0, 0]
        samples.append(PDUSample(name: "SCSI Response, sense and residuals", pdu: .scsiResponse(response)))

        var response2 = SCSIResponse()
        response2.residual = .overflow(1)
        response2.bidirectionalReadResidual = .underflow(2)
        response2.initiatorTaskTag = InitiatorTaskTag(53)
        response2.sequence = status
        samples.append(PDUSample(name: "SCSI Response, good, overflow", pdu: .scsiResponse(response2)))

        var tmfResponse = TaskManagementResponse()
        tmfResponse.response = .taskDoesNotExist
        tmfResponse.initiatorTaskTag = InitiatorTaskTag(61)
        tmfResponse.sequence = status
        samples.append(PDUSample(name: "Task Management Response", pdu: .taskManagementResponse(tmfResponse)))

        var loginResponse = LoginResponse()
        loginResponse.transit = true
        loginResponse.currentStage = .operationalNegotiation
        loginResponse.nextStage = .fullFeaturePhase
        loginResponse.isid = ISID(rawValue: 0x8000_0000_0001)
        loginResponse.tsih = TSIH(0x0102)
        loginResponse.initiatorTaskTag = InitiatorTaskTag(71)
        loginResponse.sequence = status
        loginResponse.status = .authenticationFailure
        loginResponse.data = text([("TargetPortalGroupTag", "1"), ("MaxRecvDataSegmentLength", "262144")])
        samples.append(PDUSample(name: "Login Response", pdu: .loginResponse(loginResponse)))

        var textResponse = TextResponse()
        textResponse.isFinal = false
        textResponse.continue = true
        textResponse.lun = 0
        textResponse.initiatorTaskTag = InitiatorTaskTag(81)
        textResponse.targetTransferTag = TargetTransferTag(82)
        textResponse.sequence = status
        textResponse.data = text([("TargetName", "iqn.2024-01.test:t"), ("TargetAddress", "192.0.2.1:3260,1"), ("TargetAddress", "[2001:db8::1]:3260,2")])
        samples.append(PDUSample(name: "Text Response, repeated keys", pdu: .textResponse(textResponse)))

        var dataIn = DataIn()
        dataIn.isFinal = true
        dataIn.acknowledge = false
        dataIn.status = 0
        dataIn.residual = .underflow(1000)
        dataIn.lun = 0x0001_0000_0000_0000
        dataIn.initiatorTaskTag = InitiatorTaskTag(91)
        dataIn.targetTransferTag = .reserved
        dataIn.sequence = status
        dataIn.dataSN = SequenceNumber(92)
        dataIn.bufferOffset = 4096
        dataIn.data = .pattern(4093)
        samples.append(PDUSample(name: "Data-In with status (phase collapse)", pdu: .dataIn(dataIn)))

        var dataInNoStatus = DataIn()
        dataInNoStatus.isFinal = false
        dataInNoStatus.acknowledge = true
        dataInNoStatus.initiatorTaskTag = InitiatorTaskTag(93)
        dataInNoStatus.targetTransferTag = TargetTransferTag(94)
        dataInNoStatus.sequence = StatusSequence(statSN: SequenceNumber(0), expCmdSN: SequenceNumber(10), maxCmdSN: SequenceNumber(20))
        dataInNoStatus.dataSN = SequenceNumber(1)
        dataInNoStatus.data = .pattern(2)
        samples.append(PDUSample(name: "Data-In without status", pdu: .dataIn(dataInNoStatus)))

        var logoutResponse = LogoutResponse()
        logoutResponse.response = .cidNotFound
        logoutResponse.initiatorTaskTag = InitiatorTaskTag(101)
        logoutResponse.sequence = status
        logoutResponse.time2Wait = 2
        logoutResponse.time2Retain = 20
        samples.append(PDUSample(name: "Logout Response", pdu: .logoutResponse(logoutResponse)))

        var r2t = ReadyToTransfer()
        r2t.lun = 0x0001_0000_0000_0000
        r2t.initiatorTaskTag = InitiatorTaskTag(111)
        r2t.targetTransferTag = TargetTransferTag(112)
        r2t.sequence = status
        r2t.r2tSN = SequenceNumber(113)
        r2t.bufferOffset = 65536
        r2t.desiredDataTransferLength = 262_144
        samples.append(PDUSample(name: "R2T", pdu: .readyToTransfer(r2t)))

        var async = AsyncMessage()
        async.asyncEvent = 1
        async.asyncVCode = 2
        async.lun = 0x0001_0000_0000_0000
        async.sequence = status
        async.parameter1 = 3
        async.parameter2 = 4
        async.parameter3 = 5
        async.data = .pattern(6)
        samples.append(PDUSample(name: "Asynchronous Message", pdu: .asyncMessage(async)))

        var reject = Reject(reason: .invalidPDUField, rejectedHeader: BasicHeaderSegment(opcode: .scsiCommand))
        reject.sequence = status
        reject.dataSNOrR2TSN = SequenceNumber(121)
        samples.append(PDUSample(name: "Reject", pdu: .reject(reject)))
        return samples
    }
}

@Suite("PDU round trip (RFC 7143 §11)")
struct PDURoundTripTests {
    @Test("encode then frame gives the same PDU", arguments: PDUSamples.all, DigestMode.allCases)
    func roundTrip(sample: PDUSample, digests: DigestMode) throws {
        let settings = PDUCodec.settings(headerDigest: digests.headerDigest, dataDigest: digests.dataDigest)
        var wire = PDUCodec.encode(sample.pdu, settings: settings)
        let length = wire.readableBytes
        #expect(length % 4 == 0, "PDUs are padded to whole words (RFC 7143 §11.2)")

        let header = BasicHeaderSegment(bytes: wire.getBytes(at: 0, length: BasicHeaderSegment.length)!)
        let dataLength = sample.pdu.message.dataSegment?.readableBytes ?? 0
        #expect(header.dataSegmentLength == dataLength)
        let ahsLength = header.totalAHSLength * 4
        let expectedLength = 48 + ahsLength + (digests.headerDigest ? 4 : 0) + (dataLength + 3) / 4 * 4
            + (digests.dataDigest && dataLength > 0 ? 4 : 0)
        #expect(length == expectedLength)

        let decoded = try PDUCodec.decodePDU(&wire, settings: settings)
        #expect(wire.readableBytes == 0)
        #expect(PDUCodec.same(decoded, sample.pdu), "\(sample.name) changed in the round trip")
        #expect(PDUCodec.bytes(decoded) == PDUCodec.bytes(sample.pdu))
    }

    @Test("a partial PDU is not consumed", arguments: PDUSamples.all)
    func partial(sample: PDUSample) throws {
        let settings = PDUCodec.settings(headerDigest: true, dataDigest: true)
        let wire = PDUCodec.encode(sample.pdu, settings: settings)
        for cut in [0, 47, 48, wire.readableBytes - 1] where cut >= 0 {
            var prefix = wire.getSlice(at: 0, length: cut)!
            #expect(try ISCSIPDUFramer.decodeFrame(from: &prefix, settings: settings) == nil)
            #expect(prefix.readableBytes == cut)
        }
    }

    @Test("extended CDB AHS wire layout (RFC 7143 §11.2.2.3)")
    func extendedCDBLayout() throws {
        let command = PDUSamples.scsiCommand(cdbLength: 32, bidirectionalReadLength: 0x0102_0304)
        let bytes = PDUCodec.bytes(.scsiCommand(command))
        // 20 bytes of extended CDB AHS + 8 bytes of bidirectional read length AHS.
        #expect(bytes[4] == 7)
        #expect(Array(bytes[48..<52]) == [0x00, 0x11, 0x01, 0x00])  // AHSLength = 32 - 15
        #expect(Array(bytes[52..<68]) == Array(command.cdb[16...]))
        #expect(Array(bytes[68..<76]) == [0x00, 0x05, 0x02, 0x00, 0x01, 0x02, 0x03, 0x04])
        #expect(Array(bytes[32..<48]) == Array(command.cdb[..<16]))
    }

    @Test("an 18-byte CDB pads its AHS to a whole word")
    func extendedCDBPadding() throws {
        let bytes = PDUCodec.bytes(.scsiCommand(PDUSamples.scsiCommand(cdbLength: 18)))
        #expect(bytes[4] == 2)
        #expect(Array(bytes[48..<52]) == [0x00, 0x03, 0x01, 0x00])
        #expect(Array(bytes[54..<56]) == [0, 0])
    }

    @Test("data segment padding is zeros and the data digest covers it (RFC 7143 §11.2, §13.1)", arguments: [1, 2, 3, 4, 5, 511])
    func padding(length: Int) throws {
        var nop = NOPOut()
        nop.data = .pattern(length, seed: 0xFF)
        let settings = PDUCodec.settings(headerDigest: true, dataDigest: true)
        let wire = PDUCodec.encode(.nopOut(nop), settings: settings)
        let padded = (length + 3) / 4 * 4
        let dataStart = 48 + 4
        let data = wire.getSlice(at: dataStart, length: padded)!
        #expect(Array(data.readableBytesView.suffix(padded - length)) == [UInt8](repeating: 0, count: padded - length))
        #expect(wire.getInteger(at: dataStart + padded, endianness: .little, as: UInt32.self) == CRC32C.checksum(data))
        #expect(wire.getInteger(at: 48, endianness: .little, as: UInt32.self) == CRC32C.checksum(wire.getSlice(at: 0, length: 48)!))
    }

    @Test("no data digest without a data segment")
    func noDataDigestWithoutData() {
        let settings = PDUCodec.settings(headerDigest: false, dataDigest: true)
        #expect(PDUCodec.encode(.logoutRequest(LogoutRequest()), settings: settings).readableBytes == 48)
    }
}
