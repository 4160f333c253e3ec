import ISCSITransport
import NIOCore

/// Where the prober's and the path checker's commands go: an iSCSI session to the
/// upstream target in the daemon, a device server in process in tests (no sockets).
public protocol SCSICommandPath: Sendable {
    /// Runs one command to `lun`; `expectedDataIn` is the Data-In allocation.
    func execute(
        cdb: [UInt8], lun: UInt16, dataOut: ByteBuffer?, expectedDataIn: Int, timeout: TimeAmount
    ) async throws -> InitiatorConnection.CommandResult
}

extension InitiatorConnection: SCSICommandPath {}
