import LUNBackends
import Logging
import MultipathDSM
import SCSIEngine
import SCSIProtocol
import Testing

@testable import RemoteLUN

/// Discovery against Swiftport's own device server: what the engine encodes, the
/// prober decodes (SPC-4 §6.6, §7.8, §6.27, §6.33; SBC-3 §5.16), and the DSM groups the
/// paths the prober describes.
@Suite("SCSI probe against an in-process device server")
struct SCSIProbeTests {
    static let targetName = "iqn.2024-01.org.swiftport:probe"
    static let logger = Logger(label: "probe-test") { _ in SwiftLogNoOpLogHandler() }
    /// Two paths: through target port group 1 (relative port 1) and group 2 (port 2).
    static let nexuses = [
        ITNexus(initiatorPortName: "iqn.2024-01.test:dsm,i,0x400000000001", relativeTargetPortIdentifier: 1, targetPortGroup: 1),
        ITNexus(initiatorPortName: "iqn.2024-01.test:dsm,i,0x400000000002", relativeTargetPortIdentifier: 2, targetPortGroup: 2),
    ]

    static func unit(lun: UInt16, blocks: UInt64) -> LogicalUnitDescriptor {
        LogicalUnitDescriptor(
            lun: lun, device: RAMBlockDevice(blockCount: blocks), product: "VIRTUAL-DISK", revision: "0001",
            serial: "SP\(lun)SERIAL", naaIdentifier: LogicalUnitDescriptor.naaIdentifier(seed: "\(targetName)/\(lun)"))
    }

    /// LUNs 0 (2048 blocks) and 3 (4096 blocks); group 1 active/optimized and
    /// preferred, group 2 standby.
    static func device() -> SCSITargetDevice {
        SCSITargetDevice(
            targetName: targetName, logicalUnits: [unit(lun: 0, blocks: 2048), unit(lun: 3, blocks: 4096)], logger: logger,
            targetPortGroups: [
                TargetPortGroupDescriptor(tag: 1, relativeTargetPortIdentifiers: [1], preferred: true),
                TargetPortGroupDescriptor(tag: 2, relativeTargetPortIdentifiers: [2], initialState: .standby),
            ])
    }

    static func path(_ device: SCSITargetDevice, _ index: Int) -> DeviceServerPath {
        device.nexusLogin(nexuses[index])
        return DeviceServerPath(device: device, nexus: nexuses[index])
    }

    @Test("REPORT LUNS lists the configured LUNs, through the power-on unit attention")
    func reportLUNs() async throws {
        #expect(try await SCSIProbe.reportLUNs(Self.path(Self.device(), 0)) == [0, 3])
    }

    @Test("INQUIRY, VPD 0x80/0x83 and READ CAPACITY(16) describe the logical unit")
    func identify() async throws {
        let (identity, capacity) = try await SCSIProbe.identify(Self.path(Self.device(), 1), lun: 3, pathID: 7, label: "p2")
        #expect(identity.vendor == "SWIFTPRT")
        #expect(identity.product == "VIRTUAL-DISK    ")
        #expect(identity.revision == "0001")
        #expect(identity.serialNumber == "SP3SERIAL")
        #expect(identity.designators.first == .naa(LogicalUnitDescriptor.naaIdentifier(seed: "\(Self.targetName)/3")))
        #expect(identity.designators.contains(.relativeTargetPort(2)))
        #expect(identity.designators.compactMap(\.scsiName) == [Self.targetName])
        #expect(identity.targetPortGroup == TargetPortGroupStatus(
            groupID: 2, state: .standby, supportedStates: SCSITargetDevice.implementedAccessStates.reduce(0) { $0 | $1.supportBit },
            relativeTargetPortIdentifiers: [2]))
        #expect((capacity.blockCount, capacity.blockLength) == (4096, 512))
    }

    @Test("REPORT TARGET PORT GROUPS follows an operator's change of state")
    func targetPortGroups() async throws {
        let device = Self.device()
        let path = Self.path(device, 0)
        try await device.setALUAState(.activeNonOptimized, forTargetPortGroup: 2, lun: 0, preferred: true)
        let groups = try await SCSIProbe.targetPortGroups(path, lun: 0)
        #expect(groups.map(\.groupID) == [1, 2])
        #expect(groups.map(\.state) == [.activeOptimized, .activeNonOptimized])
        #expect(groups.map(\.preferred) == [true, true])
        #expect(groups[1].statusCode == ALUAGroupStatus.LastChange.implicit.rawValue)
    }

    @Test("TEST UNIT READY: the power-on unit attention first, then ready; standby sense through a standby port")
    func testUnitReady() async throws {
        let device = Self.device()
        let active = Self.path(device, 0)
        let first = try await SCSIProbe.testUnitReady(active, lun: 0)
        #expect(first?.key == .unitAttention && first?.asc == 0x29)  // POWER ON, RESET, OR BUS DEVICE RESET OCCURRED
        #expect(try await SCSIProbe.testUnitReady(active, lun: 0) == nil)
        let standby = Self.path(device, 1)
        while try await SCSIProbe.testUnitReady(standby, lun: 0)?.key == .unitAttention {}
        #expect(try await SCSIProbe.testUnitReady(standby, lun: 0) == SenseCondition.logicalUnitNotAccessibleTargetPortInStandbyState.code)
    }

    @Test("A command that fails with other sense is an error naming it; a LUN without a unit has no capacity")
    func failures() async throws {
        let path = Self.path(Self.device(), 0)
        await #expect(throws: ProbeError.self) { try await SCSIProbe.capacity(path, lun: 5) }
        // INQUIRY to a LUN without a logical unit answers, with PERIPHERAL QUALIFIER 011b.
        #expect(try await SCSIProbe.inquiry(path, lun: 5).peripheral == .notSupported)
    }

    @Test("The DSM claims both paths as one device with the two groups in their states")
    func grouping() async throws {
        let device = Self.device()
        var paths: [PathIdentity] = []
        for index in 0..<2 {
            paths.append(try await SCSIProbe.identify(
                Self.path(device, index), lun: 0, pathID: PathID(rawValue: UInt32(index + 1)), label: "p\(index)").identity)
        }
        let list = SupportedDeviceList([try SupportedDeviceEntry(vendor: paths[0].vendor, product: paths[0].product)])
        let grouping = PathGrouping(paths: paths, supportedDevices: list)
        #expect(grouping.logicalUnits.count == 1)
        #expect(grouping.logicalUnits.first?.paths.map(\.pathID) == [1, 2])
        #expect(grouping.logicalUnits.first?.paths.compactMap(\.targetPortGroup?.state) == [.activeOptimized, .standby])
        #expect(grouping.logicalUnits.first?.identity == .naa(LogicalUnitDescriptor.naaIdentifier(seed: "\(Self.targetName)/0")))
    }
}
