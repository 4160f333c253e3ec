import CCRC32C
import Testing

/// Golden vectors and cross-checks for the CRC32C used by iSCSI digests (RFC 7143 §13.1).
@Suite("CRC32C")
struct CRC32CTests {
    /// One-shot digest of `bytes` with the init/xorout convention documented in ccrc32c.h.
    private func crc32c(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { swiftport_crc32c($0.baseAddress, $0.count) }
    }

    @Test("check value of \"123456789\" is 0xE3069283")
    func checkValue() {
        #expect(crc32c(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test("empty input leaves the register unchanged")
    func emptyInput() {
        #expect(swiftport_crc32c_update(0x1234_5678, nil, 0) == 0x1234_5678)
        #expect(swiftport_crc32c_update_portable(0x1234_5678, nil, 0) == 0x1234_5678)
        #expect(swiftport_crc32c(nil, 0) == 0)
    }

    /// RFC 3720 Appendix B.4 prints each CRC as the four digest bytes in wire order,
    /// least significant byte first ("aa 36 91 8a" for 32 zero bytes is 0x8A9136AA).
    @Test("RFC 3720 Appendix B.4 vectors", arguments: RFC3720Vector.all)
    func rfc3720Vectors(vector: RFC3720Vector) {
        let digest = crc32c(vector.input)
        #expect(digest == vector.value)
        let littleEndian = (0..<4).map { UInt8(truncatingIfNeeded: digest >> (8 * $0)) }
        #expect(littleEndian == vector.wireBytes)
        let register = vector.input.withUnsafeBytes {
            swiftport_crc32c_update_portable(SWIFTPORT_CRC32C_INITIAL, $0.baseAddress, $0.count)
        }
        #expect(register ^ SWIFTPORT_CRC32C_XOROUT == vector.value)
    }

    @Test("hardware and portable agree on every length 0...300 and every start offset 0...7")
    func hardwareMatchesPortable() {
        var generator = SplitMix64(seed: 0x5157_4946_5450_4F52)
        let buffer = (0..<(300 + 8)).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        buffer.withUnsafeBytes { raw in
            for offset in 0..<8 {
                for length in 0...300 {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + length)])
                    let seed = UInt32.random(in: .min ... .max, using: &generator)
                    let dispatched = swiftport_crc32c_update(seed, slice.baseAddress, slice.count)
                    let portable = swiftport_crc32c_update_portable(seed, slice.baseAddress, slice.count)
                    #expect(dispatched == portable, "offset \(offset), length \(length)")
                }
            }
        }
    }

    @Test("incremental updates over any split equal the one-shot digest")
    func incrementalEqualsOneShot() {
        var generator = SplitMix64(seed: 42)
        let bytes = (0..<257).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let expected = crc32c(bytes)
        bytes.withUnsafeBytes { raw in
            for split in 0...raw.count {
                for update in [swiftport_crc32c_update, swiftport_crc32c_update_portable] {
                    let head = UnsafeRawBufferPointer(rebasing: raw[..<split])
                    let tail = UnsafeRawBufferPointer(rebasing: raw[split...])
                    var register = update(SWIFTPORT_CRC32C_INITIAL, head.baseAddress, head.count)
                    register = update(register, tail.baseAddress, tail.count)
                    #expect(register ^ SWIFTPORT_CRC32C_XOROUT == expected, "split at \(split)")
                }
            }
        }
    }

    @Test("the hardware flag is a boolean")
    func hardwareFlag() {
        // Both values are legitimate: a VM may hide SSE4.2, and other CPUs never use it.
        #expect([0, 1].contains(swiftport_crc32c_hardware()))
    }
}

/// One RFC 3720 Appendix B.4 example: the input, the digest bytes as the RFC prints
/// them, and the integer they encode least significant byte first.
struct RFC3720Vector: Sendable, CustomTestStringConvertible {
    var name: String
    var input: [UInt8]
    var wireBytes: [UInt8]
    var value: UInt32

    var testDescription: String { name }

    static let all = [
        RFC3720Vector(name: "32 bytes of zeros", input: Array(repeating: 0x00, count: 32), wireBytes: [0xAA, 0x36, 0x91, 0x8A], value: 0x8A91_36AA),
        RFC3720Vector(name: "32 bytes of ones", input: Array(repeating: 0xFF, count: 32), wireBytes: [0x43, 0xAB, 0xA8, 0x62], value: 0x62A8_AB43),
        RFC3720Vector(name: "32 incrementing bytes", input: Array(0x00...0x1F), wireBytes: [0x4E, 0x79, 0xDD, 0x46], value: 0x46DD_794E),
        RFC3720Vector(name: "32 decrementing bytes", input: Array((0x00...0x1F).reversed()), wireBytes: [0x5C, 0xDB, 0x3F, 0x11], value: 0x113F_DB5C),
    ]
}

/// A seeded generator so that the random buffers are the same on every run.
private struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
