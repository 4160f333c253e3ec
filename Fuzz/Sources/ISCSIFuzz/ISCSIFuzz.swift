// libFuzzer entry point for the iSCSI wire decoders: the PDU framer, every PDU decoder
// and encoder, TextParameters, CHAP binary values, and both login state machines (the
// target's, fed the Login Requests of the stream; the initiator's, fed its Login
// Responses, as the gateway's RemoteLUN side would be by a remote target).
// Built and run by scripts/fuzz.sh; libFuzzer supplies main().
//
// Input layout: byte 0 is a control byte, the rest is the byte stream of one
// connection (initiator PDUs for the target side, target PDUs for the initiator side;
// every opcode is framed and round-tripped whichever way it travels).
//
//   bit 0     HeaderDigest=CRC32C from the first PDU on
//   bit 1     DataDigest=CRC32C from the first PDU on
//   bits 2-3  MaxRecvDataSegmentLength: 8192, 1024, 65536 or 2^24-1
//   bits 4-5  which configuration the login state machines run with
//   bit 6     reserved (ignored)
//   bit 7     repair digests: before each PDU is framed, overwrite its header and
//             data digest with the right CRC32C, so mutations get past the digest
//             checks and reach the decoders (with the bit clear, digests are taken
//             as sent and exercise the mismatch paths)
//
// Every finding is a trap (fatalError) with a message naming the broken invariant
// ("ISCSIFuzz invariant [name] violated: ..."), so libFuzzer reports it as a crash.
// Anything a peer may send — garbage, truncated PDUs, bad digests, malformed text —
// must be handled without one. Environment:
//   ISCSIFUZZ_KNOWN_BUGS=name,name  skip those invariants, to fuzz on past a reported
//                                   bug whose fix has not landed
//   ISCSIFUZZ_TRACE=1               print every frame and login action (read a reproducer)
import CCRC32C
#if canImport(Glibc)
import Glibc
#endif
import ISCSIProtocol
import ISCSISession
import NIOCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let control = input.first else { return 0 }
    var harness = Harness(control: control)
    harness.run(stream: ByteBuffer(bytes: input.dropFirst()))
    return 0
}

// MARK: - Invariants

/// Invariants to stop checking, comma-separated, from ISCSIFUZZ_KNOWN_BUGS: lets a
/// fuzzing run go on past a reported, not yet fixed bug. Empty by default.
let knownBugs: Set<Substring> = Set((getenv("ISCSIFUZZ_KNOWN_BUGS").map { String(cString: $0) } ?? "").split(separator: ","))

/// ISCSIFUZZ_TRACE=1 prints every frame and login action to stderr (to read a reproducer).
let tracing = getenv("ISCSIFUZZ_TRACE") != nil

