import SCSIProtocol

/// Who a persistent reservation registration belongs to (SPC-4 §5.12.7): an initiator
/// port, or with an iSCSI name-only TransportID every port of that initiator, through
/// one target port, or through every target port when ALL_TG_PT was set.
struct Registrant: Hashable, Sendable {
    /// The initiator port name ("name,i,0xISID") or bare iSCSI name.
    var initiator: ISCSITransportIdentifier
    /// The RELATIVE TARGET PORT IDENTIFIER, or nil for all target ports (ALL_TG_PT).
    var relativeTargetPort: UInt16?

    /// The registrant for exactly `nexus`, or its initiator port through every target
    /// port when `allTargetPorts` is set.
    init(_ nexus: ITNexus, allTargetPorts: Bool = false) {
        self.initiator = ISCSITransportIdentifier(name: nexus.initiatorPortName)
        self.relativeTargetPort = allTargetPorts ? nil : nexus.relativeTargetPortIdentifier
    }

    init(initiator: ISCSITransportIdentifier, relativeTargetPort: UInt16?) {
        self.initiator = initiator
        self.relativeTargetPort = relativeTargetPort
    }

    /// Whether commands on `nexus` act for this registrant. iSCSI names compare
    /// without regard to case (RFC 7143 §4.2.7.2: names are normalised to lower case).
    func matches(_ nexus: ITNexus) -> Bool {
        if let relativeTargetPort, relativeTargetPort != nexus.relativeTargetPortIdentifier { return false }
        let port = nexus.initiatorPortName.lowercased()
        let wanted = initiator.name.lowercased()
        if initiator.isPortName { return port == wanted }
        return port == wanted || port.hasPrefix(wanted + ISCSITransportIdentifier.isidSeparator)
    }
}
