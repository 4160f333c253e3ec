import LUNBackends

extension LUNConfiguration {
    static let keys = [
        "id", "backend", "size", "path", "block_size", "vendor", "product", "revision", "serial",
        "read_only", "write_cache", "provisioning", "upstream_portals", "upstream_target", "upstream_lun",
        "upstream_auth", "upstream_discovery_auth",
    ] + rbdKeys
    /// Keys that only a remote LUN may have.
    static let upstreamKeys = ["upstream_portals", "upstream_target", "upstream_lun", "upstream_auth", "upstream_discovery_auth"]
    /// Keys that only an rbd LUN may have.
    static let rbdKeys = ["pool", "image", "namespace", "ceph_conf", "client", "keyring", "create", "cluster_timeout", "home_gateway"]
    static let backends = ["ram", "file", "block", "remote", "rbd"]
    static let provisioningModes = ["thin", "thick"]

    /// One `[[target.lun]]` of target `targetName`, its keys at the top level of TOML
    /// `text`, read with every rule and default of the configuration file (for LUNs
    /// added while the daemon runs); `source` names it in errors.
    public static func parse(_ text: String, targetName: String, source: String) throws(ConfigurationErrors) -> LUNConfiguration {
        try ConfigurationDecoder.read(text, file: source, named: "[[target.lun]]", keys: keys) { reader in
            var serials: [String: Int] = [:]
            return LUNConfiguration(reading: reader, targetName: targetName, serials: &serials)
        }
    }

    /// Reads one `[[target.lun]]`; nil after reporting errors. `serials` maps every serial
    /// seen so far in the file to its line: two LUNs with one serial would be merged into
    /// one device by multipath, which corrupts data.
    init?(reading reader: TableReader, targetName: String, serials: inout [String: Int]) {
        let decoder = reader.decoder
        let id = reader.integer("id", in: Self.idRange, example: "0")
        if reader.table["id"] == nil {
            reader.missing("id", example: "0")
        }
        let blockSize = reader.integer("block_size", in: Int.min...Int.max, example: "512")
        if let blockSize, !Self.blockSizes.contains(blockSize.value) {
            decoder.report(
                "'block_size' must be 512 or 4096, not \(blockSize.value)",
                line: blockSize.line,
                suggestion: "write block_size = 512"
            )
        }
        let validBlockSize = blockSize.flatMap { Self.blockSizes.contains($0.value) ? $0.value : nil }
        // With an invalid block size, check the size against the default rather than not at all.
        let backend = Self.backend(reader, blockSize: validBlockSize ?? 512)
        let vendor = Self.inquiryText(reader, "vendor", maximum: Self.vendorLength, example: "\"SWIFTPRT\"")
        let product = Self.inquiryText(reader, "product", maximum: Self.productLength, example: "\"VIRTUAL-DISK\"")
        let revision = Self.inquiryText(reader, "revision", maximum: Self.revisionLength, example: "\"0001\"")
        let configuredSerial = Self.inquiryText(reader, "serial", maximum: Self.serialLength, example: "\"SP0001\"")
        let readOnly = reader.boolean("read_only")
        let writeCache = reader.boolean("write_cache")
        let provisioning = reader.string("provisioning", example: "\"thin\"")
        if let provisioning, !Self.provisioningModes.contains(provisioning.value) {
            decoder.report(
                "'provisioning' must be \"thin\" or \"thick\", not '\(provisioning.value)'",
                line: provisioning.line,
                suggestion: "write provisioning = \"thin\" (UNMAP offered) or \"thick\" (fully allocated)"
            )
        }

        let homeGateway = reader.string("home_gateway", example: "\"gw-a\"")
        if let homeGateway, let gateways = decoder.clusterGateways, !gateways.contains(homeGateway.value) {
            decoder.report(
                gateways.isEmpty
                    ? "'home_gateway' names the gateway of a [cluster] that owns this LUN, but the file has no [cluster]"
                    : "'home_gateway' must be one of the [[cluster.gateways]], not '\(homeGateway.value)'",
                line: homeGateway.line,
                suggestion: gateways.isEmpty ? "remove it" : "write home_gateway = \"\(gateways[0])\"")
        }

        guard let id, let backend, blockSize == nil || validBlockSize != nil,
            provisioning.map({ Self.provisioningModes.contains($0.value) }) ?? true
        else { return nil }
        let serial = configuredSerial?.value ?? Self.derivedSerial(targetName: targetName, lunID: id.value)
        if let configuredSerial {
            decoder.checkUnique(serial, line: configuredSerial.line, in: &serials) { first in
                "serial '\(serial)' is already used by the LUN on line \(first); multipath would treat both LUNs as one device"
            }
        } else if serials[serial] == nil {
            // Derived serials collide only when target name and LUN id do, which is reported already.
            serials[serial] = reader.table.line
        }
        self.init(
            id: id.value,
            backend: backend,
            blockSize: blockSize?.value ?? 512,
            vendor: vendor?.value ?? "SWIFTPRT",
            product: product?.value ?? "VIRTUAL-DISK",
            revision: revision?.value ?? "0001",
            serial: serial,
            serialIsDerived: configuredSerial == nil,
            readOnly: readOnly?.value ?? false,
            writeCache: writeCache?.value ?? true,
            thinProvisioning: provisioning?.value != "thick",
            homeGateway: homeGateway?.value
        )
    }

