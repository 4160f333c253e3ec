import CephCluster
import DaemonConfiguration
import Foundation
import ISCSIProtocol
import ISCSITransport
import SCSIEngine
import SCSIProtocol

/// Carries out admin requests against the running daemon. Every argument is checked;
/// a bad request gets a message that says what to type instead, never a crash.
public struct AdminCommands: Sendable {
    /// Opens a LUN's backend for `lun add` (the daemon's thread pool and `[dsm]`
    /// settings, as at start).
    public typealias LogicalUnitOpener = @Sendable (_ lun: LUNConfiguration, _ targetName: String) async throws -> LogicalUnitDescriptor

    let services: TargetServices
    private let portals: PortalControl
    private let startedAt: Date
    let openLogicalUnit: LogicalUnitOpener
    /// The gateway cluster this daemon belongs to (`[cluster]`), for `cluster status`.
    let gatewayCluster: (name: String, store: RADOSReservationStore)?

    public init(
        services: TargetServices, portals: PortalControl, startedAt: Date = Date(),
        gatewayCluster: (name: String, store: RADOSReservationStore)? = nil, openLogicalUnit: @escaping LogicalUnitOpener
    ) {
        self.services = services
        self.portals = portals
        self.startedAt = startedAt
        self.gatewayCluster = gatewayCluster
        self.openLogicalUnit = openLogicalUnit
    }

    static let usage = """
        commands: status [--json] | sessions [--json] | portal list | portal disable ADDR | portal enable ADDR
                  fault list | fault set ADDR [--latency-ms N] [--drop-every N] [--fail-sense KEY/ASC/ASCQ] | fault clear ADDR
                  alua show [--json] | alua set LUN|all TPG STATE [--preferred|--no-preferred] [--target NAME]
                  lun list [--json] | lun resize LUN SIZE [--target NAME]
                  lun add TARGET LUN --backend ram|file|block [--size SIZE] [--path PATH] [--block-size 512|4096]
                          [--serial S] [--product P] [--read-only] [--thick]
                  lun remove TARGET LUN
                  cluster status [--json]
        """

    public func execute(_ request: AdminRequest) async -> AdminResponse {
        do {
            return AdminResponse(ok: true, output: try await run(request.arguments))
        } catch {
            return AdminResponse(ok: false, output: error.description)
        }
    }

    private func run(_ arguments: [String]) async throws(AdminError) -> String {
        let json = arguments.contains("--json")
        let words = arguments.filter { $0 != "--json" }
        switch (words.first, words.dropFirst().first) {
        case ("status", nil): return try await status(json: json)
        case ("sessions", nil): return try sessions(json: json)
        case ("portal", "list"): return await portalList()
        case ("portal", "disable"):
            let portal = try parsePortal(words, at: 2)
            try await portals.disable(portal)
            return "portal \(portal) disabled: not listening, its sessions dropped"
        case ("portal", "enable"):
            let portal = try parsePortal(words, at: 2)
            try await portals.enable(portal)
            return "portal \(portal) enabled"
        case ("fault", "list"): return faultList()
        case ("fault", "set"):
            let portal = try parsePortal(words, at: 2)
            let faults = try parseFaults(Array(words.dropFirst(3)))
            services.faults.set(faults, on: portal)
            return "faults on \(portal): \(describe(faults))"
        case ("fault", "clear"):
            let portal = try parsePortal(words, at: 2)
            services.faults.set(PortalFaults(), on: portal)
            return "faults on \(portal) cleared"
        case ("alua", "show"): return try aluaShow(json: json)
        case ("alua", "set"): return try await aluaSet(Array(words.dropFirst(2)))
        case ("lun", "list"): return try lunList(json: json)
        case ("lun", "resize"): return try await lunResize(Array(words.dropFirst(2)))
        case ("lun", "add"): return try await lunAdd(Array(words.dropFirst(2)))
        case ("lun", "remove"): return try await lunRemove(Array(words.dropFirst(2)))
        case ("cluster", "status"): return try await clusterStatus(json: json)
        default:
            throw .usage("unknown request '\(words.joined(separator: " "))'\n\(Self.usage)")
        }
    }

    // MARK: - Reports

    /// What `status --json` prints.
    struct StatusReport: Codable {
        struct PortalState: Codable {
            var portal: String
            var enabled: Bool
            var faults: PortalFaults?
        }
        struct TargetState: Codable {
            var name: String
            var luns: [UInt16]
            var portalGroups: [UInt16]
        }
        var uptimeSeconds: Int
        var sessions: Int
        var portals: [PortalState]
        var targets: [TargetState]
    }

