import SCSIProtocol

/// The saved form of persistent reservations with APTPL (SPC-4 §5.12.5): a few lines
/// of text, one registration per line, so an operator can read the state file and no
/// Codable machinery is involved.
///
/// ```
/// swiftport-persistent-reservations 1
/// generation 7
/// registration 00000000000000AB 1 iqn.2024-01.test:a,i,0x400001370001
/// reservation 3 1 iqn.2024-01.test:a,i,0x400001370001
/// ```
/// The target port is a decimal RELATIVE TARGET PORT IDENTIFIER or `*` (ALL_TG_PT);
/// the initiator name comes last because it is the only free-form field.
extension PersistentReservations {
    /// First line of the format; a file with any other header is ignored.
    static let serializationHeader = "swiftport-persistent-reservations 1"

    /// The state as text.
    var serialized: String {
        var lines = [Self.serializationHeader, "generation \(generation)"]
        for registration in registrations {
            let key = String(registration.key, radix: 16, uppercase: true)
            lines.append("registration \(String(repeating: "0", count: 16 - key.count) + key) \(Self.field(registration.registrant))")
        }
        if let reservation {
            lines.append("reservation \(reservation.type.rawValue) \(Self.field(reservation.holder))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses ``serialized`` text; nil when it is not in this format. A restored state
    /// has APTPL set, since only such states are saved.
    init?(serialized text: String) {
        let lines = text.split(separator: "\n").map(String.init)
        guard lines.first == Self.serializationHeader else { return nil }
        var generation: UInt32 = 0
        var registrations: [Registration] = []
        var reservation: Reservation?
        for line in lines.dropFirst() {
            let words = line.split(separator: " ", maxSplits: 3).map(String.init)
            switch (words.first, words.count) {
            case ("generation", 2):
                guard let value = UInt32(words[1]) else { return nil }
                generation = value
            case ("registration", 4):
                guard let key = UInt64(words[1], radix: 16), let registrant = Self.registrant(port: words[2], name: words[3])
                else { return nil }
                registrations.append(Registration(registrant: registrant, key: key))
            case ("reservation", 4):
                guard let raw = UInt8(words[1]), let type = PersistentReservationType(rawValue: raw),
                      let holder = Self.registrant(port: words[2], name: words[3])
                else { return nil }
                reservation = Reservation(holder: holder, type: type)
            default:
                return nil
            }
        }
        self.init(generation: generation, registrations: registrations, reservation: reservation, persistThroughPowerLoss: true)
    }

    static func field(_ registrant: Registrant) -> String {
        "\(registrant.relativeTargetPort.map(String.init) ?? "*") \(registrant.initiator.name)"
    }

    static func registrant(port: String, name: String) -> Registrant? {
        guard name.isEmpty == false else { return nil }
        if port == "*" { return Registrant(initiator: ISCSITransportIdentifier(name: name), relativeTargetPort: nil) }
        guard let number = UInt16(port) else { return nil }
        return Registrant(initiator: ISCSITransportIdentifier(name: name), relativeTargetPort: number)
    }
}

extension PersistentReservations.Notice {
    /// The three unit attentions a reservation change establishes (SPC-4 §5.12.11),
    /// by the names ``ReservationChange`` text gives them.
    private static let conditionNames: [(SenseCondition, String)] = [
        (.reservationsPreempted, "reservations-preempted"),
        (.reservationsReleased, "reservations-released"),
        (.registrationsPreempted, "registrations-preempted"),
    ]

    /// One `notice CONDITION PORT INITIATOR` line per registrant.
    var serializedLines: [String] {
        guard let name = Self.conditionNames.first(where: { $0.0 == condition })?.1 else { return [] }
        return registrants.map { "notice \(name) \(PersistentReservations.field($0))" }
    }

    /// A notice for the one registrant of a ``serializedLines`` line.
    init?(serializedLine line: String) {
        let words = line.split(separator: " ", maxSplits: 3).map(String.init)
        guard words.count == 4, words[0] == "notice",
              let condition = Self.conditionNames.first(where: { $0.1 == words[1] })?.0,
              let registrant = PersistentReservations.registrant(port: words[2], name: words[3])
        else { return nil }
        self.init(condition: condition, registrants: [registrant])
    }
}
