import SCSIProtocol

/// CDB and parameter list builders for the reservation and copy commands.
extension CDB {
    static func persistentReserveIn(_ serviceAction: UInt8, allocation: UInt16 = 1024) -> [UInt8] {
        [0x5E, serviceAction, 0, 0, 0, 0, 0] + allocation.bigEndianBytes + [0]
    }

    static func persistentReserveOut(_ serviceAction: UInt8, type: UInt8 = 0, length: UInt32 = 24) -> [UInt8] {
        [0x5F, serviceAction, type, 0, 0] + length.bigEndianBytes + [0]
    }

    /// The basic 24-byte PERSISTENT RESERVE OUT parameter list (SPC-4 §6.16.4).
    static func reservationParameters(
        key: UInt64 = 0, serviceActionKey: UInt64 = 0, aptpl: Bool = false, allTargetPorts: Bool = false
    ) -> [UInt8] {
        key.bigEndianBytes + serviceActionKey.bigEndianBytes + [0, 0, 0, 0]
            + [(allTargetPorts ? 0x04 : 0) | (aptpl ? 0x01 : 0), 0, 0, 0]
    }

    static let reserve6: [UInt8] = [0x16, 0, 0, 0, 0, 0]
    static let release6: [UInt8] = [0x17, 0, 0, 0, 0, 0]

    static func reportSupportedOperationCodes(
        options: UInt8 = 0, rctd: Bool = false, opcode: UInt8 = 0, serviceAction: UInt16 = 0, allocation: UInt32 = 8192
    ) -> [UInt8] {
        [0xA3, 0x0C, (rctd ? 0x80 : 0) | options, opcode] + serviceAction.bigEndianBytes + allocation.bigEndianBytes + [0, 0]
    }

    static func compareAndWrite(lba: UInt64, blocks: UInt8) -> [UInt8] {
        [0x89, 0] + lba.bigEndianBytes + [0, 0, 0, blocks, 0, 0]
    }

    static func orWrite16(lba: UInt64, blocks: UInt32) -> [UInt8] {
        [0x8B, 0] + lba.bigEndianBytes + blocks.bigEndianBytes + [0, 0]
    }

    static func getLBAStatus(lba: UInt64, allocation: UInt32 = 1024) -> [UInt8] {
        [0x9E, 0x12] + lba.bigEndianBytes + allocation.bigEndianBytes + [0, 0]
    }

    static func extendedCopy(length: UInt32) -> [UInt8] {
        [0x83, 0x00, 0, 0, 0, 0, 0, 0, 0, 0] + length.bigEndianBytes + [0, 0]
    }

    static func receiveCopyResults(_ serviceAction: UInt8, listIdentifier: UInt8 = 0, allocation: UInt32 = 1024) -> [UInt8] {
        [0x84, serviceAction, listIdentifier, 0, 0, 0, 0, 0, 0, 0] + allocation.bigEndianBytes + [0, 0]
    }
}
