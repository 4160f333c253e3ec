import SCSIEngine

/// A ``ReservationStore`` in memory for the engine's tests: it keeps records and
/// versions as a durable store does (a change naming a stale version is a conflict),
/// and can hold saves until the test lets them go, or fail them.
actor TestReservationStore: ReservationStore {
    /// What the store did, in order, with what the test notes between.
    enum Event: Hashable {
        case saveHeld
        case saved
        case removed
        case noted(String)
    }

    private(set) var records: [String: ReservationRecord] = [:]
    private(set) var events: [Event] = []
    private var lastVersion: UInt64 = 0
    /// Saves wait in `held` for ``releaseSaves()`` while set.
    private var holdsSaves = false
    private var failsSaves = false
    private var held: [CheckedContinuation<Void, Never>] = []
    private var awaitingHeld: [CheckedContinuation<Void, Never>] = []

    init(holdsSaves: Bool = false, failsSaves: Bool = false) {
        self.holdsSaves = holdsSaves
        self.failsSaves = failsSaves
    }

    func load(_ name: String) -> ReservationRecord? {
        records[name]
    }

    func save(_ text: String, as name: String, replacing version: ReservationRecord.Version?) async throws -> ReservationRecord.Version {
        try checkVersion(of: name, is: version)
        if failsSaves { throw SCSIEngineError(.reservationStoreFailed, "the test store refuses saves") }
        if holdsSaves {
            events.append(.saveHeld)
            await withCheckedContinuation { continuation in
                held.append(continuation)
                for waiter in awaitingHeld { waiter.resume() }
                awaitingHeld = []
            }
        }
        lastVersion += 1
        let saved = ReservationRecord.Version(rawValue: lastVersion)
        records[name] = ReservationRecord(text: text, version: saved)
        events.append(.saved)
        return saved
    }

    func remove(_ name: String, replacing version: ReservationRecord.Version?) throws {
        try checkVersion(of: name, is: version)
        records[name] = nil
        events.append(.removed)
    }

    /// Returns once a save is held.
    func awaitHeldSave() async {
        guard held.isEmpty else { return }
        await withCheckedContinuation { awaitingHeld.append($0) }
    }

    /// Lets the held saves finish, and the later ones go through at once.
    func releaseSaves() {
        holdsSaves = false
        for continuation in held { continuation.resume() }
        held = []
    }

    /// Records what the test saw happen, among the store's events.
    func note(_ what: String) {
        events.append(.noted(what))
    }

    private func checkVersion(of name: String, is version: ReservationRecord.Version?) throws {
        guard records[name]?.version == version else {
            throw SCSIEngineError(.reservationStoreConflict, "\(name) is not at version \(version.map(String.init(describing:)) ?? "none")")
        }
    }
}
