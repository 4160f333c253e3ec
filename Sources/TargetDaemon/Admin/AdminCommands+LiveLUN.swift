import BlockStorage
import DaemonConfiguration
import ISCSITransport
import LUNBackends
import SCSIEngine

/// `lun add` and `lun remove`: logical units arriving and leaving while the daemon runs
/// (the device server tells every initiator with REPORTED LUNS DATA HAS CHANGED; a
/// removed LUN first drains the commands in it).
extension AdminCommands {
    /// `lun add TARGET LUN --backend ram|file|block ...`: the options are the
    /// `[[target.lun]]` keys of the same meaning, checked the same way.
    func lunAdd(_ arguments: [String]) async throws(AdminError) -> String {
        let (target, lun, options) = try targetAndLUN(arguments, command: "lun add")
        let configuration = try lunConfiguration(id: lun, targetName: target.name, options: options)
        guard !target.device.logicalUnitNumbers.contains(lun) else {
            throw .usage("target \(target.name) already has LUN \(lun); lun remove \(target.name) \(lun) first, or pick another number")
        }
        let descriptor: LogicalUnitDescriptor
        do {
            descriptor = try await openLogicalUnit(configuration, target.name)
        } catch {
            throw .failed("cannot open the backend of LUN \(lun): \(error)")
        }
        do {
            try await target.device.addLogicalUnit(descriptor)
        } catch {
            await close(descriptor.device)
            throw .failed(error.message)
        }
        let geometry = descriptor.device.geometry
        return "target \(target.name) LUN \(lun) added: \(geometry.blockCount) blocks of \(geometry.blockSize) bytes, serial \(configuration.serial)"
            + "\nadd it to the configuration file too, or the next start goes without it"
    }

    /// `lun remove TARGET LUN`: returns once the commands in the LUN have ended and its
    /// backend is closed.
    func lunRemove(_ arguments: [String]) async throws(AdminError) -> String {
        let (target, lun, options) = try targetAndLUN(arguments, command: "lun remove")
        guard options.isEmpty else { throw .usage("lun remove takes TARGET LUN only, not '\(options.joined(separator: " "))'") }
        let descriptor: LogicalUnitDescriptor
        do {
            descriptor = try await target.device.removeLogicalUnit(lun)
        } catch {
            throw .usage(error.message)
        }
        await close(descriptor.device)
        return "target \(target.name) LUN \(lun) removed"
            + "\nremove it from the configuration file too, or the next start brings it back"
    }

    private func targetAndLUN(_ arguments: [String], command: String) throws(AdminError) -> (ExportedTarget, UInt16, [String]) {
        guard arguments.count >= 2, !arguments[0].hasPrefix("--"), !arguments[1].hasPrefix("--") else {
            throw .usage("\(command) takes TARGET LUN first, e.g. \(command) iqn.2026-11.io.swiftport:disks 1")
        }
        guard let target = services.targets.first(where: { $0.name == arguments[0] }) else {
            throw .usage("no target \(arguments[0]); targets: \(services.targets.map(\.name).joined(separator: ", "))")
        }
        guard let lun = UInt16(arguments[1]), LUNConfiguration.idRange.contains(lun) else {
            throw .usage("LUN must be a number in \(LUNConfiguration.idRange), not '\(arguments[1])'")
        }
        return (target, lun, Array(arguments.dropFirst(2)))
    }

    /// The LUN the options describe, with the configuration file's defaults.
    private func lunConfiguration(id: UInt16, targetName: String, options: [String]) throws(AdminError) -> LUNConfiguration {
        var values: [String: String] = [:]
        var flags: Set<String> = []
        var remaining = options[...]
        while let option = remaining.popFirst() {
            switch option {
            case "--read-only", "--thick":
                flags.insert(option)
            case "--backend", "--size", "--path", "--block-size", "--serial", "--product":
                guard let value = remaining.popFirst() else { throw .usage("\(option) needs a value") }
                values[option] = value
            default:
                throw .usage("unknown lun add option '\(option)'\n\(Self.usage)")
            }
        }
        var blockSize = 512
        if let text = values["--block-size"] {
            guard let size = Int(text), LUNConfiguration.blockSizes.contains(size) else {
                throw .usage("--block-size must be 512 or 4096, not '\(text)'")
            }
            blockSize = size
        }
        var size: UInt64?
        if let text = values["--size"] {
            let bytes: UInt64
            do {
                bytes = try ByteSize.parse(text)
            } catch {
                throw .usage("\(error.message); \(error.suggestion ?? "e.g. --size 1GiB")")
            }
            guard bytes > 0, bytes % UInt64(blockSize) == 0 else {
                throw .usage("--size \(text) is not a whole, non-zero number of \(blockSize)-byte blocks")
            }
            size = bytes
        }
        let backend: LUNBackendConfiguration
        switch values["--backend"] {
        case "ram":
            guard let size else { throw .usage("a ram LUN needs --size, e.g. --size 1GiB") }
            backend = .ram(size: size)
        case "file":
            guard let path = values["--path"] else { throw .usage("a file LUN needs --path FILE (and --size to create or extend it)") }
            backend = .file(path: path, size: size)
        case "block":
            guard let path = values["--path"] else { throw .usage("a block LUN needs --path DEVICE, e.g. --path /dev/vg0/lun1") }
            guard size == nil else { throw .usage("a block LUN takes its size from the device; leave out --size") }
            backend = .block(path: path)
        case let other:
            throw .usage("lun add needs --backend ram, file or block\(other.map { ", not '\($0)'" } ?? "") (remote LUNs come from the configuration file)")
        }
        let serial = values["--serial"] ?? LUNConfiguration.derivedSerial(targetName: targetName, lunID: id)
        let product = values["--product"] ?? "VIRTUAL-DISK"
        guard serial.count <= LUNConfiguration.serialLength, serial.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw .usage("--serial must be at most \(LUNConfiguration.serialLength) printable ASCII characters without spaces")
        }
        guard product.count <= LUNConfiguration.productLength, product.allSatisfy({ $0.isASCII }) else {
            throw .usage("--product must be at most \(LUNConfiguration.productLength) ASCII characters")
        }
        return LUNConfiguration(
            id: id, backend: backend, blockSize: blockSize, product: product, serial: serial,
            readOnly: flags.contains("--read-only"), thinProvisioning: !flags.contains("--thick"))
    }

    /// Closes a file or block backend's descriptor; others hold nothing to close.
    private func close(_ device: any BlockDevice) async {
        try? await (device as? FileBlockDevice)?.close()
    }
}
