@testable import DaemonConfiguration

/// Every error `SwiftportConfiguration.parse` finds in `text`, read as conf/x.toml; none
/// when it is valid.
func configurationErrors(_ text: String) -> [ConfigurationError] {
    do {
        _ = try SwiftportConfiguration.parse(text, file: "conf/x.toml")
        return []
    } catch {
        return error.errors
    }
}
