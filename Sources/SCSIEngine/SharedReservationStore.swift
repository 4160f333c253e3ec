import SCSIProtocol

/// A ``ReservationStore`` that several device servers use at once: the gateways of one
/// cluster, which export the same logical units through target ports of their own and
/// must judge every command by the same registrations and reservation (SPC-4 §5.12:
/// the reservations are the logical unit's, whatever port a command came through).
///
/// With such a store a PERSISTENT RESERVE OUT is performed on the latest record, saved
/// only if nobody changed it meanwhile (otherwise performed again on the new latest),
/// applied here, and published; it completes with GOOD only once `publish` returns,
/// so the next command through any gateway is judged by it. APTPL is implied: the
/// shared record is durable whatever the initiator asked.
public protocol SharedReservationStore: ReservationStore {
    /// Hands `change` to every other device server that shares the store and returns
    /// once each live one has applied it. One that does not answer must be fenced off
    /// the storage before this returns, so it can never act on the state it holds.
    func publish(_ change: ReservationChange) async throws
    /// Adds `handler`, called with every change another device server publishes; the
    /// change counts as applied here once it returns true. False: it could not be
    /// applied (the medium's lock could not be given up), and the publisher must fence
    /// this device server as one that did not answer.
    func onChange(_ handler: @escaping @Sendable (ReservationChange) async -> Bool)
}

/// A change to one logical unit's shared reservations: the new record, and the unit
/// attentions it establishes for registrants (SPC-4 §5.12.11), which another gateway
/// establishes for those of its own I_T nexuses they match.
public struct ReservationChange: Sendable, Hashable {
    /// The record's name (``ReservationStore``).
    public var name: String
    public var record: ReservationRecord
    var notices: [PersistentReservations.Notice]
    /// A logical unit reset made through another gateway (SAM-5 §7.7): the unit
    /// attention it establishes for every I_T nexus.
    var reset: SenseCondition?
    /// PREEMPT AND ABORT: the tasks of the I_T nexuses the registrations-preempted
    /// notice names are aborted on every gateway (SPC-4 §5.12.11.2.6).
    var abortsPreempted: Bool

    /// A record read again rather than published: no unit attentions come with it.
    public init(name: String, record: ReservationRecord) {
        self.init(name: name, record: record, notices: [])
    }

    init(
        name: String, record: ReservationRecord, notices: [PersistentReservations.Notice], reset: SenseCondition? = nil,
        abortsPreempted: Bool = false
    ) {
        self.name = name
        self.record = record
        self.notices = notices
        self.reset = reset
        self.abortsPreempted = abortsPreempted
    }

    private static let abortLine = "abort preempted"

    /// The resets a change carries, by the names its text gives them.
    private static let resetNames: [(SenseCondition, String)] = [
        (.busDeviceResetFunctionOccurred, "logical-unit-reset"),
        (.powerOnResetOrBusDeviceResetOccurred, "target-reset"),
    ]

    static let serializationHeader = "swiftport-reservation-change 1"

    /// The change as text for a store's notification: a header, the name, the
    /// version, a line per notice, then the record's text.
    ///
    /// ```
    /// swiftport-reservation-change 1
    /// unit 6001405a1b2c3d4e5f60718293a4b5c6
    /// version 42
    /// notice registrations-preempted 1 iqn.2024-01.test:a,i,0x400001370001
    /// reset logical-unit-reset
    /// abort preempted
    /// swiftport-persistent-reservations 1
    /// ...
    /// ```
    public var serialized: String {
        var lines = [Self.serializationHeader, "unit \(name)", "version \(record.version)"]
        lines += notices.flatMap(\.serializedLines)
        if let reset, let name = Self.resetNames.first(where: { $0.0 == reset })?.1 { lines.append("reset \(name)") }
        if abortsPreempted { lines.append(Self.abortLine) }
        return lines.joined(separator: "\n") + "\n" + record.text
    }

    /// Parses ``serialized`` text; nil when it is not in this format.
    public init?(serialized text: String) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)[...]
        guard lines.popFirst() == Self.serializationHeader,
              let unitLine = lines.popFirst(), unitLine.hasPrefix("unit "),
              let versionLine = lines.popFirst(), versionLine.hasPrefix("version "),
              let version = UInt64(versionLine.dropFirst("version ".count))
        else { return nil }
        var notices: [PersistentReservations.Notice] = []
        while let line = lines.first, line.hasPrefix("notice ") {
            guard let notice = PersistentReservations.Notice(serializedLine: line) else { return nil }
            if let index = notices.firstIndex(where: { $0.condition == notice.condition }) {
                notices[index].registrants += notice.registrants
            } else {
                notices.append(notice)
            }
            lines.removeFirst()
        }
        var reset: SenseCondition?
        if let line = lines.first, line.hasPrefix("reset ") {
            guard let condition = Self.resetNames.first(where: { $0.1 == line.dropFirst("reset ".count) })?.0 else { return nil }
            reset = condition
            lines.removeFirst()
        }
        let aborts = lines.first == Self.abortLine
        if aborts { lines.removeFirst() }
        let record = lines.joined(separator: "\n")
        guard SharedReservationState(serialized: record) != nil else { return nil }
        self.init(
            name: String(unitLine.dropFirst("unit ".count)),
            record: ReservationRecord(text: record, version: ReservationRecord.Version(rawValue: version)), notices: notices,
            reset: reset, abortsPreempted: aborts)
    }
}

