// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/sigs_lit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>

#include "sensor/byte_scan.h"

/*
 * A run of plain characters being read, and where finished runs go. The
 * walk also bounds how far from the match's start the next byte of a match
 * can be: lo and hi count the plain characters read so far (each is one
 * byte); anything else may match any number of bytes, so it leaves lo and
 * makes hi SIGS_LIT_AT_ANY. A run's bounds go to out_lo/out_hi when given.
 */
struct sigs_lit_acc {
	struct sigs_lit *out;
	unsigned int max, n;
	struct sigs_lit cur;
	unsigned int lo, hi, cur_lo, cur_hi;
	uint8_t *out_lo, *out_hi;
};

static void sigs_lit_flush(struct sigs_lit_acc *a)
{
	if (a->cur.len && a->n < a->max) {
		if (a->out_lo) {
			unsigned int hi = a->cur_hi < SIGS_LIT_AT_ANY ? a->cur_hi : SIGS_LIT_AT_ANY;

			/* lo <= hi always; with hi unbounded lo is not read. */
			a->out_hi[a->n] = (uint8_t)hi;
			a->out_lo[a->n] = (uint8_t)(a->cur_lo < hi ? a->cur_lo : hi);
		}
		a->out[a->n++] = a->cur;
	}
	a->cur.len = 0;
}

/* An atom of any width: the bytes after it are at least as far, at most anywhere. */
static void sigs_lit_unbound(struct sigs_lit_acc *a)
{
	a->hi = SIGS_LIT_AT_ANY;
}

static void sigs_lit_push(struct sigs_lit_acc *a, char c)
{
	/* Two pieces of a required run are each required. */
	if (a->cur.len == SIGS_LIT_MAX)
		sigs_lit_flush(a);
	if (a->cur.len == 0) {
		a->cur_lo = a->lo;
		a->cur_hi = a->hi;
	}
	a->cur.s[a->cur.len++] = (char)byte_lower((uint8_t)c);
	a->lo++;
	if (a->hi < SIGS_LIT_AT_ANY)
		a->hi++;
}

/* Past the class opening at p[i] ('['), or 0 if it does not close. */
static size_t sigs_lit_class_end(const char *p, size_t i)
{
	i++;
	if (p[i] == '^')
		i++;
	if (p[i] == ']') /* a ']' first is a member */
		i++;
	while (p[i] && p[i] != ']') {
		if (p[i] == '\\') {
			if (!p[i + 1])
				return 0;
			i += 2;
		} else if (p[i] == '[' && p[i + 1] == ':') {
			const char *e = strstr(p + i + 2, ":]");

			if (!e)
				return 0;
			i = (size_t)(e - p) + 2;
		} else {
			i++;
		}
	}
	return p[i] == ']' ? i + 1 : 0;
}

/* Past the group opening at p[i] ('('), or 0 if it does not close. */
static size_t sigs_lit_group_end(const char *p, size_t i)
{
	unsigned int depth = 0;

	while (p[i]) {
		if (p[i] == '\\') {
			if (!p[i + 1])
				return 0;
			i += 2;
		} else if (p[i] == '[') {
			i = sigs_lit_class_end(p, i);
			if (!i)
				return 0;
		} else if (p[i] == '(') {
			depth++;
			i++;
		} else if (p[i] == ')') {
			i++;
			if (--depth == 0)
				return i;
		} else {
			i++;
		}
	}
	return 0;
}

/*
 * Escapes of one character class or zero-width assertion: they end a run.
 * Every other letter or digit after '\' (\x41, \Q, \p{..}, \1, \cA, \N, \R,
 * \K, ...) may take more characters or mean a character: not understood.
 */
static bool sigs_lit_escape_class(char c)
{
	return c && strchr("dDwWsShHvVbBAzZG", c) != NULL;
}

static bool sigs_lit_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Past the quantifier at p[i] and a lazy/possessive mark after it, or 0.
 * A '{' is a quantifier only as {n}, {n,} or {n,m}; anything else between
 * braces is literal text, which may hold a '|' ("ab{x|cd}" is "ab{x" or
 * "cd}"): not understood.
 */
