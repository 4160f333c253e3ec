import ArgumentParser

/// The option names and help of one CHAP name-and-secret pair: `--<prefix>-username`,
/// `--<prefix>-secret`, `--<prefix>-secret-file`, `--<prefix>-secret-env`.
protocol CHAPOptionNames {
    /// `chap`, `mutual-chap`, `discovery-chap`, `discovery-mutual-chap`.
    static var prefix: String { get }
    /// What the name is, for the help.
    static var whose: String { get }
}

enum OneWay: CHAPOptionNames {
    static let prefix = "chap"
    static let whose = "CHAP name this initiator logs in with (normal sessions)"
}

enum Mutual: CHAPOptionNames {
    static let prefix = "mutual-chap"
    static let whose = "Mutual CHAP: the name the target must answer our challenge with (normal sessions; its secret must differ from ours)"
}

enum DiscoveryOneWay: CHAPOptionNames {
    static let prefix = "discovery-chap"
    static let whose = "CHAP name for SendTargets discovery sessions (no CHAP on discovery without it)"
}

enum DiscoveryMutual: CHAPOptionNames {
    static let prefix = "discovery-mutual-chap"
    static let whose = "Mutual CHAP on discovery sessions: the name the target must answer with"
}

/// One CHAP name and its secret from exactly one of three sources.
struct CHAPNameAndSecret<Names: CHAPOptionNames>: ParsableArguments {
    @Option(name: .customLong("\(Names.prefix)-username"), help: ArgumentHelp("\(Names.whose).", valueName: "name"))
    var username: String?
    @Option(name: .customLong("\(Names.prefix)-secret"), help: ArgumentHelp("The secret of --\(Names.prefix)-username, 12 to 255 bytes. Visible in `ps`: prefer the -file or -env form.", valueName: "secret"))
    var secret: String?
    @Option(name: .customLong("\(Names.prefix)-secret-file"), help: ArgumentHelp("Read that secret from the first line of this file.", valueName: "file"))
    var secretFile: String?
    @Option(name: .customLong("\(Names.prefix)-secret-env"), help: ArgumentHelp("Read that secret from this environment variable.", valueName: "variable"))
    var secretEnv: String?

    var given: (username: String?, secret: UpstreamCHAPOptions.SecretSources) { (username, (secret, secretFile, secretEnv)) }
}
