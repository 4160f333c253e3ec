import SCSIProtocol

extension DSMScanReport {
    /// The report as a JSON object `{"devices": […], "unclaimed": […]}` with stable key
    /// order; names follow the text rendering.
    public var json: String {
        JSONValue.object([
            ("devices", .array(devices.map(Self.json(device:)))),
            ("unclaimed", .array(unclaimed.map(Self.json(unclaimed:)))),
        ]).rendered()
    }

    private static func json(device: DeviceStatus) -> JSONValue {
        .object([
            ("identity", .string(device.identity.description)),
            ("vendor", .string(device.vendor)),
            ("product", .string(device.product)),
            ("revision", .string(device.revision)),
            ("claimedBy", .string(String(decoding: device.claimedBy.pattern, as: UTF8.self))),
            ("policy", .string(device.configuration.policy.msdsmName)),
            ("failback", .string(device.configuration.failback.description)),
            ("noPathRetry", .string(device.configuration.noPathRetry.description)),
            ("state", .string(device.availability.rawValue)),
            ("paths", .array(device.paths.map(json(path:)))),
        ])
    }

    private static func json(path: PathStatus) -> JSONValue {
        let counters = path.counters
        return .object([
            ("id", .number(UInt64(path.pathID.rawValue))),
            ("portal", .string(path.portal)),
            ("state", .string(path.state.rawValue)),
            ("targetPortGroup", path.targetPortGroup.map { group in
                .object([
                    ("id", .number(UInt64(group.groupID))),
                    ("state", .string(group.state.description)),
                    ("preferred", .bool(group.preferred)),
                ])
            } ?? .null),
            ("aluaState", path.aluaState.map { .string($0.description) } ?? .null),
            ("preferred", .bool(path.adminPreferred)),
            ("weight", path.weight.map { .number(UInt64($0)) } ?? .null),
            ("failbackPending", .bool(path.failbackPending)),
            ("counters", .object([
                ("ios", .number(counters.ios)),
                ("blocks", .number(counters.blocks)),
                ("errors", .number(counters.errors)),
                ("failovers", .number(counters.failovers)),
                ("outstandingIOs", .number(counters.outstandingIOs)),
                ("outstandingBlocks", .number(counters.outstandingBlocks)),
            ])),
        ])
    }

    private static func json(unclaimed: UnclaimedPath) -> JSONValue {
        .object([
            ("id", .number(UInt64(unclaimed.path.pathID.rawValue))),
            ("portal", .string(unclaimed.path.portal)),
            ("vendor", .string(unclaimed.path.vendor.trimmingSpaces)),
            ("product", .string(unclaimed.path.product.trimmingSpaces)),
            ("reason", .string(unclaimed.reason.description)),
        ])
    }
}