static size_t sigs_lit_quant_end(const char *p, size_t i)
{
	if (p[i] == '{') {
		size_t d = ++i;

		while (p[i] >= '0' && p[i] <= '9')
			i++;
		if (i == d)
			return 0;
		if (p[i] == ',')
			for (i++; p[i] >= '0' && p[i] <= '9'; i++)
				;
		if (p[i] != '}')
			return 0;
		i++;
	} else {
		i++;
	}
	if (p[i] == '?' || p[i] == '+')
		i++;
	return i;
}

#define SIGS_LIT_BAD SIZE_MAX

static size_t sigs_lit_alt_end(const char *p, size_t i);

/* The best group sigs_lit_any() found so far: one literal of each alternative. */
struct sigs_lit_grp {
	unsigned int hs_flags;
	struct sigs_lit *out;
	unsigned int max, n;
	uint8_t shortest; /* of the n in out */
};

/* Does the quantifier at p[i] let its atom match zero times? */
static bool sigs_lit_quant_optional(const char *p, size_t i)
{
	return p[i] == '?' || p[i] == '*' || (p[i] == '{' && p[i + 1] == '0');
}

/*
 * The group p[b] ('(') .. p[e - 1] (')'), which every match passes through:
 * when each of its alternatives has a required literal, the longest of each
 * are a set one of which every match holds. Kept in g when its shortest is
 * longer than that of the set g has.
 */
static void sigs_lit_grp_try(struct sigs_lit_grp *g, const char *p, size_t b, size_t e)
{
	struct sigs_lit set[SIGS_LIT_ANY_MAX], lit[SIGS_LIT_ALT_LITS];
	unsigned int n = 0;
	uint8_t shortest = UINT8_MAX;
	char *s = strndup(p + b + 1, e - b - 2);
	size_t k = 0, end;

	if (!s)
		return;
	if (s[0] == '?' && s[1] == ':')
		k = 2;
	for (;;) {
		unsigned int m, best = 0;
		char *alt;

		end = sigs_lit_alt_end(s, k);
		if (end == SIGS_LIT_BAD || s[end] == ')' || n == g->max || n == SIGS_LIT_ANY_MAX)
			goto out;
		alt = strndup(s + k, end - k);
		m = alt ? sigs_lit_required(alt, g->hs_flags, lit, SIGS_LIT_ALT_LITS) : 0;
		free(alt);
		if (m == 0)
			goto out;
		for (unsigned int i = 1; i < m; i++)
			if (lit[i].len > lit[best].len)
				best = i;
		set[n++] = lit[best];
		shortest = lit[best].len < shortest ? lit[best].len : shortest;
		if (s[end] != '|')
			break;
		k = end + 1;
	}
	if (g->n == 0 || shortest > g->shortest) {
		memcpy(g->out, set, n * sizeof(*set));
		g->n = n;
		g->shortest = shortest;
	}
out:
	free(s);
}

/*
 * Reads the top-level concatenation of pattern: its required literals into
 * a, and when g is given each group every match passes through into g.
 * False when the pattern is not understood.
 */
static bool sigs_lit_walk(const char *p, unsigned int hs_flags, struct sigs_lit_acc *a,
			  struct sigs_lit_grp *g)
{
	bool last_lit = false; /* the last atom is the last character of a->cur */
	size_t i = 0, e;

