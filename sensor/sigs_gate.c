// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/sigs_gate.h"

#include <stdlib.h>
#include <string.h>

#include <hs.h>

#include "sensor/byte_scan.h"
#include "sensor/sigs_lit.h"

#define SIGS_GATE_LITS 2 /* literals looked for one by one instead of the bitmap */

/* An anchored alternative, with the members of its class listed for memchr. */
struct sigs_gate_anch {
	struct sigs_lit_alt alt;
	uint8_t n_cls;
	uint8_t cls[4];
	struct sigs_lit_word word[SIGS_LIT_ALT_LITS]; /* lit[k] at a bounded offset, as a word */
};

struct sigs_gate {
	bool multiline; /* an anchored alternative may also start after a LF or end before one */
	bool all_first; /* every anchored alternative is anchored at the start */
	bool floating;	/* some alternative is looked for by its 3-byte piece */
	uint32_t n_anch;
	struct sigs_gate_anch *anch; /* the anchored alternatives */
	uint8_t first[32];	     /* union of their first bytes */
	/* The literals whose pieces are in tri, while there are few of them
	 * and each starts with a byte that has no case: memchr finds those
	 * faster than the bitmap is read a byte at a time ("未承諾広告"). */
	uint8_t n_lit;
	bool lit_only; /* tri is read through lit[] */
	struct sigs_lit lit[SIGS_GATE_LITS];
	uint64_t tri[SIGS_LIT_TRI_WORDS]; /* hashed 3-byte pieces (sigs_lit.h) */
};

/*
 * Text every SMTP session carries: the piece of a literal that occurs least
 * in it is the one put in the bitmap, so common lines seldom hit. It only
 * steers the choice; any piece of a required literal is correct.
 */
static const char sigs_gate_common[] =
	"220 mx.example.com esmtp postfix (debian/gnu) ready\n"
	"250-mx.example.com hello client.example.org [192.0.2.1]\n250-pipelining\n"
	"250-size 52428800\n250-vrfy\n250-etrn\n250-starttls\n250-auth plain login\n"
	"250-enhancedstatuscodes\n250-8bitmime\n250-dsn\n250-smtputf8\n250 chunking\n"
	"250 2.1.0 ok\n250 2.1.5 ok\n250 2.1.0 sender ok\n250 2.1.5 recipient ok\n"
	"354 end data with <cr><lf>.<cr><lf>\n354 start mail input; end with <crlf>.<crlf>\n"
	"250 2.0.0 ok: queued as 4f2a1b3c9d\n250 ok id=1q2w3e-000abc-4r\n"
	"221 2.0.0 bye\n221 2.0.0 service closing transmission channel\n"
	"ehlo client.example.org\nhelo localhost\nmail from:<user@example.com> size=1024\n"
	"rcpt to:<user@example.net>\ndata\nquit\nrset\nnoop\n";

/* Occurrences of t[0..len) in the common text. */
static unsigned int sigs_gate_common_count(const char *t, size_t len)
{
	unsigned int n = 0;

	for (const char *c = sigs_gate_common; *c; c++)
		n += strncmp(c, t, len) == 0;
	return n;
}

/* An anchored alternative's literals, the rarest in common text first: a line fails sooner. */
static void sigs_gate_sort_lits(struct sigs_lit_alt *a)
{
	unsigned int cnt[SIGS_LIT_ALT_LITS];

	for (unsigned int i = 0; i < a->n_lit; i++)
		cnt[i] = sigs_gate_common_count(a->lit[i].s, a->lit[i].len);
	for (unsigned int i = 1; i < a->n_lit; i++) {
		for (unsigned int k = i; k > 0 && cnt[k] < cnt[k - 1]; k--) {
			struct sigs_lit t = a->lit[k];
			unsigned int c = cnt[k];
			uint8_t lo = a->lit_lo[k], hi = a->lit_hi[k];

			a->lit[k] = a->lit[k - 1];
			a->lit[k - 1] = t;
			a->lit_lo[k] = a->lit_lo[k - 1];
			a->lit_lo[k - 1] = lo;
			a->lit_hi[k] = a->lit_hi[k - 1];
			a->lit_hi[k - 1] = hi;
			cnt[k] = cnt[k - 1];
			cnt[k - 1] = c;
		}
	}
}

