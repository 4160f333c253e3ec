import ISCSITransport

/// Why an admin request was refused; the text goes back to the operator verbatim.
public enum AdminError: Error, Sendable, CustomStringConvertible {
    case usage(String)
    case unknownPortal(Portal, known: [Portal])
    case failed(String)

    public var description: String {
        switch self {
        case .usage(let text): text
        case .unknownPortal(let portal, let known):
            "no portal \(portal); configured portals: \(known.map(\.description).joined(separator: ", "))"
        case .failed(let text): text
        }
    }
}
