import MultipathDSM
import Testing

@Suite("Supported-device entries: prefix of INQUIRY vendor(8) + product(16)")
struct SupportedDeviceEntryTests {
    @Test("A full 24-character entry names exactly one product")
    func fullEntry() throws {
        let entry = try SupportedDeviceEntry(parsing: "MAXTOR  ATLASU320_18_WLS")
        #expect(entry.pattern.count == 24)
        #expect(entry.matches(vendor: "MAXTOR  ", product: "ATLASU320_18_WLS"))
        #expect(entry.matches(vendor: "MAXTOR", product: "ATLASU320_18_WLS"))
        #expect(!entry.matches(vendor: "MAXTOR  ", product: "ATLASU320_18_WLX"))
        #expect(!entry.matches(vendor: "MAXTOR  ", product: "ATLASU320_18_WL"))
    }

    @Test("\"VENDOR3 PROD_PREFIX\" claims PROD_PREFIX_A, _B and _C", arguments: ["PROD_PREFIX_A", "PROD_PREFIX_B", "PROD_PREFIX_C", "PROD_PREFIX"])
    func prefixEntry(product: String) throws {
        let entry = try SupportedDeviceEntry(parsing: "VENDOR3 PROD_PREFIX")
        #expect(entry.vendor == "VENDOR3 ")
        #expect(entry.product == "PROD_PREFIX")
        #expect(entry.matches(vendor: "VENDOR3", product: product))
    }

    @Test("Prefix entries do not stretch", arguments: [
        ("VENDOR3 ", "PROD PREFIX_A"),  // underscore is a character, not a space
        ("VENDOR3 ", "PROD_PREFI"),  // shorter than the prefix
        ("VENDOR4 ", "PROD_PREFIX_A"),  // other vendor
        ("vendor3 ", "PROD_PREFIX_A"),  // INQUIRY ASCII is case-sensitive
        ("VENDOR3 ", "prod_prefix_a"),
    ])
    func prefixMismatch(vendor: String, product: String) throws {
        let entry = try SupportedDeviceEntry(parsing: "VENDOR3 PROD_PREFIX")
        #expect(!entry.matches(vendor: vendor, product: product))
    }

    @Test("Underscores in an entry never match spaces in the device, nor the reverse")
    func underscoresAreCharacters() throws {
        let underscored = try SupportedDeviceEntry(parsing: "VENDOR1 PRODUCT_1")
        #expect(underscored.matches(vendor: "VENDOR1", product: "PRODUCT_1"))
        #expect(!underscored.matches(vendor: "VENDOR1", product: "PRODUCT 1"))
        let spaced = try SupportedDeviceEntry(parsing: "VENDOR1 PRODUCT 1")
        #expect(!spaced.matches(vendor: "VENDOR1", product: "PRODUCT_1"))
    }

    @Test("A product padded to 16 matches only that product; unpadded is a prefix")
    func paddingDecidesExactness() throws {
        let exact = try SupportedDeviceEntry(vendor: "VENDOR1", product: "PRODUCT1", exactProduct: true)
        #expect(String(decoding: exact.pattern, as: UTF8.self) == "VENDOR1 PRODUCT1        ")
        #expect(exact.matches(vendor: "VENDOR1 ", product: "PRODUCT1        "))
        #expect(!exact.matches(vendor: "VENDOR1 ", product: "PRODUCT10       "))
        let prefix = try SupportedDeviceEntry(vendor: "VENDOR1", product: "PRODUCT1")
        #expect(prefix.matches(vendor: "VENDOR1 ", product: "PRODUCT10       "))
    }

    @Test("Malformed entries are rejected with a reason", arguments: [
        ("VENDOR1 PRODUCT_NAME_TOO_LONG_", "at most 24"),
        ("VENDOR", "padded with spaces to 8"),
        (" VENDOR1PRODUCT1", "starts with a space"),
        ("VENDÖR1 PRODUCT1", "printable ASCII"),
        ("VENDOR1 PRODUCT1\t", "printable ASCII"),
        ("MAXTOR ATLASU320_18_WLS", #"did you mean "MAXTOR  ATLASU320_18_WLS"?"#),
    ])
    func rejected(text: String, reason: String) {
        #expect {
            try SupportedDeviceEntry(parsing: text)
        } throws: { error in
            let error = error as! MultipathDSMError
            return error.code == .invalidSupportedDeviceEntry && error.message.contains(reason)
        }
    }

    @Test("The list claims with its most specific entry")
    func mostSpecificClaim() throws {
        let list = SupportedDeviceList([
            try SupportedDeviceEntry(parsing: "VENDOR3 PROD"),
            try SupportedDeviceEntry(parsing: "VENDOR3 PROD_PREFIX"),
            try SupportedDeviceEntry(parsing: "VENDOR3 PROD"),
        ])
        #expect(list.entries.count == 2)
        #expect(list.entry(claimingVendor: "VENDOR3", product: "PROD_PREFIX_B")?.product == "PROD_PREFIX")
        #expect(list.entry(claimingVendor: "VENDOR3", product: "PRODUCT9")?.product == "PROD")
        #expect(list.entry(claimingVendor: "VENDOR9", product: "PROD_PREFIX_B") == nil)
    }

    @Test("Config strings: good entries kept, bad ones reported at file:line")
    func configStrings() {
        let result = SupportedDeviceList.parsing(
            config: [("VENDOR1 PRODUCT1        ", 12), ("MAXTOR ATLASU320_18_WLS", 13), ("VENDOR3 PROD_PREFIX", 14)],
            file: "conf/dsm.toml"
        )
        #expect(result.list.entries.map(\.vendor) == ["VENDOR1 ", "VENDOR3 "])
        #expect(result.errors.count == 1)
        #expect(result.errors.first?.description.hasPrefix("conf/dsm.toml:13: \"MAXTOR ATLASU320_18_WLS\"") == true)
    }
}
