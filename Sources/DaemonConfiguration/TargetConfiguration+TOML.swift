import ISCSISession
import SCSIEngine
import SCSIProtocol

extension TargetConfiguration {
    static let keys = [
        "name", "alias", "portals", "portal_group", "auth", "allowed_initiators", "allowed_networks", "lun",
        "explicit_alua",
    ]
    static let portalGroupKeys = ["tag", "portals", "alua_state", "preferred"]
    /// The `alua_state` words: every state but transitioning, which only the daemon
    /// enters (SPC-4 §5.15.2.5).
    static let configurableALUAStates = SCSITargetDevice.implementedAccessStates.filter(\.isRequestable)
    /// RFC 7143 §13.6: TargetAlias is a text value; we keep it to one short line.
    static let maximumAliasLength = 255

    /// Reads one `[[target]]` with its portal groups, auth and LUNs; nil after reporting
    /// errors. `serials` is shared by all targets (see ``LUNConfiguration``).
    init?(reading reader: TableReader, serials: inout [String: Int]) {
        let decoder = reader.decoder
        let errorsBefore = decoder.errors.count
        let name = reader.string("name", example: "\"iqn.2026-11.com.example:disk1\"")
            .flatMap { decoder.parse($0) { text throws(ConfigurationValueError) in try ISCSIName.validate(text); return text } }
        if reader.table["name"] == nil {
            reader.missing("name", example: "\"iqn.2026-11.com.example:disk1\"")
        }
        let alias = reader.string("alias", example: "\"disk1\"")
        if let alias, alias.value.isEmpty || alias.value.utf8.count > Self.maximumAliasLength
            || alias.value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        {
            decoder.report("'alias' must be 1 to \(Self.maximumAliasLength) bytes of text without control characters", line: alias.line)
        }
        let portalGroups = Self.portalGroups(reader)
        let auth = reader.table("auth", named: "[target.auth]", keys: CHAPCredentials.keys).flatMap(CHAPCredentials.init(reading:))
        let example = "[\"iqn.1994-05.com.redhat:host1\"]"
        let allowedInitiators = (reader.strings("allowed_initiators", example: example) ?? []).compactMap { initiator in
            decoder.parse(initiator) { text throws(ConfigurationValueError) in try ISCSIName.validate(text); return text }
        }
        let allowedNetworks = (reader.strings("allowed_networks", example: "[\"10.0.0.0/8\"]") ?? []).compactMap {
            decoder.parse($0, with: IPNetwork.init(parsing:))
        }

        let explicitALUA = reader.boolean("explicit_alua")

        let lunTables = reader.tables("lun", named: "[[target.lun]]", keys: LUNConfiguration.keys)
        if lunTables.isEmpty && reader.table["lun"] == nil {
            decoder.report(
                "target '\(name?.value ?? "?")' has no LUNs",
                line: reader.table.line,
                suggestion: "add a [[target.lun]] section after this [[target]]"
            )
        }
        var lunIDs: [Int64: Int] = [:]
        let targetName = name?.value ?? ""
        let luns = lunTables.compactMap { lun -> LUNConfiguration? in
            if let id = lun.peekInteger("id") {
                decoder.checkUnique(id.value, line: id.line, in: &lunIDs) { first in
                    "LUN \(id.value) is defined twice in this target (first on line \(first))"
                }
            }
            return LUNConfiguration(reading: lun, targetName: targetName, serials: &serials)
        }

        guard decoder.errors.count == errorsBefore, let name, let portalGroups else { return nil }
        self.init(
            name: name.value,
            alias: alias?.value,
            portalGroups: portalGroups,
            auth: auth,
            allowedInitiators: allowedInitiators.map(\.value),
            allowedNetworks: allowedNetworks.map(\.value),
            luns: luns,
            explicitALUA: explicitALUA?.value ?? false
        )
    }

