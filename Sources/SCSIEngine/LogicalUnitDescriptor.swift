import BlockStorage

/// Configuration of one logical unit, as the daemon builds it from its config file.
/// Identity fields (serial, NAA) must be stable across restarts and identical on every
/// portal so that multipath layers group the paths (ARCHITECTURE.md §1).
public struct LogicalUnitDescriptor: Sendable {
    /// The LUN, 0...16383 (SAM-5 §4.7.7 single-level addressing).
    public var lun: UInt16
    public var device: any BlockDevice
    /// T10 vendor identification (INQUIRY bytes 8-15), at most 8 ASCII characters.
    public var vendor: String
    /// Product identification (INQUIRY bytes 16-31), at most 16 ASCII characters.
    public var product: String
    /// Product revision level (INQUIRY bytes 32-35), at most 4 ASCII characters.
    public var revision: String
    /// Unit serial number (VPD page 80h).
    public var serial: String
    /// 16-byte NAA 6 designator (VPD page 83h); see ``naaIdentifier(seed:)``.
    public var naaIdentifier: [UInt8]
    /// Writes fail with DATA PROTECT / WRITE PROTECTED and MODE SENSE sets WP.
    public var readOnly: Bool
    /// Initial and reset value of WCE in the caching mode page. With WCE = 0 every
    /// write is forced to stable storage before it completes (SBC-3 §6.4.5).
    public var writeCacheEnabled: Bool
    /// Thin (the default): UNMAP and WRITE SAME with UNMAP deallocate, and LBPME is
    /// reported, when the backend can (SBC-3 §4.7). Thick: fully provisioned, no
    /// deallocation offered, whatever the backend could do.
    public var thinProvisioning: Bool
    /// Owner mode (a medium only one gateway of a cluster writes at a time, an
    /// ``ExclusiveLockDevice`` that requires its lock): the target port group of the
    /// gateway that owns the unit whenever it is up, reported with PREF set. nil: every
    /// gateway writes the medium (active/active), or there are no other gateways.
    public var homeTargetPortGroup: UInt16?

    public init(
        lun: UInt16, device: any BlockDevice, vendor: String = "SWIFTPRT", product: String,
        revision: String, serial: String, naaIdentifier: [UInt8], readOnly: Bool = false,
        writeCacheEnabled: Bool = true, thinProvisioning: Bool = true, homeTargetPortGroup: UInt16? = nil
    ) {
        self.lun = lun
        self.device = device
        self.vendor = vendor
        self.product = product
        self.revision = revision
        self.serial = serial
        self.naaIdentifier = naaIdentifier
        self.readOnly = readOnly
        self.writeCacheEnabled = writeCacheEnabled
        self.thinProvisioning = thinProvisioning
        self.homeTargetPortGroup = homeTargetPortGroup
    }
}
