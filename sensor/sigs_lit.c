// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/sigs_lit.h"

#include <string.h>

#include <hs.h>

/* A run of plain characters being read, and where finished runs go. */
struct sigs_lit_acc {
	struct sigs_lit *out;
	unsigned int max, n;
	struct sigs_lit cur;
};

static char sigs_lit_lower(char c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

static void sigs_lit_flush(struct sigs_lit_acc *a)
{
	if (a->cur.len && a->n < a->max)
		a->out[a->n++] = a->cur;
	a->cur.len = 0;
}

static void sigs_lit_push(struct sigs_lit_acc *a, char c)
{
	/* Two pieces of a required run are each required. */
	if (a->cur.len == SIGS_LIT_MAX)
		sigs_lit_flush(a);
	a->cur.s[a->cur.len++] = sigs_lit_lower(c);
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

unsigned int sigs_lit_required(const char *pattern, unsigned int hs_flags, struct sigs_lit *out,
			       unsigned int max)
{
	struct sigs_lit_acc a = {.out = out, .max = max};
	const char *p = pattern;
	bool last_lit = false; /* the last atom is the last character of a.cur */
	size_t i = 0;

	if (hs_flags & (HS_FLAG_UTF8 | HS_FLAG_UCP | HS_FLAG_COMBINATION | HS_FLAG_PREFILTER))
		return 0;
	/* Options, verbs and look-arounds change what follows: not understood. */
	for (const char *g = strchr(p, '('); g; g = strchr(g + 1, '('))
		if ((g[1] == '?' && g[2] != ':') || g[1] == '*')
			return 0;
	while (p[i]) {
		char c = p[i];

		if (c == '|' || c == ')') {
			return 0;
		} else if (c == '?' || c == '*' || c == '+' || c == '{') {
			/* It applies to the atom before: that atom is not required. */
			if (last_lit)
				a.cur.len--;
			sigs_lit_flush(&a);
			i = sigs_lit_quant_end(p, i);
			if (!i)
				return 0;
			last_lit = false;
			continue;
		} else if (c == '\\' && !sigs_lit_alnum(p[i + 1]) && p[i + 1] &&
			   (unsigned char)p[i + 1] < 0x80) {
			sigs_lit_push(&a, p[i + 1]);
			last_lit = true;
			i += 2;
			continue;
		} else if (c == '\\') {
			if (!sigs_lit_escape_class(p[i + 1]))
				return 0;
			i += 2;
		} else if (c == '[') {
			i = sigs_lit_class_end(p, i);
			if (!i)
				return 0;
		} else if (c == '(') {
			i = sigs_lit_group_end(p, i);
			if (!i)
				return 0;
		} else if (c == '.' || c == '^' || c == '$' || (unsigned char)c >= 0x80) {
			i++;
		} else {
			sigs_lit_push(&a, c);
			last_lit = true;
			i++;
			continue;
		}
		/* Anything but a plain character ends the run. */
		sigs_lit_flush(&a);
		last_lit = false;
	}
	sigs_lit_flush(&a);
	return a.n;
}

bool sigs_lit_in(const struct sigs_lit *lit, const uint8_t *p, size_t n)
{
	size_t len = lit->len;

	if (len == 0)
		return true;
	for (size_t i = 0; i + len <= n; i++) {
		size_t k = 0;

		while (k < len && sigs_lit_lower((char)p[i + k]) == lit->s[k])
			k++;
		if (k == len)
			return true;
	}
	return false;
}