    /// `backend` with the `size` and `path` keys it requires or forbids.
    private static func backend(_ reader: TableReader, blockSize: Int) -> LUNBackendConfiguration? {
        let decoder = reader.decoder
        let size = self.size(reader, blockSize: blockSize)
        let path = reader.string("path", example: "\"/var/lib/swiftport/lun0.img\"")
        if let path, !path.value.hasPrefix("/") {
            decoder.report(
                "'path' must be absolute, not '\(path.value)'",
                line: path.line,
                suggestion: "write the full path, starting with '/'"
            )
        }
        guard let kind = reader.string("backend", example: "\"ram\"") else {
            if reader.table["backend"] == nil {
                reader.missing("backend", example: "\"ram\" (or \"file\" or \"block\")")
            }
            return nil
        }
        let validPath = path.flatMap { $0.value.hasPrefix("/") ? $0.value : nil }
        if kind.value != "remote" {
            // Upstream settings on a local LUN are a mistake, never to pass silently: a
            // CHAP secret given here would otherwise look configured.
            for key in upstreamKeys {
                guard let entry = reader.table[key] else { continue }
                decoder.report("'\(key)' applies only to a remote LUN, not to backend \"\(kind.value)\"", line: entry.line, suggestion: "remove it, or write backend = \"remote\"")
            }
        }
        if kind.value != "rbd" {
            for key in rbdKeys {
                guard let entry = reader.table[key] else { continue }
                decoder.report("'\(key)' applies only to an rbd LUN, not to backend \"\(kind.value)\"", line: entry.line, suggestion: "remove it, or write backend = \"rbd\"")
            }
        }
        switch kind.value {
        case "ram":
            if let path {
                decoder.report("'path' does not apply to a RAM LUN", line: path.line, suggestion: "remove it, or write backend = \"file\"")
            }
            guard let size else {
                if reader.table["size"] == nil {
                    reader.missing("size", example: "\"1GiB\"")
                }
                return nil
            }
            return path == nil ? .ram(size: size) : nil
        case "file":
            guard let validPath else {
                if path == nil { reader.missing("path", example: "\"/var/lib/swiftport/lun0.img\"") }
                return nil
            }
            let sizeIsValid = size != nil || reader.table["size"] == nil
            return sizeIsValid ? .file(path: validPath, size: size) : nil
        case "block":
            if let sizeEntry = reader.table["size"] {
                decoder.report(
                    "'size' does not apply to a block device LUN: the device reports its own size",
                    line: sizeEntry.line,
                    suggestion: "remove it"
                )
            }
            guard let validPath else {
                if path == nil { reader.missing("path", example: "\"/dev/disk/by-id/...\"") }
                return nil
            }
            return reader.table["size"] == nil ? .block(path: validPath) : nil
        case "remote":
            for key in ["size", "path"] {
                if let entry = reader.table[key] {
                    decoder.report("'\(key)' does not apply to a remote LUN: the upstream device has its own", line: entry.line, suggestion: "remove it")
                }
            }
            guard let portals = reader.strings("upstream_portals", example: "[\"10.0.0.1:3260\", \"10.0.1.1:3260\"]") else {
                if reader.table["upstream_portals"] == nil { reader.missing("upstream_portals", example: "[\"10.0.0.1:3260\", \"10.0.1.1:3260\"]") }
                return nil
            }
            let addresses = portals.compactMap { decoder.parse($0, with: PortalAddress.init(parsing:)) }
            let lun = reader.integer("upstream_lun", in: UInt16(0)...UInt16(16383), example: "0")
            let errorsBefore = decoder.errors.count
            let auth = UpstreamAuthentication(reading: reader, sessionKey: "upstream_auth", discoveryKey: "upstream_discovery_auth", parent: "target.lun")
            guard addresses.count == portals.count, !addresses.isEmpty, decoder.errors.count == errorsBefore else { return nil }
            return .remote(
                portals: addresses.map(\.value), target: reader.string("upstream_target", example: "\"iqn.2001-04.com.example:array\"")?.value,
                lun: lun?.value ?? 0, auth: auth)
        case "rbd":
            return rbd(reader, size: size, path: path)
        default:
            decoder.report(
                "'backend' must be \"ram\", \"file\", \"block\", \"remote\" or \"rbd\", not '\(kind.value)'",
                line: kind.line,
                suggestion: backends.contains(kind.value.lowercased()) ? "write backend = \"\(kind.value.lowercased())\"" : nil
            )
            return nil
        }
    }

