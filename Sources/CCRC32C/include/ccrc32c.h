// CRC32C (Castagnoli) for iSCSI header and data digests, RFC 7143 §13.1 (HeaderDigest,
// DataDigest) and RFC 3720 Appendix B.4 (test vectors).
//
// Convention: reflected polynomial 0x82F63B78 (0x1EDC6F41 unreflected), initial register
// 0xFFFFFFFF, final XOR 0xFFFFFFFF, input and output reflected. This is the "CRC-32C" of
// the CRC catalogue: check value crc32c("123456789") == 0xE3069283.
//
// The *_update functions work on the raw register and do NOT invert on entry or exit,
// which is exactly what the SSE4.2 `crc32` instruction computes. This makes them chain
// across discontiguous buffers (header, then each data segment fragment):
//
//     uint32_t r = SWIFTPORT_CRC32C_INITIAL;
//     r = swiftport_crc32c_update(r, part1, len1);
//     r = swiftport_crc32c_update(r, part2, len2);
//     uint32_t digest = r ^ SWIFTPORT_CRC32C_XOROUT;   // == swiftport_crc32c(whole, len1 + len2)
//
// On the wire the digest is sent least significant byte first: RFC 3720 B.4 prints the
// CRC of 32 zero bytes as the bytes "aa 36 91 8a", that is the integer 0x8A9136AA.

#ifndef SWIFTPORT_CCRC32C_H
#define SWIFTPORT_CCRC32C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Initial value of the CRC register before the first byte.
#define SWIFTPORT_CRC32C_INITIAL 0xFFFFFFFFu
/// Value XORed into the register after the last byte to produce the digest.
#define SWIFTPORT_CRC32C_XOROUT 0xFFFFFFFFu

/// Advances the raw CRC register `crc` over `length` bytes at `data` (no inversion on
/// entry or exit). Uses the SSE4.2 `crc32` instruction when the CPU has it, otherwise
/// the portable implementation. `data` may be NULL when `length` is 0.
uint32_t swiftport_crc32c_update(uint32_t crc, const void *data, size_t length);

/// The same function computed in portable C (slicing-by-8), on every CPU. Exported so
/// that tests can check the hardware path against it.
uint32_t swiftport_crc32c_update_portable(uint32_t crc, const void *data, size_t length);

/// One-shot digest: swiftport_crc32c_update(SWIFTPORT_CRC32C_INITIAL, data, length)
/// ^ SWIFTPORT_CRC32C_XOROUT. crc32c("123456789", 9) == 0xE3069283.
uint32_t swiftport_crc32c(const void *data, size_t length);

/// 1 when swiftport_crc32c_update uses the SSE4.2 instruction on this CPU, else 0.
int swiftport_crc32c_hardware(void);

#ifdef __cplusplus
}
#endif

#endif
