import MultipathDSM
import SCSIProtocol
import Testing

@Suite("swiftport dsm scan renderings")
struct DSMScanReportTests {
    /// Two port groups (group 2 failed over to), one unclaimed path.
    func report() -> DSMScanReport {
        var device = device([
            path(1, group: TargetPortGroupStatus(groupID: 1, state: .activeOptimized, preferred: true)),
            path(2, group: TargetPortGroupStatus(groupID: 2, state: .activeNonOptimized)),
            path(3, group: TargetPortGroupStatus(groupID: 1, state: .activeOptimized, preferred: true)),
        ], MultipathConfiguration(policy: .failOverOnly, failback: .manual))
        device.setWeight(5, for: 2)
        device.beginIO(path: 1, blocks: 8)
        _ = device.endIO(path: 1, blocks: 8, outcome: .transportError, now: .at(1))
        device.beginIO(path: 3, blocks: 16)
        let unclaimed = UnclaimedPath(path: path(9, vendor: "OTHER   ", product: "thing"), reason: .notInSupportedDeviceList)
        return DSMScanReport(devices: [device.status], unclaimed: [unclaimed])
    }

    @Test("Text is laid out like multipath -ll")
    func text() {
        #expect(report().text == """
            naa.6001405abbccddee0000000000000001 LIO-ORG,disk01 rev 4.0 claimed by "LIO-ORG disk"
            policy='Fail Over Only' failback=manual no_path_retry='queue 30s' state=serving
            |-+- tpg=1 status=active/optimized pref
            | |- path1 10.0.0.1:3260 failed ios=1 blocks=8 errors=1 failovers=1 outstanding=0
            | `- path3 10.0.0.3:3260 active ios=1 blocks=16 errors=0 failovers=0 outstanding=1
            `-+- tpg=2 status=active/non-optimized
              `- path2 10.0.0.2:3260 active weight=5 ios=0 blocks=0 errors=0 failovers=0 outstanding=0
            unclaimed:
              path9 10.0.0.9:3260 OTHER,thing: not in MPIOSupportedDeviceList

            """)
    }

    @Test("JSON carries the same facts, keys in a stable order")
    func json() {
        let json = report().json
        #expect(json.hasPrefix("""
            {
              "devices": [
                {
                  "identity": "naa.6001405abbccddee0000000000000001",
                  "vendor": "LIO-ORG",
                  "product": "disk01",
                  "revision": "4.0",
                  "claimedBy": "LIO-ORG disk",
                  "policy": "Fail Over Only",
                  "failback": "manual",
                  "noPathRetry": "queue 30s",
                  "state": "serving",
                  "paths": [
                    {
                      "id": 1,
                      "portal": "10.0.0.1:3260",
                      "state": "failed",
                      "targetPortGroup": {
                        "id": 1,
                        "state": "active/optimized",
                        "preferred": true
                      },
                      "aluaState": "active/optimized",
                      "preferred": false,
                      "weight": null,
                      "failbackPending": false,
                      "counters": {
                        "ios": 1,
                        "blocks": 8,
                        "errors": 1,
                        "failovers": 1,
                        "outstandingIOs": 0,
                        "outstandingBlocks": 0
                      }
                    },
            """))
        #expect(json.hasSuffix("""
              "unclaimed": [
                {
                  "id": 9,
                  "portal": "10.0.0.9:3260",
                  "vendor": "OTHER",
                  "product": "thing",
                  "reason": "not in MPIOSupportedDeviceList"
                }
              ]
            }
            """))
        #expect(json.contains(#""weight": 5"#))
    }

    @Test("JSON strings are escaped; empty reports stay valid")
    func escaping() {
        let odd = UnclaimedPath(path: path(4, portal: "a\"b\\c\u{1}\n"), reason: .noIdentity)
        #expect(DSMScanReport(devices: [], unclaimed: [odd]).json.contains(#""portal": "a\"b\\c\u0001\n""#))
        #expect(DSMScanReport(devices: []).json == "{\n  \"devices\": [],\n  \"unclaimed\": []\n}")
        #expect(DSMScanReport(devices: []).text == "")
    }

    @Test("Durations render the way configs write them")
    func settingsText() {
        let settings = MultipathConfiguration(failback: .after(.milliseconds(1500)), noPathRetry: .queueIndefinitely)
        #expect("\(settings.failback) / \(settings.noPathRetry)" == "after 1.5s / queue")
        #expect(NoPathRetry.fail.description == "fail")
    }
}
