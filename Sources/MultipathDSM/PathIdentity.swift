import SCSIProtocol

/// What discovery learned about one path: the input to claiming and grouping.
///
/// RemoteLUN fills it from INQUIRY (vendor, product, revision), VPD 0x83 (designators),
/// VPD 0x80 (serial) and REPORT TARGET PORT GROUPS (ALUA) sent down the path.
public struct PathIdentity: Hashable, Sendable {
    public var pathID: PathID
    /// Where the path goes, for people: `10.0.0.1:3260,1` or a target name.
    public var portal: String
    /// INQUIRY T10 VENDOR IDENTIFICATION (8 bytes, trailing spaces as sent).
    public var vendor: String
    /// INQUIRY PRODUCT IDENTIFICATION (16 bytes, trailing spaces as sent).
    public var product: String
    /// INQUIRY PRODUCT REVISION LEVEL.
    public var revision: String
    /// Every VPD 0x83 designator the path reported, any type and association.
    public var designators: [DesignationDescriptor]
    /// VPD 0x80 PRODUCT SERIAL NUMBER, when the page exists.
    public var serialNumber: String?
    /// The path's target port group and its ALUA state, when the LU supports ALUA.
    public var targetPortGroup: TargetPortGroupStatus?

    public init(
        pathID: PathID, portal: String, vendor: String, product: String, revision: String = "",
        designators: [DesignationDescriptor] = [], serialNumber: String? = nil,
        targetPortGroup: TargetPortGroupStatus? = nil
    ) {
        self.pathID = pathID
        self.portal = portal
        self.vendor = vendor
        self.product = product
        self.revision = revision
        self.designators = designators
        self.serialNumber = serialNumber
        self.targetPortGroup = targetPortGroup
    }
}
