#include "cstreamingcopy.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

// Below this a copy touches so few lines that the fence costs more than it saves.
#define STREAMING_MINIMUM 1024

void swiftport_streaming_copy(void *destination, const void *source, size_t count)
{
#if defined(__x86_64__)
	if (count >= STREAMING_MINIMUM) {
		unsigned char *to = destination;
		const unsigned char *from = source;
		// Head: up to the first 16-byte boundary of the destination (stores must be aligned).
		size_t head = (16 - ((uintptr_t)to & 15)) & 15;
		memcpy(to, from, head);
		to += head;
		from += head;
		count -= head;
		size_t bulk = count & ~(size_t)63;
		for (size_t i = 0; i < bulk; i += 64) {
			__m128i a = _mm_loadu_si128((const __m128i *)(from + i));
			__m128i b = _mm_loadu_si128((const __m128i *)(from + i + 16));
			__m128i c = _mm_loadu_si128((const __m128i *)(from + i + 32));
			__m128i d = _mm_loadu_si128((const __m128i *)(from + i + 48));
			_mm_stream_si128((__m128i *)(to + i), a);
			_mm_stream_si128((__m128i *)(to + i + 16), b);
			_mm_stream_si128((__m128i *)(to + i + 32), c);
			_mm_stream_si128((__m128i *)(to + i + 48), d);
		}
		// Non-temporal stores are weakly ordered: fence before anyone may read them.
		_mm_sfence();
		memcpy(to + bulk, from + bulk, count - bulk);
		return;
	}
#endif
	memcpy(destination, source, count);
}
