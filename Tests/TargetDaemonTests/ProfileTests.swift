import DaemonConfiguration
import Testing

@testable import TargetDaemon

/// `swiftport profile`: multipath.conf and MPIO INF output for the configured LUNs.
@Suite("Initiator profiles")
struct ProfileTests {
    private static func configuration(_ luns: String) throws -> SwiftportConfiguration {
        try SwiftportConfiguration.parse("""
            [[target]]
            name = "iqn.2026-11.io.swiftport:a"
            portals = ["127.0.0.1"]
            \(luns)
            """, file: "test.toml")
    }

    @Test func quickstartHasTheDefaultModel() throws {
        let configuration = try SwiftportConfiguration.parse(SwiftportConfiguration.embeddedQuickstart, file: "quickstart.toml")
        #expect(InitiatorProfiles.deviceModels(of: configuration) == [.init(vendor: "SWIFTPRT", product: "VIRTUAL-DISK")])
    }

    @Test func oneEntryPerDistinctVendorProductInConfigurationOrder() throws {
        let configuration = try Self.configuration("""
            [[target.lun]]
            id = 0
            backend = "ram"
            size = "1MiB"
            product = "DB-DATA"
            [[target.lun]]
            id = 1
            backend = "ram"
            size = "1MiB"
            [[target.lun]]
            id = 2
            backend = "ram"
            size = "1MiB"
            product = "DB-DATA"
            """)
        #expect(InitiatorProfiles.deviceModels(of: configuration) == [
            .init(vendor: "SWIFTPRT", product: "DB-DATA"), .init(vendor: "SWIFTPRT", product: "VIRTUAL-DISK"),
        ])
    }

    @Test func multipathConfStanza() {
        let text = InitiatorProfiles.multipathConf(for: [.init(vendor: "SWIFTPRT", product: "VIRTUAL-DISK")])
        let lines = text.split(separator: "\n").map { $0.trimmingPrefixSpaces() }
        #expect(lines.contains("devices {"))
        #expect(lines.contains("device {"))
        #expect(lines.contains(#"vendor "^SWIFTPRT$""#))
        #expect(lines.contains(#"product "^VIRTUAL-DISK$""#))
        for setting in [
            "path_grouping_policy group_by_prio", "prio alua", "path_checker tur", "failback immediate",
            "no_path_retry 12", #"hardware_handler "1 alua""#,
        ] {
            #expect(lines.contains(setting), "missing \(setting)")
        }
        #expect(text.hasSuffix("}\n"))
        #expect(text.filter { $0 == "{" }.count == text.filter { $0 == "}" }.count)
    }

    @Test func multipathRegexEscapesMetacharacters() {
        #expect(InitiatorProfiles.multipathRegex("SWIFTPRT") == "^SWIFTPRT$")
        #expect(InitiatorProfiles.multipathRegex("A.B*C+(1)") == #"^A\.B\*C\+\(1\)$"#)
        #expect(InitiatorProfiles.multipathRegex(#"X[0]{2}|^$?\"#) == #"^X\[0\]\{2\}\|\^\$\?\\$"#)
        #expect(InitiatorProfiles.multipathRegex("DISK  ") == "^DISK$", "sysfs fields lose their trailing spaces")
        #expect(InitiatorProfiles.multipathRegex("MY DISK") == "^MY DISK$")
        #expect(InitiatorProfiles.multipathRegex(#"A"B"#) == "^A.B$")
    }

    @Test("esxi: one SATP rule per model, VMW_SATP_ALUA with VMW_PSP_RR iops=1, fields trimmed and quoted for the shell")
    func esxiRules() {
        let text = InitiatorProfiles.esxiClaimRules(for: [
            .init(vendor: "SWIFTPRT", product: "VIRTUAL-DISK"), .init(vendor: "ACME", product: #"A"B$C  "#),
        ])
        let rules = text.split(separator: "\n").filter { $0.hasPrefix("esxcli ") }
        #expect(rules.count == 2)
        #expect(rules.allSatisfy { $0.contains("--satp VMW_SATP_ALUA --psp VMW_PSP_RR --psp-option \"iops=1\"") && $0.contains("--claim-option tpgs_on") })
        #expect(rules[0].contains(#"--vendor "SWIFTPRT" --model "VIRTUAL-DISK""#))
        #expect(rules[1].contains(#"--vendor "ACME" --model "A\"B\$C""#))
        #expect(text.split(separator: "\n").allSatisfy { $0.hasPrefix("esxcli ") || $0.hasPrefix("# ") })
    }

    @Test("windows: New-MSDSMSupportedHW per model, Round Robin, the MPIO timers, mpclaim hardware IDs")
    func windowsLines() {
        let text = InitiatorProfiles.windowsMSDSM(for: [.init(vendor: "SWIFTPRT", product: "VIRTUAL-DISK"), .init(vendor: "O'NE", product: "X")])
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains("New-MSDSMSupportedHW -VendorId 'SWIFTPRT' -ProductId 'VIRTUAL-DISK'"))
        #expect(lines.contains("New-MSDSMSupportedHW -VendorId 'O''NE' -ProductId 'X'"))
        #expect(lines.contains("Set-MSDSMGlobalDefaultLoadBalancePolicy -Policy RR"))
        #expect(lines.contains { $0.hasPrefix("Set-MPIOSetting ") && $0.contains("-NewPDORemovePeriod 60") && $0.contains("-NewPathVerificationState Enabled") })
        #expect(lines.contains(#"#   mpclaim -r -i -d "SWIFTPRTVIRTUAL-DISK    ""#))
        #expect(lines.allSatisfy { $0.hasPrefix("#") || $0.hasPrefix("New-") || $0.hasPrefix("Set-") })
    }

    @Test func mpioHardwareIDIsVendor8PlusProduct16() {
        let id = InitiatorProfiles.mpioHardwareID(.init(vendor: "SWIFTPRT", product: "VIRTUAL-DISK"))
        #expect(id == "SWIFTPRTVIRTUAL-DISK    ")
        let short = InitiatorProfiles.mpioHardwareID(.init(vendor: "ACME", product: "DB-DATA"))
        #expect(short == "ACME    DB-DATA         ")
        #expect(short.count == 24)
    }

    @Test func mpioAddRegLines() {
        let text = InitiatorProfiles.mpioAddReg(for: [
            .init(vendor: "ACME", product: "DB-DATA"), .init(vendor: "SWIFTPRT", product: "VIRTUAL-DISK"),
        ])
        let addReg = text.split(separator: "\n").filter { !$0.hasPrefix(";") }
        #expect(addReg == [
            #"HKLM,"SYSTEM\CurrentControlSet\Control\MPDEV","MPIOSupportedDeviceList",%REG_MULTI_SZ_APPEND%,"ACME    DB-DATA         ""#,
            #"HKLM,"SYSTEM\CurrentControlSet\Control\MPDEV","MPIOSupportedDeviceList",%REG_MULTI_SZ_APPEND%,"SWIFTPRTVIRTUAL-DISK    ""#,
        ])
    }

    @Test func infQuotingDoublesQuotesAndPercent() {
        #expect(InitiatorProfiles.infQuoted(#"A"B%C"#) == #""A""B%%C""#)
    }
}

private extension Substring {
    func trimmingPrefixSpaces() -> String { String(drop { $0 == " " }) }
}
