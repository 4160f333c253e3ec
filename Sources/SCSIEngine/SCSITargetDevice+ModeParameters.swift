import BlockStorage
import Logging
import NIOCore
import SCSIProtocol

/// MODE SENSE(6/10) (SPC-4 §6.11, §6.12) and MODE SELECT(6/10) (SPC-4 §6.9, §6.10)
/// over the caching (SBC-3 §6.4.5), control (SPC-4 §7.5.8) and informational
/// exceptions (SPC-4 §7.5.14) mode pages.
extension SCSITargetDevice {
    /// The pages we implement, in ascending page code order ("all pages" order).
    static let implementedModePages: [ModePage.Code] = [.caching, .control, .informationalExceptions]

    /// PAGE CONTROL (SPC-4 table 181).
    enum PageControl: UInt8 {
        case current = 0
        case changeable = 1
        case `default` = 2
        case saved = 3
    }

    func modeSense(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        let cdb = context.cdb
        let format: ModeParameterList.Format = cdb.operationCode == .modeSense6 ? .six : .ten
        let disableBlockDescriptors = cdb.bit(3, ofByte: 1)
        let longLBAAccepted = format == .ten && cdb.bit(4, ofByte: 1)  // LLBAA
        let pageControl = PageControl(rawValue: cdb[2] >> 6) ?? .current
        let pageCode = ModePage.Code(rawValue: cdb[2] & 0x3F)
        let subpage = cdb[3]
        if pageControl == .saved {
            throw SenseData(.savingParametersNotSupported, field: FieldPointer(.cdb, byte: 2, bit: 7))
        }
        let codes: [ModePage.Code]
        switch (pageCode, subpage) {
        case (.allPages, 0x00), (.allPages, 0xFF):
            codes = Self.implementedModePages
        case (_, 0x00) where Self.implementedModePages.contains(pageCode):
            codes = [pageCode]
        case (_, 0x00):
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 2, bit: 5))
        default:
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 3))
        }
        let pages = codes.compactMap { modePage($0, control: pageControl, unit: unit) }
        let blockCount = unit.geometry.blockCount
        let list = ModeParameterList(
            format: format, writeProtected: unit.descriptor.readOnly,
            blockDescriptor: disableBlockDescriptors
                ? nil
                : .init(blockCount: blockCount, blockLength: UInt32(unit.blockSize)),
            longLBA: longLBAAccepted && blockCount > UInt64(UInt32.max),
            pages: pages)
        return .good(list.bytes, allocationLength: cdb.allocationLength)
    }

    /// Accepts a parameter list whose pages differ from the current values only in
    /// changeable bits (WCE), applies it, and raises MODE PARAMETERS CHANGED for the
    /// other I_T nexuses (SPC-4 §6.9). SP = 1 asks us to save, which we cannot.
    func modeSelect(_ context: CommandContext, _ unit: LogicalUnit) async throws(SenseData) -> SCSICommandResult {
        let cdb = context.cdb
        let format: ModeParameterList.Format = cdb.operationCode == .modeSelect6 ? .six : .ten
        if cdb.bit(0, ofByte: 1) {
            throw SenseData(.invalidFieldInCDB, field: FieldPointer(.cdb, byte: 1, bit: 0))
        }
        let length = cdb.allocationLength
        guard length > 0 else { return SCSICommandResult(status: .good, dataOutLengthUsed: 0) }
        let data = try dataOut(context, byteCount: length)
        let received = try ModeParameterList.parse(Array(data.readableBytesView), format: format)
        if let descriptor = received.blockDescriptors.first,
           descriptor.blockLength != UInt32(unit.blockSize) {
            throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: format.headerLength))
        }
        var writeCacheEnabled = unit.writeCacheEnabled
        var descriptorSense = unit.descriptorSense
        for received in received.pages {
            try validate(received, against: unit)
            switch received.page.code {
            case .caching: writeCacheEnabled = received.page.parameters[0] & 0x04 != 0
            case .control: descriptorSense = received.page.parameters[0] & ModePage.descriptorSenseBit != 0
            default: break
            }
        }
        let changed = unit.setModeParameters(writeCacheEnabled: writeCacheEnabled, descriptorSense: descriptorSense)
        if changed {
            unit.withState { $0.unitAttentions.establish(.modeParametersChanged, except: context.nexus) }
            logger.info(
                "mode parameters changed",
                metadata: ["lun": "\(unit.number)", "wce": "\(writeCacheEnabled)", "d_sense": "\(descriptorSense)"])
            if writeCacheEnabled == false {
                // Writes acknowledged while WCE was 1 must not stay volatile now that
                // the initiator has been told there is no write cache.
                try await flush(unit)
            }
        }
        return SCSICommandResult(status: .good, dataOutLengthUsed: length)
    }

    /// Checks one received page against the current one under the changeable mask.
    /// Unknown pages, wrong lengths and changes to unchangeable bits are INVALID FIELD
    /// IN PARAMETER LIST (SPC-4 §6.9).
    private func validate(_ received: ModeParameterList.ReceivedPage, against unit: LogicalUnit) throws(SenseData) {
        let code = received.page.code
        guard let current = modePage(code, control: .current, unit: unit),
              let mask = ModePage.changeableMask(for: code)
        else {
            throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: received.offset))
        }
        guard received.page.parameters.count == current.parameters.count else {
            throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: received.offset + 1))
        }
        for (index, (new, old)) in zip(received.page.parameters, current.parameters).enumerated()
        where (new ^ old) & ~mask.parameters[index] != 0 {
            throw SenseData(.invalidFieldInParameterList, field: FieldPointer(.parameterList, byte: received.offset + 2 + index))
        }
    }

    /// A page's values for PAGE CONTROL current, changeable or default.
    private func modePage(_ code: ModePage.Code, control: PageControl, unit: LogicalUnit) -> ModePage? {
        if control == .changeable { return ModePage.changeableMask(for: code) }
        switch code {
        case .caching:
            return .caching(writeCacheEnabled: control == .current ? unit.writeCacheEnabled : unit.descriptor.writeCacheEnabled)
        case .control:
            return .control(descriptorSense: control == .current && unit.descriptorSense)
        case .informationalExceptions:
            return .informationalExceptions
        default:
            return nil
        }
    }
}
