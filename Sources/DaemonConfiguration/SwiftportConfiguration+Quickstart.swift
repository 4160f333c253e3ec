extension SwiftportConfiguration {
    /// The configuration at `path`, or the embedded quickstart without one (what
    /// swiftportd and `swiftport profile` run on by default).
    public static func load(contentsOf path: String?) throws -> SwiftportConfiguration {
        guard let path else { return try parse(embeddedQuickstart, file: "<embedded conf/quickstart.toml>") }
        return try load(contentsOf: path)
    }

    /// A byte-identical copy of conf/quickstart.toml (a test compares them), so the
    /// quickstart works from an installed binary without the source tree.
    public static let embeddedQuickstart: String = #"""
    # Swiftport quickstart: one target with one 1 GiB RAM disk on 127.0.0.1:3260, no
    # authentication. Check it with `swiftport config check conf/quickstart.toml`; with the
    # daemon running on it, from the same host:
    #   iscsiadm -m discovery -t sendtargets -p 127.0.0.1
    #   iscsiadm -m node -T iqn.2026-11.io.swiftport:quickstart -p 127.0.0.1 --login
    # The RAM disk's contents are lost when the daemon stops. conf/example.toml documents
    # every key.

    [daemon]
    # Port 3260 is privileged, so the daemon runs as root anyway and uses the standard
    # locations; it creates both directories at start.
    state_dir = "/var/lib/swiftport"
    admin_socket = "/run/swiftport/admin.sock"
    log_level = "info"

    [[target]]
    name = "iqn.2026-11.io.swiftport:quickstart"
    alias = "quickstart"
    portals = ["127.0.0.1:3260"]

    [[target.lun]]
    id = 0
    backend = "ram"
    size = "1GiB"

    """#
}
