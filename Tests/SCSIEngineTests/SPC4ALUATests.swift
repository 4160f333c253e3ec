import LUNBackends
import SCSIEngine
import SCSIProtocol
import Testing

/// CDB and parameter list builders for REPORT / SET TARGET PORT GROUPS.
extension CDB {
    /// REPORT TARGET PORT GROUPS (SPC-4 §6.27): PARAMETER DATA FORMAT in byte 1 bits 7..5.
    static func reportTargetPortGroups(format: UInt8 = 0, allocation: UInt32 = 1024) -> [UInt8] {
        [0xA3, format << 5 | 0x0A, 0, 0, 0, 0] + allocation.bigEndianBytes + [0, 0]
    }

    /// SET TARGET PORT GROUPS (SPC-4 §6.39).
    static func setTargetPortGroups(length: UInt32) -> [UInt8] {
        [0xA4, 0x0A, 0, 0, 0, 0] + length.bigEndianBytes + [0, 0]
    }

    /// Its parameter list: 4 reserved bytes, then (state, 0, group) descriptors.
    static func targetPortGroupParameters(_ descriptors: [(state: UInt8, group: UInt16)]) -> [UInt8] {
        [0, 0, 0, 0] + descriptors.flatMap { [$0.state, 0] + $0.group.bigEndianBytes }
    }
}

/// Asymmetric logical unit access (SPC-4 §5.15): TPGS, REPORT TARGET PORT GROUPS (§6.27),
/// SET TARGET PORT GROUPS (§6.39), the command lists per state (§5.15.2.4, §5.15.2.5),
/// and ASYMMETRIC ACCESS STATE CHANGED.
///
/// nexusA arrives through target port group 1 (relative port 1), nexusB through group 2.
@Suite("SPC-4 §5.15 asymmetric logical unit access")
struct SPC4ALUATests {
    /// A target with LUNs `luns` and groups 1 and 2 in the given initial states; both
    /// nexuses logged in with their power-on unit attention consumed.
    static func target(
        group1: AsymmetricAccessState = .activeOptimized, group2: AsymmetricAccessState = .activeOptimized,
        preferred1: Bool = false, luns: [UInt16] = [0], explicitALUA: Bool = true
    ) async -> SCSITargetDevice {
        let target = SCSITargetDevice(
            targetName: TestFixture.targetName,
            logicalUnits: luns.map { TestFixture.descriptor(lun: $0, device: RAMBlockDevice(blockCount: 2048)) },
            logger: TestFixture.logger,
            targetPortGroups: [
                TargetPortGroupDescriptor(tag: 1, relativeTargetPortIdentifiers: [1], initialState: group1, preferred: preferred1),
                TargetPortGroupDescriptor(tag: 2, relativeTargetPortIdentifiers: [2], initialState: group2),
            ],
            explicitALUA: explicitALUA)
        for nexus in [TestFixture.nexusA, TestFixture.nexusB] {
            target.nexusLogin(nexus)
            for lun in luns { await clearUnitAttentions(target, nexus: nexus, lun: lun) }
        }
        return target
    }

    /// Consumes every pending unit attention with REQUEST SENSE, which every state serves.
    static func clearUnitAttentions(_ target: SCSITargetDevice, nexus: ITNexus, lun: UInt16 = 0) async {
        while await target.execute(TestFixture.command(CDB.requestSense(), lun: lun, nexus: nexus)).data[2] & 0x0F == 0x06 {}
    }

    static func rtpg(_ target: SCSITargetDevice, format: UInt8 = 0, nexus: ITNexus = TestFixture.nexusA) async -> [UInt8] {
        await target.execute(TestFixture.command(CDB.reportTargetPortGroups(format: format), nexus: nexus)).data
    }

    static func stpg(
        _ target: SCSITargetDevice, _ descriptors: [(state: UInt8, group: UInt16)], nexus: ITNexus = TestFixture.nexusA
    ) async -> SCSICommandResult {
        let list = CDB.targetPortGroupParameters(descriptors)
        return await target.execute(
            TestFixture.command(CDB.setTargetPortGroups(length: UInt32(list.count)), dataOut: list, nexus: nexus))
    }

    // MARK: - §6.6.2 TPGS

    @Test("§6.6.2 standard INQUIRY reports TPGS 11b: implicit and explicit ALUA")
    func targetPortGroupSupport() async {
        let target = await Self.target()
        let standard = await target.execute(TestFixture.command(CDB.inquiry())).data
        #expect(standard[5] & 0x30 == 0x30)
        #expect(standard[5] & 0x08 == 0x08)  // 3PC unchanged
    }

