import ArgumentParser
import DaemonConfiguration
import ISCSIProtocol
import ISCSISession
import ISCSITransport
import Logging
import NIOCore
import SCSIProtocol
import TargetDaemon

/// `swiftport cdb`: one SCSI command to one LUN through Swiftport's initiator, like
/// sg_raw for a LUN that has no kernel device here. For QA and scripts: persistent
/// reservations across a daemon restart, sense data of an odd CDB, a VPD page in hex.
struct CDBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cdb",
        abstract: "Send one SCSI command (CDB in hex) to a LUN over iSCSI and print status, sense and data.",
        discussion: """
            swiftport cdb --portal 127.0.0.1:3260 --target iqn.2026-11.io.swiftport:quickstart 12 00 00 00 24 00 --data-in 36
            swiftport cdb ... 5F 00 00 00 00 00 00 00 18 00 --data-out 0000000000000000 00000000000000AB 00000000 01 00 0000
            Each login is its own I_T nexus named by the initiator name and --isid: keep both the
            same across invocations when a persistent reservation must find its registration.
            Sense data is printed in hex and decoded (KEY/ASC/ASCQ, INFORMATION, field pointer).
            Exit status: 0 GOOD, 1 any other SCSI status, 2 transport or login failure.
            """
    )

    @Option(help: "The portal ADDR[:PORT].") var portal: String
    @Option(help: "The target name.") var target: String
    @Option(help: "The LUN.") var lun: UInt16 = 0
    @Option(help: "The initiator name to log in with.") var initiatorName = "iqn.2026-11.io.swiftport:cdb"
    @Option(help: "The ISID in hex (12 digits).") var isid = "23d000000001"
    @Option(help: "Bytes of Data-Out, in hex (spaces allowed).") var dataOut: [String] = []
    @Option(help: "Bytes of Data-In to accept.") var dataIn = 0
    @Argument(help: "The CDB bytes in hex, e.g. 12 00 00 00 24 00 or 120000002400.") var cdb: [String]

    static func bytes(_ words: [String], what: String) throws -> [UInt8] {
        let digits = words.joined().filter { !$0.isWhitespace }
        guard digits.count.isMultiple(of: 2), digits.allSatisfy(\.isHexDigit) else {
            throw ValidationError("\(what) must be hex bytes, e.g. 12 00 00 00 24 00, not '\(words.joined(separator: " "))'")
        }
        var result: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            result.append(UInt8(digits[index..<next], radix: 16)!)
            index = next
        }
        return result
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String($0, radix: 16, uppercase: true).leftPadded(to: 2) }.joined(separator: " ")
    }

    func run() async throws {
        let cdbBytes = try Self.bytes(cdb, what: "the CDB")
        guard (6...16).contains(cdbBytes.count) else { throw ValidationError("a CDB has 6 to 16 bytes, not \(cdbBytes.count)") }
        let outBytes = try Self.bytes(dataOut, what: "--data-out")
        guard isid.count == 12, let isidValue = UInt64(isid, radix: 16) else {
            throw ValidationError("--isid takes 12 hex digits, e.g. 23d000000001, not '\(isid)'")
        }
        let address: PortalAddress
        do { address = try PortalAddress(parsing: portal) } catch { throw ValidationError("--portal \(portal): \(error)") }
        let logger = Logger(label: "swiftport.cdb") { _ in SwiftLogNoOpLogHandler() }
        let result: InitiatorConnection.CommandResult
        do {
            let connection = try await InitiatorConnection.connect(
                to: Portal(host: address.host, port: address.port),
                login: .init(initiatorName: initiatorName, targetName: target, isid: ISID(rawValue: isidValue)), logger: logger)
            result = try await connection.execute(
                cdb: cdbBytes + [UInt8](repeating: 0, count: 16 - cdbBytes.count), lun: lun,
                dataOut: outBytes.isEmpty ? nil : ByteBuffer(bytes: outBytes), expectedDataIn: dataIn)
            await connection.logout()
        } catch {
            StandardError.print("swiftport cdb: \(error)")
            throw ExitCode(2)
        }
        print("status: \(Self.hex([result.status]))")
        if !result.sense.isEmpty {
            print("sense: \(Self.hex(result.sense))")
            // KEY/ASC/ASCQ, the condition's name when it is one of ours, INFORMATION and field pointer.
            switch Result(catching: { () throws(SCSIProtocolError) in try ReportedSense(decoding: result.sense) }) {
            case .success(let decoded): print("sense code: \(decoded)")
            case .failure(let error): print("sense code: unreadable (\(error))")
            }
        }
        if result.dataIn.readableBytes > 0 { print("data-in: \(Self.hex(result.dataIn.readableBytesView))") }
        if result.status != 0 { throw ExitCode(1) }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
