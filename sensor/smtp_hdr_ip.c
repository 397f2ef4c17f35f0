// SPDX-License-Identifier: BSD-3-Clause
/*
 * IP addresses in header text (Received:, X-Originating-IP), as Zeek's
 * extract_ip_addresses() finds them, and the dotted quad's text form.
 */
#include "sensor/smtp_hdr.h"

#include <arpa/inet.h>
#include <string.h>

#include "sensor/byte_scan.h"

/*
 * v4_octets[v]: the decimal digits of v, NUL-padded, and their count last:
 * an octet is one 4-byte copy, not a division per digit (twice a message
 * for the path's start, once a hop). V4_DIG is digit i from the left.
 */
#define V4_LEN(v)    (1 + ((v) >= 10) + ((v) >= 100))
#define V4_POW(v, i) (V4_LEN(v) - (i) == 3 ? 100 : V4_LEN(v) - (i) == 2 ? 10 : 1)
#define V4_DIG(v, i) ((i) < V4_LEN(v) ? '0' + (v) / V4_POW(v, i) % 10 : 0)
#define V4_D(v)                                                                                    \
	{                                                                                          \
		V4_DIG(v, 0), V4_DIG(v, 1), V4_DIG(v, 2), V4_LEN(v)                                \
	}
#define V4_D4(v)  V4_D(v), V4_D((v) + 1), V4_D((v) + 2), V4_D((v) + 3)
#define V4_D16(v) V4_D4(v), V4_D4((v) + 4), V4_D4((v) + 8), V4_D4((v) + 12)
#define V4_D64(v) V4_D16(v), V4_D16((v) + 16), V4_D16((v) + 32), V4_D16((v) + 48)

static const char v4_octets[256][4] = {V4_D64(0), V4_D64(64), V4_D64(128), V4_D64(192)};

void smtp_hdr_v4_text(const uint8_t a[4], char out[SMTP_HDR_IP_STRLEN])
{
	char *o = out;

	for (int i = 0; i < 4; i++) {
		const char *d = v4_octets[a[i]];

		memcpy(o, d, 4); /* the digits and a byte the dot or the NUL overwrites */
		o += d[3];
		*o++ = '.';
	}
	o[-1] = '\0';
}

/* ---- IP addresses in text, as Zeek's extract_ip_addresses() finds them ---- */

struct ip_hit {
	size_t off, len;
	int af;
	uint8_t addr[16];
};

/*
 * Zeek's ipv4_addr_regex: four 1-3 digit octets <= 255 (leading zeros
 * allowed). The first three must span their whole digit run (a dot
 * follows); the last takes the longest valid prefix of its run. Each octet
 * is read once, at most three digits (a fourth digit is no dot).
 */
static size_t match_v4(const uint8_t *p, size_t n, uint8_t out[4])
{
	size_t i = 0;

	for (int oct = 0; oct < 4; oct++) {
		unsigned int val = 0, d;
		size_t len = 0;

		while (len < 3 && i + len < n && (d = (uint8_t)(p[i + len] - '0')) <= 9) {
			val = val * 10 + d;
			len++;
		}
		if (len == 0)
			return 0;
		if (oct < 3) {
			if (val > 255 || i + len >= n || p[i + len] != '.')
				return 0;
			len++;
		} else if (val > 255) {
			val /= 10; /* three digits over 255: the first two are the octet */
			len = 2;
		}
		out[oct] = (uint8_t)val;
		i += len;
	}
	return i;
}

/* Bytes of a run: hex digits, '.' and ':' (told apart for ip_run_end()). */
#define IP_RUN_HEX   1u
#define IP_RUN_DOT   2u
#define IP_RUN_COLON 4u

static const uint8_t ip_run[256] = {
	['0' ... '9'] = IP_RUN_HEX, ['a' ... 'f'] = IP_RUN_HEX, ['A' ... 'F'] = IP_RUN_HEX,
	['.'] = IP_RUN_DOT,	    [':'] = IP_RUN_COLON,
};

/* What an IPv6 address (or the IPv4 tail of one) is written with. */
static bool is_v6_char(uint8_t c)
{
	return ip_run[c] != 0;
}