    @Test("§6.6.2 implicit ALUA only (the default): TPGS 01b, SET TARGET PORT GROUPS neither accepted nor reported")
    func implicitOnly() async {
        let target = await Self.target(explicitALUA: false)
        let standard = await target.execute(TestFixture.command(CDB.inquiry())).data
        #expect(standard[5] & 0x30 == 0x10)
        #expect(await Self.stpg(target, [(0x02, 2)]).hasSense(.invalidCommandOperationCode))
        #expect(await Self.rtpg(target).count == 28)  // both groups still reported, unchanged
        let rsoc: [UInt8] = [0xA3, 0x0C, 0x02, 0xA4, 0x00, 0x0A, 0, 0, 1, 0, 0, 0]
        let one = await target.execute(TestFixture.command(rsoc)).data
        #expect(one[1] & 0x07 == 0x01)  // SUPPORT 001b: not supported
    }

    // MARK: - §6.27 REPORT TARGET PORT GROUPS

    /// The two descriptors of the default fixture with group 1 preferred, group 2 standby.
    static let expectedDescriptors: [UInt8] = [
        0x80, 0x8F, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,  // PREF, AO, T_SUP|U|S|AN|AO, TPG 1, port 1
        0x02, 0x8F, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,  // standby, TPG 2, port 2
    ]

    @Test("§6.27 length-only header: RETURN DATA LENGTH, then one descriptor per group")
    func reportLengthOnly() async {
        let target = await Self.target(group2: .standby, preferred1: true)
        #expect(await Self.rtpg(target) == [0, 0, 0, 24] + Self.expectedDescriptors)
    }

    @Test("§6.27 extended header: FORMAT TYPE 001b and IMPLICIT TRANSITION TIME, length counts the header")
    func reportExtended() async {
        let target = await Self.target(group2: .standby, preferred1: true)
        #expect(await Self.rtpg(target, format: 1) == [0, 0, 0, 28, 0x10, 10, 0, 0] + Self.expectedDescriptors)
    }

    @Test("§6.27 is answered through a standby and a transitioning port alike")
    func reportThroughEveryState() async {
        let target = await Self.target(group1: .transitioning, group2: .standby)
        let fromA = await Self.rtpg(target)
        #expect(fromA.count == 28)
        #expect((fromA[4] & 0x0F, fromA[16] & 0x0F) == (0x0F, 0x02))
        #expect(await Self.rtpg(target, nexus: TestFixture.nexusB) == fromA)
    }

    @Test("§6.27 an unknown PARAMETER DATA FORMAT is INVALID FIELD IN CDB; ALLOCATION LENGTH truncates")
    func reportFieldChecks() async {
        let target = await Self.target()
        let bad = await target.execute(TestFixture.command(CDB.reportTargetPortGroups(format: 2)))
        #expect(bad.hasSense(.invalidFieldInCDB))
        #expect(bad.sense.map { Array($0[15...17]) } == [0xCF, 0x00, 0x01])  // C/D, BPV, bit 7 of byte 1
        let short = await target.execute(TestFixture.command(CDB.reportTargetPortGroups(allocation: 4)))
        #expect(short.data == [0, 0, 0, 24])
    }

    @Test("§6.35 REPORT SUPPORTED OPERATION CODES lists REPORT and SET TARGET PORT GROUPS")
    func listedAsSupported() async {
        let target = await Self.target()
        for opcode: UInt8 in [0xA3, 0xA4] {
            let one = await target.execute(
                TestFixture.command(CDB.reportSupportedOperationCodes(options: 0b010, opcode: opcode, serviceAction: 0x0A)))
            #expect(one.data[1] & 0x07 == 0x03, "opcode \(opcode)")
        }
    }

    // MARK: - §5.15.2.4, §5.15.2.5 commands per state

    /// A command and the states it is served in, transcribed from the clauses' lists.
    struct AccessCase: CustomTestStringConvertible, Sendable {
        var name: String
        var cdb: [UInt8]
        var dataOut: [UInt8]?
        var servedIn: Set<AsymmetricAccessState>
        var testDescription: String { name }
    }

    static let active: Set<AsymmetricAccessState> = [.activeOptimized, .activeNonOptimized]
    static let standbyToo = active.union([.standby])
    static let unavailableToo = standbyToo.union([.unavailable])
    static let everyState = Set(SCSITargetDevice.implementedAccessStates)

