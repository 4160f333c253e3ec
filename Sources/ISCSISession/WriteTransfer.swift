import ISCSIProtocol
import NIOCore

/// Data-Out sequencing of one write command (RFC 7143 §11.7, §11.8, §13.10-§13.17): immediate data, then unsolicited Data-Out up to FirstBurstLength when
/// InitialR2T=No, then R2Ts of at most MaxBurstLength, MaxOutstandingR2T at a time.
/// Assumes DataPDUInOrder=Yes and DataSequenceInOrder=Yes, which we always answer.
public struct WriteTransfer: Sendable {
    /// One R2T to send.
    public struct Request: Sendable, Hashable {
        public var targetTransferTag: TargetTransferTag
        public var r2tSN: SequenceNumber
        public var bufferOffset: UInt32
        public var desiredLength: UInt32
    }

    /// Why a Data-Out was refused.
    public enum Violation: Error, Sendable, Hashable {
        /// Data beyond the expected length, at the wrong offset, or out of DataSN order.
        case unexpectedData(String)
    }

    public let expectedLength: UInt32
    private let maxBurstLength: UInt32
    private let maxOutstanding: Int
    /// Bytes received so far (in order, so also the next expected offset).
    public private(set) var received: UInt32
    /// Unsolicited bytes still allowed before the first R2T (FirstBurstLength).
    private var unsolicitedRemaining: UInt32
    /// Offset up to which R2Ts have been issued.
    private var requestedUpTo: UInt32
    /// R2Ts issued and not yet satisfied, by TTT, with the offset where each ends.
    private var outstanding: [(tag: TargetTransferTag, end: UInt32, nextDataSN: UInt32)] = []
    private var nextR2TSN: UInt32 = 0
    private var unsolicitedDataSN: UInt32 = 0

    /// - Parameters:
    ///   - immediateLength: bytes that came as immediate data with the command.
    ///   - unsolicitedExpected: true when unsolicited Data-Out PDUs follow
    ///     (InitialR2T=No and the command's F bit clear).
    public init(expectedLength: UInt32, immediateLength: UInt32, unsolicitedExpected: Bool,
                firstBurstLength: UInt32, maxBurstLength: UInt32, maxOutstandingR2T: Int) {
        self.expectedLength = expectedLength
        self.maxBurstLength = maxBurstLength
        self.maxOutstanding = max(1, maxOutstandingR2T)
        received = immediateLength
        let unsolicitedCap = min(expectedLength, firstBurstLength)
        unsolicitedRemaining = unsolicitedExpected ? (unsolicitedCap > immediateLength ? unsolicitedCap - immediateLength : 0) : 0
        requestedUpTo = immediateLength + unsolicitedRemaining
    }

    /// True once every expected byte has arrived.
    public var isComplete: Bool { received >= expectedLength }

    /// True while unsolicited Data-Out is still expected before any R2T.
    public var awaitingUnsolicited: Bool { unsolicitedRemaining > 0 }

    /// True while an R2T's Data-Out sequence has not ended.
    public var hasOutstandingRequests: Bool { !outstanding.isEmpty }

    /// After the task was aborted (RFC 7143 §11.5.1: the initiator keeps answering the
    /// R2Ts it has, and SHOULD end each sequence early with F): a Data-Out of an
    /// outstanding R2T ends its sequence with its last byte or its F bit. Nothing is
    /// kept, so offsets are not checked; other Data-Out is ignored.
    public mutating func drain(_ dataOut: DataOut) {
        guard let index = outstanding.firstIndex(where: { $0.tag == dataOut.targetTransferTag }) else { return }
        let end = dataOut.bufferOffset.addingReportingOverflow(UInt32(truncatingIfNeeded: dataOut.data.readableBytes))
        if dataOut.isFinal || end.overflow || end.partialValue >= outstanding[index].end { outstanding.remove(at: index) }
    }

    /// R2Ts to send now, using `makeTag` for fresh transfer tags.
    public mutating func nextRequests(makeTag: () -> TargetTransferTag) -> [Request] {
        guard unsolicitedRemaining == 0 else { return [] }
        var requests: [Request] = []
        while outstanding.count < maxOutstanding, requestedUpTo < expectedLength {
            let length = min(maxBurstLength, expectedLength - requestedUpTo)
            let tag = makeTag()
            requests.append(Request(targetTransferTag: tag, r2tSN: SequenceNumber(nextR2TSN), bufferOffset: requestedUpTo, desiredLength: length))
            outstanding.append((tag, requestedUpTo + length, 0))
            nextR2TSN &+= 1
            requestedUpTo += length
        }
        return requests
    }

    /// Accounts for one Data-Out PDU, checking its offset, DataSN and transfer tag.
    public mutating func accept(_ dataOut: DataOut) throws(Violation) {
        let length = UInt32(dataOut.data.readableBytes)
        guard dataOut.bufferOffset == received else {
            throw .unexpectedData("Data-Out at offset \(dataOut.bufferOffset), expected \(received)")
        }
        guard received + length <= expectedLength else {
            throw .unexpectedData("Data-Out runs past the expected data transfer length \(expectedLength)")
        }
        if dataOut.targetTransferTag == .reserved {
            guard length <= unsolicitedRemaining else {
                throw .unexpectedData("unsolicited Data-Out beyond FirstBurstLength")
            }
            guard dataOut.dataSN.rawValue == unsolicitedDataSN else {
                throw .unexpectedData("DataSN \(dataOut.dataSN) where \(unsolicitedDataSN) was expected")
            }
            // Unsolicited data is FirstBurstLength or the whole transfer (RFC 7143 §13.14;
            // Linux LIO refuses the same): a burst ended early by the F bit would leave
            // bytes that no R2T ever asks for.
            guard !dataOut.isFinal || length == unsolicitedRemaining else {
                throw .unexpectedData("unsolicited burst ended \(unsolicitedRemaining - length) bytes short of FirstBurstLength")
            }
            unsolicitedDataSN &+= 1
            unsolicitedRemaining -= length
            if dataOut.isFinal { unsolicitedRemaining = 0 }
        } else {
            guard let index = outstanding.firstIndex(where: { $0.tag == dataOut.targetTransferTag }) else {
                throw .unexpectedData("Data-Out for unknown target transfer tag \(dataOut.targetTransferTag)")
            }
            guard dataOut.dataSN.rawValue == outstanding[index].nextDataSN else {
                throw .unexpectedData("DataSN \(dataOut.dataSN) where \(outstanding[index].nextDataSN) was expected")
            }
            outstanding[index].nextDataSN &+= 1
            if received + length >= outstanding[index].end { outstanding.remove(at: index) }
        }
        received += length
    }
}
