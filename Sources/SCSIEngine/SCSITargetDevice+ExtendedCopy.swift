import BlockStorage
import NIOCore
import SCSIProtocol

/// EXTENDED COPY (LID1, SPC-4 §6.3) and RECEIVE COPY RESULTS (SPC-4 §6.18): the copy
/// manager copies blocks between logical units of this target device without the
/// data crossing the network (VMware VAAI "XCOPY").
///
/// Implemented descriptors: the identification CSCD descriptor E4h naming a logical
/// unit by its NAA designator (§6.3.6.2) and the block device to block device segment
/// descriptor 02h (§6.3.7.5). No inline or held data.
extension SCSITargetDevice {
    /// Length of the EXTENDED COPY parameter list header (SPC-4 table 106).
    static let extendedCopyHeaderLength = 16
    /// Length of one CSCD (target) descriptor (SPC-4 §6.3.6.1).
    static let copyTargetDescriptorLength = 32
    /// CSCD descriptor type: identification descriptor.
    static let identificationDescriptorType: UInt8 = 0xE4
    /// Segment descriptor type: block device to block device.
    static let blockToBlockSegmentType: UInt8 = 0x02
    /// DESCRIPTOR LENGTH of a block to block segment descriptor (SPC-4 table 126).
    static let blockToBlockSegmentDescriptorLength = 0x18

    /// What the copy manager supports, advertised through RECEIVE COPY RESULTS and
    /// the Third-party Copy VPD page.
    static let copyManager = CopyManagerParameters(
        maximumTargetDescriptorCount: 2, maximumSegmentDescriptorCount: 16, maximumDescriptorListLength: 1024,
        maximumSegmentLength: 256 << 20, totalConcurrentCopies: 1, dataSegmentGranularityLog2: 9,
        implementedDescriptorTypeCodes: [blockToBlockSegmentType, identificationDescriptorType],
        supportedCommands: [
            .init(operationCode: SCSIOperationCode.extendedCopy.rawValue, serviceActions: [0x00]),
            .init(operationCode: SCSIOperationCode.receiveCopyResults.rawValue, serviceActions: [0x00, 0x03]),
        ])

    /// One parsed block to block segment.
    private struct Segment {
        var source: Int
        var destination: Int
        var blocks: UInt64
        var sourceLBA: UInt64
        var destinationLBA: UInt64
        /// Parameter list offset, for field pointers.
        var offset: Int
    }