	if (hs_flags & (HS_FLAG_UTF8 | HS_FLAG_UCP | HS_FLAG_COMBINATION | HS_FLAG_PREFILTER))
		return false;
	/* Options, verbs and look-arounds change what follows: not understood. */
	for (const char *o = strchr(p, '('); o; o = strchr(o + 1, '('))
		if ((o[1] == '?' && o[2] != ':') || o[1] == '*')
			return false;
	while (p[i]) {
		char c = p[i];

		if (c == '|' || c == ')') {
			return false;
		} else if (c == '?' || c == '*' || c == '+' || c == '{') {
			/* It applies to the atom before: that atom is not required,
			 * it may match no byte, and but for '?' more than one. */
			if (last_lit) {
				a->cur.len--;
				a->lo--;
			}
			if (c != '?' || !last_lit)
				sigs_lit_unbound(a);
			sigs_lit_flush(a);
			i = sigs_lit_quant_end(p, i);
			if (!i)
				return false;
			last_lit = false;
			continue;
		} else if (c == '\\' && !sigs_lit_alnum(p[i + 1]) && p[i + 1] &&
			   (unsigned char)p[i + 1] < 0x80) {
			sigs_lit_push(a, p[i + 1]);
			last_lit = true;
			i += 2;
			continue;
		} else if (c == '\\') {
			if (!sigs_lit_escape_class(p[i + 1]))
				return false;
			sigs_lit_unbound(a);
			i += 2;
		} else if (c == '[') {
			i = sigs_lit_class_end(p, i);
			if (!i)
				return false;
			sigs_lit_unbound(a);
		} else if (c == '(') {
			e = sigs_lit_group_end(p, i);
			if (!e)
				return false;
			if (g && !sigs_lit_quant_optional(p, e))
				sigs_lit_grp_try(g, p, i, e);
			sigs_lit_unbound(a);
			i = e;
		} else if (c == '^') {
			/* Matches no byte. */
			i++;
		} else if (c == '.' || c == '$' ||
			   ((unsigned char)c >= 0x80 && (hs_flags & HS_FLAG_CASELESS))) {
			/* Without HS_FLAG_UTF8 a byte above 0x7f is that byte, one
			 * character (the last byte of a UTF-8 sequence is what a
			 * quantifier takes); only its case folding is not ours to guess. */
			sigs_lit_unbound(a);
			i++;
		} else {
			sigs_lit_push(a, c);
			last_lit = true;
			i++;
			continue;
		}
		/* Anything but a plain character ends the run. */
		sigs_lit_flush(a);
		last_lit = false;
	}
	sigs_lit_flush(a);
	return true;
}

unsigned int sigs_lit_required(const char *pattern, unsigned int hs_flags, struct sigs_lit *out,
			       unsigned int max)
{
	struct sigs_lit_acc a = {.out = out, .max = max};

	return sigs_lit_walk(pattern, hs_flags, &a, NULL) ? a.n : 0;
}

unsigned int sigs_lit_any(const char *pattern, unsigned int hs_flags, struct sigs_lit *out,
			  unsigned int max)
{
	struct sigs_lit_acc a = {.out = NULL, .max = 0};
	struct sigs_lit_grp g = {.hs_flags = hs_flags, .out = out, .max = max};

	return sigs_lit_walk(pattern, hs_flags, &a, &g) ? g.n : 0;
}

struct sigs_lit_word sigs_lit_word_of(const struct sigs_lit *lit)
{
	uint8_t want[8] = {0}, fold[8] = {0}, mask[8] = {0};
	struct sigs_lit_word w = {0};

	if (lit->len > sizeof(want))
		return w;
	for (unsigned int k = 0; k < lit->len; k++) {
		uint8_t c = (uint8_t)lit->s[k];

		if (c >= 'A' && c <= 'Z')
			return w;
		want[k] = c;
		fold[k] = c >= 'a' && c <= 'z' ? 0x20 : 0;
		mask[k] = 0xff;
	}
	/* Byte k of the words is p[i + k] of a memcpy'd input, on either byte order. */
	memcpy(&w.want, want, sizeof(want));
	memcpy(&w.fold, fold, sizeof(fold));
	memcpy(&w.mask, mask, sizeof(mask));
	return w;
}

const uint8_t sigs_lit_lower[256] = {
#define L1(c)  [(c)] = (uint8_t)((c) >= 'A' && (c) <= 'Z' ? (c) + ('a' - 'A') : (c))
#define L4(c)  L1(c), L1((c) + 1), L1((c) + 2), L1((c) + 3)
#define L16(c) L4(c), L4((c) + 4), L4((c) + 8), L4((c) + 12)
#define L64(c) L16(c), L16((c) + 16), L16((c) + 32), L16((c) + 48)
	L64(0),
	L64(64),
	L64(128),
	L64(192),
#undef L64
#undef L16
#undef L4
#undef L1
};

bool sigs_lit_in(const struct sigs_lit *lit, const uint8_t *p, size_t n)
{
	size_t len = lit->len;
	uint8_t c0 = (uint8_t)lit->s[0];
	bool letter = c0 >= 'a' && c0 <= 'z';

	if (len == 0)
		return true;
	if (n < len)
		return false;
	/* Find the first byte fast (memchr when case does not matter), then the rest. */
	for (size_t i = 0; i + len <= n; i++) {
		size_t k = 1;

		if (!letter) {
			const uint8_t *q = memchr(p + i, c0, n - len + 1 - i);

			if (!q)
				return false;
			i = (size_t)(q - p);
		} else if ((p[i] | 0x20) != c0) {
			continue;
		}
		while (k < len && byte_lower(p[i + k]) == (uint8_t)lit->s[k])
			k++;
		if (k == len)
			return true;
	}
	return false;
}

