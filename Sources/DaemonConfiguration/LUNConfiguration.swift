/// One logical unit of a target (`[[target.lun]]`) and the identity it reports.
///
/// Vendor, product and revision are the standard INQUIRY fields (SPC-4 §6.6.2); the
/// serial number is VPD page 0x80. Multipath software groups paths by these, so they
/// must be stable across restarts and distinct between LUNs.
public struct LUNConfiguration: Sendable, Equatable {
    /// LUNs 0...16383 fit SAM's flat/peripheral single-level addressing (SAM-5 §4.7.7),
    /// which every initiator understands.
    public static let idRange: ClosedRange<UInt16> = 0...16383
    /// Logical block sizes the SCSI engine emulates.
    public static let blockSizes = [512, 4096]
    /// INQUIRY field widths (SPC-4 §6.6.2): T10 VENDOR IDENTIFICATION, PRODUCT
    /// IDENTIFICATION, PRODUCT REVISION LEVEL.
    public static let vendorLength = 8
    public static let productLength = 16
    public static let revisionLength = 4
    /// Our limit for VPD 0x80 serials: twice the derived default, short enough for
    /// multipath tools to print in one column.
    public static let serialLength = 32

    /// Logical unit number within the target.
    public var id: UInt16
    /// Storage behind the LUN.
    public var backend: LUNBackendConfiguration
    /// Logical block size in bytes, 512 or 4096.
    public var blockSize: Int
    /// INQUIRY vendor, at most 8 printable ASCII characters.
    public var vendor: String
    /// INQUIRY product, at most 16 printable ASCII characters.
    public var product: String
    /// INQUIRY revision, at most 4 printable ASCII characters.
    public var revision: String
    /// VPD 0x80 unit serial number; derived from target name and LUN id unless configured.
    public var serial: String
    /// The serial was derived (no `serial` key): a backend with an identity of its own,
    /// an rbd image's id, replaces it, so every daemon exporting the image agrees.
    public var serialIsDerived: Bool
    /// Reject writes (write-protected, SBC-3 mode parameter WP).
    public var readOnly: Bool
    /// Report a volatile write cache (SBC-3 Caching mode page WCE) and honour
    /// SYNCHRONIZE CACHE / FUA; false makes every write synchronous.
    public var writeCache: Bool
    /// Thin: offer UNMAP and WRITE SAME with UNMAP where the backend can deallocate
    /// (SBC-3 §4.7). Thick: fully provisioned; a file is preallocated.
    public var thinProvisioning: Bool
    /// Owner mode (an rbd image with the exclusive-lock feature, in a `[cluster]`): the
    /// gateway that owns the LUN whenever it is up (`home_gateway`); nil: one picked by a
    /// hash of the LUN's identity.
    public var homeGateway: String?

    public init(
        id: UInt16,
        backend: LUNBackendConfiguration,
        blockSize: Int = 512,
        vendor: String = "SWIFTPRT",
        product: String = "VIRTUAL-DISK",
        revision: String = "0001",
        serial: String,
        serialIsDerived: Bool = false,
        readOnly: Bool = false,
        writeCache: Bool = true,
        thinProvisioning: Bool = true,
        homeGateway: String? = nil
    ) {
        self.id = id
        self.backend = backend
        self.blockSize = blockSize
        self.vendor = vendor
        self.product = product
        self.revision = revision
        self.serial = serial
        self.serialIsDerived = serialIsDerived
        self.readOnly = readOnly
        self.writeCache = writeCache
        self.thinProvisioning = thinProvisioning
        self.homeGateway = homeGateway
    }

    /// A serial that stays the same across restarts and hosts: 16 upper-case hex digits
    /// of the 64-bit FNV-1a hash of "TARGETNAME/LUNID". (Swift's `Hasher` is seeded
    /// per process and would change the serial, and with it the multipath identity.)
    public static func derivedSerial(targetName: String, lunID: UInt16) -> String {
        derivedSerial(seed: "\(targetName)/\(lunID)")
    }

    /// The same for any stable name of a device (an rbd image's pool and id).
    public static func derivedSerial(seed: String) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in seed.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16, uppercase: true)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