    private func status(json: Bool) async throws(AdminError) -> String {
        var portalStates: [StatusReport.PortalState] = []
        for portal in await portals.portals {
            let faults = services.faults.faults(on: portal)
            portalStates.append(.init(portal: portal.description, enabled: await portals.isEnabled(portal), faults: faults.isEmpty ? nil : faults))
        }
        let report = StatusReport(
            uptimeSeconds: Int(Date().timeIntervalSince(startedAt)),
            sessions: services.sessions.entries.count,
            portals: portalStates,
            targets: services.targets.map { .init(name: $0.name, luns: $0.device.logicalUnitNumbers, portalGroups: $0.portalGroups.map(\.tag)) }
        )
        if json { return try encode(report) }
        var lines = ["swiftportd up \(report.uptimeSeconds) s, \(report.sessions) session(s)"]
        for portal in report.portals {
            lines.append("portal \(portal.portal): \(portal.enabled ? "enabled" : "DISABLED")\(portal.faults.map { ", faults: \(describe($0))" } ?? "")")
        }
        for target in report.targets {
            lines.append("target \(target.name): LUNs \(target.luns.map(String.init).joined(separator: ",")), portal groups \(target.portalGroups.map(String.init).joined(separator: ","))")
        }
        return lines.joined(separator: "\n")
    }

    /// One row of `sessions --json`.
    struct SessionRow: Codable {
        var tsih: UInt16
        var initiator: String
        var isid: String
        var target: String
        var portal: String
        var peer: String
    }

    private func sessions(json: Bool) throws(AdminError) -> String {
        let rows = services.sessions.entries.map {
            SessionRow(tsih: $0.tsih.rawValue, initiator: $0.key.initiatorName, isid: $0.key.isid.description,
                       target: $0.key.targetName.isEmpty ? "(discovery)" : $0.key.targetName, portal: $0.portal, peer: $0.peer)
        }
        if json { return try encode(rows) }
        guard !rows.isEmpty else { return "no sessions" }
        return rows.map { "tsih \($0.tsih)  \($0.initiator) isid \($0.isid) -> \($0.target) via \($0.portal) from \($0.peer)" }
            .joined(separator: "\n")
    }

    private func portalList() async -> String {
        var lines: [String] = []
        for portal in await portals.portals {
            lines.append("\(portal) \(await portals.isEnabled(portal) ? "enabled" : "disabled")")
        }
        return lines.joined(separator: "\n")
    }

    private func faultList() -> String {
        let all = services.faults.all
        guard !all.isEmpty else { return "no faults set" }
        return all.map { "\($0.key): \(describe($0.value))" }.sorted().joined(separator: "\n")
    }

    private func describe(_ faults: PortalFaults) -> String {
        var parts: [String] = []
        if let latency = faults.latencyMilliseconds { parts.append("latency \(latency) ms") }
        if let every = faults.dropEveryNthConnection { parts.append("drop every \(every) connection(s)") }
        if let sense = faults.failWithSense { parts.append("fail commands with sense \(sense)") }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }

    // MARK: - ALUA (SPC-4 §5.15)

    /// One row of `alua show --json`: a LUN's state through one target port group.
    struct ALUARow: Codable {
        var target: String
        var lun: UInt16
        var targetPortGroup: UInt16
        var relativeTargetPorts: [UInt16]
        var state: String
        var preferred: Bool
        /// What last set the state: configuration, operator or SET TARGET PORT GROUPS.
        var changedBy: String
    }

    func aluaRows(of targets: [ExportedTarget]) -> [ALUARow] {
        targets.flatMap { target in
            target.device.aluaStatus.map {
                ALUARow(target: target.name, lun: $0.lun, targetPortGroup: $0.targetPortGroup,
                        relativeTargetPorts: $0.relativeTargetPortIdentifiers, state: $0.state.name,
                        preferred: $0.preferred, changedBy: $0.lastChange.description)
            }
        }
    }

    func describe(_ row: ALUARow) -> String {
        "target \(row.target) LUN \(row.lun) TPG \(row.targetPortGroup): \(row.state)\(row.preferred ? ", preferred" : "") (set by \(row.changedBy))"
    }

    private func aluaShow(json: Bool) throws(AdminError) -> String {
        let rows = aluaRows(of: services.targets)
        if json { return try encode(rows) }
        guard !rows.isEmpty else { return "no target port groups" }
        return rows.map { describe($0) }.joined(separator: "\n")
    }