/* ---- top-level alternatives ---- */

static bool sigs_lit_is_quant(char c)
{
	return c == '?' || c == '*' || c == '+' || c == '{';
}

static void sigs_lit_set_add(uint8_t *set, char ch, bool fold)
{
	uint8_t c = (uint8_t)ch;

	set[c >> 3] |= (uint8_t)(1u << (c & 7));
	if (fold && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
		sigs_lit_set_add(set, (char)(c ^ 0x20), false);
}

/*
 * The members of the class p[i] ('[') .. p[e - 1] (']') into set: false when
 * it is negated or holds more than characters, ranges and escaped punctuation.
 */
static bool sigs_lit_class_set(const char *p, size_t i, size_t e, bool fold, uint8_t *set)
{
	size_t j = i + 1, end = e - 1;

	if (p[j] == '^')
		return false;
	if (p[j] == ']') {
		sigs_lit_set_add(set, ']', fold);
		j++;
	}
	while (j < end) {
		char c = p[j], d;

		if (c == '\\') {
			c = p[j + 1];
			if (sigs_lit_alnum(c) || (unsigned char)c >= 0x80)
				return false;
			j += 2;
		} else if (c == '[' || (unsigned char)c >= 0x80) {
			return false;
		} else {
			j++;
		}
		if (p[j] == '-' && j + 1 < end) {
			d = p[j + 1];
			if (d == '\\' || d == '[' || (unsigned char)d >= 0x80 || d < c)
				return false;
			for (int k = c; k <= d; k++)
				sigs_lit_set_add(set, (char)k, fold);
			j += 2;
			continue;
		}
		sigs_lit_set_add(set, c, fold);
	}
	return true;
}

/* Past the alternative starting at p[i]: at its '|', the ')' closing its group or the end;
 * SIGS_LIT_BAD on error. */
static size_t sigs_lit_alt_end(const char *p, size_t i)
{
	unsigned int depth = 0;

	while (p[i]) {
		if (p[i] == '\\') {
			if (!p[i + 1])
				return SIGS_LIT_BAD;
			i += 2;
		} else if (p[i] == '[') {
			i = sigs_lit_class_end(p, i);
			if (!i)
				return SIGS_LIT_BAD;
		} else if (p[i] == '(') {
			depth++;
			i++;
		} else if ((p[i] == ')' || p[i] == '|') && depth == 0) {
			return i;
		} else {
			depth -= p[i] == ')';
			i++;
		}
	}
	return i;
}

/*
 * The bytes the atom at p[i] can start with, into set; *next is past the
 * atom. A group counts when each of its alternatives starts with such an
 * atom. False when unsure.
 */
static bool sigs_lit_first(const char *p, size_t i, bool fold, uint8_t *set, size_t *next,
			   unsigned int depth)
{
	char c = p[i];
	size_t e, k, nk;

	if (c == '\\') {
		if (!p[i + 1] || sigs_lit_alnum(p[i + 1]) || (unsigned char)p[i + 1] >= 0x80)
			return false;
		sigs_lit_set_add(set, p[i + 1], fold);
		*next = i + 2;
		return true;
	}
	if (c == '[') {
		e = sigs_lit_class_end(p, i);
		*next = e;
		return e && sigs_lit_class_set(p, i, e, fold, set);
	}
	if (c == '(') {
		e = sigs_lit_group_end(p, i);
		k = i + 1;
		if (!e || depth > 4 || (p[k] == '?' && p[k + 1] != ':'))
			return false;
		k += p[k] == '?' ? 2 : 0;
		for (;;) {
			if (!sigs_lit_first(p, k, fold, set, &nk, depth + 1) ||
			    sigs_lit_is_quant(p[nk]))
				return false;
			k = sigs_lit_alt_end(p, nk);
			if (k == SIGS_LIT_BAD || p[k] != '|')
				break;
			k++;
		}
		*next = e;
		return k == e - 1;
	}
	if (!c || strchr(".^$|)?*+{", c) || (unsigned char)c >= 0x80)
		return false;
	sigs_lit_set_add(set, c, fold);
	*next = i + 1;
	return true;
}

/*
 * The bytes a match of the sequence p[b..e) can end with, into set; false
 * when unsure or when the whole sequence may match nothing. Its atoms are
 * read forwards, then the last one that must match (and every optional one
 * after it) gives the bytes.
 */
#define SIGS_LIT_SEQ_MAX 64

struct sigs_lit_atom {
	size_t at, end;
	bool need; /* matches at least once */
};

static bool sigs_lit_seq_last(const char *p, size_t b, size_t e, bool fold, uint8_t *set,
			      unsigned int depth);

static bool sigs_lit_atom_last(const char *p, const struct sigs_lit_atom *a, bool fold,
			       uint8_t *set, unsigned int depth)
{
	size_t k, end;

	switch (p[a->at]) {
	case '\\':
		if (p[a->at + 1] == 'd') {
			for (char c = '0'; c <= '9'; c++)
				sigs_lit_set_add(set, c, false);
			return true;
		}
		sigs_lit_set_add(set, p[a->at + 1], fold);
		return true;
	case '[':
		return sigs_lit_class_set(p, a->at, a->end, fold, set);
	case '(':
		k = a->at + 1;
		if (depth > 4)
			return false;
		k += p[k] == '?' ? 2 : 0;
		for (;;) {
			end = sigs_lit_alt_end(p, k);
			if (end == SIGS_LIT_BAD ||
			    !sigs_lit_seq_last(p, k, end, fold, set, depth + 1))
				return false;
			if (p[end] != '|')
				return end == a->end - 1;
			k = end + 1;
		}
	default:
		sigs_lit_set_add(set, p[a->at], fold);
		return true;
	}
}

static bool sigs_lit_seq_last(const char *p, size_t b, size_t e, bool fold, uint8_t *set,
			      unsigned int depth)
{
	struct sigs_lit_atom atom[SIGS_LIT_SEQ_MAX];
	unsigned int n = 0;
	size_t i = b, q;

	bool after_atom = false; /* a quantifier applies to atom[n - 1] */

	while (i < e) {
		char c = p[i];

		if (sigs_lit_is_quant(c)) {
			/* Lazy or possessive marks change nothing here. */
			q = sigs_lit_quant_end(p, i);
			if (!q || !after_atom || q > e)
				return false;
			after_atom = false;
			atom[n - 1].need = c == '+' || (c == '{' && p[i + 1] != '0');
			i = q;
			continue;
		}
		if (n == SIGS_LIT_SEQ_MAX)
			return false;
		atom[n] = (struct sigs_lit_atom){.at = i, .need = true};
		if (c == '\\') {
			char x = p[i + 1];

			/* Zero-width assertions match no byte: not atoms. */
			if (x && strchr("bBAzZG", x)) {
				after_atom = false;
				i += 2;
				continue;
			}
			if (!x || (sigs_lit_alnum(x) && x != 'd') || (unsigned char)x >= 0x80)
				return false;
			i += 2;
		} else if (c == '[') {
			i = sigs_lit_class_end(p, i);
		} else if (c == '(') {
			if (p[i + 1] == '?' && p[i + 2] != ':')
				return false;
			i = sigs_lit_group_end(p, i);
		} else if (c == '^') {
			after_atom = false;
			i++;
			continue;
		} else if (c == '.' || c == '$' || c == '|' || c == ')' ||
			   (unsigned char)c >= 0x80) {
			return false;
		} else {
			i++;
		}
		if (!i || i > e)
			return false;
		atom[n++].end = i;
		after_atom = true;
	}
	while (n--) {
		if (!sigs_lit_atom_last(p, &atom[n], fold, set, depth))
			return false;
		if (atom[n].need)
			return true;
	}
	return false;
}

/* Does the alternative s (len bytes) end with an unescaped '$'? */
static bool sigs_lit_ends_dollar(const char *s, size_t len)
{
	size_t bs = 0;

	if (len < 2 || s[len - 1] != '$')
		return false;
	while (bs < len - 1 && s[len - 2 - bs] == '\\')
		bs++;
	return bs % 2 == 0;
}

static unsigned int sigs_lit_popcount(const uint8_t *set)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < 32; i++)
		n += (unsigned int)__builtin_popcount(set[i]);
	return n;
}

