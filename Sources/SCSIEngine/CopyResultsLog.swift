import NIOConcurrencyHelpers

/// The outcome of finished EXTENDED COPY commands, kept per I_T nexus and LIST
/// IDENTIFIER so RECEIVE COPY RESULTS with COPY STATUS can report them (SPC-4
/// §6.18.3). Bounded: the oldest entries are forgotten first.
final class CopyResultsLog: Sendable {
    /// Entries kept before the oldest is dropped.
    static let capacity = 64

    /// One finished copy.
    struct Entry: Hashable, Sendable {
        var nexus: ITNexus
        var listIdentifier: UInt8
        var succeeded: Bool
        var segmentsProcessed: UInt16
        var bytesTransferred: UInt64
    }

    private let entries = NIOLockedValueBox<[Entry]>([])

    func record(_ entry: Entry) {
        entries.withLockedValue { entries in
            entries.removeAll { $0.nexus == entry.nexus && $0.listIdentifier == entry.listIdentifier }
            entries.append(entry)
            if entries.count > Self.capacity { entries.removeFirst(entries.count - Self.capacity) }
        }
    }

    func entry(for nexus: ITNexus, listIdentifier: UInt8) -> Entry? {
        entries.withLockedValue { $0.last { $0.nexus == nexus && $0.listIdentifier == listIdentifier } }
    }
}
