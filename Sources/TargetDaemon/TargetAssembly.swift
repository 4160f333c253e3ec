import BlockStorage
import CephCluster
import DaemonConfiguration
import Foundation
import ISCSISession
import ISCSITransport
import LUNBackends
import Logging
import MultipathDSM
import NIOCore
import NIOPosix
import RemoteLUN
import SCSIEngine

/// Turns a validated configuration into running parts: backends, device servers and
/// the transport's view of the targets. Explicit wiring, no registries (STYLE.md §8).
public enum TargetAssembly {
    /// Where the targets' persistent reservations live: for a gateway of a
    /// `[cluster]`, the cluster's objects in its state pool, joined before any device
    /// server is built (so none misses a change); otherwise files under
    /// `<state_dir>/reservations`, for APTPL (SPC-4 §5.12.5). Call ``leave(_:)`` at
    /// shutdown.
    public static func reservationStore(
        for configuration: SwiftportConfiguration, threadPool: NIOThreadPool, logger: Logger
    ) async throws -> any ReservationStore {
        if let cluster = configuration.cluster {
            do {
                let store = try await RADOSReservationStore.open(
                    cephConf: cluster.cephConf, client: cluster.client, keyring: cluster.keyring, timeout: cluster.clusterTimeout,
                    pool: cluster.statePool, namespace: cluster.namespace, objectPrefix: cluster.objectPrefix, threadPool: threadPool)
                var clusterLogger = logger
                clusterLogger[metadataKey: "cluster"] = "\(cluster.name)"
                try await store.join(
                    RADOSReservationStore.Membership(
                        gateway: cluster.gateway, peers: cluster.peers, heartbeat: cluster.heartbeat,
                        acknowledgementTimeout: cluster.acknowledgementTimeout, fenceDuration: cluster.fenceDuration,
                        logger: clusterLogger))
                return store
            } catch {
                throw DaemonError(.backendFailed, "cannot join gateway cluster \(cluster.name) as \(cluster.gateway): \(error)")
            }
        }
        let stateDirectory = configuration.daemon.stateDirectory
        do {
            try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw DaemonError(.backendFailed, "cannot create state_dir \(stateDirectory): \(error)")
        }
        do {
            return try await FileReservationStore.open(directory: stateDirectory + "/reservations", threadPool: threadPool)
        } catch {
            throw DaemonError(.backendFailed, "\(error)")
        }
    }

    /// Leaves the gateway cluster, if the store is a cluster's: the other gateways stop
    /// waiting for this one's acknowledgements once its watch is gone.
    public static func leave(_ store: any ReservationStore, logger: Logger) async {
        guard let store = store as? RADOSReservationStore else { return }
        do {
            try await store.leave()
        } catch {
            logger.error("cannot leave the gateway cluster cleanly: \(error)")
        }
    }

    /// When this gateway fences another, the I_T nexuses through the other's target
    /// port group are lost, and the SPC-2 reservations held through them end.
    private static func releaseReservationsOfFencedGateways(
        of targets: [ExportedTarget], cluster: ClusterSettings?, store: any ReservationStore
    ) {
        guard let cluster, let store = store as? RADOSReservationStore else { return }
        let devices = targets.map(\.device)
        store.onPeerFenced { peer in
            guard let tag = cluster.gateways.first(where: { $0.name == peer })?.portalGroup else { return }
            for device in devices { await device.targetPortGroupLost(tag) }
        }
    }

    /// A gateway the cluster fences stops serving at once: its portals close and its
    /// sessions end, so the hosts carry on through the other gateways, and the process
    /// exits with EX_TEMPFAIL (75) without closing its images (the cluster refuses
    /// that client, and rbd_close would wait for it). Started again, by the service
    /// manager after its restart delay or by hand, it rejoins with a new client.
    public static func exitWhenFenced(_ store: any ReservationStore, portals: PortalControl, services: TargetServices, logger: Logger) {
        guard let store = store as? RADOSReservationStore else { return }
        store.onFenced {
            Task {
                logger.critical("the cluster fenced this gateway: closing its portals and exiting; start it again to rejoin with a new client")
                await portals.stop()
                services.sessions.closeAll()
                fflush(nil)  // every output stream: the log lines above
                _exit(DaemonError.Code.fenced.exitCode)
            }
        }
    }