func trace(_ message: @autoclosure () -> String) {
    guard tracing else { return }
    let line = Array((message() + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// Traps with `message` when `condition` is false: a finding, named by `invariant`.
func require(_ invariant: @autoclosure () -> String, _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, line: UInt = #line) {
    if !condition() {
        let name = invariant()
        if !knownBugs.isEmpty, knownBugs.contains(Substring(name)) { return }
        fatalError("ISCSIFuzz invariant [\(name)] violated: \(message())", line: line)
    }
}

// MARK: - Fixed configuration

enum Fixture {
    static let diskName = "iqn.2024-01.org.swiftport.fuzz:disk"
    static let chapName = "iqn.2024-01.org.swiftport.fuzz:chap"
    static let mutualName = "iqn.2024-01.org.swiftport.fuzz:mutual"
    static let aclName = "iqn.2024-01.org.swiftport.fuzz:acl"

    static let oneWay = CHAPCredentials(username: "alice", secret: "alice-secret-12")
    static let mutual = CHAPCredentials(username: "bob", secret: "bob-secret-1234", mutualUsername: "target-bob", mutualSecret: "target-secret-9")

    /// Deterministic "random" bytes 1, 2, 3, …: the CHAP identifier is 1 and the
    /// challenge 1...n, so a seed can carry a correct CHAP_R and get past authentication.
    static let randomBytes: @Sendable (Int) -> [UInt8] = { count in (0..<count).map { UInt8(truncatingIfNeeded: $0 + 1) } }

    static let maxReceiveDataSegmentLengths = [
        ISCSIFramingSettings.loginMaxDataSegmentLength, 1024, 65536, ISCSIFramingSettings.largestDataSegmentLength,
    ]

    static let initiatorISID = ISID(rawValue: 0x4000_0137_0001)

    static let initiatorConfigurations: [InitiatorLoginStateMachine.Configuration] = [
        .init(initiatorName: "iqn.2024-01.org.swiftport.fuzz:initiator", targetName: diskName, isid: initiatorISID),
        .init(initiatorName: "iqn.2024-01.org.swiftport.fuzz:initiator", initiatorAlias: "fuzz", targetName: chapName, isid: initiatorISID,
              connectionID: 1, authentication: .chap(oneWay, algorithms: [.sha256, .md5])),
        .init(initiatorName: "iqn.2024-01.org.swiftport.fuzz:initiator", targetName: nil, isid: initiatorISID),
        .init(initiatorName: "iqn.2024-01.org.swiftport.fuzz:initiator", targetName: mutualName, isid: initiatorISID, tsih: TSIH(1),
              authentication: .chap(mutual, algorithms: [.md5]), policy: digestsRequired),
    ]

    static let digestsRequired: NegotiationPolicy = {
        var digestsRequired = NegotiationPolicy()
        digestsRequired.headerDigests = ["CRC32C"]
        digestsRequired.dataDigests = ["CRC32C"]
        digestsRequired.maxRecvDataSegmentLength = 4096
        digestsRequired.maxBurstLength = 8192
        digestsRequired.firstBurstLength = 4096
        digestsRequired.initialR2T = true
        digestsRequired.immediateData = false
        return digestsRequired
    }()

    static let loginConfigurations: [TargetLoginConfiguration] = {
        [
            // 0: one open target.
            TargetLoginConfiguration(targets: [.init(name: diskName, alias: "disk", portalGroupTag: 7)]),
            // 1: open, one-way CHAP, mutual CHAP and ACL-protected targets.
            TargetLoginConfiguration(
                targets: [
                    .init(name: diskName),
                    .init(name: chapName, credentials: oneWay, portalGroupTag: 2),
                    .init(name: mutualName, credentials: mutual),
                    .init(name: aclName, allowedInitiators: ["iqn.2024-01.org.swiftport.fuzz:someone-else"]),
                ],
                commandWindow: 1
            ),
            // 2: discovery sessions need one-way CHAP.
            TargetLoginConfiguration(targets: [.init(name: diskName, credentials: mutual)], discoveryCredentials: oneWay),
            // 3: a policy that insists on digests and small bursts.
            TargetLoginConfiguration(targets: [.init(name: diskName)], policy: digestsRequired, commandWindow: 0x8000_0000),
        ]
    }()
}

// MARK: - Harness

struct Harness {
    /// The connection's framing settings; changed when a login completes, as the
    /// transport does (TargetConnectionHandler).
    let settings = ISCSIFramingSettings()
    let repairDigests: Bool
    let loginConfiguration: TargetLoginConfiguration
    var login: TargetLoginStateMachine
    let initiatorConfiguration: InitiatorLoginStateMachine.Configuration
    var initiator: InitiatorLoginStateMachine?

    init(control: UInt8) {
        settings.headerDigest = control & 0x01 != 0
        settings.dataDigest = control & 0x02 != 0
        settings.maxReceiveDataSegmentLength = Fixture.maxReceiveDataSegmentLengths[Int(control >> 2) & 0x03]
        loginConfiguration = Fixture.loginConfigurations[Int(control >> 4) & 0x03]
        repairDigests = control & 0x80 != 0
        login = TargetLoginStateMachine(configuration: loginConfiguration, randomBytes: Fixture.randomBytes)
        initiatorConfiguration = Fixture.initiatorConfigurations[Int(control >> 4) & 0x03]
    }

    mutating func run(stream: ByteBuffer) {
        checkCRC32C(stream)
        checkText(Array(stream.readableBytesView))

        var buffer = stream
        while true {
            let start = buffer.readerIndex
            if repairDigests { repairDigests(in: &buffer) }
            let before = buffer  // decodeFrame moves the reader index past what it reads
            let expectedLength = FrameLayout(buffer, settings: settings)
            let frame: ISCSIInboundFrame?
            do {
                frame = try ISCSIPDUFramer.decodeFrame(from: &buffer, settings: settings)
            } catch {
                // Fatal to the connection: only an oversized segment or a bad header digest.
                require("framer-error", 
                    error.code == .dataSegmentTooLong || error.code == .headerDigestMismatch,
                    "the framer threw \(error), which is not a framing error"
                )
                if error.code == .dataSegmentTooLong {
                    require("framer-too-long", (expectedLength?.dataSegmentLength ?? 0) > settings.maxReceiveDataSegmentLength, "dataSegmentTooLong for a segment within the limit")
                }
                return
            }
            guard let frame else {
                require("framer-nil-consumed", buffer.readerIndex == start, "decodeFrame returned nil but consumed bytes")
                if let expectedLength {
                    require("framer-nil-whole", expectedLength.total > buffer.readableBytes, "decodeFrame returned nil with a whole PDU buffered")
                }
                return
            }
            let consumed = buffer.readerIndex - start
            require("framer-length", consumed == expectedLength?.total, "decodeFrame consumed \(consumed) bytes, the header promised \(String(describing: expectedLength?.total))")
            let whole = before.getSlice(at: start, length: consumed)!
            checkTruncations(of: whole)
            handle(frame, wire: whole)
        }
    }

    // MARK: Framing

    /// Every proper prefix of a PDU is "need more data", never a PDU or an error.
    func checkTruncations(of pdu: ByteBuffer) {
        var lengths = [pdu.readableBytes - 1, BasicHeaderSegment.length - 1, BasicHeaderSegment.length, pdu.readableBytes / 2]
        lengths.removeAll { $0 < 0 || $0 >= pdu.readableBytes }
        for length in lengths {
            var prefix = pdu.getSlice(at: pdu.readerIndex, length: length)!
            let frame: ISCSIInboundFrame?
            do {
                frame = try ISCSIPDUFramer.decodeFrame(from: &prefix, settings: settings)
            } catch {
                require("framer-prefix-threw", false, "the first \(length) of \(pdu.readableBytes) bytes of a valid PDU threw \(error)")
                return
            }
            require("framer-prefix-frame", frame == nil, "the first \(length) of \(pdu.readableBytes) bytes of a PDU decoded as a frame")
            require("framer-prefix-consumed", prefix.readerIndex == pdu.readerIndex, "an incomplete PDU consumed bytes")
        }
    }

    /// Overwrites the digests of the PDU at the front of `buffer`, when it is whole.
    func repairDigests(in buffer: inout ByteBuffer) {
        guard let layout = FrameLayout(buffer, settings: settings), layout.dataSegmentLength <= settings.maxReceiveDataSegmentLength,
            buffer.readableBytes >= layout.total
        else { return }
        let start = buffer.readerIndex
        if settings.headerDigest {
            let covered = buffer.getSlice(at: start, length: layout.headerLength)!
            buffer.setInteger(CRC32C.checksum(covered), at: start + layout.headerLength, endianness: .little)
        }
        if layout.dataDigestLength > 0 {
            let dataStart = start + layout.headerLength + layout.headerDigestLength
            let padded = buffer.getSlice(at: dataStart, length: layout.paddedDataLength)!
            buffer.setInteger(CRC32C.checksum(padded), at: dataStart + layout.paddedDataLength, endianness: .little)
        }
    }

    // MARK: Frames

    mutating func handle(_ frame: ISCSIInboundFrame, wire: ByteBuffer) {
        trace("frame (\(wire.readableBytes) bytes): \(frame)")
        switch frame {
        case .pdu(let pdu):
            checkRoundTrip(pdu)
            switch pdu {
            case .loginRequest(let request):
                checkText(Array(request.data.readableBytesView))
                drive(request)
            case .textRequest(let request):
                checkText(Array(request.data.readableBytesView))
            case .loginResponse(let response):
                checkText(Array(response.data.readableBytesView))
                driveInitiator(response)
            case .textResponse(let response):
                checkText(Array(response.data.readableBytesView))
            default:
                break
            }
        case .reject(let reason, let header, let error):
            require("reject-header", header.bytes == wire.getBytes(at: wire.readerIndex, length: BasicHeaderSegment.length), "a rejected frame does not carry its own header")
            switch reason {
            case .dataDigestError:
                require("reject-reason", settings.dataDigest, "a data digest error with DataDigest=None")
            case .commandNotSupported:
                require("reject-reason", error.code == .unknownOpcode && header.opcode == nil, "commandNotSupported for a known opcode: \(error)")
            case .invalidPDUField:
                require("reject-reason", error.code != .unknownOpcode, "invalidPDUField for an unknown opcode")
            default:
                require("reject-reason", false, "the framer rejected with reason \(reason)")
            }
            // What the connection answers with (RFC 7143 §11.17) must survive the wire too.
            checkRoundTrip(.reject(Reject(reason: reason, rejectedHeader: header)))
        }
    }

    /// decode → encode → decode: the second decode gives back the first PDU (less the
    /// fields RFC 7143 reserves, see `canonical`), and encoding it again gives the
    /// same bytes.
    func checkRoundTrip(_ pdu: ISCSIPDU) {
        let roundTripSettings = ISCSIFramingSettings()
        roundTripSettings.headerDigest = settings.headerDigest
        roundTripSettings.dataDigest = settings.dataDigest
        roundTripSettings.maxReceiveDataSegmentLength = ISCSIFramingSettings.largestDataSegmentLength

        let encoded = wireBytes(pdu, settings: roundTripSettings)
        var buffer = encoded
        let frame: ISCSIInboundFrame?
        do {
            frame = try ISCSIPDUFramer.decodeFrame(from: &buffer, settings: roundTripSettings)
        } catch {
            require("round-trip-\(name(pdu))", false, "a re-encoded \(name(pdu)) does not frame: \(error)")
            return
        }
        guard case .pdu(let decoded)? = frame else {
            require("round-trip-\(name(pdu))", false, "a re-encoded \(name(pdu)) framed as \(String(describing: frame))")
            return
        }
        require("round-trip-\(name(pdu))", buffer.readableBytes == 0, "a re-encoded \(name(pdu)) left \(buffer.readableBytes) bytes behind")
        require("round-trip-\(name(pdu))", 
            same(canonical(pdu), canonical(decoded)),
            "\(name(pdu)) round trip changed it:\n  decoded:    \(pdu.message)\n  re-decoded: \(decoded.message)"
        )
        let reencoded = wireBytes(decoded, settings: roundTripSettings)
        require("round-trip-\(name(pdu))", reencoded == encoded, "\(name(pdu)) encodes differently after a round trip")
    }

    // MARK: Login

    mutating func drive(_ request: LoginRequest) {
        if login.isFinished {
            // The connection would have closed or entered Full Feature Phase; carry on
            // as a new connection so later requests in the input still reach a machine.
            login = TargetLoginStateMachine(configuration: loginConfiguration, randomBytes: Fixture.randomBytes)
        }
        let response: LoginResponse
        let action = login.receive(request)
        trace("login action: \(action)")
        switch action {
        case .sendResponse(let sent):
            response = sent
            require("login-action", sent.status == .success, "sendResponse with status \(sent.status)")
            require("login-action", !login.isFinished, "sendResponse but the login is over")
        case .failAndClose(let sent, _):
            response = sent
            require("login-action", sent.status != .success, "failAndClose with status success")
            require("login-action", !sent.transit, "failAndClose with the T bit")
            require("login-action", login.isFinished, "failAndClose but the login goes on")
        case .complete(let sent, let result):
            response = sent
            require("login-action", sent.status == .success && sent.transit && sent.nextStage == .fullFeaturePhase, "complete without a successful transition to FFP")
            require("login-action", login.isFinished, "complete but the login goes on")
            require("login-action", result.isid == request.isid && result.connectionID == request.connectionID, "LoginResult names another connection")
            let parameters = result.parameters
            require("login-burst", parameters.firstBurstLength <= parameters.maxBurstLength, "FirstBurstLength > MaxBurstLength")
            // Full Feature Phase framing, as TargetConnectionHandler switches to it.
            settings.headerDigest = parameters.headerDigest
            settings.dataDigest = parameters.dataDigest
            settings.maxReceiveDataSegmentLength = max(parameters.localMaxRecvDataSegmentLength, ISCSIFramingSettings.loginMaxDataSegmentLength)
        }
        require("login-response-fields", response.initiatorTaskTag == request.initiatorTaskTag, "the Login Response answers another ITT")
        require("login-response-fields", response.isid == request.isid && response.tsih == request.tsih, "the Login Response names another ISID/TSIH")
        require("login-response-fields", !(response.transit && response.continue), "a Login Response with both T and C")
        if response.transit {
            require("login-response-transit", response.nextStage > response.currentStage, "a transit from \(response.currentStage) to \(response.nextStage)")
        }
        // What we send must be well-formed text (RFC 7143 §6.1) that reads back the same.
        let text = Array(response.data.readableBytesView)
        do {
            let parsed = try TextParameters(decoding: text)
            require("login-response-text", parsed.encoded == text, "the Login Response text does not read back byte for byte")
            require("login-response-duplicate-key", parsed.duplicateKeys.isEmpty, "the Login Response repeats keys \(parsed.duplicateKeys)")
        } catch {
            require("login-response-text", false, "the Login Response text is malformed: \(error)")
        }
        checkRoundTrip(.loginResponse(response))
    }

    /// The initiator side: a Login Response from the stream answers the request the
    /// machine last sent (a new login starts whenever the last one ended).
    mutating func driveInitiator(_ response: LoginResponse) {
        if initiator?.isFinished ?? true {
            var machine = InitiatorLoginStateMachine(configuration: initiatorConfiguration, randomBytes: Fixture.randomBytes)
            check(machine.start(), answering: nil)
            initiator = machine
        }
        let action = initiator!.receive(response)
        trace("initiator action: \(action)")
        check(action, answering: response)
    }

    func check(_ action: InitiatorLoginStateMachine.Action, answering response: LoginResponse?) {
        let configuration = initiatorConfiguration
        switch action {
        case .sendRequest(let request):
            require("initiator-request-fields", request.isid == configuration.isid && request.tsih == configuration.tsih
                && request.connectionID == configuration.connectionID && request.initiatorTaskTag == configuration.initiatorTaskTag
                && request.versionMin == 0, "a Login Request with fields of another login: \(request)")
            require("initiator-request-fields", !(request.transit && request.continue), "a Login Request with both T and C")
            if request.transit, let current = request.currentStage, let next = request.nextStage {
                require("initiator-request-transit", next > current, "a Login Request transiting from \(current) to \(next)")
            }
            require("initiator-request-transit", request.currentStage != nil && (!request.transit || request.nextStage != nil), "a Login Request with a reserved stage")
            let text = Array(request.data.readableBytesView)
            do {
                let parsed = try TextParameters(decoding: text)
                require("initiator-request-text", parsed.encoded == text, "the Login Request text does not read back byte for byte")
                require("initiator-request-duplicate-key", parsed.duplicateKeys.isEmpty, "the Login Request repeats keys \(parsed.duplicateKeys): \(parsed)")
            } catch {
                require("initiator-request-text", false, "the Login Request text is malformed: \(error)")
            }
            checkRoundTrip(.loginRequest(request))
        case .complete(let parameters, let tsih):
            require("initiator-complete", tsih != .new, "a login completed with TSIH 0")
            require("initiator-complete", parameters.firstBurstLength <= parameters.maxBurstLength, "FirstBurstLength > MaxBurstLength")
            require("initiator-complete", response?.transit == true && response?.nextStage == .fullFeaturePhase, "complete without a final response")
        case .failed:
            break
        }
    }

    // MARK: Text and CHAP values

    /// Anything TextParameters accepts reads back the same from its own encoding, and
    /// every CHAP binary value decodes back from its re-encoding.
    func checkText(_ bytes: [UInt8]) {
        guard let text = try? TextParameters(decoding: bytes) else { return }
        do {
            let again = try TextParameters(decoding: text.encoded)
            require("text-round-trip", again == text, "TextParameters changed on a round trip")
            require("text-round-trip", again.encoded == text.encoded, "TextParameters encodes differently after a round trip")
        } catch {
            require("text-round-trip", false, "TextParameters cannot read its own encoding: \(error)")
        }
        _ = text.duplicateKeys
        _ = text.description
        for pair in text.pairs {
            guard let binary = CHAPBinary.decode(pair.value) else { continue }
            require("chap-binary", !binary.isEmpty, "CHAPBinary decoded \(pair.value) to nothing")
            require("chap-binary", CHAPBinary.decode(CHAPBinary.encode(binary)) == binary, "CHAPBinary hex round trip failed for \(pair.value)")
        }
    }

    /// The SSE4.2 CRC32C agrees with the portable one, at every alignment.
    func checkCRC32C(_ stream: ByteBuffer) {
        stream.withUnsafeReadableBytes { bytes in
            let offset = min(bytes.count, Int(bytes.first ?? 0) & 7)
            let part = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            let dispatched = swiftport_crc32c_update(SWIFTPORT_CRC32C_INITIAL, part.baseAddress, part.count)
            let portable = swiftport_crc32c_update_portable(SWIFTPORT_CRC32C_INITIAL, part.baseAddress, part.count)
            require("crc32c", dispatched == portable, "CRC32C hardware and portable paths disagree over \(part.count) bytes at offset \(offset)")
        }
    }
}

// MARK: - Helpers

/// Where the parts of the PDU at the front of a buffer lie, from its BHS alone (an
/// independent restatement of RFC 7143 §11.2 to check the framer against).
struct FrameLayout {
    var headerLength: Int
    var headerDigestLength: Int
    var dataSegmentLength: Int
    var paddedDataLength: Int
    var dataDigestLength: Int
    var total: Int { headerLength + headerDigestLength + paddedDataLength + dataDigestLength }

    init?(_ buffer: ByteBuffer, settings: ISCSIFramingSettings) {
        guard let bhs = buffer.getBytes(at: buffer.readerIndex, length: 48) else { return nil }
        headerLength = 48 + Int(bhs[4]) * 4
        headerDigestLength = settings.headerDigest ? 4 : 0
        dataSegmentLength = Int(bhs[5]) << 16 | Int(bhs[6]) << 8 | Int(bhs[7])
        paddedDataLength = (dataSegmentLength + 3) / 4 * 4
        dataDigestLength = settings.dataDigest && dataSegmentLength > 0 ? 4 : 0
    }
}

/// A PDU's wire bytes in one buffer.
func wireBytes(_ pdu: ISCSIPDU, settings: ISCSIFramingSettings) -> ByteBuffer {
    let frame = ISCSIPDUEncoder.encode(pdu.message, settings: settings)
    var bytes = frame.header
    if var data = frame.data { bytes.writeBuffer(&data) }
    if var trailer = frame.trailer { bytes.writeBuffer(&trailer) }
    return bytes
}

/// Same message type with equal fields (every message type is Hashable).
func same(_ lhs: ISCSIPDU, _ rhs: ISCSIPDU) -> Bool {
    guard let left = lhs.message as? any Hashable, let right = rhs.message as? any Hashable else { return false }
    return AnyHashable(left) == AnyHashable(right)
}

func name(_ pdu: ISCSIPDU) -> String {
    String(describing: type(of: pdu.message))
}

/// The PDU with the fields RFC 7143 reserves reset to what the decoder reads for a zero
/// field (the encoder may write them as zero or as they were, either is right):
/// - Login Request/Response: NSG is reserved unless T is set (§11.12.3, §11.13.3).
/// - Data-In: StatSN, the O/U bits and the residual count mean something only with the
///   S bit (§11.7.3-§11.7.5); without it they are reserved.
/// Every other field must survive the round trip as decoded.
func canonical(_ pdu: ISCSIPDU) -> ISCSIPDU {
    switch pdu {
    case .loginRequest(var request):
        if !request.transit { request.nextStage = .securityNegotiation }
        return .loginRequest(request)
    case .loginResponse(var response):
        if !response.transit { response.nextStage = .securityNegotiation }
        return .loginResponse(response)
    case .dataIn(var dataIn):
        if dataIn.status == nil {
            dataIn.residual = .none
            dataIn.sequence.statSN = SequenceNumber(0)
        }
        return .dataIn(dataIn)
    default:
        return pdu
    }
}

