import SCSIProtocol

/// What `swiftport dsm scan` prints: every claimed device with its paths, and the paths
/// left unclaimed. Rendered as ``text`` (shaped like `multipath -ll`) or ``json``.
public struct DSMScanReport: Hashable, Sendable {
    public var devices: [DeviceStatus]
    public var unclaimed: [UnclaimedPath]

    public init(devices: [DeviceStatus], unclaimed: [UnclaimedPath] = []) {
        self.devices = devices
        self.unclaimed = unclaimed
    }

    /// Paths of one device gathered by target port group, in first-seen order; paths
    /// without ALUA form one group with a nil id.
    static func portGroups(_ paths: [PathStatus]) -> [(groupID: UInt16?, paths: [PathStatus])] {
        var groups: [(groupID: UInt16?, paths: [PathStatus])] = []
        for path in paths {
            let id = path.targetPortGroup?.groupID
            if let index = groups.firstIndex(where: { $0.groupID == id }) {
                groups[index].paths.append(path)
            } else {
                groups.append((id, [path]))
            }
        }
        return groups
    }
}

extension UnclaimedPath.Reason: CustomStringConvertible {
    public var description: String {
        switch self {
        case .notInSupportedDeviceList: "not in MPIOSupportedDeviceList"
        case .noIdentity: "no VPD 0x83 logical-unit designator and no VPD 0x80 serial"
        }
    }
}
