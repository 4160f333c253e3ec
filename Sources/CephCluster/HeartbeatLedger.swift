/// Which gateways have been silent too long, from the answers to successive pings.
/// Kept by client instance: a gateway restarted is a new client, whose silence counts
/// from when it is first seen, never from its predecessor's last answer.
struct HeartbeatLedger {
    /// How long a member may answer no ping before it is fenced.
    let silence: Duration
    /// When each member last answered, or was first seen not answering.
    private var since: [UInt64: ContinuousClock.Instant] = [:]

    init(silence: Duration) {
        self.silence = silence
    }

    /// Takes the answers to one ping (`acknowledged`) from the clients with a member
    /// record (`members`), and returns those silent for `silence` or longer; they are
    /// forgotten, so each is returned once.
    mutating func observe(members: Set<UInt64>, acknowledged: Set<UInt64>, at now: ContinuousClock.Instant) -> Set<UInt64> {
        since = since.filter { members.contains($0.key) }
        var silent: Set<UInt64> = []
        for member in members {
            if acknowledged.contains(member) {
                since[member] = now
            } else if let start = since[member], now - start >= silence {
                silent.insert(member)
                since[member] = nil
            } else if since[member] == nil {
                since[member] = now
            }
        }
        return silent
    }
}
