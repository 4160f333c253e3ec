import CephCluster
import Foundation
import ISCSITransport
import SCSIEngine

/// `cluster status`: the gateways of the daemon's `[cluster]`, whether each answers,
/// every LUN's ALUA state through each target port group, and the fences made.
extension AdminCommands {
    struct ClusterReport: Codable {
        var cluster: String
        var fenced: Bool
        var gateways: [RADOSReservationStore.GatewayState]
        var alua: [ALUARow]
        var owners: [OwnerRow]
        var fences: [RADOSReservationStore.FenceEvent]
    }

    /// An owner-mode LUN (an image with the exclusive-lock feature).
    struct OwnerRow: Codable {
        var target: String
        var ownership: UnitOwnership
    }

    func clusterStatus(json: Bool) async throws(AdminError) -> String {
        guard let (name, store) = gatewayCluster else {
            throw AdminError.failed("this daemon is not a gateway of a cluster: its configuration has no [cluster]")
        }
        let status: RADOSReservationStore.Status
        do {
            status = try await store.status()
        } catch {
            throw AdminError.failed("cannot read the state of cluster \(name): \(error)")
        }
        let report = ClusterReport(
            cluster: name, fenced: status.fenced, gateways: status.gateways, alua: aluaRows(of: services.targets),
            owners: services.targets.flatMap { target in target.device.ownershipStatus.map { OwnerRow(target: target.name, ownership: $0) } },
            fences: status.fences)
        if json { return try encode(report) }
        var lines = ["cluster \(name)\(report.fenced ? ": THIS GATEWAY IS FENCED (its client is on the blocklist)" : "")"]
        for gateway in report.gateways {
            let client = gateway.clientInstance.map { "client.\($0) \(gateway.clientAddress ?? "")" } ?? "no member record (not joined, left, or fenced)"
            let health = gateway.clientInstance == nil ? "" : gateway.answering ? ", answering" : ", NOT ANSWERING"
            lines.append("gateway \(gateway.name)\(gateway.isThisGateway ? " (this one)" : ""): \(client)\(health)")
        }
        lines += report.alua.map { describe($0) }
        for row in report.owners {
            let owner = row.ownership.owner.map { "TPG \($0)" } ?? "none"
            lines.append(
                "target \(row.target) LUN \(row.ownership.lun): owner \(owner), home TPG \(row.ownership.home)"
                    + (row.ownership.holdsLock ? ", this gateway holds the image's lock" : ""))
        }
        for fence in report.fences {
            let when = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(fence.time)))
            lines.append(
                "fenced \(fence.gateway) (client.\(fence.clientInstance) \(fence.clientAddress)) at \(when): \(fence.reason)"
                    + (fence.unit.map { ", at a change of \($0)" } ?? ""))
        }
        return lines.joined(separator: "\n")
    }
}