    /// Opens every LUN's backend and builds the exported targets, their reservations in
    /// `reservationStore`.
    public static func exportedTargets(
        from configuration: SwiftportConfiguration, reservationStore: any ReservationStore, threadPool: NIOThreadPool, logger: Logger
    ) async throws -> [ExportedTarget] {
        var exported: [ExportedTarget] = []
        defer { releaseReservationsOfFencedGateways(of: exported, cluster: configuration.cluster, store: reservationStore) }
        for target in configuration.targets {
            var units: [LogicalUnitDescriptor] = []
            for lun in target.luns {
                units.append(
                    try await logicalUnit(
                        lun, targetName: target.name, dsm: configuration.dsm, cluster: configuration.cluster, threadPool: threadPool,
                        logger: logger))
            }
            var deviceLogger = logger
            deviceLogger[metadataKey: "target"] = "\(target.name)"
            let networks = target.allowedNetworks
            let device = await SCSITargetDevice.restoring(
                targetName: target.name, logicalUnits: units, logger: deviceLogger, reservationStore: reservationStore,
                targetPortGroups: targetPortGroups(of: target, cluster: configuration.cluster), explicitALUA: target.explicitALUA,
                ownership: configuration.cluster.flatMap { cluster in
                    cluster.portalGroup.map { SharedOwnership(localTargetPortGroup: $0, failback: cluster.failback) }
                })
            exported.append(ExportedTarget(
                name: target.name,
                alias: target.alias,
                device: device,
                credentials: target.auth,
                allowedInitiators: target.allowedInitiators,
                peerAllowed: { peer in
                    networks.isEmpty || peer.ipAddress.map { address in networks.contains { $0.contains(address) } } ?? false
                },
                portalGroups: target.portalGroups.map { group in
                    ExportedTarget.PortalGroup(tag: group.tag, portals: group.portals.map { Portal(host: $0.host, port: $0.port) })
                }
            ))
        }
        return exported
    }

    /// Opens a LUN's backend and describes the logical unit, at start and for `lun add`.
    /// In a cluster, an image with the exclusive-lock feature is in owner mode, its home
    /// gateway `home_gateway` or the one ``ClusterSettings/homePortalGroup(naa:)`` picks.
    public static func logicalUnit(
        _ lun: LUNConfiguration, targetName: String, dsm: DSMSettings, cluster: ClusterSettings?, threadPool: NIOThreadPool,
        logger: Logger
    ) async throws -> LogicalUnitDescriptor {
        let device = try await openBackend(lun, dsm: dsm, threadPool: threadPool, logger: logger)
        // The designators come from configuration, or from an rbd image's own name, so
        // they are the same on every portal, across restarts and, for an image, on every
        // daemon that exports it (what multipath stacks key on).
        var serial = lun.serial
        var naaSeed = "\(targetName)/\(lun.id)/\(lun.serial)"
        if let image = device as? RBDBlockDevice, lun.serialIsDerived {
            serial = LUNConfiguration.derivedSerial(seed: image.identitySeed)
            naaSeed = image.identitySeed
        }
        let naa = LogicalUnitDescriptor.naaIdentifier(seed: naaSeed)
        var home: UInt16?
        if let cluster, (device as? RBDBlockDevice)?.requiresExclusiveLock == true {
            if let name = lun.homeGateway {
                guard let gateway = cluster.gateways.first(where: { $0.name == name }) else {
                    await close(device)
                    throw DaemonError(
                        .badConfiguration,
                        "LUN \(lun.id): home_gateway '\(name)' is none of cluster \(cluster.name)'s gateways (\(cluster.gateways.map(\.name).joined(separator: ", ")))")
                }
                home = gateway.portalGroup
            } else {
                home = cluster.homePortalGroup(naa: naa)
            }
        }
        return LogicalUnitDescriptor(
            lun: lun.id, device: device, vendor: lun.vendor, product: lun.product, revision: lun.revision,
            serial: serial, naaIdentifier: naa, readOnly: lun.readOnly, writeCacheEnabled: lun.writeCache,
            thinProvisioning: lun.thinProvisioning, homeTargetPortGroup: home
        )
    }

    /// Closes a file or block backend's descriptor, or an rbd image; others hold nothing to close.
    static func close(_ device: any BlockDevice) async {
        try? await (device as? FileBlockDevice)?.close()
        await (device as? RBDBlockDevice)?.close()
    }

    /// At shutdown, once the sessions are closed: the owner-mode units this gateway
    /// owns are left to the others, every logical unit leaves its target when the
    /// commands in it have, and its backend is closed. An rbd image so gives
    /// up its exclusive lock and watch at once; left open, the next gateway to write it
    /// would wait for the dead client's watch to time out first.
    static func closeLogicalUnits(of targets: [ExportedTarget]) async {
        for target in targets {
            await target.device.relinquishOwnership()
            for lun in target.device.logicalUnitNumbers {
                if let descriptor = try? await target.device.removeLogicalUnit(lun) { await close(descriptor.device) }
            }
        }
    }

