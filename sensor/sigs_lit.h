/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sigs_lit: literals every match of a Hyperscan pattern must contain, read
 * from the pattern text alone. sigs uses them to skip rules on input that
 * lacks them (the URL gate), so the analysis answers only when it is sure:
 * it reads the top-level concatenation, takes the runs of plain characters
 * between anything else (a group, class, escape class, '.', anchor) and drops
 * a character a quantifier applies to. Any top-level alternation, inline
 * option or verb ("(?i)", "(?x)", "(*UTF8)", look-arounds), \Q, an escape
 * it does not know, or a UTF-8/UCP/combination flag gives no literal at all,
 * and so does HS_FLAG_PREFILTER (its matches may be wider than the pattern).
 * It assumes no extended parameters (edit distance), which sigs never passes.
 * Literals come out in lower case and are meant to be looked for without
 * case, which also covers caseless rules. A byte above 0x7f is a plain
 * character of a literal (without HS_FLAG_UTF8 Hyperscan reads bytes),
 * except in a caseless pattern, where it ends the run.
 */
#ifndef RELAYWATCH_SENSOR_SIGS_LIT_H
#define RELAYWATCH_SENSOR_SIGS_LIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sensor/byte_scan.h"

#define SIGS_LIT_MAX 16 /* bytes kept of one literal (a longer run is cut in pieces) */

struct sigs_lit {
	uint8_t len;
	char s[SIGS_LIT_MAX]; /* lower case, not NUL-terminated */
};

/*
 * The required literals of pattern (without its slashes) compiled with the
 * Hyperscan flags hs_flags, at most max of them, in pattern order. Returns
 * how many were stored: 0 when the pattern has none or the analysis is not
 * sure. Every match of the pattern contains each of them (ignoring case).
 */
unsigned int sigs_lit_required(const char *pattern, unsigned int hs_flags, struct sigs_lit *out,
			       unsigned int max);

#define SIGS_LIT_ANY_MAX 32 /* alternatives of a group sigs_lit_any() reads */

/*
 * A set of literals one of which every match of pattern contains (ignoring
 * case): the required literal of each alternative of one group of the
 * top-level concatenation that no quantifier makes optional
 * ("^https?://(paypal|apple)\\.com" gives "paypal" and "apple"). Of several
 * such groups, the one whose shortest literal is longest. Returns how many
 * were stored (at most max and SIGS_LIT_ANY_MAX): 0 when there is no such
 * group or the analysis is not sure (as sigs_lit_required()).
 */
unsigned int sigs_lit_any(const char *pattern, unsigned int hs_flags, struct sigs_lit *out,
			  unsigned int max);

#define SIGS_LIT_ALTS_MAX 16 /* top-level alternatives one pattern may have to be analysed */
#define SIGS_LIT_ALT_LITS 4  /* required literals kept per alternative */

#define SIGS_LIT_AT_ANY UINT8_MAX /* lit_hi: no bound on where the literal starts */

/*
 * What every match of one top-level alternative ("a|b" has two) needs, each
 * part only when the analysis is sure of it: the byte it starts with, when it
 * is anchored at the start of the input ("^" ... ; with HS_FLAG_MULTILINE also
 * after any LF), the byte it ends with when it ends with "$" (at the end, or
 * before a LF), its required literals (sigs_lit_required() of the
 * alternative) and one small class of bytes without letters or digits that a
 * match holds at least one of ("[%!]"). Byte sets are 256-bit maps, folded
 * for case when the pattern is caseless. When the alternative is anchored,
 * lit[k] starts lit_lo[k] to lit_hi[k] bytes after the input's start (or
 * the LF "^" matched after) wherever only single characters, some optional,
 * come before it ("^RCPT TO: ?<@": "<@" at 8 or 9); else lit_hi[k] is
 * SIGS_LIT_AT_ANY.
 */
struct sigs_lit_alt {
	bool anchored;
	bool end_anchored; /* ends with "$": at the input's end (or before a LF) */
	bool has_class;
	uint8_t n_lit;
	uint8_t first[32]; /* anchored: the bytes a match can start with */
	uint8_t last[32];  /* end_anchored: the bytes it can end with */
	uint8_t cls[32];   /* has_class: one of these bytes is in every match */
	struct sigs_lit lit[SIGS_LIT_ALT_LITS];
	uint8_t lit_lo[SIGS_LIT_ALT_LITS];
	uint8_t lit_hi[SIGS_LIT_ALT_LITS];
};

/*
 * The top-level alternatives of pattern, at most max: returns how many were
 * stored, 0 when there are more or the pattern is not understood (the same
 * constructs sigs_lit_required() gives up on, and \Q).
 */
unsigned int sigs_lit_alts(const char *pattern, unsigned int hs_flags, struct sigs_lit_alt *out,
			   unsigned int max);

static inline bool sigs_lit_byte_in(const uint8_t *set, uint8_t c)
{
	return (set[c >> 3] >> (c & 7)) & 1;
}