/*
 * Longest prefix of the hex/colon/dot run at p that is an IPv6 address.
 * Every address has "::" or at least six colons (seven, or six before a
 * dotted quad). When the run has neither, no address starts anywhere in it:
 * *no_v6 is set to its length and the caller skips it (host names full of
 * hex letters and times like 08:01:09 were otherwise re-parsed per byte).
 */
static size_t match_v6(const uint8_t *p, size_t n, uint8_t out[16], size_t *no_v6)
{
	char buf[SMTP_HDR_IP_STRLEN];
	size_t run = 0, colons = 0;
	bool dcolon = false;

	while (run < n && run < sizeof(buf) - 1 && is_v6_char(p[run])) {
		if (p[run] == ':') {
			colons++;
			dcolon |= run > 0 && p[run - 1] == ':';
		}
		run++;
	}
	if (colons < 2 || (!dcolon && colons < 6)) {
		/* a run cut at the buffer size may go on with colons: not skipped */
		*no_v6 = run < sizeof(buf) - 1 ? run : 0;
		return 0;
	}
	for (size_t len = run; len >= 2; len--) {
		if (p[len - 1] == '.')
			continue;
		memcpy(buf, p, len);
		buf[len] = '\0';
		if (inet_pton(AF_INET6, buf, out) == 1)
			return len;
	}
	return 0;
}

/* What may start an address: a digit (IPv4 or IPv6), a hex letter or ':' (IPv6). */
#define IP_V4 1u
#define IP_V6 2u

static const uint8_t ip_start[256] = {
	['0' ... '9'] = IP_V4 | IP_V6,
	['a' ... 'f'] = IP_V6,
	['A' ... 'F'] = IP_V6,
	[':'] = IP_V6,
};

/*
 * An IPv6 address has colons inside its run of hex/colon/dot characters, so
 * one can start only in the run that reaches the first ':' at or after i.
 * Returns where that run begins (n when no ':' follows); *colon is the ':'.
 */
static size_t v6_reach(const uint8_t *v, size_t n, size_t i, size_t *colon)
{
	const uint8_t *c = memchr(v + i, ':', n - i);
	size_t s;

	*colon = c ? (size_t)(c - v) : n;
	if (!c)
		return n;
	for (s = *colon; s > i && is_v6_char(v[s - 1]); s--)
		;
	return s;
}

/*
 * The first offset at or after i where an IPv4 address may start, or n:
 * match_v4 needs one to three digits and a '.', so only the digits just
 * before a '.' can, and the dots are found with memchr. Dates, times, ids
 * and ports (digits and no dot) are passed over at once.
 */
static size_t v4_next(const uint8_t *v, size_t n, size_t i)
{
	for (size_t at = i + 1; at < n;) {
		const uint8_t *d = memchr(v + at, '.', n - at);
		size_t k, b;

		if (!d)
			break;
		k = (size_t)(d - v);
		for (b = k; b > i && b + 3 > k && v[b - 1] >= '0' && v[b - 1] <= '9'; b--)
			;
		if (b < k)
			return b;
		at = k + 1;
	}
	return n;
}

/*
 * Next address at or after *pos in v[0..n): the first offset where one
 * matches, longest match there. A table passes over what starts nothing, and
 * IPv6 is tried only where a ':' can be reached (host names full of hex
 * letters were tried letter by letter).
 */