/* Put the rarest 3-byte piece of the longest literal of a in the bitmap; false if none has 3. */
static bool sigs_gate_float(struct sigs_gate *g, const struct sigs_lit_alt *a)
{
	const struct sigs_lit *best = NULL;
	unsigned int at = 0, min = ~0u;

	for (unsigned int i = 0; i < a->n_lit; i++)
		if (a->lit[i].len >= 3 && (!best || a->lit[i].len > best->len))
			best = &a->lit[i];
	if (!best)
		return false;
	for (unsigned int i = 0; i + 3 <= best->len; i++) {
		unsigned int n = sigs_gate_common_count(best->s + i, 3);

		if (n < min) {
			min = n;
			at = i;
		}
	}
	/* Literals are lower case already; lines are folded the same way. */
	sigs_lit_tri_set(g->tri, (uint8_t)best->s[at], (uint8_t)best->s[at + 1],
			 (uint8_t)best->s[at + 2]);
	g->lit_only = (!g->floating || g->lit_only) && g->n_lit < SIGS_GATE_LITS &&
		      !(best->s[0] >= 'a' && best->s[0] <= 'z');
	if (g->lit_only)
		g->lit[g->n_lit++] = *best;
	g->floating = true;
	return true;
}

/*
 * A pattern of one alternative without a literal of its own whose matches
 * all pass through a group of literals ("\b(SendBlaster|MailKing)\b",
 * sigs_lit_any()): a piece of each goes into the bitmap, as one floating
 * alternative per literal would. False when one is shorter than 3 bytes.
 */
static bool sigs_gate_float_any(struct sigs_gate *g, const char *expr, unsigned int flags)
{
	struct sigs_lit set[SIGS_LIT_ANY_MAX];
	struct sigs_lit_alt a = {.n_lit = 1};
	unsigned int n = sigs_lit_any(expr, flags, set, SIGS_LIT_ANY_MAX);

	for (unsigned int i = 0; i < n; i++)
		if (set[i].len < 3)
			return false;
	for (unsigned int i = 0; i < n; i++) {
		a.lit[0] = set[i];
		sigs_gate_float(g, &a);
	}
	return n > 0;
}

static bool sigs_gate_add(struct sigs_gate *g, const char *expr, unsigned int flags)
{
	struct sigs_lit_alt alt[SIGS_LIT_ALTS_MAX];
	unsigned int n = sigs_lit_alts(expr, flags, alt, SIGS_LIT_ALTS_MAX);
	struct sigs_gate_anch *grown, *an;

	if (n == 0)
		return false;
	for (unsigned int i = 0; i < n; i++) {
		if (!alt[i].anchored && sigs_gate_float(g, &alt[i]))
			continue;
		if (!alt[i].anchored && !alt[i].end_anchored) {
			if (n > 1 || !sigs_gate_float_any(g, expr, flags))
				return false;
			continue;
		}
		sigs_gate_sort_lits(&alt[i]);
		grown = realloc(g->anch, (g->n_anch + 1) * sizeof(*g->anch));
		if (!grown)
			return false;
		g->anch = grown;
		an = &g->anch[g->n_anch++];
		memset(an, 0, sizeof(*an));
		an->alt = alt[i];
		for (unsigned int k = 0; k < alt[i].n_lit; k++)
			an->word[k] = sigs_lit_word_of(&alt[i].lit[k]);
		for (unsigned int c = 0; alt[i].has_class && c < 256; c++)
			if (sigs_lit_byte_in(alt[i].cls, (uint8_t)c) && an->n_cls < sizeof(an->cls))
				an->cls[an->n_cls++] = (uint8_t)c;
		for (unsigned int k = 0; k < sizeof(g->first); k++)
			g->first[k] |= alt[i].first[k];
		g->multiline |= (flags & HS_FLAG_MULTILINE) != 0;
		g->all_first &= alt[i].anchored;
	}
	return true;
}

struct sigs_gate *sigs_gate_build(const char *const *expr, const unsigned int *flags, uint32_t n)
{
	struct sigs_gate *g = calloc(1, sizeof(*g));

