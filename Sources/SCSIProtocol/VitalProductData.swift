/// Builders for the VPD pages (SPC-4 §7.8, SBC-3 §6.5). Each returns the whole page;
/// the caller truncates to the ALLOCATION LENGTH.
public enum VitalProductData {
    /// The common 4-byte page header (SPC-4 §7.8.1): device, page code, PAGE LENGTH.
    public static func page(_ code: VitalProductDataPageCode, peripheral: PeripheralDevice, payload: [UInt8]) -> [UInt8] {
        [peripheral.rawValue, code.rawValue] + UInt16(payload.count).bigEndianBytes + payload
    }

    /// Supported VPD Pages (SPC-4 §7.8.16): the page codes in ascending order.
    public static func supportedPages(_ codes: [VitalProductDataPageCode], peripheral: PeripheralDevice) -> [UInt8] {
        page(.supportedPages, peripheral: peripheral, payload: codes.sorted().map(\.rawValue))
    }

    /// Unit Serial Number (SPC-4 §7.8.18): PRODUCT SERIAL NUMBER in ASCII.
    public static func unitSerialNumber(_ serial: String, peripheral: PeripheralDevice) -> [UInt8] {
        page(.unitSerialNumber, peripheral: peripheral, payload: serial.spacePadded(to: serial.utf8.count))
    }

    /// Device Identification (SPC-4 §7.8.6): the designation descriptors in order.
    public static func deviceIdentification(_ descriptors: [DesignationDescriptor], peripheral: PeripheralDevice) -> [UInt8] {
        page(.deviceIdentification, peripheral: peripheral, payload: descriptors.flatMap(\.bytes))
    }

    /// Block Limits (SBC-3 §6.5.3): PAGE LENGTH 3Ch. WSNZ is clear: WRITE SAME with
    /// NUMBER OF LOGICAL BLOCKS 0 writes to the end of the medium.
    public static func blockLimits(_ limits: BlockLimits, peripheral: PeripheralDevice) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: blockLimitsPageLength)
        payload[1] = limits.maximumCompareAndWriteLength
        payload.replaceSubrange(2..<4, with: limits.optimalTransferLengthGranularity.bigEndianBytes)
        payload.replaceSubrange(4..<8, with: limits.maximumTransferLength.bigEndianBytes)
        payload.replaceSubrange(8..<12, with: limits.optimalTransferLength.bigEndianBytes)
        payload.replaceSubrange(16..<20, with: limits.maximumUnmapLBACount.bigEndianBytes)
        payload.replaceSubrange(20..<24, with: limits.maximumUnmapBlockDescriptorCount.bigEndianBytes)
        payload.replaceSubrange(32..<40, with: limits.maximumWriteSameLength.bigEndianBytes)
        return page(.blockLimits, peripheral: peripheral, payload: payload)
    }

    /// Extended INQUIRY Data (SPC-4 §7.8.7), PAGE LENGTH 3Ch: no protection
    /// information; HEADSUP, ORDSUP and SIMPSUP (every task attribute is accepted and
    /// handled as SIMPLE, SAM-5 §8.6); V_SUP when a volatile cache may exist; LUICLR:
    /// unit attentions are kept and cleared per I_T nexus (SAM-5 §5.14).
    public static func extendedInquiry(volatileCache: Bool, peripheral: PeripheralDevice) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: 0x3C)
        payload[1] = 0x04 | 0x02 | 0x01  // HEADSUP ORDSUP SIMPSUP
        payload[2] = volatileCache ? 0x01 : 0x00  // V_SUP
        payload[3] = 0x01  // LUICLR
        return page(.extendedInquiry, peripheral: peripheral, payload: payload)
    }

    /// Third-party Copy (SPC-4 §7.8.17) for a copy manager that implements only the
    /// LID1 EXTENDED COPY and RECEIVE COPY RESULTS: a Supported Commands descriptor
    /// (0001h), a Parameter Data descriptor (0008h) and a Supported Descriptors
    /// descriptor (0004h).
    public static func thirdPartyCopy(_ parameters: CopyManagerParameters, peripheral: PeripheralDevice) -> [UInt8] {
        /// One third-party copy descriptor: type, length, body padded to four bytes.
        func descriptor(_ type: UInt16, _ body: [UInt8]) -> [UInt8] {
            let padded = body + [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
            return type.bigEndianBytes + UInt16(padded.count).bigEndianBytes + padded
        }
        let commands = parameters.supportedCommands.flatMap { [$0.operationCode, UInt8($0.serviceActions.count)] + $0.serviceActions }
        let supportedCommands = descriptor(0x0001, [UInt8(commands.count)] + commands)
        var limits: [UInt8] = [0, 0]
        limits += parameters.maximumTargetDescriptorCount.bigEndianBytes
        limits += parameters.maximumSegmentDescriptorCount.bigEndianBytes
        limits += parameters.maximumDescriptorListLength.bigEndianBytes
        limits += parameters.maximumSegmentLength.bigEndianBytes
        limits += [UInt8](repeating: 0, count: 4 + 4 + 4 + 2)  // inline, held data, stream size, reserved
        limits += parameters.totalConcurrentCopies.bigEndianBytes
        limits += [UInt8(clamping: parameters.totalConcurrentCopies), parameters.dataSegmentGranularityLog2, 0, 0]
        let parameterData = descriptor(0x0008, limits)
        let codes = parameters.implementedDescriptorTypeCodes
        let supportedDescriptors = descriptor(0x0004, [UInt8(codes.count)] + codes)
        return page(.thirdPartyCopy, peripheral: peripheral, payload: supportedCommands + parameterData + supportedDescriptors)
    }

    /// Block Device Characteristics (SBC-3 §6.5.2): MEDIUM ROTATION RATE 0001h,
    /// non-rotating medium, so hosts pick SSD-friendly I/O schedulers.
    public static func blockDeviceCharacteristics(peripheral: PeripheralDevice) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: 0x3C)
        payload.replaceSubrange(0..<2, with: UInt16(1).bigEndianBytes)
        return page(.blockDeviceCharacteristics, peripheral: peripheral, payload: payload)
    }

    /// Logical Block Provisioning (SBC-3 §6.5.13), no provisioning group descriptor.
    /// LBPU: UNMAP supported; LBPWS/LBPWS10: WRITE SAME(16)/(10) with UNMAP supported;
    /// LBPRZ: unmapped blocks read as zeros; PROVISIONING TYPE 010b: thin.
    public static func logicalBlockProvisioning(
        unmap: Bool, writeSameUnmap: Bool, readsZerosAfterUnmap: Bool, peripheral: PeripheralDevice
    ) -> [UInt8] {
        var flags: UInt8 = 0
        if unmap { flags |= 0x80 }
        if writeSameUnmap { flags |= 0x40 | 0x20 }
        if readsZerosAfterUnmap { flags |= 0x04 }
        let provisioningType: UInt8 = unmap ? 0x02 : 0x00
        return page(.logicalBlockProvisioning, peripheral: peripheral, payload: [0, flags, provisioningType, 0])
    }
}