/* A class of at most 4 bytes, none a letter or digit, that p (one alternative) requires. */
static void sigs_lit_alt_class(const char *p, bool fold, struct sigs_lit_alt *a)
{
	size_t i = 0, e;

	while (p[i]) {
		uint8_t set[32] = {0};

		if (p[i] == '\\') {
			if (!p[i + 1] ||
			    (sigs_lit_alnum(p[i + 1]) && !sigs_lit_escape_class(p[i + 1])))
				goto unsure;
			i += 2;
		} else if (p[i] == '[') {
			e = sigs_lit_class_end(p, i);
			if (!e)
				goto unsure;
			if (!sigs_lit_is_quant(p[e]) && sigs_lit_class_set(p, i, e, fold, set) &&
			    sigs_lit_popcount(set) <= 4 &&
			    (!a->has_class || sigs_lit_popcount(set) < sigs_lit_popcount(a->cls))) {
				bool alnum = false;

				for (int c = '0'; c <= 'z'; c++)
					alnum |= sigs_lit_alnum((char)c) &&
						 sigs_lit_byte_in(set, (uint8_t)c);
				if (!alnum) {
					memcpy(a->cls, set, sizeof(set));
					a->has_class = true;
				}
			}
			i = e;
		} else if (p[i] == '(') {
			i = sigs_lit_group_end(p, i);
			if (!i)
				goto unsure;
		} else if (sigs_lit_is_quant(p[i])) {
			i = sigs_lit_quant_end(p, i);
			if (!i)
				goto unsure;
		} else if (p[i] == '|' || p[i] == ')') {
			goto unsure;
		} else {
			i++;
		}
	}
	return;
unsure:
	a->has_class = false;
}