    static let accessCases: [AccessCase] = [
        AccessCase(name: "TEST UNIT READY", cdb: CDB.testUnitReady, servedIn: active),
        AccessCase(name: "READ(10)", cdb: CDB.read10(lba: 0, blocks: 1), servedIn: active),
        AccessCase(name: "WRITE(10)", cdb: CDB.write10(lba: 0, blocks: 1), dataOut: pattern(blocks: 1), servedIn: active),
        AccessCase(name: "SYNCHRONIZE CACHE(10)", cdb: CDB.synchronizeCache10(), servedIn: active),
        AccessCase(name: "REPORT SUPPORTED OPERATION CODES", cdb: CDB.reportSupportedOperationCodes(), servedIn: active),
        AccessCase(name: "MODE SENSE(6)", cdb: CDB.modeSense6(page: 0x3F), servedIn: standbyToo),
        AccessCase(name: "MODE SENSE(10)", cdb: CDB.modeSense10(page: 0x08), servedIn: standbyToo),
        AccessCase(name: "MODE SELECT(6) without parameters", cdb: CDB.modeSelect6(length: 0), servedIn: standbyToo),
        AccessCase(name: "PERSISTENT RESERVE IN", cdb: CDB.persistentReserveIn(0x00), servedIn: standbyToo),
        AccessCase(name: "READ CAPACITY(10)", cdb: CDB.readCapacity10, servedIn: standbyToo),
        AccessCase(name: "READ CAPACITY(16)", cdb: CDB.readCapacity16(), servedIn: standbyToo),
        AccessCase(name: "SET TARGET PORT GROUPS without parameters", cdb: CDB.setTargetPortGroups(length: 0), servedIn: unavailableToo),
        AccessCase(name: "REPORT TARGET PORT GROUPS", cdb: CDB.reportTargetPortGroups(), servedIn: everyState),
        AccessCase(name: "INQUIRY", cdb: CDB.inquiry(), servedIn: everyState),
        AccessCase(name: "REPORT LUNS", cdb: CDB.reportLUNs(), servedIn: everyState),
        AccessCase(name: "REQUEST SENSE", cdb: CDB.requestSense(), servedIn: everyState),
    ]

    /// The refusal each state prescribes (SPC-4 §5.15.2.4.4, §5.15.2.4.5, §5.15.2.5).
    static func refusal(in state: AsymmetricAccessState) -> SenseCondition? {
        switch state {
        case .activeOptimized, .activeNonOptimized, .logicalBlockDependent: nil
        case .standby: .logicalUnitNotAccessibleTargetPortInStandbyState
        case .unavailable, .offline: .logicalUnitNotAccessibleTargetPortInUnavailableState
        case .transitioning: .logicalUnitNotAccessibleAsymmetricAccessStateTransition
        }
    }

    @Test("§5.15.2.4/§5.15.2.5 each state serves its listed commands and refuses the rest",
          arguments: SCSITargetDevice.implementedAccessStates, accessCases)
    func accessPerState(state: AsymmetricAccessState, access: AccessCase) async {
        let target = await Self.target(group1: state)
        let result = await target.execute(TestFixture.command(access.cdb, dataOut: access.dataOut))
        if access.servedIn.contains(state) {
            #expect(result.status == .good, "\(result.senseCode.map { "\($0)" } ?? "")")
        } else {
            let refusal = Self.refusal(in: state)
            #expect(refusal.map { result.hasSense($0) } == true, "\(result.senseCode.map { "\($0)" } ?? "no sense")")
        }
        // The other group's port is active: the same command is served there.
        if access.servedIn.contains(state) == false {
            let other = await target.execute(TestFixture.command(access.cdb, dataOut: access.dataOut, nexus: TestFixture.nexusB))
            #expect(other.status == .good)
        }
    }

    @Test("§5.15.2.4.4 standby refuses with NOT READY, LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN STANDBY STATE",
          arguments: [(AsymmetricAccessState.standby, UInt8(0x0B)), (.unavailable, 0x0C), (.transitioning, 0x0A)])
    func senseBytes(state: AsymmetricAccessState, ascq: UInt8) async throws {
        let target = await Self.target(group1: state)
        let result = await target.execute(TestFixture.command(CDB.read10(lba: 0, blocks: 1)))
        let sense = try #require(result.sense)
        #expect(result.status == .checkCondition)
        #expect((sense[0], sense[2], sense[12], sense[13]) == (0x70, 0x02, 0x04, ascq))
    }