	if (g)
		g->all_first = true;
	for (uint32_t i = 0; g && i < n; i++) {
		if (!sigs_gate_add(g, expr[i], flags[i])) {
			sigs_gate_free(g);
			return NULL;
		}
	}
	return g;
}

struct sigs_gate *sigs_gate_of_lits(const struct sigs_lit *lit, uint32_t n)
{
	struct sigs_gate *g = calloc(1, sizeof(*g));
	struct sigs_lit_alt a = {.n_lit = 1};

	for (uint32_t i = 0; g && i < n; i++) {
		a.lit[0] = lit[i];
		if (!sigs_gate_float(g, &a)) {
			sigs_gate_free(g);
			return NULL;
		}
	}
	return g;
}

void sigs_gate_free(struct sigs_gate *g)
{
	if (!g)
		return;
	free(g->anch);
	free(g);
}

/* Does p[0..n) hold one of the class's bytes? Two a pass (the last one twice when odd). */
static bool sigs_gate_has_byte(const struct sigs_gate_anch *an, const uint8_t *p, size_t n)
{
	for (unsigned int i = 0; i < an->n_cls; i += 2)
		if (byte_scan_has2(p, n, an->cls[i], an->cls[i + 1 < an->n_cls ? i + 1 : i]))
			return true;
	return false;
}

/* Could a match end the line? "$" also matches before a LF that ends it. */
static bool sigs_gate_ends(const uint8_t *last, const uint8_t *p, size_t n)
{
	return sigs_lit_byte_in(last, p[n - 1]) ||
	       (p[n - 1] == '\n' && n > 1 && sigs_lit_byte_in(last, p[n - 2]));
}

/* Is an's literal k in p[0..n), where a match that starts the line would hold it? */
static bool sigs_gate_lit(const struct sigs_gate_anch *an, unsigned int k, const uint8_t *p,
			  size_t n)
{
	const struct sigs_lit_alt *a = &an->alt;

	if (a->lit_hi[k] == SIGS_LIT_AT_ANY)
		return sigs_lit_in(&a->lit[k], p, n);
	if (an->word[k].mask && (size_t)a->lit_hi[k] + 8 <= n)
		return sigs_lit_word_at(&an->word[k], p, a->lit_lo[k], a->lit_hi[k]);
	return sigs_lit_at(&a->lit[k], p, n, a->lit_lo[k], a->lit_hi[k]);
}

/* Could an anchored alternative match at the start or the end of the line? */
static bool sigs_gate_anchored(const struct sigs_gate *g, const uint8_t *p, size_t n)
{
	for (uint32_t i = 0; i < g->n_anch; i++) {
		const struct sigs_lit_alt *a = &g->anch[i].alt;
		bool all = (!a->anchored || sigs_lit_byte_in(a->first, p[0])) &&
			   (!a->end_anchored || sigs_gate_ends(a->last, p, n));

		if (all && a->has_class)
			all = sigs_gate_has_byte(&g->anch[i], p, n);
		for (unsigned int k = 0; all && k < a->n_lit; k++)
			all = sigs_gate_lit(&g->anch[i], k, p, n);
		if (all)
			return true;
	}
	return false;
}

bool sigs_gate_may_match(const struct sigs_gate *g, const uint8_t *p, size_t n)
{
	uint32_t h = 0;

	if (n == 0)
		return false;
	/* Around a LF a multi-line "^" or "$" may match inside the line: let the scan judge. */
	if (g->multiline && memchr(p, '\n', n))
		return true;
	if ((!g->all_first || sigs_lit_byte_in(g->first, p[0])) && sigs_gate_anchored(g, p, n))
		return true;
	if (!g->floating || n < 3)
		return false;
	if (g->lit_only) {
		for (unsigned int i = 0; i < g->n_lit; i++)
			if (sigs_lit_in(&g->lit[i], p, n))
				return true;
		return false;
	}
	h = sigs_lit_tri_start(p);
	return sigs_lit_tri_next(g->tri, p, 2, n, &h) < n;
}

bool sigs_gate_cheap(const struct sigs_gate *g)
{
	return g->all_first && !g->floating && !g->multiline;
}
