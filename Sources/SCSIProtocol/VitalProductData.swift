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

    /// Block Limits (SBC-3 §6.5.3): PAGE LENGTH 3Ch. WSNZ is set because WRITE SAME
    /// with NUMBER OF LOGICAL BLOCKS 0 ("to the end of the medium") is not supported.
    public static func blockLimits(_ limits: BlockLimits, peripheral: PeripheralDevice) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: 0x3C)
        payload[0] = 0x01  // WSNZ
        payload[1] = 0  // MAXIMUM COMPARE AND WRITE LENGTH: not supported
        payload.replaceSubrange(2..<4, with: limits.optimalTransferLengthGranularity.bigEndianBytes)
        payload.replaceSubrange(4..<8, with: limits.maximumTransferLength.bigEndianBytes)
        payload.replaceSubrange(8..<12, with: limits.optimalTransferLength.bigEndianBytes)
        payload.replaceSubrange(16..<20, with: limits.maximumUnmapLBACount.bigEndianBytes)
        payload.replaceSubrange(20..<24, with: limits.maximumUnmapBlockDescriptorCount.bigEndianBytes)
        payload.replaceSubrange(32..<40, with: limits.maximumWriteSameLength.bigEndianBytes)
        return page(.blockLimits, peripheral: peripheral, payload: payload)
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
