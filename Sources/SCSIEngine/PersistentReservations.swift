import SCSIProtocol

/// The persistent reservation state of one logical unit (SPC-4 §5.12) and the
/// PERSISTENT RESERVE OUT service actions over it (SPC-4 §5.12.7-§5.12.11, §6.16).
///
/// A pure value: every service action returns an ``Outcome`` saying whether the
/// command conflicts and which unit attentions the device server must establish; the
/// caller holds the logical unit's lock and carries them out.
struct PersistentReservations: Hashable, Sendable {
    /// One registration: a registrant and its reservation key.
    struct Registration: Hashable, Sendable {
        var registrant: Registrant
        var key: UInt64
    }

    /// The persistent reservation: established through `holder`'s registration.
    /// For all-registrants types every registration holds it (SPC-4 §5.12.10).
    struct Reservation: Hashable, Sendable {
        var holder: Registrant
        var type: PersistentReservationType
    }

    /// A unit attention to establish for every I_T nexus of `registrants`, except the
    /// nexus the command came on (SPC-4 §5.12.11).
    struct Notice: Hashable, Sendable {
        var condition: SenseCondition
        var registrants: [Registrant]
    }

    /// What a service action did.
    enum Outcome: Hashable, Sendable {
        /// RESERVATION CONFLICT status; nothing changed.
        case conflict
        /// GOOD; establish `notices`. `changed` says whether the state must be saved.
        case completed(notices: [Notice], changed: Bool)

        static let unchanged = Outcome.completed(notices: [], changed: false)
        static let changed = Outcome.completed(notices: [], changed: true)
    }

    /// The PERSISTENT RESERVE OUT service actions (SPC-4 §6.16.2, table 209).
    enum ServiceAction: UInt8, CaseIterable, Sendable {
        case register = 0x00
        case reserve = 0x01
        case release = 0x02
        case clear = 0x03
        case preempt = 0x04
        case preemptAndAbort = 0x05
        case registerAndIgnoreExistingKey = 0x06
        case registerAndMove = 0x07
    }

    /// PRGENERATION: bumped by every REGISTER, REGISTER AND IGNORE EXISTING KEY,
    /// CLEAR, PREEMPT, PREEMPT AND ABORT and REGISTER AND MOVE that changes the
    /// registrations, never by RESERVE or RELEASE (SPC-4 §6.15.2).
    private(set) var generation: UInt32 = 0
    /// Registrations in the order they were made (READ KEYS order).
    private(set) var registrations: [Registration] = []
    private(set) var reservation: Reservation?
    /// APTPL of the last registration: the state survives a restart (SPC-4 §5.12.5).
    private(set) var persistThroughPowerLoss = false

    init() {}

    init(generation: UInt32, registrations: [Registration], reservation: Reservation?, persistThroughPowerLoss: Bool) {
        self.generation = generation
        self.registrations = registrations
        self.reservation = reservation
        self.persistThroughPowerLoss = persistThroughPowerLoss
    }

    // MARK: - Queries

    /// The registration commands on `nexus` act under, if any.
    func registration(of nexus: ITNexus) -> Registration? {
        registrations.first { $0.registrant.matches(nexus) }
    }

    /// Whether `nexus` holds the reservation (SPC-4 §5.12.10).
    func isHolder(_ nexus: ITNexus) -> Bool {
        guard let reservation, let registration = registration(of: nexus) else { return false }
        return reservation.type.isAllRegistrants || registration.registrant == reservation.holder
    }

    /// Whether a command with `access` from `nexus` conflicts with the reservation
    /// (SPC-4 §5.12.1 table 63, SBC-3 §4.17 table 13): holders and, under registrants
    /// only / all registrants types, every registrant pass; others are refused writes
    /// always and reads under Exclusive Access types.
    /// `access` must already be resolved for the command's CDB.
    func conflicts(_ nexus: ITNexus, access: ReservationAccess) -> Bool {
        guard let reservation, isHolder(nexus) == false else { return false }
        if reservation.type.admitsRegistrants && registration(of: nexus) != nil { return false }
        switch access {
        case .read: return reservation.type.excludesReaders
        case .write: return true
        default: return false
        }
    }

    // MARK: - Service actions

