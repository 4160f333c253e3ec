import BlockStorage
import DaemonConfiguration
import ISCSITransport
import SCSIEngine

/// `lun list` and `lun resize`: the logical units' sizes, and online resize (the
/// device server tells every initiator with CAPACITY DATA HAS CHANGED).
extension AdminCommands {
    /// One row of `lun list --json`.
    struct LUNRow: Codable {
        var target: String
        var lun: UInt16
        var blocks: UInt64
        var blockSize: Int
        var bytes: UInt64
    }

    private func lunRows(of targets: [ExportedTarget]) -> [LUNRow] {
        targets.flatMap { target in
            target.device.logicalUnitGeometries.sorted { $0.key < $1.key }.map { lun, geometry in
                LUNRow(target: target.name, lun: lun, blocks: geometry.blockCount, blockSize: geometry.blockSize, bytes: geometry.byteCount)
            }
        }
    }

    private func describe(_ row: LUNRow) -> String {
        "target \(row.target) LUN \(row.lun): \(row.blocks) blocks of \(row.blockSize) bytes (\(row.bytes) bytes)"
    }

    func lunList(json: Bool) throws(AdminError) -> String {
        let rows = lunRows(of: services.targets)
        if json { return try encode(rows) }
        return rows.isEmpty ? "no LUNs" : rows.map { describe($0) }.joined(separator: "\n")
    }

    /// `lun resize LUN SIZE [--target NAME]`: SIZE as in the configuration ("2GiB"),
    /// a whole number of the LUN's blocks. --target is needed only when several
    /// targets have that LUN.
    func lunResize(_ arguments: [String]) async throws(AdminError) -> String {
        var positional: [String] = []
        var targetName: String?
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            if argument == "--target" {
                guard let name = remaining.popFirst() else { throw .usage("--target needs a target name") }
                targetName = name
            } else if argument.hasPrefix("--") {
                throw .usage("unknown lun option '\(argument)'; lun resize takes --target NAME")
            } else {
                positional.append(argument)
            }
        }
        guard positional.count == 2 else { throw .usage("lun resize takes LUN SIZE, e.g. lun resize 0 2GiB") }
        guard let lun = UInt16(positional[0]) else { throw .usage("LUN must be a number, not '\(positional[0])'") }
        let bytes: UInt64
        do {
            bytes = try ByteSize.parse(positional[1])
        } catch {
            throw .usage("\(error.message); \(error.suggestion ?? "e.g. lun resize 0 2GiB")")
        }
        let candidates = services.targets.filter { target in
            (targetName == nil || target.name == targetName) && target.device.logicalUnitNumbers.contains(lun)
        }
        let known = services.targets.map { "\($0.name) (LUNs \($0.device.logicalUnitNumbers.map(String.init).joined(separator: ",")))" }
        guard let target = candidates.first else {
            throw .usage("no LUN \(lun)\(targetName.map { " on target \($0)" } ?? ""); targets: \(known.joined(separator: "; "))")
        }
        guard candidates.count == 1 else {
            throw .usage("LUN \(lun) exists on \(candidates.map(\.name).joined(separator: " and ")); say which with --target NAME")
        }
        guard let blockSize = target.device.logicalUnitGeometries[lun]?.blockSize, bytes % UInt64(blockSize) == 0 else {
            throw .usage("\(bytes) bytes is not a whole number of LUN \(lun)'s blocks; give a multiple of its block size")
        }
        do {
            _ = try await target.device.resize(lun: lun, toBlockCount: bytes / UInt64(blockSize))
        } catch {
            throw .failed(error.message)
        }
        // The configuration is the operator's file: a restart uses its size again.
        return lunRows(of: [target]).filter { $0.lun == lun }.map { describe($0) }.joined()
            + "\nset this size in the configuration file too, or the next start goes back to the old one"
    }
}
