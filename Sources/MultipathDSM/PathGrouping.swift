/// Claim and group: discovered paths in, one ``ClaimedLogicalUnit`` per identity out.
///
/// A path is claimed when the supported-device list matches its INQUIRY vendor +
/// product; claimed paths with equal ``DeviceIdentity`` form one device. Output order
/// follows discovery order so scans are stable.
public struct PathGrouping: Hashable, Sendable {
    public private(set) var logicalUnits: [ClaimedLogicalUnit] = []
    public private(set) var unclaimed: [UnclaimedPath] = []

    public init(paths: [PathIdentity], supportedDevices: SupportedDeviceList) {
        var indexByIdentity: [DeviceIdentity: Int] = [:]
        for path in paths {
            guard let entry = supportedDevices.entry(claimingVendor: path.vendor, product: path.product) else {
                unclaimed.append(UnclaimedPath(path: path, reason: .notInSupportedDeviceList))
                continue
            }
            guard let identity = DeviceIdentity(of: path) else {
                unclaimed.append(UnclaimedPath(path: path, reason: .noIdentity))
                continue
            }
            if let index = indexByIdentity[identity] {
                logicalUnits[index].paths.append(path)
            } else {
                indexByIdentity[identity] = logicalUnits.count
                logicalUnits.append(ClaimedLogicalUnit(identity: identity, claimedBy: entry, paths: [path]))
            }
        }
    }
}