    func extendedCopy(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        let length = context.cdb.allocationLength
        guard length > 0 else { return SCSICommandResult(status: .good, dataOutLengthUsed: 0) }
        guard length >= Self.extendedCopyHeaderLength else { throw SenseData(.parameterListLengthError) }
        let list = CommandDescriptorBlock(Array(try dataOut(context, byteCount: length).readableBytesView))
        let listIdentifier = list[0]
        let targetLength = Int(list.field(at: 2, width: 2))
        let segmentLength = Int(list.field(at: 8, width: 4))
        let inlineLength = Int(list.field(at: 12, width: 4))
        let limits = Self.copyManager
        guard inlineLength == 0 else {
            throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: 12))
        }
        guard targetLength + segmentLength <= Int(limits.maximumDescriptorListLength),
              Self.extendedCopyHeaderLength + targetLength + segmentLength <= length,
              targetLength % Self.copyTargetDescriptorLength == 0
        else { throw SenseData(.parameterListLengthError) }
        guard targetLength / Self.copyTargetDescriptorLength <= Int(limits.maximumTargetDescriptorCount) else {
            throw SenseData(.tooManyTargetDescriptors, field: FieldPointer(.parameterList, byte: 2))
        }
        let targets = try copyTargets(list, length: targetLength)
        let segments = try copySegments(list, from: Self.extendedCopyHeaderLength + targetLength, length: segmentLength)
        var entry = CopyResultsLog.Entry(
            nexus: context.nexus, listIdentifier: listIdentifier, succeeded: false, segmentsProcessed: 0, bytesTransferred: 0)
        defer { copyResults.record(entry) }
        for segment in segments {
            entry.bytesTransferred += try await copy(segment, targets: targets)
            entry.segmentsProcessed += 1
        }
        entry.succeeded = true
        return SCSICommandResult(status: .good, dataOutLengthUsed: length)
    }

    /// Resolves the identification CSCD descriptors to logical units of this target;
    /// nil for one that names none (reported when a segment uses it).
    private func copyTargets(_ list: CommandDescriptorBlock, length: Int) throws(SenseData) -> [LogicalUnit?] {
        var targets: [LogicalUnit?] = []
        var offset = Self.extendedCopyHeaderLength
        while offset < Self.extendedCopyHeaderLength + length {
            guard list[offset] == Self.identificationDescriptorType else {
                throw SenseData(.unsupportedTargetDescriptorTypeCode, field: FieldPointer(.parameterList, byte: offset))
            }
            // PERIPHERAL DEVICE TYPE 00h: only block devices are copy targets here.
            guard list[offset + 1] & 0x1F == 0 else {
                throw SenseData(.unsupportedTargetDescriptorTypeCode, field: FieldPointer(.parameterList, byte: offset + 1))
            }
            let designatorType = list[offset + 5] & 0x0F
            let designatorLength = Int(list[offset + 7])
            let designator = Array(list.bytes[min(list.bytes.count, offset + 8)..<min(list.bytes.count, offset + 8 + designatorLength)])
            let unit = designatorType == DesignationDescriptor.DesignatorType.naa.rawValue
                ? units.first { $0.descriptor.naaIdentifier == designator } : nil
            targets.append(unit)
            offset += Self.copyTargetDescriptorLength
        }
        return targets
    }

    /// Decodes the segment descriptors (all must be block to block).
    private func copySegments(_ list: CommandDescriptorBlock, from start: Int, length: Int) throws(SenseData) -> [Segment] {
        var segments: [Segment] = []
        var offset = start
        while offset < start + length {
            guard list[offset] == Self.blockToBlockSegmentType else {
                throw SenseData(.unsupportedSegmentDescriptorTypeCode, field: FieldPointer(.parameterList, byte: offset))
            }
            guard segments.count < Int(Self.copyManager.maximumSegmentDescriptorCount) else {
                throw SenseData(.tooManySegmentDescriptors, field: FieldPointer(.parameterList, byte: 8))
            }
            guard Int(list.field(at: offset + 2, width: 2)) == Self.blockToBlockSegmentDescriptorLength,
                  offset + 4 + Self.blockToBlockSegmentDescriptorLength <= start + length
            else {
                throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: offset + 2))
            }
            segments.append(Segment(
                source: Int(list.field(at: offset + 4, width: 2)), destination: Int(list.field(at: offset + 6, width: 2)),
                blocks: list.field(at: offset + 10, width: 2), sourceLBA: list.field(at: offset + 12, width: 8),
                destinationLBA: list.field(at: offset + 20, width: 8), offset: offset))
            offset += 4 + Self.blockToBlockSegmentDescriptorLength
        }
        return segments
    }

    /// Copies one segment in chunks of the optimal transfer size; returns the bytes
    /// copied. An unknown CSCD is COPY ABORTED / UNREACHABLE COPY TARGET; a range off
    /// either medium or differing block sizes abort the copy (SPC-4 §6.3.3).
    private func copy(_ segment: Segment, targets: [LogicalUnit?]) async throws(SenseData) -> UInt64 {
        guard segment.source < targets.count, let source = targets[segment.source],
              segment.destination < targets.count, let destination = targets[segment.destination]
        else {
            throw SenseData(.unreachableCopyTarget, field: FieldPointer(.parameterList, byte: segment.offset + 4))
        }
        let blockSize = source.geometry.blockSize
        guard destination.geometry.blockSize == blockSize,
              segment.sourceLBA <= source.geometry.blockCount,
              segment.blocks <= source.geometry.blockCount - segment.sourceLBA,
              segment.destinationLBA <= destination.geometry.blockCount,
              segment.blocks <= destination.geometry.blockCount - segment.destinationLBA
        else {
            throw SenseData(.copyAborted, field: FieldPointer(.parameterList, byte: segment.offset + 10))
        }
        guard destination.descriptor.readOnly == false else { throw SenseData(.writeProtected) }
        let chunk = UInt64(max(1, DeviceServerLimits.optimalTransferBytes / blockSize))
        var done: UInt64 = 0
        while done < segment.blocks {
            let blocks = min(chunk, segment.blocks - done)
            let data = try await readForComparison(at: segment.sourceLBA + done, blockCount: blocks, unit: source)
            try await write(data, at: segment.destinationLBA + done, forceUnitAccess: false, unit: destination)
            done += blocks
        }
        return done * UInt64(blockSize)
    }

    /// COPY STATUS (SPC-4 §6.18.3) for a LIST IDENTIFIER this nexus used, or
    /// OPERATING PARAMETERS (§6.18.4).
    func receiveCopyResults(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        let cdb = context.cdb
        let data: [UInt8]
        if cdb.serviceAction == 0x03 {
            data = Self.copyManager.operatingParameters
        } else {
            guard let entry = copyResults.entry(for: context.nexus, listIdentifier: cdb[2]) else {
                throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 2))
            }
            // COPY MANAGER STATUS 00h / 01h (completed, without or with errors);
            // TRANSFER COUNT UNITS F1h: kibibytes.
            data = UInt32(8).bigEndianBytes + [entry.succeeded ? 0x00 : 0x01]
                + entry.segmentsProcessed.bigEndianBytes + [0xF1]
                + UInt32(clamping: entry.bytesTransferred >> 10).bigEndianBytes
        }
        return .good(data, allocationLength: cdb.allocationLength)
    }
}
