import ArgumentParser
import DaemonConfiguration
import Foundation
import ISCSISession
import TargetDaemon

/// CHAP toward upstream targets for `swiftport dsm scan|io`: one-way (our name and
/// secret) and mutual (the target's name and secret, which we check), separately for
/// normal sessions and for SendTargets discovery — the CLI form of `[dsm.auth]` and
/// `[dsm.discovery_auth]`.
///
/// Every secret can come from the command line, a file or an environment variable: a
/// secret in argv is readable by every local user (`ps`, /proc/PID/cmdline) and lands
/// in shell history, so the file and variable forms are the ones to use outside tests.
struct UpstreamCHAPOptions: ParsableArguments {
    static let secretSources = "Give a secret with --…-secret-file FILE (first line) or --…-secret-env VAR rather than --…-secret: a secret in the arguments is visible to every local user in `ps` and /proc/PID/cmdline and stays in shell history."

    @OptionGroup var chap: CHAPNameAndSecret<OneWay>
    @OptionGroup var mutualChap: CHAPNameAndSecret<Mutual>
    @OptionGroup var discoveryChap: CHAPNameAndSecret<DiscoveryOneWay>
    @OptionGroup var discoveryMutualChap: CHAPNameAndSecret<DiscoveryMutual>

    /// The credentials given, checked as the configuration checks `[dsm.auth]`.
    func authentication(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> UpstreamAuthentication {
        let session = try credentials(prefix: "", chap.given, mutualChap.given, environment: environment)
        let discovery = try credentials(prefix: "discovery-", discoveryChap.given, discoveryMutualChap.given, environment: environment)
        return UpstreamAuthentication(session: session, discovery: discovery)
    }

    /// A secret as given on the command line, in a file, or in a variable.
    typealias SecretSources = (value: String?, file: String?, variable: String?)

    private func credentials(
        prefix: String, _ oneWay: (username: String?, secret: SecretSources), _ mutual: (username: String?, secret: SecretSources),
        environment: [String: String]
    ) throws -> CHAPCredentials? {
        let secretOption = "--\(prefix)chap-secret"
        let mutualOption = "--\(prefix)mutual-chap-secret"
        let (username, mutualUsername) = (oneWay.username, mutual.username)
        let resolvedSecret = try Self.resolve(oneWay.secret, option: secretOption, environment: environment)
        let resolvedMutual = try Self.resolve(mutual.secret, option: mutualOption, environment: environment)
        switch (username, resolvedSecret) {
        case (nil, nil):
            guard mutualUsername == nil, resolvedMutual == nil else {
                throw ValidationError("mutual CHAP needs one-way CHAP as well: give --\(prefix)chap-username and \(secretOption) too (RFC 7143 §12.1.3)")
            }
            return nil
        case (nil, _?):
            throw ValidationError("\(secretOption) needs --\(prefix)chap-username")
        case (_?, nil):
            throw ValidationError("--\(prefix)chap-username needs a secret: \(secretOption)-file, \(secretOption)-env or \(secretOption)")
        case (let name?, let secret?):
            guard !name.isEmpty else { throw ValidationError("--\(prefix)chap-username must not be empty") }
            switch (mutualUsername, resolvedMutual) {
            case (nil, nil):
                return CHAPCredentials(username: name, secret: secret)
            case (nil, _?):
                throw ValidationError("\(mutualOption) needs --\(prefix)mutual-chap-username")
            case (_?, nil):
                throw ValidationError("--\(prefix)mutual-chap-username needs a secret: \(mutualOption)-file, \(mutualOption)-env or \(mutualOption)")
            case (let mutualName?, let mutual?):
                guard !mutualName.isEmpty else { throw ValidationError("--\(prefix)mutual-chap-username must not be empty") }
                guard mutual != secret else {
                    // RFC 7143 §12.1.3: one secret must not authenticate both initiators and targets.
                    throw ValidationError("the mutual CHAP secret must differ from the CHAP secret (RFC 7143 §12.1.3)")
                }
                return CHAPCredentials(username: name, secret: secret, mutualUsername: mutualName, mutualSecret: mutual)
            }
        }
    }

    /// The secret from whichever one source was given, its length checked; nil when none was.
    static func resolve(_ sources: SecretSources, option: String, environment: [String: String]) throws -> String? {
        let given = [sources.value.map { _ in option }, sources.file.map { _ in "\(option)-file" }, sources.variable.map { _ in "\(option)-env" }].compactMap(\.self)
        guard given.count <= 1 else { throw ValidationError("give only one of \(given.joined(separator: ", "))") }
        let origin: String
        let secret: String
        if let value = sources.value {
            (origin, secret) = (option, value)
        } else if let path = sources.file {
            origin = "\(option)-file \(path)"
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ValidationError("\(origin): cannot read the file: \(error.localizedDescription)")
            }
            // The first line, so `echo secret > file` and editors' final newlines work.
            secret = String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
        } else if let variable = sources.variable {
            origin = "\(option)-env \(variable)"
            guard let value = environment[variable] else { throw ValidationError("\(origin): the variable is not set") }
            secret = value
        } else {
            return nil
        }
        if let (problem, suggestion) = CHAPCredentials.lengthProblem(of: secret) {
            throw ValidationError("\(origin): the secret \(problem)" + (suggestion.map { "; \($0)" } ?? ""))
        }
        return secret
    }
}