static bool ip_search(const uint8_t *v, size_t n, size_t *pos, struct ip_hit *hit)
{
	size_t v4_from = v4_next(v, n, *pos), v6_from = 0; /* no address of the kind before */
	size_t colon = 0, v6_ok = *pos < n ? v6_reach(v, n, *pos, &colon) : n;

	for (size_t i = *pos; i < n; i++) {
		uint8_t a4[4], cls;
		size_t l4 = 0, l6 = 0, no_v6 = 0;
		size_t lim = v6_ok > v6_from ? v6_ok : v6_from;

		/*
		 * Up to lim (and not past the colon v6_ok was found for) no IPv6
		 * can start: only a digit from v4_from on can start anything, and
		 * a plain loop finds it without the table and checks per byte.
		 */
		lim = lim < colon + 1 ? lim : colon + 1;
		lim = lim < n ? lim : n;
		if (i < lim) {
			size_t j = byte_scan_digit(v, i > v4_from ? i : v4_from, lim);

			if (j >= lim) {
				i = lim - 1;
				continue;
			}
			i = j;
		}
		cls = ip_start[v[i]];
		if (!cls)
			continue;
		if (i > colon)
			v6_ok = v6_reach(v, n, i, &colon);
		if ((cls & IP_V4) && i >= v4_from) {
			l4 = match_v4(v + i, n - i, a4);
			v4_from = l4 ? 0 : v4_next(v, n, i + 1);
		}
		if (i >= v6_ok && i >= v6_from) {
			l6 = match_v6(v + i, n - i, hit->addr, &no_v6);
			v6_from = i + no_v6;
		}
		if (!l4 && !l6)
			continue;
		hit->off = i;
		if (l4 > l6) {
			hit->len = l4;
			hit->af = AF_INET;
			memcpy(hit->addr, a4, 4);
		} else {
			hit->len = l6;
			hit->af = AF_INET6;
		}
		*pos = i + hit->len;
		return true;
	}
	*pos = n;
	return false;
}

/* What ip_run_end() counts in a run: an address needs 3 dots, or "::" or 6 colons. */
struct ip_run_count {
	unsigned int dots, colons, dcolon;
};

/* Set bits of m, a few at most: __builtin_popcount() is a libgcc call in
 * a build without -mpopcnt, this a step a bit. */
static unsigned int ip_bits(unsigned int m)
{
	unsigned int c = 0;

	for (; m; m &= m - 1)
		c++;
	return c;
}

#if defined(__SSE2__)
/*
 * The run bytes, dots and colons of p[0..16) as masks (bit j: byte j). A hex
 * letter is one whose x | 0x20 lies in 'a'..'f' (only 'A'..'F' fold there).
 */
static void ip_run_masks(const uint8_t *p, unsigned int *run, unsigned int *dot, unsigned int *col)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i d = _mm_sub_epi8(x, _mm_set1_epi8('0'));
	__m128i l = _mm_sub_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
	__m128i dm = _mm_cmpeq_epi8(x, _mm_set1_epi8('.'));
	__m128i cm = _mm_cmpeq_epi8(x, _mm_set1_epi8(':'));
	__m128i hex = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d),
				   _mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8(5)), l));

	*run = (unsigned int)_mm_movemask_epi8(_mm_or_si128(hex, _mm_or_si128(dm, cm)));
	*dot = (unsigned int)_mm_movemask_epi8(dm);
	*col = (unsigned int)_mm_movemask_epi8(cm);
}
#endif

/*
 * The end of the run through v[i] (the first byte at or after it that is no
 * run byte, or n), counting the dots and colons of v[i..end) into *k. Sixteen
 * bytes a step where SSE2 is there (the last step overlaps the one before):
 * a byte at a time cost about 20 instructions a byte.
 */
static size_t ip_run_end(const uint8_t *v, size_t i, size_t n, struct ip_run_count *k)
{
	unsigned int prev = 0; /* 1: the byte before i is a colon of the run */

#if defined(__SSE2__)
	while (n >= 16 && i < n) {
		size_t at = i + 16 <= n ? i : n - 16;
		unsigned int skip = (unsigned int)(i - at), valid = 0xffffu >> skip;
		unsigned int run, dot, col, stop, keep;

		ip_run_masks(v + at, &run, &dot, &col);
		stop = ~(run >> skip) & valid;
		keep = stop ? (1u << __builtin_ctz(stop)) - 1 : valid;
		dot = dot >> skip & keep;
		col = col >> skip & keep;
		k->dots += ip_bits(dot);
		k->colons += ip_bits(col);
		k->dcolon |= col & (col >> 1 | prev);
		if (stop)
			return i + (size_t)__builtin_ctz(stop);
		if (at != i)
			return n;
		prev = col >> 15;
		i += 16;
	}
#endif
	for (; i < n && ip_run[v[i]]; i++) {
		unsigned int c = ip_run[v[i]];

		k->dots += c == IP_RUN_DOT;
		k->colons += c == IP_RUN_COLON;
		k->dcolon |= c & prev;
		prev = c & IP_RUN_COLON;
	}
	return i;
}

/*
 * The first IPv4 address in v[s..e), a run without colons (no IPv6 there):
 * the first offset where one matches is ip_search()'s answer.
 */