    // MARK: - §6.39 SET TARGET PORT GROUPS

    @Test("§6.39 changes the named groups, STATUS CODE 01h, and tells the other nexus only")
    func setChangesStates() async {
        let target = await Self.target()
        let result = await Self.stpg(target, [(0x01, 1), (0x02, 2)])
        #expect(result.status == .good)
        #expect(result.dataOutLengthUsed == 12)
        let report = await Self.rtpg(target)
        #expect((report[4], report[9]) == (0x01, 0x01))  // group 1 active/non-optimized, altered by STPG
        #expect((report[16], report[21]) == (0x02, 0x01))  // group 2 standby, altered by STPG
        // The requester is not told; its port stays accessible.
        #expect(await target.execute(TestFixture.command(CDB.testUnitReady)).status == .good)
        // The other nexus learns of the change first, then meets standby.
        let first = await target.execute(TestFixture.command(CDB.testUnitReady, nexus: TestFixture.nexusB))
        #expect(first.hasSense(.asymmetricAccessStateChanged))
        let second = await target.execute(TestFixture.command(CDB.testUnitReady, nexus: TestFixture.nexusB))
        #expect(second.hasSense(.logicalUnitNotAccessibleTargetPortInStandbyState))
    }

    /// Bad parameter lists and where the field pointer must point (byte, bit).
    static let badDescriptors: [(descriptors: [(UInt8, UInt16)], byte: Int, bit: UInt8?)] = [
        ([(0x0E, 2)], 4, 3),  // offline: not offered
        ([(0x0F, 2)], 4, 3),  // transitioning: never requestable
        ([(0x02, 9)], 6, nil),  // no such group
        ([(0x01, 1), (0x02, 1)], 10, nil),  // group 1 twice
        ([(0x02, 2), (0x04, 1)], 8, 3),  // logical block dependent, second descriptor
    ]

    @Test("§6.39 offline, transitioning, an unknown group and a group named twice are INVALID FIELD IN PARAMETER LIST",
          arguments: badDescriptors)
    func setRejectsBadDescriptors(descriptors: [(UInt8, UInt16)], byte: Int, bit: UInt8?) async {
        let target = await Self.target()
        let before = await Self.rtpg(target)
        let result = await Self.stpg(target, descriptors.map { (state: $0.0, group: $0.1) })
        #expect(result.hasSense(.invalidFieldInParameterList))
        let expectedPointer: [UInt8] = [0x80 | (bit.map { 0x08 | $0 } ?? 0), 0, UInt8(byte)]
        #expect(result.sense.map { Array($0[15...17]) } == expectedPointer)
        #expect(await Self.rtpg(target) == before)  // all or nothing
        #expect(await target.execute(TestFixture.command(CDB.testUnitReady, nexus: TestFixture.nexusB)).status == .good)
    }

