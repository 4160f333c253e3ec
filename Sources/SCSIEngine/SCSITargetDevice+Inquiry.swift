import SCSIProtocol

/// INQUIRY (SPC-4 §6.6) and the vital product data pages (SPC-4 §7.8, SBC-3 §6.5).
extension SCSITargetDevice {
    /// Standard data when EVPD = 0, else the VPD page in PAGE CODE. A LUN with no
    /// logical unit answers with PERIPHERAL QUALIFIER 011b (SPC-4 §6.6.2).
    func inquiry(_ context: CommandContext, _ unit: LogicalUnit?) async throws(SenseData) -> SCSICommandResult {
        let cdb = context.cdb
        // CMDDT (byte 1 bit 1) is obsolete since SPC-3: a device server rejects it.
        if cdb.bit(1, ofByte: 1) {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 1, bit: 1))
        }
        let evpd = cdb.bit(0, ofByte: 1)
        let pageCode = VitalProductDataPageCode(rawValue: cdb[2])
        // PAGE CODE must be zero when EVPD is zero (SPC-4 §6.6.1).
        guard evpd || pageCode.rawValue == 0 else {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 2))
        }
        let data: [UInt8]
        switch (unit, evpd) {
        case (nil, false):
            data = StandardInquiryData(peripheral: .notSupported, vendor: "", product: "", revision: "").bytes
        case (nil, true):
            data = VitalProductData.page(pageCode, peripheral: .notSupported, payload: [])
        case (let unit?, false):
            let descriptor = unit.descriptor
            var standard = StandardInquiryData(
                peripheral: .directAccessBlockDevice, vendor: descriptor.vendor, product: descriptor.product,
                revision: descriptor.revision)
            standard.thirdPartyCopy = true  // 3PC: EXTENDED COPY (SPC-4 §6.6.2)
            standard.targetPortGroupSupport = targetPortGroupSupport  // TPGS: ALUA (SPC-4 §5.15)
            data = standard.bytes
        case (let unit?, true):
            data = try vitalProductData(pageCode, unit: unit, nexus: context.nexus)
        }
        return .good(data, allocationLength: cdb.allocationLength)
    }

    /// The VPD pages this device server returns for `unit`, in ascending order. The
    /// Logical Block Provisioning page is only listed when the backend can unmap.
    static func supportedVitalProductDataPages(for unit: LogicalUnit) -> [VitalProductDataPageCode] {
        var pages: [VitalProductDataPageCode] = [
            .supportedPages, .unitSerialNumber, .deviceIdentification, .extendedInquiry, .thirdPartyCopy, .blockLimits,
            .blockDeviceCharacteristics,
        ]
        if unit.isThinProvisioned { pages.append(.logicalBlockProvisioning) }
        return pages
    }

    private func vitalProductData(
        _ pageCode: VitalProductDataPageCode, unit: LogicalUnit, nexus: ITNexus
    ) throws(SenseData) -> [UInt8] {
        let peripheral = PeripheralDevice.directAccessBlockDevice
        let supported = Self.supportedVitalProductDataPages(for: unit)
        guard supported.contains(pageCode) else {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 2))
        }
        switch pageCode {
        case .supportedPages:
            return VitalProductData.supportedPages(supported, peripheral: peripheral)
        case .unitSerialNumber:
            return VitalProductData.unitSerialNumber(unit.descriptor.serial, peripheral: peripheral)
        case .deviceIdentification:
            // Logical unit identity first, then the port the command came through, then
            // the target device: what dm-multipath and MSDSM group paths by.
            return VitalProductData.deviceIdentification(
                [
                    .naa(unit.descriptor.naaIdentifier),
                    .relativeTargetPort(nexus.relativeTargetPortIdentifier),
                    .targetPortGroup(nexus.targetPortGroup),
                    .scsiNameString(targetName, association: .targetDevice),
                ], peripheral: peripheral)
        case .extendedInquiry:
            return VitalProductData.extendedInquiry(volatileCache: unit.writeCacheEnabled, peripheral: peripheral)
        case .thirdPartyCopy:
            return VitalProductData.thirdPartyCopy(Self.copyManager, peripheral: peripheral)
        case .blockLimits:
            return VitalProductData.blockLimits(unit.limits, peripheral: peripheral)
        case .blockDeviceCharacteristics:
            return VitalProductData.blockDeviceCharacteristics(peripheral: peripheral)
        default:  // .logicalBlockProvisioning, listed only when the backend can unmap
            return VitalProductData.logicalBlockProvisioning(
                unmap: true, writeSameUnmap: true, readsZerosAfterUnmap: true, peripheral: peripheral)
        }
    }
}