    /// An rbd LUN's keys: `pool` and `image` required, `size` only with `create = true`
    /// (the image's own size counts otherwise), no `path`.
    private static func rbd(_ reader: TableReader, size: UInt64?, path: Located<String>?) -> LUNBackendConfiguration? {
        let decoder = reader.decoder
        let errorsBefore = decoder.errors.count
        if let path {
            decoder.report("'path' does not apply to an rbd LUN", line: path.line, suggestion: "remove it; the image is named by pool and image")
        }
        let pool = reader.string("pool", example: "\"rbd\"")
        if reader.table["pool"] == nil { reader.missing("pool", example: "\"rbd\"") }
        let image = reader.string("image", example: "\"lun0\"")
        if reader.table["image"] == nil { reader.missing("image", example: "\"lun0\"") }
        let namespace = reader.string("namespace", example: "\"gateway\"")
        let connection = CephConnection(reading: reader)
        let create = reader.boolean("create")
        if create?.value == true, reader.table["size"] == nil {
            decoder.report("'create = true' needs 'size', the size of the image to create", line: create!.line, suggestion: "add size = \"1GiB\"")
        }
        if let sizeEntry = reader.table["size"], create?.value != true {
            decoder.report(
                "'size' applies to an rbd LUN only with create = true: an existing image has its own size", line: sizeEntry.line,
                suggestion: "remove it, or add create = true")
        }
        for entry in [pool, image] {
            if let entry, entry.value.isEmpty || entry.value.contains("/") || entry.value.contains("@") {
                decoder.report("'\(entry.value)' is not a pool or image name (no '/', no '@', not empty)", line: entry.line)
            }
        }
        guard let pool, let image, let connection, decoder.errors.count == errorsBefore, create?.value != true || size != nil else {
            return nil
        }
        let location = RBDImageLocation(
            pool: pool.value, image: image.value, namespace: namespace?.value, cephConf: connection.cephConf,
            client: connection.client, keyring: connection.keyring, clusterTimeout: connection.clusterTimeout)
        return .rbd(location, createSize: create?.value == true ? size : nil)
    }

    /// `size` as a byte count string ("1GiB") or integer, a positive multiple of the block size.
    private static func size(_ reader: TableReader, blockSize: Int) -> UInt64? {
        guard let value = reader.table["size"]?.value else { return nil }
        let bytes: Located<UInt64>?
        switch value.kind {
        case .string(let text):
            bytes = reader.decoder.parse(Located(value: text, line: value.line), with: ByteSize.parse)
        case .integer(let integer) where integer >= 0:
            bytes = Located(value: UInt64(integer), line: value.line)
        default:
            return reader.wrongType("size", value, expected: "a size such as \"1GiB\" or a byte count", example: "\"1GiB\"")
        }
        guard let bytes else { return nil }
        let block = UInt64(blockSize)
        guard bytes.value > 0, bytes.value % block == 0 else {
            let roundedUp = max(block, (bytes.value + block - 1) / block * block)
            reader.decoder.report(
                "'size' must be a positive multiple of the block size \(blockSize), not \(bytes.value) bytes",
                line: bytes.line,
                suggestion: "write size = \(roundedUp)"
            )
            return nil
        }
        return bytes.value
    }

    /// An INQUIRY or VPD text field: 1...maximum printable ASCII characters (SPC-4 §4.3.1).
    private static func inquiryText(_ reader: TableReader, _ key: String, maximum: Int, example: String) -> Located<String>? {
        guard let text = reader.string(key, example: example) else { return nil }
        let printable = text.value.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) }
        guard printable, (1...maximum).contains(text.value.unicodeScalars.count) else {
            reader.decoder.report(
                "'\(key)' must be 1 to \(maximum) printable ASCII characters, not '\(text.value)'",
                line: text.line,
                suggestion: printable ? "write \(key) = \"\(text.value.prefix(maximum))\"" : "write \(key) = \(example)"
            )
            return nil
        }
        return text
    }
}
