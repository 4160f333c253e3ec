import ISCSISession

/// The whole daemon configuration, read from a TOML file (conf/example.toml documents
/// every key) and fully validated: a value of this type can be started without further
/// checks other than those that need the system (opening files, binding portals).
public struct SwiftportConfiguration: Sendable, Equatable {
    /// `[daemon]` and `[daemon.iscsi]`.
    public var daemon: DaemonSettings
    /// `[discovery.auth]`: CHAP for SendTargets discovery sessions; nil = none.
    public var discoveryAuth: CHAPCredentials?
    /// `[dsm]`: claim rules and policy for remote LUNs.
    public var dsm: DSMSettings
    /// `[cluster]`: this daemon is one gateway of several sharing reservations; nil: alone.
    public var cluster: ClusterSettings?
    /// `[[target]]` sections, at least one, with distinct names.
    public var targets: [TargetConfiguration]

    public init(
        daemon: DaemonSettings = DaemonSettings(), discoveryAuth: CHAPCredentials? = nil, dsm: DSMSettings = DSMSettings(),
        cluster: ClusterSettings? = nil, targets: [TargetConfiguration]
    ) {
        self.daemon = daemon
        self.discoveryAuth = discoveryAuth
        self.dsm = dsm
        self.cluster = cluster
        self.targets = targets
    }

    /// Reads and validates the file at `path`.
    ///
    /// - Throws: ``ConfigurationReadError`` if the file cannot be read, otherwise
    ///   ``ConfigurationErrors`` listing every problem in it.
    public static func load(contentsOf path: String) throws -> SwiftportConfiguration {
        try parse(ConfigurationFile.read(path), file: path)
    }

    /// Parses and validates TOML `text`; `file` names it in errors.
    ///
    /// - Throws: ``ConfigurationErrors`` with every problem, in line order. A TOML syntax
    ///   error stops parsing, so it is then the only error.
    public static func parse(_ text: String, file: String) throws(ConfigurationErrors) -> SwiftportConfiguration {
        try ConfigurationDecoder.read(text, file: file, named: "the top level", keys: keys, SwiftportConfiguration.init(reading:))
    }
}
