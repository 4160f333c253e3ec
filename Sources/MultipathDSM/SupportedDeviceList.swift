/// The DSM's `MPIOSupportedDeviceList`: the devices it claims (ARCHITECTURE.md §4).
///
/// Built from the TOML config's strings and from INF files
/// (``SupportedDeviceList/parsing(inf:file:)``); a device is claimed when any entry is a
/// prefix of its INQUIRY vendor + product.
public struct SupportedDeviceList: Hashable, Sendable {
    /// Good entries plus every problem found on the way, so one run reports them all.
    public struct ParseResult: Hashable, Sendable {
        public var list: SupportedDeviceList
        public var errors: [MultipathDSMError]
    }

    /// Entries in the order they were read, without duplicates.
    public private(set) var entries: [SupportedDeviceEntry] = []

    public init(_ entries: [SupportedDeviceEntry] = []) {
        append(contentsOf: entries)
    }

    /// Adds entries not already present, keeping first-seen order.
    public mutating func append(contentsOf newEntries: [SupportedDeviceEntry]) {
        for entry in newEntries where !entries.contains(entry) {
            entries.append(entry)
        }
    }

    /// The most specific (longest) entry claiming the device, or nil when none does.
    public func entry(claimingVendor vendor: String, product: String) -> SupportedDeviceEntry? {
        entries
            .filter { $0.matches(vendor: vendor, product: product) }
            .max { $0.pattern.count < $1.pattern.count }
    }

    /// Entries from config strings, each with the line it sits on in `file`.
    public static func parsing(config lines: [(text: String, line: Int)], file: String) -> ParseResult {
        var result = ParseResult(list: SupportedDeviceList(), errors: [])
        for (text, line) in lines {
            do throws(MultipathDSMError) {
                result.list.append(contentsOf: [try SupportedDeviceEntry(parsing: text)])
            } catch {
                result.errors.append(error.located(file: file, line: line))
            }
        }
        return result
    }
}

extension MultipathDSMError {
    /// The same error pinned to the place its text came from.
    func located(file: String, line: Int) -> MultipathDSMError {
        var copy = self
        copy.file = file
        copy.line = line
        return copy
    }
}
