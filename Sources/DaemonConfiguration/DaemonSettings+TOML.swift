extension DaemonSettings {
    static let keys = ["state_dir", "admin_socket", "log_level", "log_format", "nop_in_interval", "nop_in_timeout", "event_loop_threads", "iscsi"]
    static let iscsiKeys = [
        "max_recv_data_segment_length", "max_burst_length", "first_burst_length", "immediate_data",
        "initial_r2t", "max_outstanding_r2t", "header_digest", "data_digest",
    ]
    /// `sockaddr_un.sun_path` holds 108 bytes including the terminating NUL on Linux.
    static let maximumSocketPathLength = 107

    /// Reads `[daemon]` and `[daemon.iscsi]`; every absent key keeps its default.
    init(reading reader: TableReader?) {
        self.init()
        guard let reader else { return }
        if let path = Self.absolutePath(reader, "state_dir", example: "\"/var/lib/swiftport\"") {
            stateDirectory = path.value
        }
        if let path = Self.absolutePath(reader, "admin_socket", example: "\"/run/swiftport/admin.sock\"") {
            if path.value.utf8.count > Self.maximumSocketPathLength {
                reader.decoder.report(
                    "'admin_socket' is \(path.value.utf8.count) bytes long; a Unix socket path can have at most \(Self.maximumSocketPathLength)",
                    line: path.line,
                    suggestion: "choose a shorter path such as \"/run/swiftport/admin.sock\""
                )
            } else {
                adminSocketPath = path.value
            }
        }
        if let level = reader.string("log_level", example: "\"info\"") {
            if Self.logLevels.contains(level.value) {
                logLevel = level.value
            } else {
                reader.decoder.report(
                    "'log_level' must be one of \(Self.logLevels.joined(separator: ", ")), not '\(level.value)'",
                    line: level.line,
                    suggestion: Self.logLevels.contains(level.value.lowercased()) ? "write log_level = \"\(level.value.lowercased())\"" : nil
                )
            }
        }
        if let format = reader.string("log_format", example: "\"json\"") {
            if let known = LogFormat(rawValue: format.value) {
                logFormat = known
            } else {
                reader.decoder.report(
                    "'log_format' must be \"text\" or \"json\", not '\(format.value)'", line: format.line,
                    suggestion: "write log_format = \"json\" for one JSON object per line")
            }
        }
        nopInInterval = reader.integer("nop_in_interval", in: 0...3600, example: "30")?.value ?? nopInInterval
        nopInTimeout = reader.integer("nop_in_timeout", in: 1...3600, example: "30")?.value ?? nopInTimeout
        eventLoopThreads = reader.integer("event_loop_threads", in: Self.eventLoopThreadRange, example: "2")?.value ?? eventLoopThreads
        if let iscsi = reader.table("iscsi", named: "[daemon.iscsi]", keys: Self.iscsiKeys) {
            readISCSI(iscsi)
        }
    }

    private mutating func readISCSI(_ reader: TableReader) {
        let lengths = Self.dataLengthRange
        maxRecvDataSegmentLength = reader.integer("max_recv_data_segment_length", in: lengths, example: "262144")?.value
            ?? maxRecvDataSegmentLength
        let maxBurst = reader.integer("max_burst_length", in: lengths, example: "1048576")
        let firstBurst = reader.integer("first_burst_length", in: lengths, example: "262144")
        maxBurstLength = maxBurst?.value ?? maxBurstLength
        firstBurstLength = firstBurst?.value ?? firstBurstLength
        if firstBurstLength > maxBurstLength {
            // RFC 7143 §13.14: FirstBurstLength MUST NOT exceed MaxBurstLength.
            reader.decoder.report(
                "'first_burst_length' (\(firstBurstLength)) must not exceed 'max_burst_length' (\(maxBurstLength)) (RFC 7143 §13.14)",
                line: (firstBurst ?? maxBurst)?.line ?? reader.table.line,
                suggestion: "write first_burst_length = \(maxBurstLength) or less"
            )
        }
        immediateData = reader.boolean("immediate_data")?.value ?? immediateData
        initialR2T = reader.boolean("initial_r2t")?.value ?? initialR2T
        maxOutstandingR2T = reader.integer("max_outstanding_r2t", in: 1...65535, example: "1")?.value ?? maxOutstandingR2T
        headerDigest = Self.digests(reader, "header_digest") ?? headerDigest
        dataDigest = Self.digests(reader, "data_digest") ?? dataDigest
    }

    /// A non-empty list of distinct digest names.
    private static func digests(_ reader: TableReader, _ key: String) -> [String]? {
        let example = "[\"None\", \"CRC32C\"]"
        guard let names = reader.strings(key, example: example) else { return nil }
        if names.isEmpty {
            reader.decoder.report("'\(key)' must list at least one digest", line: reader.line(of: key), suggestion: "write \(key) = \(example)")
            return nil
        }
        var valid = true
        var seen: [String: Int] = [:]
        for name in names {
            guard digestAlgorithms.contains(name.value) else {
                let spelled = digestAlgorithms.first { $0.lowercased() == name.value.lowercased() }
                reader.decoder.report(
                    "'\(name.value)' in '\(key)' is not a digest; RFC 7143 §13.1 defines \"None\" and \"CRC32C\"",
                    line: name.line,
                    suggestion: spelled.map { "write \"\($0)\" (digest names are case-sensitive)" }
                )
                valid = false
                continue
            }
            reader.decoder.checkUnique(name.value, line: name.line, in: &seen) { first in
                "'\(name.value)' appears twice in '\(key)' (also on line \(first))"
            }
        }
        return valid && seen.count == names.count ? names.map(\.value) : nil
    }

    private static func absolutePath(_ reader: TableReader, _ key: String, example: String) -> Located<String>? {
        guard let path = reader.string(key, example: example) else { return nil }
        guard path.value.hasPrefix("/") else {
            reader.decoder.report("'\(key)' must be an absolute path, not '\(path.value)'", line: path.line, suggestion: "write \(key) = \(example)")
            return nil
        }
        return path
    }
}