    @Test("§6.39 a parameter list that is not whole descriptors is PARAMETER LIST LENGTH ERROR; length 0 changes nothing")
    func setLengthChecks() async {
        let target = await Self.target()
        let list = CDB.targetPortGroupParameters([(0x02, 2)]) + [0, 0]
        let ragged = await target.execute(TestFixture.command(CDB.setTargetPortGroups(length: 10), dataOut: list))
        #expect(ragged.hasSense(.parameterListLengthError))
        let empty = await target.execute(TestFixture.command(CDB.setTargetPortGroups(length: 0)))
        #expect(empty.status == .good)
        #expect(await Self.rtpg(target) == [0, 0, 0, 24] + [0x00, 0x8F, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]
            + [0x00, 0x8F, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2])
    }

    @Test("§6.39 requesting the current state changes nothing and raises no unit attention")
    func setSameStateIsQuiet() async {
        let target = await Self.target()
        #expect(await Self.stpg(target, [(0x00, 2)]).status == .good)
        #expect(await Self.rtpg(target)[21] == 0x00)  // STATUS CODE still "no status"
        #expect(await target.execute(TestFixture.command(CDB.testUnitReady, nexus: TestFixture.nexusB)).status == .good)
    }

    @Test("§6.39 SET TARGET PORT GROUPS is served through an unavailable port, not a transitioning one")
    func setThroughInaccessiblePorts() async {
        let unavailable = await Self.target(group1: .unavailable)
        #expect(await Self.stpg(unavailable, [(0x00, 1)]).status == .good)
        #expect(await unavailable.execute(TestFixture.command(CDB.testUnitReady)).status == .good)
        let transitioning = await Self.target(group1: .transitioning)
        #expect(await Self.stpg(transitioning, [(0x00, 1)]).hasSense(.logicalUnitNotAccessibleAsymmetricAccessStateTransition))
    }

    // MARK: - §5.15.2.7 implicit transitions (operator)

    @Test("§5.15.2.2 a unit attention is reported before the new state refuses the command")
    func unitAttentionFirst() async {
        let target = await Self.target()
        try? await target.setALUAState(.standby, forTargetPortGroup: 1, lun: 0, preferred: nil)
        let first = await target.execute(TestFixture.command(CDB.read10(lba: 0, blocks: 1)))
        #expect(first.hasSense(.asymmetricAccessStateChanged))
        #expect(first.senseCode.map { [$0.0, $0.1, $0.2] } == [0x06, 0x2A, 0x06])
        let second = await target.execute(TestFixture.command(CDB.read10(lba: 0, blocks: 1)))
        #expect(second.hasSense(.logicalUnitNotAccessibleTargetPortInStandbyState))
    }

    @Test("§5.15.2.7 the operator's change reaches every LUN and every nexus, STATUS CODE 02h")
    func operatorChangesEveryLUN() async throws {
        let target = await Self.target(luns: [0, 3])
        try await target.setALUAState(.activeNonOptimized, forTargetPortGroup: 2, lun: nil, preferred: true)
        for lun: UInt16 in [0, 3] {
            for nexus in [TestFixture.nexusA, TestFixture.nexusB] {
                let tur = await target.execute(TestFixture.command(CDB.testUnitReady, lun: lun, nexus: nexus))
                #expect(tur.hasSense(.asymmetricAccessStateChanged), "LUN \(lun) \(nexus)")
            }
        }
        let status = target.aluaStatus
        #expect(status.map(\.lun) == [0, 0, 3, 3])
        #expect(status.map(\.targetPortGroup) == [1, 2, 1, 2])
        #expect(status.filter { $0.targetPortGroup == 2 }.allSatisfy {
            $0.state == .activeNonOptimized && $0.preferred && $0.lastChange == .implicit && $0.relativeTargetPortIdentifiers == [2]
        })
        #expect(status.filter { $0.targetPortGroup == 1 }.allSatisfy {
            $0.state == .activeOptimized && $0.preferred == false && $0.lastChange == ALUAGroupStatus.LastChange.none
        })
        let report = await Self.rtpg(target, nexus: TestFixture.nexusB)
        #expect((report[16], report[21]) == (0x81, 0x02))  // PREF | active/non-optimized, implicit
    }

    @Test("§5.15.2.7 one LUN only; PREF alone is a change too; unknown groups and LUNs are refused")
    func operatorSelectsAndValidates() async throws {
        let target = await Self.target(luns: [0, 1])
        try await target.setALUAState(.standby, forTargetPortGroup: 1, lun: 1, preferred: nil)
        #expect(target.aluaStatus.map(\.state) == [.activeOptimized, .activeOptimized, .standby, .activeOptimized])
        #expect(await target.execute(TestFixture.command(CDB.testUnitReady, lun: 0)).status == .good)
        try await target.setALUAState(.activeOptimized, forTargetPortGroup: 2, lun: 0, preferred: true)
        let tur = await target.execute(TestFixture.command(CDB.testUnitReady, lun: 0, nexus: TestFixture.nexusB))
        #expect(tur.hasSense(.asymmetricAccessStateChanged))
        await #expect(throws: SCSIEngineError.self) {
            try await target.setALUAState(.standby, forTargetPortGroup: 7, lun: nil, preferred: nil)
        }
        do {
            try await target.setALUAState(.standby, forTargetPortGroup: 1, lun: 9, preferred: nil)
            Issue.record("LUN 9 accepted")
        } catch {
            #expect(error.code == .unknownLogicalUnit)
            #expect(error.message.contains("0, 1"))
        }
    }

    @Test("§5.15 a target without target port groups serves every command and reports an empty list")
    func noTargetPortGroups() async {
        let target = TestFixture.target()
        await TestFixture.ready(target)
        #expect(await Self.rtpg(target) == [0, 0, 0, 0])
        #expect(await target.execute(TestFixture.command(CDB.read10(lba: 0, blocks: 1))).status == .good)
    }
}