    /// `alua set LUN|all TPG STATE [--preferred|--no-preferred] [--target NAME]`: the
    /// state of one LUN (or every LUN) through target port group TPG, on every target
    /// that has the group, or on the one --target names.
    private func aluaSet(_ arguments: [String]) async throws(AdminError) -> String {
        let example = "e.g. alua set 0 2 standby, or alua set all 1 active-optimized --preferred"
        var positional: [String] = []
        var preferred: Bool?
        var targetName: String?
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "--preferred": preferred = true
            case "--no-preferred": preferred = false
            case "--target":
                guard let name = remaining.popFirst() else { throw .usage("--target needs a target name") }
                targetName = name
            case let option where option.hasPrefix("--"):
                throw .usage("unknown alua option '\(option)'; alua set takes --preferred, --no-preferred and --target NAME")
            default:
                positional.append(argument)
            }
        }
        guard positional.count == 3 else {
            throw .usage("alua set takes LUN|all TPG STATE, \(example)")
        }
        let lun: UInt16?
        if positional[0] == "all" {
            lun = nil
        } else {
            guard let number = UInt16(positional[0]), LUNConfiguration.idRange.contains(number) else {
                throw .usage("LUN must be 'all' or a number from 0 to \(LUNConfiguration.idRange.upperBound), not '\(positional[0])'")
            }
            lun = number
        }
        guard let tag = UInt16(positional[1]), tag > 0 else {
            throw .usage("TPG must be a portal group tag from 1 to 65535, not '\(positional[1])'")
        }
        guard let state = AsymmetricAccessState(name: positional[2]), SCSITargetDevice.implementedAccessStates.contains(state) else {
            let words = SCSITargetDevice.implementedAccessStates.map(\.name).joined(separator: ", ")
            throw .usage("STATE must be one of \(words), not '\(positional[2])'")
        }

        var targets = services.targets
        if let targetName {
            targets = targets.filter { $0.name == targetName }
            guard !targets.isEmpty else {
                throw .usage("no target \(targetName); targets are \(services.targets.map(\.name).joined(separator: ", "))")
            }
        }
        let groups = { (target: ExportedTarget) in target.device.targetPortGroups.map { String($0.tag) }.joined(separator: ",") }
        let selected = targets.filter { target in
            target.device.targetPortGroups.contains { $0.tag == tag }
                && lun.map { target.device.logicalUnitNumbers.contains($0) } ?? true
        }
        guard !selected.isEmpty else {
            let known = targets.map { "\($0.name): TPGs \(groups($0)), LUNs \($0.device.logicalUnitNumbers.map(String.init).joined(separator: ","))" }
            throw .usage("no target has TPG \(tag)\(lun.map { " and LUN \($0)" } ?? ""); \(known.joined(separator: "; "))")
        }
        for target in selected {
            do {
                try await target.device.setALUAState(state, forTargetPortGroup: tag, lun: lun, preferred: preferred)
            } catch {
                throw .failed(error.message)
            }
        }
        return aluaRows(of: selected)
            .filter { $0.targetPortGroup == tag && (lun == nil || $0.lun == lun) }
            .map { describe($0) }.joined(separator: "\n")
    }

    // MARK: - Arguments

    private func parsePortal(_ words: [String], at index: Int) throws(AdminError) -> Portal {
        guard words.count > index else { throw .usage("missing portal address, e.g. 127.0.0.1:3260\n\(Self.usage)") }
        do {
            let address = try PortalAddress(parsing: words[index])
            return Portal(host: address.host, port: address.port)
        } catch {
            throw .usage("'\(words[index])' is not a portal address: \(error.message)")
        }
    }

    private func parseFaults(_ options: [String]) throws(AdminError) -> PortalFaults {
        var faults = PortalFaults()
        var remaining = options[...]
        while let option = remaining.popFirst() {
            guard let value = remaining.popFirst() else { throw .usage("\(option) needs a value") }
            switch option {
            case "--latency-ms":
                guard let milliseconds = Int(value), (0...60_000).contains(milliseconds) else {
                    throw .usage("--latency-ms takes 0 to 60000, not '\(value)'")
                }
                faults.latencyMilliseconds = milliseconds
            case "--drop-every":
                guard let every = Int(value), every >= 1 else { throw .usage("--drop-every takes a number >= 1, not '\(value)'") }
                faults.dropEveryNthConnection = every
            case "--fail-sense":
                guard let sense = SenseCode(parsing: value) else {
                    throw .usage("--fail-sense takes KEY/ASC/ASCQ in hex, e.g. 02/04/0B, not '\(value)'")
                }
                faults.failWithSense = sense
            default:
                throw .usage("unknown fault option '\(option)'\n\(Self.usage)")
            }
        }
        guard !faults.isEmpty else { throw .usage("fault set needs at least one of --latency-ms, --drop-every, --fail-sense") }
        return faults
    }

    func encode(_ value: some Encodable) throws(AdminError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw .failed("cannot encode the report: \(error)")
        }
    }
}
