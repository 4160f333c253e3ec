// CRC32C for iSCSI digests (RFC 7143 §13.1); conventions are documented in ccrc32c.h.
//
// Two implementations of one function: the SSE4.2 `crc32` instruction, eight bytes per
// instruction, chosen at run time because a distribution build cannot assume SSE4.2;
// and slicing-by-8 tables for other CPUs (and as the reference the tests compare with).

#include "ccrc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#define SWIFTPORT_CRC32C_X86 1
#endif

// Castagnoli polynomial 0x1EDC6F41, bit-reversed because iSCSI feeds bits LSB first.
static const uint32_t castagnoli_reflected = 0x82F63B78u;

// slicing_table[k][b] is the register contribution of byte b followed by k zero bytes.
static uint32_t slicing_table[8][256];
static pthread_once_t slicing_table_once = PTHREAD_ONCE_INIT;

static void build_slicing_table(void) {
    for (uint32_t byte = 0; byte < 256; byte++) {
        uint32_t crc = byte;
        for (int bit = 0; bit < 8; bit++) {
            crc = (crc >> 1) ^ ((crc & 1u) ? castagnoli_reflected : 0u);
        }
        slicing_table[0][byte] = crc;
    }
    for (int k = 1; k < 8; k++) {
        for (uint32_t byte = 0; byte < 256; byte++) {
            uint32_t previous = slicing_table[k - 1][byte];
            slicing_table[k][byte] = (previous >> 8) ^ slicing_table[0][previous & 0xFFu];
        }
    }
}

// Byte-wise little-endian load: correct on any byte order and any alignment.
static inline uint32_t load_le32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint32_t swiftport_crc32c_update_portable(uint32_t crc, const void *data, size_t length) {
    pthread_once(&slicing_table_once, build_slicing_table);
    const unsigned char *p = data;
    while (length >= 8) {
        uint32_t low = crc ^ load_le32(p);
        uint32_t high = load_le32(p + 4);
        crc = slicing_table[7][low & 0xFFu] ^ slicing_table[6][(low >> 8) & 0xFFu]
            ^ slicing_table[5][(low >> 16) & 0xFFu] ^ slicing_table[4][low >> 24]
            ^ slicing_table[3][high & 0xFFu] ^ slicing_table[2][(high >> 8) & 0xFFu]
            ^ slicing_table[1][(high >> 16) & 0xFFu] ^ slicing_table[0][high >> 24];
        p += 8;
        length -= 8;
    }
    while (length-- > 0) {
        crc = (crc >> 8) ^ slicing_table[0][(crc ^ *p++) & 0xFFu];
    }
    return crc;
}

#if SWIFTPORT_CRC32C_X86
__attribute__((target("sse4.2")))
static uint32_t crc32c_update_sse42(uint32_t crc, const unsigned char *p, size_t length) {
    // Byte steps up to an 8-byte boundary so the 64-bit loads below are aligned.
    while (length > 0 && ((uintptr_t)p & 7u) != 0) {
        crc = _mm_crc32_u8(crc, *p++);
        length--;
    }
    uint64_t wide = crc;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, sizeof word);
        wide = _mm_crc32_u64(wide, word);
        p += 8;
        length -= 8;
    }
    crc = (uint32_t)wide;
    while (length-- > 0) {
        crc = _mm_crc32_u8(crc, *p++);
    }
    return crc;
}
#endif

int swiftport_crc32c_hardware(void) {
#if SWIFTPORT_CRC32C_X86
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
#else
    return 0;
#endif
}

uint32_t swiftport_crc32c_update(uint32_t crc, const void *data, size_t length) {
#if SWIFTPORT_CRC32C_X86
    if (__builtin_cpu_supports("sse4.2")) {
        return crc32c_update_sse42(crc, data, length);
    }
#endif
    return swiftport_crc32c_update_portable(crc, data, length);
}

uint32_t swiftport_crc32c(const void *data, size_t length) {
    return swiftport_crc32c_update(SWIFTPORT_CRC32C_INITIAL, data, length) ^ SWIFTPORT_CRC32C_XOROUT;
}
