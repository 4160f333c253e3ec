/// One target port group descriptor of REPORT TARGET PORT GROUPS (SPC-4 §6.27.2,
/// table 169): the asymmetric access state of a logical unit through one group of
/// target ports. The device server writes it; an initiator (the DSM) reads it and
/// tracks ``groupID``, ``state`` and ``preferred`` per path.
public struct TargetPortGroupStatus: Hashable, Sendable {
    /// The length-only header: RETURN DATA LENGTH (SPC-4 table 167).
    static let lengthOnlyHeaderLength = 4
    /// The extended header: RETURN DATA LENGTH, FORMAT TYPE 001b, IMPLICIT TRANSITION
    /// TIME (SPC-4 table 168).
    static let extendedHeaderLength = 8
    /// FORMAT TYPE 001b in byte 4 bits 6..4 of the extended header; the same bits of a
    /// descriptor's first byte are reserved, which is how a reader tells the formats
    /// apart, as sg_rtpg does.
    static let extendedFormatType: UInt8 = 0x10
    /// A descriptor without its relative target port identifiers.
    static let descriptorHeaderLength = 8

    /// TARGET PORT GROUP (also VPD 0x83 designator type 5 on each path).
    public var groupID: UInt16
    /// ASYMMETRIC ACCESS STATE.
    public var state: AsymmetricAccessState
    /// PREF: the target's hint that this group should carry I/O when it is active.
    public var preferred: Bool
    /// Byte 1: T_SUP ... AO_SUP, a ``AsymmetricAccessState/supportBit`` per state the
    /// group can be in.
    public var supportedStates: UInt8
    /// STATUS CODE (SPC-4 table 172): what last changed the state (00h none,
    /// 01h SET TARGET PORT GROUPS, 02h implicit).
    public var statusCode: UInt8
    /// RELATIVE TARGET PORT IDENTIFIER of each port in the group.
    public var relativeTargetPortIdentifiers: [UInt16]

    public init(
        groupID: UInt16, state: AsymmetricAccessState, preferred: Bool = false, supportedStates: UInt8 = 0,
        statusCode: UInt8 = 0, relativeTargetPortIdentifiers: [UInt16] = []
    ) {
        self.groupID = groupID
        self.state = state
        self.preferred = preferred
        self.supportedStates = supportedStates
        self.statusCode = statusCode
        self.relativeTargetPortIdentifiers = relativeTargetPortIdentifiers
    }

    /// The descriptor; at most 255 ports (TARGET PORT COUNT is one byte).
    public var bytes: [UInt8] {
        let ports = relativeTargetPortIdentifiers.prefix(Int(UInt8.max))
        return [(preferred ? 0x80 : 0) | state.rawValue, supportedStates] + groupID.bigEndianBytes
            + [0, statusCode, 0, UInt8(ports.count)]
            + ports.flatMap { [0, 0] + $0.bigEndianBytes }
    }

    /// REPORT TARGET PORT GROUPS parameter data: the length-only header, or with an
    /// IMPLICIT TRANSITION TIME the extended one (SPC-4 §6.27.2). RETURN DATA LENGTH
    /// counts every byte after itself in both formats, as sg_rtpg and Linux's
    /// scsi_dh_alua read it.
    public static func reportTargetPortGroupsParameterData(
        _ groups: [TargetPortGroupStatus], implicitTransitionTime: UInt8? = nil
    ) -> [UInt8] {
        let header: [UInt8] = implicitTransitionTime.map { [extendedFormatType, $0, 0, 0] } ?? []
        let descriptors = groups.flatMap(\.bytes)
        return UInt32(header.count + descriptors.count).bigEndianBytes + header + descriptors
    }

    /// The descriptors of REPORT TARGET PORT GROUPS parameter data in either format.
    ///
    /// - Throws: ``SCSIProtocolError`` `truncated` without the header or when RETURN
    ///   DATA LENGTH runs past the data, `malformed` for a descriptor cut short or a
    ///   reserved ASYMMETRIC ACCESS STATE.
    public static func list(decodingReportTargetPortGroups bytes: [UInt8]) throws(SCSIProtocolError) -> [TargetPortGroupStatus] {
        try SCSIProtocolError.require(lengthOnlyHeaderLength, of: bytes.count, in: "REPORT TARGET PORT GROUPS data")
        let end = lengthOnlyHeaderLength + Int(bytes[0..<4].bigEndianValue)
        try SCSIProtocolError.require(end, of: bytes.count, in: "REPORT TARGET PORT GROUPS data")
        var offset = lengthOnlyHeaderLength
        if end >= extendedHeaderLength, bytes[4] & 0x70 == extendedFormatType { offset = extendedHeaderLength }
        var groups: [TargetPortGroupStatus] = []
        while offset < end {
            guard offset + descriptorHeaderLength <= end,
                  offset + descriptorHeaderLength + 4 * Int(bytes[offset + 7]) <= end
            else {
                throw SCSIProtocolError(.malformed, "a target port group descriptor at byte \(offset) runs past the data")
            }
            guard let state = AsymmetricAccessState(rawValue: bytes[offset] & 0x0F) else {
                throw SCSIProtocolError(.malformed, "reserved asymmetric access state 0x\(String(bytes[offset] & 0x0F, radix: 16)) at byte \(offset)")
            }
            let ports = stride(from: offset + descriptorHeaderLength, to: offset + descriptorHeaderLength + 4 * Int(bytes[offset + 7]), by: 4)
                .map { UInt16(bytes[($0 + 2)..<($0 + 4)].bigEndianValue) }
            groups.append(
                TargetPortGroupStatus(
                    groupID: UInt16(bytes[(offset + 2)..<(offset + 4)].bigEndianValue), state: state,
                    preferred: bytes[offset] & 0x80 != 0, supportedStates: bytes[offset + 1], statusCode: bytes[offset + 5],
                    relativeTargetPortIdentifiers: ports))
            offset += descriptorHeaderLength + 4 * ports.count
        }
        return groups
    }
}
