import ISCSIProtocol
import ISCSISession
import Logging
import NIOCore
import NIOPosix

/// The initiator role over one TCP connection (one connection per session, ERL 0):
/// login through `InitiatorLoginStateMachine`, then SCSI commands with immediate data,
/// R2T/Data-Out and Data-In, target NOP-In pings answered, SendTargets, Logout.
///
/// Every call is async; a lost connection fails every outstanding command with
/// `InitiatorError.connectionLost`, so callers (the DSM) can retry on another path.
public final class InitiatorConnection: Sendable {
    /// The result of one SCSI command.
    public struct CommandResult: Sendable {
        public var status: UInt8
        public var sense: [UInt8]
        public var dataIn: ByteBuffer
        public var residual: Residual

        public init(status: UInt8, sense: [UInt8], dataIn: ByteBuffer, residual: Residual) {
            self.status = status
            self.sense = sense
            self.dataIn = dataIn
            self.residual = residual
        }
    }

    public let portal: Portal
    public let parameters: OperationalParameters
    public let targetPortalGroupTag: UInt16?
    private let channel: any Channel
    private let handler: NIOLoopBound<InitiatorConnectionHandler>

    private init(portal: Portal, parameters: OperationalParameters, targetPortalGroupTag: UInt16?, channel: any Channel, handler: NIOLoopBound<InitiatorConnectionHandler>) {
        self.portal = portal
        self.parameters = parameters
        self.targetPortalGroupTag = targetPortalGroupTag
        self.channel = channel
        self.handler = handler
    }

    /// Connects and logs in; throws `InitiatorError` with the target's status on failure,
    /// and `loginTimedOut` when a target accepts the connection but does not finish the
    /// login within `loginTimeout` (so a stalled target never hangs a scan or reconnect).
    public static func connect(
        to portal: Portal, login: InitiatorLoginStateMachine.Configuration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        connectTimeout: TimeAmount = .seconds(5), loginTimeout: TimeAmount = .seconds(15), logger: Logger
    ) async throws -> InitiatorConnection {
        let machine = InitiatorLoginStateMachine(configuration: login) { count in (0..<count).map { _ in UInt8.random(in: 0...255) } }
        let loginDone = group.next().makePromise(of: (OperationalParameters, UInt16?).self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(connectTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let framing = ISCSIFramingSettings()
                        try channel.pipeline.syncOperations.addHandlers([
                            ISCSIPDUFrameDecoder(settings: framing),
                            ISCSIPDUEncoder(settings: framing),
                            InitiatorConnectionHandler(portal: portal, machine: machine, framing: framing, loginDone: loginDone, logger: logger),
                        ])
                    }
                }
                .connect(host: portal.host, port: portal.port)
                .get()
        } catch {
            throw InitiatorError.unreachable(portal, "\(error)")
        }
        let loginTimer = channel.eventLoop.scheduleTask(in: loginTimeout) {
            loginDone.fail(InitiatorError.loginTimedOut(portal))
            channel.close(promise: nil)
        }
        defer { loginTimer.cancel() }
        let (parameters, tag) = try await loginDone.futureResult.get()
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: InitiatorConnectionHandler.self), eventLoop: channel.eventLoop)
        }.get()
        return InitiatorConnection(portal: portal, parameters: parameters, targetPortalGroupTag: tag, channel: channel, handler: handler)
    }

    /// Runs one SCSI command. `dataOut` is sent as immediate data and Data-Out as the
    /// target asks; `expectedDataIn` is the allocation for Data-In.
    public func execute(cdb: [UInt8], lun: UInt16, dataOut: ByteBuffer? = nil, expectedDataIn: Int = 0, timeout: TimeAmount = .seconds(30)) async throws -> CommandResult {
        let promise = channel.eventLoop.makePromise(of: CommandResult.self)
        let handler = handler
        channel.eventLoop.execute {
            handler.value.submit(cdb: cdb, lun: lun, dataOut: dataOut, expectedDataIn: expectedDataIn, promise: promise)
        }
        let timeoutTask = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(InitiatorError.timedOut(self.portal))
        }
        defer { timeoutTask.cancel() }
        return try await promise.futureResult.get()
    }

    /// SendTargets=All on this session (RFC 7143 §13.3): target names and addresses.
    public func sendTargets(_ selector: String = "All") async throws -> TextParameters {
        let promise = channel.eventLoop.makePromise(of: TextParameters.self)
        let handler = handler
        channel.eventLoop.execute { handler.value.sendText(["SendTargets": selector], promise: promise) }
        return try await promise.futureResult.get()
    }

    /// Logs out (close session) and closes the connection.
    public func logout() async {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let handler = handler
        channel.eventLoop.execute { handler.value.logout(promise: promise) }
        _ = try? await promise.futureResult.get()
        try? await channel.close()
    }

    /// Closes the connection without logging out.
    public func close() async {
        try? await channel.close()
    }

    /// Completes when the connection is gone.
    public var closed: EventLoopFuture<Void> { channel.closeFuture }
}

/// Why an initiator operation failed.
public enum InitiatorError: Error, Sendable, CustomStringConvertible {
    case unreachable(Portal, String)
    case loginFailed(Portal, InitiatorLoginStateMachine.Failure)
    case connectionLost(Portal)
    case timedOut(Portal)
    case loginTimedOut(Portal)
    case protocolError(Portal, String)

    public var description: String {
        switch self {
        case .unreachable(let portal, let why): "cannot connect to \(portal): \(why)"
        case .loginFailed(let portal, let failure): "login to \(portal) failed: \(Self.describe(failure))"
        case .connectionLost(let portal): "the connection to \(portal) was lost"
        case .timedOut(let portal): "a command to \(portal) timed out"
        case .loginTimedOut(let portal): "login to \(portal) timed out: the target accepted the connection but did not finish the login"
        case .protocolError(let portal, let why): "protocol error from \(portal): \(why)"
        }
    }

    /// A login failure as an administrator should read it: the target's status by its
    /// RFC 7143 §11.13.5 meaning and code, with the usual cause of an authentication failure.
    static func describe(_ failure: InitiatorLoginStateMachine.Failure) -> String {
        switch failure {
        case .status(let status, let address):
            var text = "\(status.reason) (login status \(status.code))"
            if status == .authenticationFailure {
                text += ": the target rejected the CHAP name or secret, or requires CHAP that is not configured here (or CHAP where it uses none)"
            }
            if let address { text += "; the target points to \(address)" }
            return text
        case .targetAuthenticationFailed(let why):
            return "mutual CHAP authentication failed: \(why)"
        case .protocolError(let why):
            return "protocol error during login: \(why)"
        }
    }
}
