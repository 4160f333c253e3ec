import ISCSITransport
import MultipathDSM
import NIOCore

/// The CDBs discovery sends down a path and the parsers for their answers (SPC-4
/// §6.6 INQUIRY, §7.8.6 VPD 0x83, §7.8.15 VPD 0x80, §6.37 REPORT TARGET PORT GROUPS,
/// §6.33 REPORT LUNS; SBC-3 §5.16 READ CAPACITY (16)).
enum SCSIProbe {
    struct Inquiry {
        var vendor: String
        var product: String
        var revision: String
        /// TPGS field (SPC-4 §6.6.2): non-zero when the LU supports ALUA.
        var targetPortGroupSupport: UInt8
    }

    static func inquiry(_ connection: InitiatorConnection, lun: UInt16) async throws -> Inquiry {
        let data = try await dataIn(connection, lun: lun, cdb: [0x12, 0, 0, 0, 96, 0], length: 96)
        guard data.count >= 36 else { throw ProbeError("standard INQUIRY data is \(data.count) bytes, less than 36") }
        return Inquiry(
            vendor: ascii(data[8..<16]), product: ascii(data[16..<32]), revision: ascii(data[32..<36]),
            targetPortGroupSupport: (data[5] >> 4) & 0x3)
    }

    /// VPD 0x80 PRODUCT SERIAL NUMBER, trimmed; nil when the page is not supported.
    static func serialNumber(_ connection: InitiatorConnection, lun: UInt16) async -> String? {
        guard let data = try? await dataIn(connection, lun: lun, cdb: [0x12, 1, 0x80, 0, 252, 0], length: 252),
            data.count >= 4, data[1] == 0x80
        else { return nil }
        let length = min(Int(data[3]), data.count - 4)
        return ascii(data[4..<(4 + length)]).trimmingSpaces
    }

    /// Every designator of VPD 0x83 (SPC-4 §7.8.6), and the target port group of the
    /// port the command went through (designator type 5, association 1).
    static func deviceIdentification(_ connection: InitiatorConnection, lun: UInt16) async throws -> (designators: [LogicalUnitDesignator], targetPortGroup: UInt16?) {
        let data = try await dataIn(connection, lun: lun, cdb: [0x12, 1, 0x83, 0x04, 0x00, 0], length: 1024)
        guard data.count >= 4, data[1] == 0x83 else { throw ProbeError("VPD page 0x83 missing or malformed") }
        let end = min(data.count, 4 + (Int(data[2]) << 8 | Int(data[3])))
        var offset = 4
        var designators: [LogicalUnitDesignator] = []
        var group: UInt16?
        while offset + 4 <= end {
            let type = data[offset + 1] & 0x0F
            let associationBits = (data[offset + 1] >> 4) & 0x3
            let length = Int(data[offset + 3])
            guard offset + 4 + length <= end else { break }
            let body = Array(data[(offset + 4)..<(offset + 4 + length)])
            offset += 4 + length
            let association = LogicalUnitDesignator.Association(rawValue: associationBits) ?? .logicalUnit
            switch type {
            case 3: designators.append(LogicalUnitDesignator(.naa(body), association: association))
            case 2: designators.append(LogicalUnitDesignator(.eui64(body), association: association))
            case 8:
                let name = String(decoding: body.prefix { $0 != 0 }, as: UTF8.self)
                designators.append(LogicalUnitDesignator(.scsiNameString(name), association: association))
            case 5 where body.count == 4 && association == .targetPort:
                group = UInt16(body[2]) << 8 | UInt16(body[3])
            default:
                designators.append(LogicalUnitDesignator(.other(type: type, body), association: association))
            }
        }
        return (designators, group)
    }

