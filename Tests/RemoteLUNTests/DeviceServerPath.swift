import ISCSIProtocol
import ISCSITransport
import NIOCore
import SCSIEngine
import SCSIProtocol

@testable import RemoteLUN

/// A path that hands the prober's CDBs to a device server in process, as one I_T
/// nexus, without sockets: what the iSCSI port layer would do with them, down to
/// truncating Data-In to the allocation and reporting the residual.
struct DeviceServerPath: SCSICommandPath {
    var device: SCSITargetDevice
    var nexus: ITNexus

    func execute(
        cdb: [UInt8], lun: UInt16, dataOut: ByteBuffer?, expectedDataIn: Int, timeout: TimeAmount
    ) async throws -> InitiatorConnection.CommandResult {
        let command = SCSICommand(
            cdb: cdb, lun: LogicalUnitNumber(rawValue: lun).wireValue, dataOut: dataOut,
            expectedDataTransferLength: UInt32(dataOut?.readableBytes ?? expectedDataIn), nexus: nexus)
        let result = await device.execute(command)
        var data = result.dataIn ?? ByteBuffer()
        let sent = min(data.readableBytes, expectedDataIn)
        let residual: Residual = data.readableBytes > expectedDataIn
            ? .overflow(UInt32(data.readableBytes - expectedDataIn))
            : sent < expectedDataIn ? .underflow(UInt32(expectedDataIn - sent)) : .none
        data = data.getSlice(at: data.readerIndex, length: sent) ?? ByteBuffer()
        return InitiatorConnection.CommandResult(
            status: result.status.rawValue, sense: result.sense ?? [], dataIn: data, residual: residual)
    }
}
