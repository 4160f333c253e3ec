extension SupportedDeviceList {
    /// The registry key and value MPIO reads its supported-device list from.
    static let mpdevSubkey = #"SYSTEM\CurrentControlSet\Control\MPDEV"#
    static let supportedDeviceListValue = "MPIOSupportedDeviceList"
    /// FLG_ADDREG_TYPE_MASK and FLG_ADDREG_TYPE_MULTI_SZ (INF AddReg directive): the list
    /// is a REG_MULTI_SZ, whether written with or without FLG_ADDREG_APPEND (0x8).
    static let addRegTypeMask: UInt32 = 0xFFFF_0001
    static let addRegTypeMultiSZ: UInt32 = 0x0001_0000

    /// Entries from every AddReg line of an INF that writes
    /// `HKLM, "SYSTEM\CurrentControlSet\Control\MPDEV", "MPIOSupportedDeviceList", flags, "…"`.
    ///
    /// Each quoted string after the flags is one entry (REG_MULTI_SZ takes several per
    /// line). Lines for other keys or values (the WMI security descriptors of the sample)
    /// are skipped. Every malformed MPDEV line and bad entry is reported with `file`:line.
    public static func parsing(inf text: String, file: String) -> ParseResult {
        let inf = INFFile(text)
        var result = ParseResult(list: SupportedDeviceList(), errors: [])
        for line in inf.lines where line.section != "strings" {
            func report(_ message: String) {
                result.errors.append(MultipathDSMError(.malformedINFLine, file: file, line: line.number, message: message))
            }
            if let problem = line.problem {
                if line.text.lowercased().contains(supportedDeviceListValue.lowercased()) { report(problem) }
                continue
            }
            do throws(INFFile.ResolveError) {
                guard line.key == nil, line.fields.count >= 3,
                      try inf.resolve(line.fields[1]).lowercased() == mpdevSubkey.lowercased(),
                      try inf.resolve(line.fields[2]).lowercased() == supportedDeviceListValue.lowercased()
                else { continue }
                let root = try inf.resolve(line.fields[0])
                guard root.uppercased() == "HKLM" else {
                    report("\(supportedDeviceListValue) lives under HKLM, not \(root)")
                    continue
                }
                guard line.fields.count >= 5 else {
                    report("expected flags and at least one device string after \(supportedDeviceListValue)")
                    continue
                }
                let flagsText = try inf.resolve(line.fields[3])
                guard let flags = parseFlags(flagsText) else {
                    report("flags \"\(flagsText)\" are not a number; use %REG_MULTI_SZ_APPEND% (0x00010008)")
                    continue
                }
                guard flags & addRegTypeMask == addRegTypeMultiSZ else {
                    report("flags \(flagsText) do not make a REG_MULTI_SZ (0x00010000); \(supportedDeviceListValue) is a multi-string")
                    continue
                }
                for field in line.fields[4...] {
                    let value = try inf.resolve(field)
                    do throws(MultipathDSMError) {
                        result.list.append(contentsOf: [try SupportedDeviceEntry(parsing: value)])
                    } catch {
                        result.errors.append(error.located(file: file, line: line.number))
                    }
                }
            } catch {
                report(error.message)
            }
        }
        return result
    }

    /// AddReg flags: hexadecimal with `0x`, or decimal.
    private static func parseFlags(_ text: String) -> UInt32? {
        let lowered = text.lowercased()
        return lowered.hasPrefix("0x") ? UInt32(lowered.dropFirst(2), radix: 16) : UInt32(lowered)
    }
}