    /// REPORT TARGET PORT GROUPS (SPC-4 §6.37), length-only format.
    static func targetPortGroups(_ connection: InitiatorConnection, lun: UInt16) async throws -> [TargetPortGroupStatus] {
        let data = try await dataIn(connection, lun: lun, cdb: [0xA3, 0x0A, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0], length: 4096)
        guard data.count >= 4 else { return [] }
        let end = min(data.count, 4 + Int(UInt32(data[0]) << 24 | UInt32(data[1]) << 16 | UInt32(data[2]) << 8 | UInt32(data[3])))
        var groups: [TargetPortGroupStatus] = []
        var offset = 4
        while offset + 8 <= end {
            let state = ALUAState(rawValue: data[offset] & 0x0F) ?? .unavailable
            let id = UInt16(data[offset + 2]) << 8 | UInt16(data[offset + 3])
            groups.append(TargetPortGroupStatus(groupID: id, state: state, preferred: data[offset] & 0x80 != 0))
            offset += 8 + 4 * Int(data[offset + 7])
        }
        return groups
    }

    /// REPORT LUNS (SPC-4 §6.33), single-level peripheral and flat addressing.
    static func reportLUNs(_ connection: InitiatorConnection) async throws -> [UInt16] {
        let data = try await dataIn(connection, lun: 0, cdb: [0xA0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0], length: 4096)
        guard data.count >= 8 else { throw ProbeError("REPORT LUNS data shorter than 8 bytes") }
        let end = min(data.count, 8 + Int(UInt32(data[0]) << 24 | UInt32(data[1]) << 16 | UInt32(data[2]) << 8 | UInt32(data[3])))
        return stride(from: 8, to: end - 7, by: 8).map { UInt16(data[$0] & 0x3F) << 8 | UInt16(data[$0 + 1]) }
    }

    /// READ CAPACITY (16): block size and count.
    static func capacity(_ connection: InitiatorConnection, lun: UInt16) async throws -> (blockSize: Int, blockCount: UInt64) {
        let data = try await dataIn(connection, lun: lun, cdb: [0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0], length: 32)
        guard data.count >= 12 else { throw ProbeError("READ CAPACITY (16) data shorter than 12 bytes") }
        let lastLBA = data[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let blockSize = data[8..<12].reduce(0) { $0 << 8 | Int($1) }
        return (blockSize, lastLBA + 1)
    }

    /// TEST UNIT READY: nil when ready, else the sense (key, ASC, ASCQ).
    static func testUnitReady(_ connection: InitiatorConnection, lun: UInt16) async throws -> SenseCode? {
        let result = try await connection.execute(cdb: [0, 0, 0, 0, 0, 0], lun: lun, timeout: .seconds(10))
        return result.status == 0 ? nil : senseCode(result.sense) ?? SenseCode(key: 0xB, asc: 0, ascq: 0)
    }

    /// Runs a command that returns data; a CHECK CONDITION (after retrying unit
    /// attentions, which every fresh nexus gets once) is an error.
    static func dataIn(_ connection: InitiatorConnection, lun: UInt16, cdb: [UInt8], length: Int) async throws -> [UInt8] {
        for _ in 0..<4 {
            let result = try await connection.execute(cdb: cdb, lun: lun, expectedDataIn: length)
            if result.status == 0 { return Array(result.dataIn.readableBytesView) }
            guard let sense = senseCode(result.sense), sense.key == 0x6 else {
                throw ProbeError("command 0x\(String(cdb[0], radix: 16)) failed with status 0x\(String(result.status, radix: 16)), sense \(senseCode(result.sense)?.description ?? "none")")
            }
        }
        throw ProbeError("command 0x\(String(cdb[0], radix: 16)) kept returning UNIT ATTENTION")
    }

    /// Key/ASC/ASCQ from fixed (0x70/0x71) or descriptor (0x72/0x73) sense data.
    static func senseCode(_ sense: [UInt8]) -> SenseCode? {
        guard let format = sense.first.map({ $0 & 0x7F }) else { return nil }
        if (format == 0x70 || format == 0x71), sense.count >= 14 {
            return SenseCode(key: sense[2] & 0x0F, asc: sense[12], ascq: sense[13])
        }
        if (format == 0x72 || format == 0x73), sense.count >= 4 {
            return SenseCode(key: sense[1] & 0x0F, asc: sense[2], ascq: sense[3])
        }
        return nil
    }

    private static func ascii(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.map { (0x20...0x7E).contains($0) ? $0 : 0x20 }, as: UTF8.self)
    }
}

/// A discovery answer we could not use.
struct ProbeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while text.last == " " { text = text.dropLast() }
        while text.first == " " { text = text.dropFirst() }
        return String(text)
    }
}
