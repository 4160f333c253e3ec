import BlockStorage
import Logging
import SCSIProtocol

/// Online resize, asked for by the operator: the backend changes size, and every I_T
/// nexus is told with CAPACITY DATA HAS CHANGED (SBC-3 §4.11: the device server
/// establishes it when the capacity changes for a reason other than a command from
/// that nexus; Linux then re-reads the capacity).
extension SCSITargetDevice {
    /// Resizes logical unit `lun` to `blockCount` blocks and returns its new geometry.
    ///
    /// - Throws: ``SCSIEngineError`` `unknownLogicalUnit`, or `resizeFailed` with the
    ///   backend's reason (a read-only unit, an empty size, a backend that cannot resize).
    public func resize(lun: UInt16, toBlockCount blockCount: UInt64) async throws(SCSIEngineError) -> BlockGeometry {
        guard let unit = unit(numbered: lun) else {
            throw SCSIEngineError(
                .unknownLogicalUnit,
                "target \(targetName) has no LUN \(lun); its LUNs are " + logicalUnitNumbers.map(String.init).joined(separator: ", "))
        }
        guard blockCount > 0 else {
            throw SCSIEngineError(.resizeFailed, "LUN \(lun) of \(targetName) cannot be resized to zero blocks")
        }
        guard !unit.descriptor.readOnly else {
            throw SCSIEngineError(.resizeFailed, "LUN \(lun) of \(targetName) is read-only; it keeps its size")
        }
        let old = unit.geometry
        guard blockCount != old.blockCount else { return old }
        do {
            try await unit.device.resize(toBlockCount: blockCount)
        } catch {
            throw SCSIEngineError(.resizeFailed, "LUN \(lun) of \(targetName): \(error)")
        }
        unit.withState { $0.unitAttentions.establish(.capacityDataHasChanged, except: nil) }
        let new = unit.geometry
        logger.notice(
            "logical unit resized",
            metadata: ["lun": "\(lun)", "from_blocks": "\(old.blockCount)", "to_blocks": "\(new.blockCount)", "block_size": "\(new.blockSize)"])
        return new
    }

    /// A resize made elsewhere (shared storage resized by another host) is reported like
    /// the operator's: CAPACITY DATA HAS CHANGED on every I_T nexus of `unit`.
    func reportExternalResizes(of unit: LogicalUnit) {
        let logger = logger
        unit.device.onExternalResize { [weak unit] in
            guard let unit else { return }
            unit.withState { $0.unitAttentions.establish(.capacityDataHasChanged, except: nil) }
            logger.notice(
                "logical unit resized outside the daemon",
                metadata: ["lun": "\(unit.number)", "to_blocks": "\(unit.geometry.blockCount)", "block_size": "\(unit.blockSize)"])
        }
    }

    /// The current geometry of every logical unit, by LUN.
    public var logicalUnitGeometries: [UInt16: BlockGeometry] {
        Dictionary(uniqueKeysWithValues: units.map { ($0.number.rawValue, $0.geometry) })
    }
}
