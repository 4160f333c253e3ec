/// The integrator's handle for one I_T_L path (one session through one portal to one
/// LU). The DSM never interprets it; RemoteLUN assigns it when it discovers the path.
public struct PathID: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByIntegerLiteral,
    CustomStringConvertible
{
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public init(integerLiteral value: UInt32) { self.rawValue = value }

    public static func < (lhs: PathID, rhs: PathID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "path\(rawValue)" }
}
