import BlockStorage
import LUNBackends
import Logging
import NIOCore
import SCSIEngine
import SCSIProtocol

/// Builds target devices and commands for the tests.
enum TestFixture {
    static let nexusA = ITNexus(
        initiatorPortName: "iqn.2024-01.test:a,i,0x400001370001", relativeTargetPortIdentifier: 1, targetPortGroup: 1)
    static let nexusB = ITNexus(
        initiatorPortName: "iqn.2024-01.test:b,i,0x400001370002", relativeTargetPortIdentifier: 2, targetPortGroup: 2)
    static let targetName = "iqn.2024-01.org.swiftport:disk1"
    static let logger = Logger(label: "scsi-test") { _ in SwiftLogNoOpLogHandler() }

    static func descriptor(lun: UInt16 = 0, device: any BlockDevice, readOnly: Bool = false) -> LogicalUnitDescriptor {
        LogicalUnitDescriptor(
            lun: lun, device: device, product: "VIRTUAL-DISK", revision: "0001", serial: "SP\(lun)SERIAL",
            naaIdentifier: LogicalUnitDescriptor.naaIdentifier(seed: "\(targetName)/\(lun)"), readOnly: readOnly)
    }

    /// A target with a RAM LUN 0 of 2048 blocks (and optionally more units).
    static func target(_ units: [LogicalUnitDescriptor]? = nil) -> SCSITargetDevice {
        SCSITargetDevice(
            targetName: targetName,
            logicalUnits: units ?? [descriptor(device: RAMBlockDevice(blockCount: 2048))],
            logger: logger)
    }

    /// The wire LUN for single-level peripheral addressing.
    static func wireLUN(_ lun: UInt16) -> UInt64 { LogicalUnitNumber(rawValue: lun).wireValue }

    static func command(
        _ cdb: [UInt8], lun: UInt16 = 0, dataOut: [UInt8]? = nil, nexus: ITNexus = nexusA
    ) -> SCSICommand {
        SCSICommand(
            cdb: cdb + [UInt8](repeating: 0, count: max(0, 16 - cdb.count)), lun: wireLUN(lun),
            dataOut: dataOut.map { ByteBuffer(bytes: $0) }, expectedDataTransferLength: UInt32(dataOut?.count ?? 4096),
            nexus: nexus)
    }

    /// Logs `nexus` in and consumes its power-on unit attention with TEST UNIT READY,
    /// the way libiscsi prepares a logical unit.
    static func ready(_ target: SCSITargetDevice, nexus: ITNexus = nexusA, lun: UInt16 = 0) async {
        target.nexusLogin(nexus)
        while await target.execute(command(CDB.testUnitReady, lun: lun, nexus: nexus)).status != .good {}
    }
}

/// Readable data of a result.
extension SCSICommandResult {
    var data: [UInt8] { dataIn.map { Array($0.readableBytesView) } ?? [] }

    /// (sense key, ASC, ASCQ) of fixed format sense data.
    var senseCode: (UInt8, UInt8, UInt8)? {
        guard let sense, sense.count >= 14 else { return nil }
        return (sense[2] & 0x0F, sense[12], sense[13])
    }

    func hasSense(_ condition: SenseCondition) -> Bool {
        let expected = condition.code
        return status == .checkCondition && senseCode.map {
            $0 == (expected.key.rawValue, expected.asc, expected.ascq)
        } == true
    }
}

/// CDB builders.
enum CDB {
    static let testUnitReady: [UInt8] = [0x00, 0, 0, 0, 0, 0]

    static func inquiry(evpd: Bool = false, page: UInt8 = 0, allocation: UInt16 = 255) -> [UInt8] {
        [0x12, evpd ? 1 : 0, page] + allocation.bigEndianBytes + [0]
    }

    static func requestSense(allocation: UInt8 = 252, descriptor: Bool = false) -> [UInt8] {
        [0x03, descriptor ? 1 : 0, 0, 0, allocation, 0]
    }

    static func reportLUNs(select: UInt8 = 0, allocation: UInt32 = 4096) -> [UInt8] {
        [0xA0, 0, select, 0, 0, 0] + allocation.bigEndianBytes + [0, 0]
    }

    static func read10(lba: UInt32, blocks: UInt16, flags: UInt8 = 0) -> [UInt8] {
        [0x28, flags] + lba.bigEndianBytes + [0] + blocks.bigEndianBytes + [0]
    }

    static func write10(lba: UInt32, blocks: UInt16, fua: Bool = false) -> [UInt8] {
        [0x2A, fua ? 0x08 : 0] + lba.bigEndianBytes + [0] + blocks.bigEndianBytes + [0]
    }

    static func read16(lba: UInt64, blocks: UInt32) -> [UInt8] {
        [0x88, 0] + lba.bigEndianBytes + blocks.bigEndianBytes + [0, 0]
    }

    static func write16(lba: UInt64, blocks: UInt32, fua: Bool = false) -> [UInt8] {
        [0x8A, fua ? 0x08 : 0] + lba.bigEndianBytes + blocks.bigEndianBytes + [0, 0]
    }

    static func read6(lba: UInt32, blocks: UInt8) -> [UInt8] {
        [0x08, UInt8((lba >> 16) & 0x1F), UInt8((lba >> 8) & 0xFF), UInt8(lba & 0xFF), blocks, 0]
    }

    static func modeSense6(page: UInt8, pc: UInt8 = 0, dbd: Bool = false, allocation: UInt8 = 255) -> [UInt8] {
        [0x1A, dbd ? 0x08 : 0, pc << 6 | page, 0, allocation, 0]
    }

    static func modeSense10(page: UInt8, pc: UInt8 = 0, llbaa: Bool = false, allocation: UInt16 = 1024) -> [UInt8] {
        [0x5A, llbaa ? 0x10 : 0, pc << 6 | page, 0, 0, 0, 0] + allocation.bigEndianBytes + [0]
    }

    static func modeSelect6(length: UInt8) -> [UInt8] { [0x15, 0x10, 0, 0, length, 0] }

    static let readCapacity10: [UInt8] = [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]

    static func readCapacity16(allocation: UInt32 = 32) -> [UInt8] {
        [0x9E, 0x10] + [UInt8](repeating: 0, count: 8) + allocation.bigEndianBytes + [0, 0]
    }

    static func synchronizeCache10(lba: UInt32 = 0, blocks: UInt16 = 0) -> [UInt8] {
        [0x35, 0] + lba.bigEndianBytes + [0] + blocks.bigEndianBytes + [0]
    }
}

/// Deterministic block contents for round trips.
func pattern(blocks: Int, blockSize: Int = 512, seed: UInt8 = 1) -> [UInt8] {
    (0..<(blocks * blockSize)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
}
