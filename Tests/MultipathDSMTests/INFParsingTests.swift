import MultipathDSM
import Testing

@Suite("MPIOSupportedDeviceList from a DSM INF")
struct INFParsingTests {
    /// The MPIO DSM sample's AddReg lines and [Strings], with the vendor padding the web
    /// page's whitespace collapsing lost put back (8-character vendor fields).
    static let sampleINF = #"""
        ;
        ; Copyright (c) <YOUR COMPANY NAME HERE>. All rights reserved.
        ;
        [Version]
        Signature = "$WINDOWS NT$"
        Class = System
        Provider = %VNDR%

        [mydsm_addreg]
        ;
        ; The following cannot be grouped (as above)
        ;
        HKLM, "SYSTEM\CurrentControlSet\Control\MPDEV", "MPIOSupportedDeviceList", %REG_MULTI_SZ_APPEND%, "VENDOR1 PRODUCT1        "
        HKLM, "SYSTEM\CurrentControlSet\Control\MPDEV", "MPIOSupportedDeviceList", %REG_MULTI_SZ_APPEND%, "VENDOR2 PRODUCT2        "
        HKLM, "SYSTEM\CurrentControlSet\Control\MPDEV", "MPIOSupportedDeviceList", %REG_MULTI_SZ_APPEND%, "MAXTOR  ATLASU320_18_WLS"
        HKLM, "SYSTEM\CurrentControlSet\Control\MPDEV", "MPIOSupportedDeviceList", %REG_MULTI_SZ_APPEND%, "VENDOR3 PROD_PREFIX"
        HKLM, "SYSTEM\CurrentControlSet\Control\WMI\Security", "04517f7e-92bb-4ebe-aed0-54339fa5f544",\%REG_BINARY_NOCLOBBER%,\
        01,00,04,80,14,00,00,00,24,00,00,00,00,00,00,00,\
        20,02,00,00

