/// The PERSISTENT RESERVE OUT parameter list (SPC-4 §6.16.4): the basic 24-byte form
/// with optional SPEC_I_PT TransportIDs (table 212), or the REGISTER AND MOVE form
/// (§6.16.5, table 215).
public struct PersistentReserveOutParameterList: Hashable, Sendable {
    /// Length of the basic parameter list, also the fixed part of both forms.
    public static let basicLength = 24

    /// RESERVATION KEY.
    public var reservationKey: UInt64
    /// SERVICE ACTION RESERVATION KEY.
    public var serviceActionReservationKey: UInt64
    /// SPEC_I_PT: register the initiator ports in ``transportIdentifiers`` too.
    public var specifyInitiatorPorts: Bool
    /// ALL_TG_PT: register through every target port.
    public var allTargetPorts: Bool
    /// APTPL: keep registrations and the reservation across power loss.
    public var activatePersistThroughPowerLoss: Bool
    /// REGISTER AND MOVE: UNREG, release the issuer's registration after the move.
    public var unregister: Bool
    /// REGISTER AND MOVE: the RELATIVE TARGET PORT IDENTIFIER of the destination.
    public var relativeTargetPortIdentifier: UInt16
    /// SPEC_I_PT TransportIDs, or the REGISTER AND MOVE destination.
    public var transportIdentifiers: [ISCSITransportIdentifier]
    /// The parameter list offset of each of ``transportIdentifiers``, for field pointers.
    public var transportIdentifierOffsets: [Int]

    /// Decodes `list`. The basic form must be exactly 24 bytes unless SPEC_I_PT is set
    /// (SPC-4 §6.16.4: otherwise PARAMETER LIST LENGTH ERROR); SPEC_I_PT and REGISTER
    /// AND MOVE carry a TRANSPORTID PARAMETER DATA LENGTH at byte 24 or 20.
    public static func parse(_ list: [UInt8], registerAndMove: Bool) throws(SenseData) -> Self {
        guard list.count >= basicLength else { throw SenseData(.parameterListLengthError) }
        let fields = CommandDescriptorBlock(list)
        var parsed = Self(
            reservationKey: fields.field(at: 0, width: 8), serviceActionReservationKey: fields.field(at: 8, width: 8),
            specifyInitiatorPorts: false, allTargetPorts: false, activatePersistThroughPowerLoss: false,
            unregister: false, relativeTargetPortIdentifier: 0, transportIdentifiers: [],
            transportIdentifierOffsets: [])
        let lengthOffset: Int
        if registerAndMove {
            parsed.unregister = fields.bit(1, ofByte: 17)
            parsed.activatePersistThroughPowerLoss = fields.bit(0, ofByte: 17)
            parsed.relativeTargetPortIdentifier = UInt16(fields.field(at: 18, width: 2))
            lengthOffset = 20
        } else {
            parsed.specifyInitiatorPorts = fields.bit(3, ofByte: 20)
            parsed.allTargetPorts = fields.bit(2, ofByte: 20)
            parsed.activatePersistThroughPowerLoss = fields.bit(0, ofByte: 20)
            guard parsed.specifyInitiatorPorts else {
                guard list.count == basicLength else { throw SenseData(.parameterListLengthError) }
                return parsed
            }
            lengthOffset = 24
        }
        guard list.count >= lengthOffset + 4 else { throw SenseData(.parameterListLengthError) }
        let dataLength = Int(fields.field(at: lengthOffset, width: 4))
        let end = lengthOffset + 4 + dataLength
        guard end <= list.count else { throw SenseData(.parameterListLengthError) }
        var offset = lengthOffset + 4
        let body = Array(list[..<end])
        while offset < end {
            let (identifier, length) = try ISCSITransportIdentifier.parse(body, at: offset)
            parsed.transportIdentifiers.append(identifier)
            parsed.transportIdentifierOffsets.append(offset)
            offset += length
        }
        if registerAndMove && parsed.transportIdentifiers.count != 1 {
            throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: lengthOffset))
        }
        return parsed
    }
}