    /// Each portal group is an ALUA target port group (SPC-4 §5.15) with one target
    /// port: the transport gives every I_T nexus the tag as both its relative target
    /// port identifier and its target port group.
    /// The target port groups of `target`: its portal groups and, for a gateway of a
    /// cluster, the other gateways' groups too, in tag order, so that every gateway
    /// reports the same groups (their ports are elsewhere; active/optimized, as the
    /// gateways of an active/active cluster all are).
    static func targetPortGroups(of target: TargetConfiguration, cluster: ClusterSettings?) -> [TargetPortGroupDescriptor] {
        let own = target.portalGroups.map {
            TargetPortGroupDescriptor(
                tag: $0.tag, relativeTargetPortIdentifiers: [$0.tag], initialState: $0.aluaState, preferred: $0.preferred)
        }
        let others = (cluster?.gateways ?? []).filter { $0.name != cluster?.gateway }.map {
            TargetPortGroupDescriptor(tag: $0.portalGroup, relativeTargetPortIdentifiers: [$0.portalGroup])
        }
        return (own + others).sorted { $0.tag < $1.tag }
    }

    /// The negotiation answers every portal gives (RFC 7143 §13).
    public static func negotiationPolicy(_ daemon: DaemonSettings) -> NegotiationPolicy {
        var policy = NegotiationPolicy()
        policy.headerDigests = daemon.headerDigest
        policy.dataDigests = daemon.dataDigest
        policy.maxRecvDataSegmentLength = daemon.maxRecvDataSegmentLength
        policy.maxBurstLength = daemon.maxBurstLength
        policy.firstBurstLength = daemon.firstBurstLength
        policy.immediateData = daemon.immediateData
        policy.initialR2T = daemon.initialR2T
        policy.maxOutstandingR2T = daemon.maxOutstandingR2T
        return policy
    }

    private static func openBackend(_ lun: LUNConfiguration, dsm: DSMSettings, threadPool: NIOThreadPool, logger: Logger) async throws -> any BlockDevice {
        switch lun.backend {
        case .ram(let size):
            return RAMBlockDevice(blockSize: lun.blockSize, blockCount: size / UInt64(lun.blockSize))
        case .file(let path, let size):
            return try await FileBlockDevice.open(
                path: path, blockSize: lun.blockSize, blockCount: size.map { $0 / UInt64(lun.blockSize) },
                preallocate: !lun.thinProvisioning, threadPool: threadPool)
        case .block(let path):
            return try await BlockDeviceBackend.open(path: path, threadPool: threadPool)
        case .remote(let portals, let target, let upstreamLUN, let auth):
            return try await openRemote(portals: portals, target: target, lun: upstreamLUN, auth: auth.overriding(dsm.authentication), dsm: dsm, logger: logger)
        case .rbd(let location, let createSize):
            let image = try await RBDBlockDevice.open(location, blockSize: lun.blockSize, createSize: createSize, threadPool: threadPool)
            // The address is what `ceph osd blocklist add` takes to fence this gateway.
            logger.info(
                "rbd image opened",
                metadata: [
                    "lun": "\(lun.id)", "image": "\(location.pool)/\(location.image)", "id": "\(image.imageID)",
                    "client_address": "\(image.clientAddress)",
                ])
            return image
        }
    }

    /// Scans the upstream portals, claims the device behind `lun` by the `[dsm]` rules
    /// and returns it as a multipath block device with its path checker running.
    private static func openRemote(
        portals: [PortalAddress], target: String?, lun: UInt16, auth: UpstreamAuthentication, dsm: DSMSettings, logger: Logger
    ) async throws -> any BlockDevice {
        let scanner = DSMScanner(
            initiatorName: dsm.initiatorName,
            authentication: DSMScanner.authentication(auth.session),
            discoveryAuthentication: DSMScanner.authentication(auth.discovery),
            logger: logger)
        let scan = await scanner.scan(portals: portals.map { Portal(host: $0.host, port: $0.port) }, targetFilter: target)
        let grouping = PathGrouping(paths: scan.paths.map(\.identity), supportedDevices: SupportedDeviceList(dsm.supportedDevices))
        let wanted = Set(scan.paths.filter { $0.lun == lun }.map(\.identity.pathID))
        guard let unit = grouping.logicalUnits.first(where: { $0.paths.contains { wanted.contains($0.pathID) } }) else {
            for path in scan.paths { await path.connection.logout() }
            let reasons = scan.errors.isEmpty ? "" : "; " + scan.errors.joined(separator: "; ")
            throw BlockStorageError(.openFailed, "no claimed upstream device at LUN \(lun) on \(portals.map(\.description).joined(separator: ", "))\(reasons) (check [dsm] supported_devices, upstream_target and the upstream CHAP settings)")
        }
        let members = Set(unit.paths.map(\.pathID))
        for path in scan.paths where !members.contains(path.identity.pathID) { await path.connection.logout() }
        let device = try RemoteBlockDevice(
            unit: unit, paths: scan.paths.filter { members.contains($0.identity.pathID) },
            configuration: MultipathConfiguration(policy: dsm.policy, checkerInterval: .seconds(2), reconnect: dsm.reconnect), scanner: scanner, logger: logger)
        await device.start()
        logger.info("remote LUN claimed", metadata: ["identity": "\(unit.identity)", "paths": "\(unit.paths.count)"])
        return device
    }
}