/// What a shared record holds: the persistent reservations and, since the gateways
/// serve one logical unit, its RESERVE(6)/(10) reservation too (SPC-2 §5.5.1), which
/// never persists through power loss on a lone device server but must hold across
/// gateways, in owner mode the unit's owner, and otherwise the ALUA states set through
/// any gateway. Its text is that of the persistent reservations, with a line
/// `spc2-reservation RTPI TPG INITIATOR-PORT` for an SPC-2 holder, `owner TPG` for the
/// target port group of the owning gateway, and `alua TPG STATE PREF CAUSE` per state set.
struct SharedReservationState: Hashable, Sendable {
    /// An asymmetric access state the operator or SET TARGET PORT GROUPS set for one
    /// target port group, which every gateway reports (SPC-4 §5.15.2).
    struct AccessState: Hashable, Sendable {
        var state: AsymmetricAccessState
        var preferred: Bool
        var cause: ALUAGroupStatus.LastChange
    }

    var reservations = PersistentReservations()
    var spc2Holder: ITNexus?
    /// Owner mode: the target port group of the gateway that writes the medium.
    var owner: UInt16?
    /// Not in owner mode: the states set through any gateway, by target port group.
    var accessStates: [UInt16: AccessState] = [:]

    init(reservations: PersistentReservations = PersistentReservations(), spc2Holder: ITNexus? = nil, owner: UInt16? = nil) {
        self.reservations = reservations
        self.spc2Holder = spc2Holder
        self.owner = owner
    }

    private static let holderPrefix = "spc2-reservation "
    private static let ownerPrefix = "owner "
    /// `alua TPG STATE PREF CAUSE`, e.g. `alua 2 standby 0 2` (CAUSE: the STATUS CODE).
    private static let accessStatePrefix = "alua "

    var serialized: String {
        reservations.serialized
            + (spc2Holder.map {
                "\(Self.holderPrefix)\($0.relativeTargetPortIdentifier) \($0.targetPortGroup) \($0.initiatorPortName)\n"
            } ?? "")
            + (owner.map { "\(Self.ownerPrefix)\($0)\n" } ?? "")
            + accessStates.sorted { $0.key < $1.key }.map {
                "\(Self.accessStatePrefix)\($0.key) \($0.value.state.name) \($0.value.preferred ? 1 : 0) \($0.value.cause.rawValue)\n"
            }.joined()
    }

    init?(serialized text: String) {
        var holder: ITNexus?
        var owner: UInt16?
        var accessStates: [UInt16: AccessState] = [:]
        var others: [Substring] = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix(Self.ownerPrefix) {
                guard let group = UInt16(line.dropFirst(Self.ownerPrefix.count)) else { return nil }
                owner = group
                continue
            }
            if line.hasPrefix(Self.accessStatePrefix) {
                let words = line.dropFirst(Self.accessStatePrefix.count).split(separator: " ")
                guard words.count == 4, let group = UInt16(words[0]), let state = AsymmetricAccessState(name: String(words[1])),
                      let preferred = UInt8(words[2]), preferred <= 1,
                      let cause = UInt8(words[3]).flatMap(ALUAGroupStatus.LastChange.init(rawValue:))
                else { return nil }
                accessStates[group] = AccessState(state: state, preferred: preferred == 1, cause: cause)
                continue
            }
            guard line.hasPrefix(Self.holderPrefix) else {
                others.append(line)
                continue
            }
            let words = line.dropFirst(Self.holderPrefix.count).split(separator: " ", maxSplits: 2)
            guard words.count == 3, let port = UInt16(words[0]), let group = UInt16(words[1]) else { return nil }
            holder = ITNexus(initiatorPortName: String(words[2]), relativeTargetPortIdentifier: port, targetPortGroup: group)
        }
        guard let reservations = PersistentReservations(serialized: others.joined(separator: "\n") + "\n") else { return nil }
        self.init(reservations: reservations, spc2Holder: holder, owner: owner)
        self.accessStates = accessStates
    }
}