static bool ip_v4_in_run(const uint8_t *v, size_t s, size_t e, size_t *pos, struct ip_hit *hit)
{
	for (size_t o = s; o < e; o++) {
		size_t l4 = (uint8_t)(v[o] - '0') <= 9 ? match_v4(v + o, e - o, hit->addr) : 0;

		if (l4) {
			hit->off = o;
			hit->len = l4;
			hit->af = AF_INET;
			*pos = o + l4;
			return true;
		}
	}
	return false;
}

/*
 * ip_search() over the runs of hex digits, ':' and '.' that can hold an
 * address. An address lies inside one such run and needs three dots (IPv4,
 * each with a digit on both sides) or "::" or six colons (IPv6) in it; the
 * matchers read nothing past a run, so a search bounded by the run finds
 * there what one over all of v does. Runs are reached by their dots and
 * colons (byte_scan2): host names' dots cost a test each, the date's time a
 * vector step, and a run without colons only IPv4 matches. callgrind,
 * short-spam: a Received field's two searches (the address, then one after
 * it) cost 1 222 instructions, mostly over the date and host names.
 */
static bool ip_next(const uint8_t *v, size_t n, size_t *pos, struct ip_hit *hit)
{
	size_t i = *pos;

	while ((i = byte_scan2(v, i, n, '.', ':')) < n) {
		struct ip_run_count k = {0, 0, 0};
		size_t s = i, e;

		/* A dot in an address has a digit on both sides (host names' do not) */
		if (v[i] == '.' && (i == *pos || i + 1 == n || (uint8_t)(v[i - 1] - '0') > 9 ||
				    (uint8_t)(v[i + 1] - '0') > 9)) {
			i++;
			continue;
		}
		/*
		 * v[i] is the run's first ':' (none is passed over) or the first
		 * dot an address can hold: what lies before it in the run has no
		 * colon and no dot of an address.
		 */
		while (s > *pos && ip_run[v[s - 1]])
			s--;
		e = ip_run_end(v, i, n, &k);
		if (k.dots >= 3 || k.dcolon || k.colons >= 6) {
			size_t at = s;

			if (k.colons ? ip_search(v, e, &at, hit)
				     : ip_v4_in_run(v, s, e, &at, hit)) {
				*pos = at;
				return true;
			}
		}
		i = e; /* v[e] is no run byte: the next run starts past it */
	}
	*pos = n;
	return false;
}

static bool ip_text(const struct ip_hit *hit, char out[SMTP_HDR_IP_STRLEN])
{
	if (hit->af == AF_INET) {
		smtp_hdr_v4_text(hit->addr, out);
		return true;
	}
	return inet_ntop(hit->af, hit->addr, out, SMTP_HDR_IP_STRLEN) != NULL;
}

static bool wrapped(uint8_t before, uint8_t after)
{
	return (before == '[' && after == ']') || (before == '(' && after == ')') ||
	       (before == '{' && after == '}') || (before == ' ' && after == ' ');
}

bool smtp_hdr_received_ip(const uint8_t *v, size_t n, char out[SMTP_HDR_IP_STRLEN])
{
	struct ip_hit cur, next, found[2];
	size_t pos = 0, prev_end = 0, nfound = 0;
	bool have = ip_next(v, n, &pos, &cur);

	/* Bounded: every hit advances pos by at least one byte. */
	while (have && nfound < 2) {
		bool more = ip_next(v, n, &pos, &next);
		size_t end = cur.off + cur.len, next_off = more ? next.off : n;
		bool p1_empty = cur.off == prev_end, p3_empty = end == next_off;

		if ((p1_empty && p3_empty) ||
		    (!p1_empty && !p3_empty && wrapped(v[cur.off - 1], v[end])))
			found[nfound++] = cur;
		prev_end = end;
		cur = next;
		have = more;
	}
	if (nfound == 0)
		return false;
	return ip_text(&found[nfound - 1], out);
}

bool smtp_hdr_first_ip(const uint8_t *v, size_t n, char out[SMTP_HDR_IP_STRLEN])
{
	struct ip_hit hit;
	size_t pos = 0;

	return ip_next(v, n, &pos, &hit) && ip_text(&hit, out);
}