/*
 * 3-byte pieces of literals, hashed into a 4 KiB bitmap: sigs_gate and
 * sigs_url look for many literals in one pass by their pieces, and share the
 * hash and its loop. Literals are lower case; input is folded by table, one
 * load a byte (byte_lower() took three more instructions a byte there).
 */
#define SIGS_LIT_TRI_BITS  15
#define SIGS_LIT_TRI_MASK  ((1u << SIGS_LIT_TRI_BITS) - 1)
#define SIGS_LIT_TRI_WORDS ((1u << SIGS_LIT_TRI_BITS) / 64)

extern const uint8_t sigs_lit_lower[256]; /* byte_lower() of every byte */

/* The hash of the piece a b c (lower case). */
static inline uint32_t sigs_lit_tri(uint8_t a, uint8_t b, uint8_t c)
{
	return (((uint32_t)a << 10) ^ ((uint32_t)b << 5) ^ c) & SIGS_LIT_TRI_MASK;
}

/* Set the bit of the piece a b c in tri. */
static inline uint32_t sigs_lit_tri_set(uint64_t *tri, uint8_t a, uint8_t b, uint8_t c)
{
	uint32_t h = sigs_lit_tri(a, b, c);

	tri[h >> 6] |= 1ull << (h & 63);
	return h;
}

/* The hash of p[0..2), folded: what sigs_lit_tri_next() starts from at i = 2. */
static inline uint32_t sigs_lit_tri_start(const uint8_t *p)
{
	return ((uint32_t)sigs_lit_lower[p[0]] << 5) ^ sigs_lit_lower[p[1]];
}

/* Is the bit of x & SIGS_LIT_TRI_MASK set in tri? (bits of x above the mask do not count) */
static inline bool sigs_lit_tri_has(const uint64_t *tri, uint32_t x)
{
	return (tri[(x >> 6) & (SIGS_LIT_TRI_WORDS - 1)] >> (x & 63)) & 1;
}

/*
 * The first j from i (i >= 2) to n - 1 where the piece p[j - 2..j], folded,
 * has its bit set in tri, or n. *h holds the hash of the bytes before p[i]
 * (sigs_lit_tri_start() at i = 2) and is left at that of the piece at j.
 * x keeps older bytes above the mask (the fourth byte back is shifted past
 * it), which saves masking it a byte; two bytes a round save a loop test.
 */
static inline size_t sigs_lit_tri_next(const uint64_t *tri, const uint8_t *p, size_t i, size_t n,
				       uint32_t *h)
{
	uint32_t x = *h;

	for (; i + 2 <= n; i += 2) {
		x = (x << 5) ^ sigs_lit_lower[p[i]];
		if (sigs_lit_tri_has(tri, x))
			goto out;
		x = (x << 5) ^ sigs_lit_lower[p[i + 1]];
		if (sigs_lit_tri_has(tri, x)) {
			i++;
			goto out;
		}
	}
	if (i < n) {
		x = (x << 5) ^ sigs_lit_lower[p[i]];
		if (!sigs_lit_tri_has(tri, x))
			i++;
	}
out:
	*h = x & SIGS_LIT_TRI_MASK;
	return i;
}

/* Does p[0..n) contain lit, ignoring ASCII case? */
bool sigs_lit_in(const struct sigs_lit *lit, const uint8_t *p, size_t n);

/*
 * Does lit start in p[0..n) at an offset from lo to hi, ignoring ASCII case?
 * sigs_lit_in() with the offsets a match allows: a few compares, no search.
 */
static inline bool sigs_lit_at(const struct sigs_lit *lit, const uint8_t *p, size_t n, size_t lo,
			       size_t hi)
{
	for (size_t i = lo; i <= hi && i + lit->len <= n; i++) {
		size_t k = 0;

		while (k < lit->len && byte_lower(p[i + k]) == (uint8_t)lit->s[k])
			k++;
		if (k == lit->len)
			return true;
	}
	return false;
}

/*
 * A literal of at most 8 bytes as one word, for sigs_lit_word_at(): its
 * bytes, 0x20 under each lower-case letter (OR-ed into an input byte it
 * folds exactly that letter's upper case onto it; any other byte must be
 * equal, as byte_lower() leaves it) and 0xff under each byte that counts.
 * mask 0: longer, or an upper-case letter byte_lower() never gives back.
 */
struct sigs_lit_word {
	uint64_t want, fold, mask;
};

struct sigs_lit_word sigs_lit_word_of(const struct sigs_lit *lit);

/*
 * sigs_lit_at(lit, p, n, lo, hi) for w = sigs_lit_word_of(lit) with a mask,
 * when hi + 8 <= n: one masked compare an offset, not a byte loop (a
 * recipient's "<@" at 8 or 9 cost about 41 instructions).
 */
static inline bool sigs_lit_word_at(const struct sigs_lit_word *w, const uint8_t *p, size_t lo,
				    size_t hi)
{
	for (size_t i = lo; i <= hi; i++) {
		uint64_t v;

		memcpy(&v, p + i, sizeof(v));
		if (((v | w->fold) & w->mask) == w->want)
			return true;
	}
	return false;
}

#endif /* RELAYWATCH_SENSOR_SIGS_LIT_H */
