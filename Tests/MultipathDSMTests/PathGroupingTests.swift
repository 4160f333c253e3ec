import MultipathDSM
import SCSIProtocol
import Testing

@Suite("Claim and group paths by identity")
struct PathGroupingTests {
    let list = SupportedDeviceList([try! SupportedDeviceEntry(parsing: "LIO-ORG disk")])

    @Test("The same NAA through two portals is one device with two paths")
    func sameNAA() {
        let grouping = PathGrouping(paths: [path(1, lu: 7), path(2, lu: 7)], supportedDevices: list)
        #expect(grouping.logicalUnits.count == 1)
        #expect(grouping.logicalUnits[0].paths.map(\.pathID) == [1, 2])
        #expect(grouping.logicalUnits[0].identity == .naa(naa(7)))
        #expect(grouping.unclaimed.isEmpty)
    }

    @Test("Different NAAs are different devices")
    func differentNAA() {
        let grouping = PathGrouping(paths: [path(1, lu: 7), path(2, lu: 8), path(3, lu: 7)], supportedDevices: list)
        #expect(grouping.logicalUnits.map { $0.paths.map(\.pathID) } == [[1, 3], [2]])
    }

    @Test("Equal serials never join devices whose NAAs differ")
    func equalSerialDifferentNAA() {
        let grouping = PathGrouping(
            paths: [path(1, lu: 7, serial: "SAME"), path(2, lu: 8, serial: "SAME")], supportedDevices: list)
        #expect(grouping.logicalUnits.count == 2)
    }

    @Test("Without designators the serial groups, qualified by vendor and product")
    func serialFallback() {
        let grouping = PathGrouping(
            paths: [
                path(1, lu: nil, serial: " ABC123  "),
                path(2, lu: nil, serial: "ABC123"),
                path(3, lu: nil, serial: "ABC123", product: "disk02"),
                path(4, lu: 7, serial: "ABC123"),
            ],
            supportedDevices: list
        )
        #expect(grouping.logicalUnits.map { $0.paths.map(\.pathID) } == [[1, 2], [3], [4]])
        #expect(grouping.logicalUnits[0].identity == .serialNumber(vendor: "LIO-ORG", product: "disk01", serial: "ABC123"))
    }

    @Test("Preference: NAA, then EUI-64, then SCSI name; only logical-unit designators count")
    func designatorPreference() {
        func identity(_ designators: [DesignationDescriptor]) -> DeviceIdentity? {
            DeviceIdentity(of: PathIdentity(pathID: 1, portal: "p", vendor: "V", product: "P", designators: designators))
        }
        func designator(_ type: DesignationDescriptor.DesignatorType, _ bytes: [UInt8], _ association: DesignationDescriptor.Association = .logicalUnit) -> DesignationDescriptor {
            DesignationDescriptor(codeSet: .binary, association: association, type: type, isISCSISpecific: false, designator: bytes)
        }
        let eui: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        let name = DesignationDescriptor.scsiNameString("iqn.2003-01.org.linux-iscsi:sn,L,0x01", association: .logicalUnit)
        #expect(identity([name, designator(.eui64, eui), .naa(naa(1))]) == .naa(naa(1)))
        #expect(identity([name, designator(.eui64, eui)]) == .eui64(eui))
        #expect(identity([name, designator(.init(rawValue: 1), [0x41])]) == .scsiNameString("iqn.2003-01.org.linux-iscsi:sn,L,0x01"))
        #expect(identity([.naa(naa(2), association: .targetPort), designator(.eui64, eui)]) == .eui64(eui))
        #expect(identity([.naa(naa(2), association: .targetDevice)]) == nil)
    }

    @Test("Per-port designators differ between paths without splitting the device")
    func portDesignatorsIgnored() {
        var first = path(1, lu: 7)
        first.designators.append(DesignationDescriptor.naa(naa(100), association: .targetPort))
        var second = path(2, lu: 7)
        second.designators.append(DesignationDescriptor.naa(naa(200), association: .targetPort))
        #expect(PathGrouping(paths: [first, second], supportedDevices: list).logicalUnits.count == 1)
    }

    @Test("Unlisted devices and devices without identity stay unclaimed")
    func unclaimed() {
        let grouping = PathGrouping(
            paths: [path(1, vendor: "OTHER   "), path(2, lu: nil, serial: nil), path(3, lu: nil, serial: "   ")],
            supportedDevices: list
        )
        #expect(grouping.logicalUnits.isEmpty)
        #expect(grouping.unclaimed.map(\.reason) == [.notInSupportedDeviceList, .noIdentity, .noIdentity])
    }
}