static bool sigs_lit_alt(const char *p, size_t len, unsigned int hs_flags, struct sigs_lit_alt *a)
{
	bool fold = (hs_flags & HS_FLAG_CASELESS) != 0;
	char *s = strndup(p, len);
	struct sigs_lit_acc acc;
	size_t next;

	if (!s)
		return false;
	memset(a, 0, sizeof(*a));
	acc = (struct sigs_lit_acc){
		.out = a->lit, .max = SIGS_LIT_ALT_LITS, .out_lo = a->lit_lo, .out_hi = a->lit_hi};
	a->n_lit = sigs_lit_walk(s, hs_flags, &acc, NULL) ? (uint8_t)acc.n : 0;
	a->anchored = s[0] == '^' && sigs_lit_first(s, 1, fold, a->first, &next, 0) &&
		      !sigs_lit_is_quant(s[next]);
	/* Bounds from the match's start say where in the line only when it starts the line. */
	for (unsigned int k = 0; k < SIGS_LIT_ALT_LITS; k++) {
		if (!a->anchored || k >= a->n_lit) {
			a->lit_lo[k] = 0;
			a->lit_hi[k] = SIGS_LIT_AT_ANY;
		}
	}
	if (!a->anchored)
		memset(a->first, 0, sizeof(a->first));
	a->end_anchored = sigs_lit_ends_dollar(s, len) &&
			  sigs_lit_seq_last(s, 0, strlen(s) - 1, fold, a->last, 0);
	if (!a->end_anchored)
		memset(a->last, 0, sizeof(a->last));
	sigs_lit_alt_class(s, fold, a);
	free(s);
	return true;
}

unsigned int sigs_lit_alts(const char *pattern, unsigned int hs_flags, struct sigs_lit_alt *out,
			   unsigned int max)
{
	unsigned int n = 0;
	size_t k = 0, end;

	if (hs_flags & (HS_FLAG_UTF8 | HS_FLAG_UCP | HS_FLAG_COMBINATION | HS_FLAG_PREFILTER))
		return 0;
	if (strstr(pattern, "\\Q"))
		return 0;
	for (const char *g = strchr(pattern, '('); g; g = strchr(g + 1, '('))
		if ((g[1] == '?' && g[2] != ':') || g[1] == '*')
			return 0;
	for (;;) {
		end = sigs_lit_alt_end(pattern, k);
		if (end == SIGS_LIT_BAD || pattern[end] == ')' || n == max)
			return 0;
		if (!sigs_lit_alt(pattern + k, end - k, hs_flags, &out[n++]))
			return 0;
		if (pattern[end] != '|')
			return n;
		k = end + 1;
	}
}