    /// `portals = [...]` (one group, tag 1) or `[[target.portal_group]]` tables.
    private static func portalGroups(_ reader: TableReader) -> [PortalGroupConfiguration]? {
        let decoder = reader.decoder
        let example = "[\"0.0.0.0:3260\"]"
        let shorthand = reader.strings("portals", example: example)
        let groups = reader.tables("portal_group", named: "[[target.portal_group]]", keys: portalGroupKeys)
        var seenPortals: [PortalAddress: Int] = [:]
        var seenTags: [UInt16: Int] = [:]

        func portals(_ texts: [Located<String>]) -> [PortalAddress] {
            texts.compactMap { text in
                guard let portal = decoder.parse(text, with: PortalAddress.init(parsing:)) else { return nil }
                decoder.checkUnique(portal.value, line: portal.line, in: &seenPortals) { first in
                    "portal \(portal.value) is listed twice in this target (first on line \(first))"
                }
                return portal.value
            }
        }

        switch (shorthand, groups.isEmpty) {
        case (let shorthand?, true):
            if shorthand.isEmpty {
                decoder.report("'portals' is empty", line: reader.line(of: "portals"), suggestion: "write portals = \(example)")
                return nil
            }
            return [PortalGroupConfiguration(tag: 1, portals: portals(shorthand))]
        case (nil, false):
            return groups.compactMap { group in
                let tag = group.integer("tag", in: PortalGroupConfiguration.tagRange, example: "1")
                if group.table["tag"] == nil { group.missing("tag", example: "1") }
                let texts = group.strings("portals", example: example)
                if group.table["portals"] == nil || texts?.isEmpty == true {
                    decoder.report("[[target.portal_group]] has no portals", line: group.table.line, suggestion: "add portals = \(example)")
                }
                if let tag {
                    decoder.checkUnique(tag.value, line: tag.line, in: &seenTags) { first in
                        "portal group tag \(tag.value) is used twice in this target (first on line \(first))"
                    }
                }
                let aluaState = Self.aluaState(group)
                let preferred = group.boolean("preferred")
                guard let tag, let texts, !texts.isEmpty, let aluaState else { return nil }
                return PortalGroupConfiguration(
                    tag: tag.value, portals: portals(texts), aluaState: aluaState, preferred: preferred?.value ?? false)
            }
        case (_?, false):
            decoder.report(
                "a target takes either 'portals' or [[target.portal_group]] sections, not both",
                line: reader.line(of: "portals"),
                suggestion: "move these portals into a [[target.portal_group]]"
            )
            return nil
        case (nil, true):
            if reader.table["portals"] == nil && reader.table["portal_group"] == nil {
                decoder.report("target has no portals", line: reader.table.line, suggestion: "add portals = \(example)")
            }
            return nil
        }
    }
}

extension TargetConfiguration {
    /// `alua_state` of a `[[target.portal_group]]`: active/optimized when absent, nil
    /// after reporting a value that names no configurable state.
    private static func aluaState(_ group: TableReader) -> AsymmetricAccessState? {
        let example = "\"active-optimized\""
        guard let text = group.string("alua_state", example: example) else {
            return group.table["alua_state"] == nil ? .activeOptimized : nil
        }
        guard let state = AsymmetricAccessState(name: text.value), configurableALUAStates.contains(state) else {
            let words = configurableALUAStates.map { "\"\($0.name)\"" }.joined(separator: ", ")
            // "Active_Optimized", "active/optimized": the intended word is obvious.
            let fixed = AsymmetricAccessState(name: String(text.value.lowercased().map { $0 == "_" || $0 == "/" ? "-" : $0 }))
            group.decoder.report(
                "'alua_state' must be one of \(words), not '\(text.value)'",
                line: text.line,
                suggestion: fixed.flatMap { configurableALUAStates.contains($0) ? "write alua_state = \"\($0.name)\"" : nil }
                    ?? "write alua_state = \(example)")
            return nil
        }
        return state
    }
}
