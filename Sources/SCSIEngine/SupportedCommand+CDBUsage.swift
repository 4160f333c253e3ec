import SCSIProtocol

/// The CDB usage data REPORT SUPPORTED OPERATION CODES returns for a row.
extension SupportedCommand {
    /// CDB USAGE DATA (SPC-4 §6.35.3): the operation code, the service action in its
    /// field, every other bit usable except in the CONTROL byte, where NACA and LINK
    /// are not supported.
    var cdbUsageData: [UInt8] {
        let length = operationCode.cdbLength ?? 16
        var usage = [operationCode.rawValue] + [UInt8](repeating: 0xFF, count: length - 2) + [0x00]
        if let serviceAction { usage[1] = 0xE0 | serviceAction }
        return usage
    }
}
