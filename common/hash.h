/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hash: XXH3 (libxxhash, inlined) for byte strings, and a symmetric hash of a
 * TCP/UDP endpoint pair: both directions of a connection give the same value,
 * which is what spreads packets to workers in software when a port cannot do
 * symmetric RSS.
 */
#ifndef RELAYWATCH_COMMON_HASH_H
#define RELAYWATCH_COMMON_HASH_H

#include <stdint.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static inline uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, n, seed);
}

/*
 * a and b are 16-byte addresses (IPv4 as ::ffff:a.b.c.d), ports in host order.
 * The endpoints are put in a canonical order before hashing, so the result
 * does not depend on which side sent the packet.
 */
static inline uint64_t hash_sym_tuple(const uint8_t a[16], uint16_t pa, const uint8_t b[16],
				      uint16_t pb, uint64_t seed)
{
	struct {
		uint8_t lo[16], hi[16];
		uint16_t lo_port, hi_port;
	} k;
	int c = memcmp(a, b, 16);

	if (c < 0 || (c == 0 && pa <= pb)) {
		memcpy(k.lo, a, 16);
		memcpy(k.hi, b, 16);
		k.lo_port = pa;
		k.hi_port = pb;
	} else {
		memcpy(k.lo, b, 16);
		memcpy(k.hi, a, 16);
		k.lo_port = pb;
		k.hi_port = pa;
	}
	return XXH3_64bits_withSeed(&k, sizeof(k), seed);
}

#endif /* RELAYWATCH_COMMON_HASH_H */
