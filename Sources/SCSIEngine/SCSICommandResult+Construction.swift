import NIOCore
import SCSIProtocol

/// Building results the way every handler needs them.
extension SCSICommandResult {
    /// GOOD with `data` truncated to `allocationLength` (SPC-4 §4.2.5.6: the device
    /// server ends the transfer at the allocation length, without error).
    static func good(_ data: [UInt8], allocationLength: Int) -> SCSICommandResult {
        SCSICommandResult(status: .good, dataIn: ByteBuffer(bytes: data.prefix(max(0, allocationLength))))
    }

    /// GOOD, no data.
    static let good = SCSICommandResult(status: .good)

    /// CHECK CONDITION with fixed format sense data (D_SENSE = 0 in the control mode page).
    static func checkCondition(_ sense: SenseData) -> SCSICommandResult {
        SCSICommandResult(status: .checkCondition, sense: sense.fixedFormat)
    }
}
