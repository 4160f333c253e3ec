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
            await TargetAssembly.close(descriptor.device)
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
        await TargetAssembly.close(descriptor.device)
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

    /// The LUN the options describe. Each option becomes the `[[target.lun]]` line of
    /// the same meaning, read by the configuration file's own rules and defaults, so
    /// `lun add` accepts what the file accepts and answers an error with the option.
    private func lunConfiguration(id: UInt16, targetName: String, options: [String]) throws(AdminError) -> LUNConfiguration {
        var lines = ["id = \(id)"]
        var optionOnLine = ["LUN \(id)"]  // by line - 1, for the errors
        var remaining = options[...]
        while let option = remaining.popFirst() {
            switch option {
            case "--read-only":
                lines.append("read_only = true")
                optionOnLine.append(option)
            case "--thick":
                lines.append("provisioning = \"thick\"")
                optionOnLine.append(option)
            case "--backend", "--size", "--path", "--block-size", "--serial", "--product":
                guard let value = remaining.popFirst() else { throw .usage("\(option) needs a value") }
                if option == "--backend" && value == "remote" {
                    throw .usage("remote LUNs come from the configuration file: lun add takes --backend ram, file or block")
                }
                let key = option.dropFirst(2).replacing("-", with: "_")
                // A block size is an integer in the file; anything else is a string there.
                let number = option == "--block-size" ? Int(value) : nil
                lines.append("\(key) = \(number.map(String.init) ?? Self.quoted(value))")
                optionOnLine.append("\(option) \(value)")
            default:
                throw .usage("unknown lun add option '\(option)'\n\(Self.usage)")
            }
        }
        do {
            return try LUNConfiguration.parse(lines.joined(separator: "\n"), targetName: targetName, source: "lun add")
        } catch {
            let problems = error.errors.map { problem in
                let option = optionOnLine.indices.contains(problem.line - 1) ? optionOnLine[problem.line - 1] : "lun add"
                return "\(option): \(problem.message)"
            }
            throw .usage(problems.joined(separator: "\n"))
        }
    }

    /// `text` as a TOML basic string.
    private static func quoted(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                escaped += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return "\"\(escaped)\""
    }
}