    /// Carries out `action` for a command received on `nexus` (SPC-4 §5.12.7-§5.12.11).
    /// `scopeAndType` is CDB byte 2: RESERVE, RELEASE, PREEMPT and PREEMPT AND ABORT
    /// need SCOPE 0h (LU_SCOPE) and a TYPE from table 210, else INVALID FIELD IN CDB.
    /// Field errors are thrown as sense data; conflicts come back as ``Outcome/conflict``.
    mutating func perform(
        _ action: ServiceAction, scopeAndType: UInt8, parameters: PersistentReserveOutParameterList,
        from nexus: ITNexus, maximumRegistrations: Int
    ) throws(SenseData) -> Outcome {
        switch action {
        case .register, .registerAndIgnoreExistingKey:
            return try register(parameters, from: nexus, ignoringKey: action == .registerAndIgnoreExistingKey,
                                maximumRegistrations: maximumRegistrations)
        case .registerAndMove:
            return try registerAndMove(parameters, from: nexus, maximumRegistrations: maximumRegistrations)
        case .reserve, .release, .clear, .preempt, .preemptAndAbort:
            // Every other service action needs a registered nexus with the right key
            // (SPC-4 §5.12.8, table 64: RESERVATION CONFLICT otherwise).
            guard let issuer = registration(of: nexus), issuer.key == parameters.reservationKey else { return .conflict }
            if action == .clear { return clear(by: issuer) }
            guard scopeAndType >> 4 == 0 else {
                throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 2, bit: 7))
            }
            guard let type = PersistentReservationType(rawValue: scopeAndType & 0x0F) else {
                throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 2, bit: 3))
            }
            switch action {
            case .reserve: return reserve(type, by: issuer)
            case .release: return try release(type, by: issuer, on: nexus)
            default: return try preempt(type, parameters.serviceActionReservationKey, by: issuer)
            }
        }
    }

    /// REGISTER and REGISTER AND IGNORE EXISTING KEY (SPC-4 §5.12.7).
    private mutating func register(
        _ parameters: PersistentReserveOutParameterList, from nexus: ITNexus, ignoringKey: Bool, maximumRegistrations: Int
    ) throws(SenseData) -> Outcome {
        let newKey = parameters.serviceActionReservationKey
        guard let index = registrations.firstIndex(where: { $0.registrant.matches(nexus) }) else {
            if ignoringKey == false && parameters.reservationKey != 0 { return .conflict }
            if ignoringKey && parameters.specifyInitiatorPorts {
                throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: 20, bit: 3))
            }
            guard newKey != 0 else { return .unchanged }
            var added = [Registration(registrant: Registrant(nexus, allTargetPorts: parameters.allTargetPorts), key: newKey)]
            for (identifier, offset) in zip(parameters.transportIdentifiers, parameters.transportIdentifierOffsets) {
                let registrant = Registrant(
                    initiator: identifier,
                    relativeTargetPort: parameters.allTargetPorts ? nil : nexus.relativeTargetPortIdentifier)
                // A named port that is already registered is an error, not a re-registration.
                if registrations.contains(where: { $0.registrant == registrant }) || added.contains(where: { $0.registrant == registrant }) {
                    throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: offset))
                }
                added.append(Registration(registrant: registrant, key: newKey))
            }
            guard registrations.count + added.count <= maximumRegistrations else {
                throw SenseData(.insufficientRegistrationResources)
            }
            registrations += added
            persistThroughPowerLoss = parameters.activatePersistThroughPowerLoss
            generation &+= 1
            return .changed
        }
        let current = registrations[index]
        if ignoringKey == false && parameters.reservationKey != current.key { return .conflict }
        if parameters.specifyInitiatorPorts {
            throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: 20, bit: 3))
        }
        generation &+= 1
        guard newKey == 0 else {
            registrations[index].key = newKey
            persistThroughPowerLoss = parameters.activatePersistThroughPowerLoss
            return .changed
        }
        registrations.remove(at: index)
        return .completed(notices: releaseIfHeld(by: current.registrant), changed: true)
    }

    /// After `registrant` unregistered: a reservation it held ends, unless it is an
    /// all-registrants reservation and registrants remain. Registrants-only and
    /// all-registrants reservations that end this way tell the remaining registrants
    /// RESERVATIONS RELEASED (SPC-4 §5.12.11.2.2).
    private mutating func releaseIfHeld(by registrant: Registrant) -> [Notice] {
        guard let held = reservation else { return [] }
        if held.type.isAllRegistrants {
            guard registrations.isEmpty else { return [] }
        } else if held.holder != registrant {
            return []
        }
        reservation = nil
        guard held.type.admitsRegistrants else { return [] }
        return [Notice(condition: .reservationsReleased, registrants: registrations.map(\.registrant))]
    }

    /// RESERVE (SPC-4 §5.12.9): a new reservation, or nothing when the issuer already
    /// holds one of the same type; anything else conflicts.
    private mutating func reserve(_ type: PersistentReservationType, by issuer: Registration) -> Outcome {
        if let held = reservation {
            let holds = held.type.isAllRegistrants || held.holder == issuer.registrant
            return holds && held.type == type ? .unchanged : .conflict
        }
        reservation = Reservation(holder: issuer.registrant, type: type)
        return .changed
    }

    /// RELEASE (SPC-4 §5.12.11.2): only the holder releases; a different TYPE is
    /// INVALID RELEASE OF PERSISTENT RESERVATION.
    private mutating func release(
        _ type: PersistentReservationType, by issuer: Registration, on nexus: ITNexus
    ) throws(SenseData) -> Outcome {
        guard let held = reservation, isHolder(nexus) else { return .unchanged }
        guard held.type == type else { throw SenseData(.invalidReleaseOfPersistentReservation) }
        reservation = nil
        guard held.type.admitsRegistrants else { return .changed }
        return .completed(
            notices: [Notice(condition: .reservationsReleased, registrants: registrations.map(\.registrant))], changed: true)
    }

    /// CLEAR (SPC-4 §5.12.11.3): every registration and the reservation go; the other
    /// registrants are told RESERVATIONS PREEMPTED.
    private mutating func clear(by issuer: Registration) -> Outcome {
        let others = registrations.map(\.registrant)
        registrations.removeAll()
        reservation = nil
        generation &+= 1
        return .completed(notices: [Notice(condition: .reservationsPreempted, registrants: others)], changed: true)
    }

    /// PREEMPT and PREEMPT AND ABORT (SPC-4 §5.12.11.4): remove the registrations
    /// with SERVICE ACTION RESERVATION KEY and, when they held the reservation (or it
    /// is all-registrants and the key is zero), take the reservation over with `type`.
    private mutating func preempt(
        _ type: PersistentReservationType, _ key: UInt64, by issuer: Registration
    ) throws(SenseData) -> Outcome {
        let preemptsReservation: Bool
        if let held = reservation {
            if held.type.isAllRegistrants {
                preemptsReservation = key == 0
            } else {
                preemptsReservation = registrations.contains { $0.registrant == held.holder && $0.key == key }
            }
        } else {
            preemptsReservation = false
        }
        if preemptsReservation == false && key == 0 {
            throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: 8))
        }
        let removed = registrations.filter {
            $0.registrant != issuer.registrant && (preemptsReservation && key == 0 ? true : $0.key == key)
        }
        // §5.12.11.4.3: a key that names no registration and no reservation conflicts.
        if removed.isEmpty && preemptsReservation == false { return .conflict }
        registrations.removeAll { removed.contains($0) }
        var notices = [Notice(condition: .registrationsPreempted, registrants: removed.map(\.registrant))]
        if preemptsReservation, let held = reservation {
            reservation = Reservation(holder: issuer.registrant, type: type)
            if held.type != type {
                // §5.12.11.4.3: a changed type releases the reservation for the registrants that remain.
                notices.append(Notice(condition: .reservationsReleased, registrants: registrations.map(\.registrant)))
            }
        }
        generation &+= 1
        return .completed(notices: notices, changed: true)
    }

    /// REGISTER AND MOVE (SPC-4 §5.12.8): the holder registers another initiator
    /// port (through the given target port) and hands it the reservation.
    private mutating func registerAndMove(
        _ parameters: PersistentReserveOutParameterList, from nexus: ITNexus, maximumRegistrations: Int
    ) throws(SenseData) -> Outcome {
        guard let issuer = registration(of: nexus), issuer.key == parameters.reservationKey,
              let held = reservation, held.type.isAllRegistrants == false, held.holder == issuer.registrant
        else { return .conflict }
        guard parameters.serviceActionReservationKey != 0 else {
            throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: 8))
        }
        let destination = Registrant(
            initiator: parameters.transportIdentifiers[0], relativeTargetPort: parameters.relativeTargetPortIdentifier)
        if destination == issuer.registrant || (destination.initiator.isPortName && destination.matches(nexus)) {
            throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: 24))
        }
        if let index = registrations.firstIndex(where: { $0.registrant == destination }) {
            registrations[index].key = parameters.serviceActionReservationKey
        } else {
            guard registrations.count < maximumRegistrations else { throw SenseData(.insufficientRegistrationResources) }
            registrations.append(Registration(registrant: destination, key: parameters.serviceActionReservationKey))
        }
        reservation = Reservation(holder: destination, type: held.type)
        if parameters.unregister {
            registrations.removeAll { $0.registrant == issuer.registrant }
        }
        persistThroughPowerLoss = parameters.activatePersistThroughPowerLoss
        generation &+= 1
        return .changed
    }
}
