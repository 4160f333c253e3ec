import LUNBackends

/// Where a LUN's blocks live (`backend = "ram" | "file" | "block" | "remote" | "rbd"`).
public enum LUNBackendConfiguration: Sendable, Equatable {
    /// Memory only, zero-filled at start and lost at exit; for tests and demos.
    case ram(size: UInt64)
    /// A regular file. With `size`, the file is created or extended to that size; without,
    /// it must exist and its current size is used.
    case file(path: String, size: UInt64?)
    /// A block device, whose size the device reports.
    case block(path: String)
    /// A multipath device on upstream portals, claimed by the DSM and exported again
    /// (a gateway): `upstream_portals`, optional `upstream_target` and `upstream_lun`, and
    /// optional CHAP of its own (`[target.lun.upstream_auth]`,
    /// `[target.lun.upstream_discovery_auth]`) that takes the place of `[dsm]`'s.
    case remote(portals: [PortalAddress], target: String?, lun: UInt16, auth: UpstreamAuthentication = UpstreamAuthentication())
    /// An RBD image in a Ceph cluster (librbd, loaded at run time); with `createSize`,
    /// created with that many bytes when it does not exist (`create = true`, `size`).
    case rbd(RBDImageLocation, createSize: UInt64?)
}