        ;
        ; Localizable Strings
        ;
        [Strings]
        VNDR = "Your Company Name Here"
        REG_MULTI_SZ = 0x00010000
        REG_MULTI_SZ_APPEND = 0x00010008
        REG_BINARY_NOCLOBBER = 0x00030003
        """#

    @Test("The sample's four entries, in order; WMI security lines and continuations skipped")
    func sample() {
        let result = SupportedDeviceList.parsing(inf: Self.sampleINF, file: "mydsm.inf")
        #expect(result.errors.isEmpty)
        #expect(result.list.entries.map { String(decoding: $0.pattern, as: UTF8.self) } == [
            "VENDOR1 PRODUCT1        ", "VENDOR2 PRODUCT2        ", "MAXTOR  ATLASU320_18_WLS", "VENDOR3 PROD_PREFIX",
        ])
        #expect(result.list.entry(claimingVendor: "VENDOR3", product: "PROD_PREFIX_C") != nil)
        #expect(result.list.entry(claimingVendor: "MAXTOR", product: "ATLASU320_18_WLS") != nil)
    }

    @Test("REG_MULTI_SZ with several strings, continuations, CRLF, %string% entries, comments")
    func multiStringLines() {
        let inf = """
            [dsm_addreg]\r
            hklm, "System\\CurrentControlSet\\Control\\MPDEV", "mpiosupporteddevicelist", 0x00010000, "VENDOR1 PRODUCT1", "VENDOR2 PRODUCT2" ; two at once\r
            HKLM, "SYSTEM\\CurrentControlSet\\Control\\MPDEV", "MPIOSupportedDeviceList", %REG_MULTI_SZ_APPEND%, \\\r
                "VENDOR4 ARRAY;9", \\ ; a quoted semicolon is text; this one is a comment\r
                %ARRAY5%\r
            [Strings]\r
            REG_MULTI_SZ_APPEND = 0x00010008\r
            ARRAY5 = "VENDOR5 ARRAY_5         "\r
            """
        let result = SupportedDeviceList.parsing(inf: inf, file: "multi.inf")
        #expect(result.errors.isEmpty)
        #expect(result.list.entries.map { String(decoding: $0.pattern, as: UTF8.self) } == [
            "VENDOR1 PRODUCT1", "VENDOR2 PRODUCT2", "VENDOR4 ARRAY;9", "VENDOR5 ARRAY_5         ",
        ])
    }

    @Test("Every malformed line is reported with file:line; good lines still count")
    func badLines() {
        let inf = #"""
            [dsm_addreg]
            HKLM, "SYSTEM\CurrentControlSet\Control\MPDEV", "MPIOSupportedDeviceList", %REG_MULTI_SZ_APPEND%, "VENDOR1 PRODUCT1        "
            HKLM, "SYSTEM\CurrentControlSet\Control\MPDEV", "MPIOSupportedDeviceList", 0x00000000, "VENDOR2 PRODUCT2"
            HKLM, "SYSTEM\CurrentControlSet\Control\MPDEV", "MPIOSupportedDeviceList", %REG_MULTI_SZ_APPND%, "VENDOR3 PRODUCT3"
            HKLM, "SYSTEM\CurrentControlSet\Control\MPDEV", "MPIOSupportedDeviceList", %REG_MULTI_SZ_APPEND%, "VENDOR4 PRODUCT4
            HKLM, "SYSTEM\CurrentControlSet\Control\MPDEV", "MPIOSupportedDeviceList", %REG_MULTI_SZ_APPEND%, "MAXTOR ATLASU320_18_WLS"
            HKCU, "SYSTEM\CurrentControlSet\Control\MPDEV", "MPIOSupportedDeviceList", %REG_MULTI_SZ_APPEND%, "VENDOR6 PRODUCT6"
            HKLM, "SYSTEM\CurrentControlSet\Control\MPDEV", "MPIOSupportedDeviceList", %REG_MULTI_SZ_APPEND%
            HKLM, "SYSTEM\CurrentControlSet\Control\MPDEV", "MPIOSupportedDeviceList", %REG_MULTI_SZ_APPEND%, \
                "VENDOR8 PRODUCT8", "VENDOR8 PRODUCT_NAME_TOO_LONG"
            HKLM, "SYSTEM\CurrentControlSet\Control\MPDEV", "MPIOSupportedDeviceList", zero, "VENDOR9 PRODUCT9"
            HKLM, "SYSTEM\CurrentControlSet\Control\Other", "Unrelated", 0, "ignored"

            [Strings]
            REG_MULTI_SZ_APPEND = 0x00010008
            """#
        let result = SupportedDeviceList.parsing(inf: inf, file: "bad.inf")
        #expect(result.list.entries.map(\.vendor) == ["VENDOR1 ", "VENDOR8 "])
        let reported = result.errors.map { error in (error.line ?? 0, error.code) }
        #expect(reported.map(\.0) == [3, 4, 5, 6, 7, 8, 9, 11])
        #expect(result.errors.allSatisfy { $0.file == "bad.inf" })
        let messages = result.errors.map(\.description)
        #expect(messages[0].hasPrefix("bad.inf:3: flags 0x00000000 do not make a REG_MULTI_SZ"))
        #expect(messages[1] == "bad.inf:4: %REG_MULTI_SZ_APPND% is not defined in [Strings]")
        #expect(messages[2] == "bad.inf:5: unterminated quoted string")
        #expect(messages[3].contains(#"did you mean "MAXTOR  ATLASU320_18_WLS"?"#))
        #expect(messages[4] == "bad.inf:7: MPIOSupportedDeviceList lives under HKLM, not HKCU")
        #expect(messages[5].hasPrefix("bad.inf:8: expected flags and at least one device string"))
        #expect(messages[6].hasPrefix(#"bad.inf:9: "VENDOR8 PRODUCT_NAME_TOO_LONG""#))
        #expect(messages[7].hasPrefix(#"bad.inf:11: flags "zero" are not a number"#))
        #expect(result.errors[6].code == .invalidSupportedDeviceEntry)
        #expect(result.errors[0].code == .malformedINFLine)
    }
}
