import MultipathDSM
import SCSIProtocol

/// A hand-driven instant: seconds since the test began, so timers are deterministic.
struct TestInstant: InstantProtocol, CustomStringConvertible {
    var sinceStart: Duration

    static func at(_ seconds: Int64) -> TestInstant { TestInstant(sinceStart: .seconds(seconds)) }

    func advanced(by duration: Duration) -> TestInstant { TestInstant(sinceStart: sinceStart + duration) }

    func duration(to other: TestInstant) -> Duration { other.sinceStart - sinceStart }

    static func < (lhs: TestInstant, rhs: TestInstant) -> Bool { lhs.sinceStart < rhs.sinceStart }

    var description: String { "t+\(sinceStart)" }
}

typealias TestDevice = MultipathDevice<TestInstant>

/// A 16-byte NAA 6 designator whose last byte is `tag`.
func naa(_ tag: UInt8) -> [UInt8] { [0x60, 0x01, 0x40, 0x5A, 0xBB, 0xCC, 0xDD, 0xEE] + Array(repeating: 0, count: 7) + [tag] }

/// A path to the LIO-ORG disk with NAA `lu` (or only the serial when `lu` is nil).
func path(
    _ id: PathID, portal: String? = nil, lu: UInt8? = 1, serial: String? = "serial-1",
    vendor: String = "LIO-ORG ", product: String = "disk01          ", group: TargetPortGroupStatus? = nil
) -> PathIdentity {
    PathIdentity(
        pathID: id, portal: portal ?? "10.0.0.\(id.rawValue):3260", vendor: vendor, product: product, revision: "4.0 ",
        designators: lu.map { [DesignationDescriptor.naa(naa($0))] } ?? [], serialNumber: serial,
        targetPortGroup: group
    )
}

/// A device over `paths` (all to NAA 1), built at t=0.
func device(_ paths: [PathIdentity], _ configuration: MultipathConfiguration = MultipathConfiguration()) -> TestDevice {
    let entry = try! SupportedDeviceEntry(parsing: "LIO-ORG disk")
    let unit = ClaimedLogicalUnit(identity: DeviceIdentity(of: paths[0])!, claimedBy: entry, paths: paths)
    return TestDevice(unit, configuration: configuration, now: .at(0))
}

/// `count` selections in a row (no I/O accounting).
func selections(_ device: inout TestDevice, _ count: Int) -> [PathID?] {
    (0..<count).map { _ in device.selectPath() }
}

/// Sense codes used across tests (SPC-4 Annex D).
enum Sense {
    static let standby = SenseCode(key: .notReady, asc: 0x04, ascq: 0x0B)
    static let unavailable = SenseCode(key: .notReady, asc: 0x04, ascq: 0x0C)
    static let transitioning = SenseCode(key: .notReady, asc: 0x04, ascq: 0x0A)
    static let becomingReady = SenseCode(key: .notReady, asc: 0x04, ascq: 0x01)
    static let accessStateChanged = SenseCode(key: .unitAttention, asc: 0x2A, ascq: 0x06)
    static let powerOnReset = SenseCode(key: .unitAttention, asc: 0x29, ascq: 0x00)
    static let unrecoveredReadError = SenseCode(key: .mediumError, asc: 0x11, ascq: 0x00)
    static let invalidOpcode = SenseCode(key: .illegalRequest, asc: 0x20, ascq: 0x00)
}
