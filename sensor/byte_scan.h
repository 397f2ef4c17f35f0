/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * byte_scan: where the next of two given bytes is, sixteen bytes at a time
 * where SSE2 is there, eight (word arithmetic) elsewhere. For the message
 * parser's scans over text where the bytes sought are rare (URL marks,
 * address-list commas and quotes, digits that may start an IP address),
 * whether a short line holds a NUL (the line splitter), and the ASCII case
 * fold those parsers and the rule literals share.
 * Header only, no state; any thread.
 */
#ifndef RELAYWATCH_SENSOR_BYTE_SCAN_H
#define RELAYWATCH_SENSOR_BYTE_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define BYTE_SCAN_ONES	0x0101010101010101ull
#define BYTE_SCAN_HIGHS 0x8080808080808080ull

/* ASCII lower case; other bytes as they are (no locale: header names, URLs, rule literals). */
static inline uint8_t byte_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* Bytes s[off..off+w) as a word, w 2, 4 or 8. */
static inline uint64_t byte_scan_word(const void *s, size_t off, size_t w)
{
	uint64_t v = 0;
	uint16_t v2;
	uint32_t v4;

	if (w == 8) {
		memcpy(&v, (const uint8_t *)s + off, 8);
	} else if (w == 4) {
		memcpy(&v4, (const uint8_t *)s + off, 4);
		v = v4;
	} else {
		memcpy(&v2, (const uint8_t *)s + off, 2);
		v = v2;
	}
	return v;
}

/*
 * Does p[0..n) equal lower (n >= 2 bytes of lower-case letters, digits and
 * '-'), ASCII case folded? The same answer as strncasecmp in the C locale,
 * a word at a time, the last word overlapping the one before: bit 0x40 of
 * lower marks its letters, and OR-ing 0x20 into p's byte there folds exactly
 * 'A'-'Z' onto 'a'-'z' (x | 0x20 is the letter only for it and its upper
 * case), while a digit or '-' must match as it is. A byte at a time took
 * eight instructions a byte, strncasecmp a call and its setup.
 */
static inline bool byte_scan_lower_eq(const uint8_t *p, const char *lower, size_t n)
{
	size_t w = n >= 8 ? 8 : n >= 4 ? 4 : 2;

	for (size_t off = 0;; off += w) {
		uint64_t want, fold;

		if (off + w > n)
			off = n - w;
		want = byte_scan_word(lower, off, w);
		fold = (want & 0x4040404040404040ull) >> 1;
		if ((byte_scan_word(p, off, w) | fold) != want)
			return false;
		if (off + w >= n)
			return true;
	}
}

/* Does any of the 8 bytes of w equal c? (exact: a zero byte of w ^ c borrows first) */
static inline bool byte_scan_word_has(uint64_t w, uint8_t c)
{
	uint64_t v = w ^ (BYTE_SCAN_ONES * c);

	return ((v - BYTE_SCAN_ONES) & ~v & BYTE_SCAN_HIGHS) != 0;
}

/* The offset of the first byte equal to a or b in p[i..n), or n. */
static inline size_t byte_scan2(const uint8_t *p, size_t i, size_t n, uint8_t a, uint8_t b)
{
#if defined(__SSE2__)
	const __m128i va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b);

	for (; i + 16 <= n; i += 16) {
		__m128i w = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		unsigned int m = (unsigned int)_mm_movemask_epi8(
			_mm_or_si128(_mm_cmpeq_epi8(w, va), _mm_cmpeq_epi8(w, vb)));

		if (m)
			return i + (size_t)__builtin_ctz(m);
	}
	/* The tail in one step: the last 16 bytes, those before i masked off. */
	if (i < n && n >= 16) {
		__m128i w = _mm_loadu_si128((const __m128i *)(const void *)(p + n - 16));
		unsigned int m = (unsigned int)_mm_movemask_epi8(
			_mm_or_si128(_mm_cmpeq_epi8(w, va), _mm_cmpeq_epi8(w, vb)));

		m &= 0xffffu << (i - (n - 16));
		return m ? n - 16 + (size_t)__builtin_ctz(m) : n;
	}
#endif
	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, sizeof(w));
		if (byte_scan_word_has(w, a) || byte_scan_word_has(w, b))
			break;
	}
	for (; i < n; i++)
		if (p[i] == a || p[i] == b)
			return i;
	return n;
}

/*
 * Is there a zero byte in p[0..n)? Short spans (command and reply lines) in
 * two overlapping loads, no loop and no call; NUL in such text is rare.
 */
static inline bool byte_scan_has_zero(const uint8_t *p, size_t n)
{
	uint64_t a, b;
	uint32_t c, d;

	if (n >= 16) {
#if defined(__SSE2__)
		const __m128i z = _mm_setzero_si128();
		__m128i acc = _mm_cmpeq_epi8(
			_mm_loadu_si128((const __m128i *)(const void *)(p + n - 16)), z);

		for (size_t i = 0; i + 16 < n; i += 16) {
			__m128i w = _mm_loadu_si128((const __m128i *)(const void *)(p + i));

			acc = _mm_or_si128(acc, _mm_cmpeq_epi8(w, z));
		}
		return _mm_movemask_epi8(acc) != 0;
#else
		return memchr(p, 0, n) != NULL;
#endif
	}
	if (n >= 8) {
		memcpy(&a, p, 8);
		memcpy(&b, p + n - 8, 8);
		return byte_scan_word_has(a, 0) || byte_scan_word_has(b, 0);
	}
	if (n >= 4) {
		memcpy(&c, p, 4);
		memcpy(&d, p + n - 4, 4);
		return byte_scan_word_has((uint64_t)c << 32 | d, 0);
	}
	for (size_t i = 0; i < n; i++)
		if (!p[i])
			return true;
	return false;
}

/*
 * Is a or b in p[0..n)? For a line of 16 bytes or more, one 16-byte load a
 * step and the last 16 bytes (overlapping) in one, the matches gathered and
 * tested once: no call, no position (a recipient line of some 30 bytes in
 * two loads, where two memchr calls cost about 57 instructions).
 */
static inline bool byte_scan_has2(const uint8_t *p, size_t n, uint8_t a, uint8_t b)
{
#if defined(__SSE2__)
	if (n >= 16) {
		const __m128i va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b);
		__m128i w = _mm_loadu_si128((const __m128i *)(const void *)(p + n - 16));
		__m128i acc = _mm_or_si128(_mm_cmpeq_epi8(w, va), _mm_cmpeq_epi8(w, vb));

		for (size_t i = 0; i + 16 < n; i += 16) {
			w = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
			acc = _mm_or_si128(
				acc, _mm_or_si128(_mm_cmpeq_epi8(w, va), _mm_cmpeq_epi8(w, vb)));
		}
		return _mm_movemask_epi8(acc) != 0;
	}
#endif
	return byte_scan2(p, 0, n, a, b) < n;
}

/* The offset of the first ASCII digit in p[i..n), or n. */
static inline size_t byte_scan_digit(const uint8_t *p, size_t i, size_t n)
{
#if defined(__SSE2__)
	const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);

	for (; i + 16 <= n; i += 16) {
		__m128i x =
			_mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + i)), zero);
		/* x - '0' is at most 9 (unsigned) only for a digit */
		unsigned int m =
			(unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, nine), x));

		if (m)
			return i + (size_t)__builtin_ctz(m);
	}
#endif
	while (i < n && (uint8_t)(p[i] - '0') > 9)
		i++;
	return i;
}

#endif /* RELAYWATCH_SENSOR_BYTE_SCAN_H */
