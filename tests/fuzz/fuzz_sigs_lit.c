// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz_sigs_lit: soundness of the required-literal analysis that the URL
 * gate trusts. The first byte picks the rule flags (bit 0 i, 1 s, 2 m, 3 u:
 * what sigs_hs_flags() turns into Hyperscan flags, always with SINGLEMATCH),
 * the bytes up to the first '\n' are the pattern, the rest is the input. When
 * Hyperscan compiles the pattern and it matches the input, the input must
 * contain every literal sigs_lit_required() named (ignoring case): a literal
 * that a match can lack would make the gate skip a rule that matches. The
 * set sigs_lit_any() named must have one of its literals there, and the
 * bitmap gate of that set (sigs_gate_of_lits()) must let it through. The
 * line gate built from the pattern alone (sigs_gate, from sigs_lit_alts())
 * must let such an input through too: a "cannot match" it gets wrong would
 * skip the scan of a command or reply line that matches. The URL finder
 * (sigs_url) of those literals, the required ones as gates and the set,
 * must give on every input what a search for each literal gives.
 * Seeds: tests/fuzz/seeds/sigs_lit/ (rules/ patterns with a "#+" example).
 */
#include <hs.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/sigs_gate.h"
#include "sensor/sigs_lit.h"
#include "sensor/sigs_url.h"

#define FUZZ_PATTERN_MAX 512 /* compiling is the slow part; rule patterns are shorter */
#define FUZZ_LIT_MAX	 8   /* as many as sigs asks for */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned int fuzz_hs_flags(uint8_t f)
{
	unsigned int hf = HS_FLAG_SINGLEMATCH;

	if (f & 1)
		hf |= HS_FLAG_CASELESS;
	if (f & 2)
		hf |= HS_FLAG_DOTALL;
	if (f & 4)
		hf |= HS_FLAG_MULTILINE;
	if (f & 8)
		hf |= HS_FLAG_UTF8;
	return hf;
}

static int fuzz_on_match(unsigned int id, unsigned long long from, unsigned long long to,
			 unsigned int flags, void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	*(bool *)ctx = true;
	return 1; /* one match is enough */
}

/* Does the compiled pattern match p[0..n)? */
static bool fuzz_matches(const hs_database_t *db, const uint8_t *p, size_t n)
{
	static hs_scratch_t *scratch;
	bool hit = false;

	if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS)
		abort();
	hs_scan(db, (const char *)p, (unsigned int)n, 0, scratch, fuzz_on_match, &hit);
	return hit;
}

/* sigs_url_find() against a search for each literal: the gates first, then the set. */
static void fuzz_url_find(const struct sigs_lit *gate, unsigned int n_gate,
			  const struct sigs_lit *set, unsigned int n_set, const uint8_t *p,
			  size_t n)
{
	struct sigs_url_find *f = sigs_url_find_build(gate, n_gate, set, n_set);
	enum sigs_url_hit want = SIGS_URL_NONE;

	if (!f)
		return;
	for (unsigned int i = 0; i < n_set && want == SIGS_URL_NONE; i++)
		if (sigs_lit_in(&set[i], p, n))
			want = SIGS_URL_SET;
	for (unsigned int i = 0; i < n_gate; i++)
		if (sigs_lit_in(&gate[i], p, n))
			want = SIGS_URL_GATE;
	if (sigs_url_find(f, p, n) != want)
		abort(); /* the finder and the searches disagree */
	sigs_url_find_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char pattern[FUZZ_PATTERN_MAX + 1];
	struct sigs_lit lit[FUZZ_LIT_MAX], any[SIGS_LIT_ANY_MAX];
	struct sigs_gate *any_gate = NULL;
	hs_compile_error_t *ce = NULL;
	hs_database_t *db = NULL;
	struct sigs_gate *gate;
	const char *expr = pattern;
	const uint8_t *nl, *in;
	unsigned int flags, n, n_any;
	size_t plen, in_len;

	if (size < 2)
		return 0;
	flags = fuzz_hs_flags(data[0]);
	nl = memchr(data + 1, '\n', size - 1);
	plen = (size_t)((nl ? nl : data + size) - (data + 1));
	if (plen == 0 || plen > FUZZ_PATTERN_MAX || memchr(data + 1, '\0', plen))
		return 0;
	memcpy(pattern, data + 1, plen);
	pattern[plen] = '\0';
	in = nl ? nl + 1 : data + size;
	in_len = (size_t)(data + size - in);

	n = sigs_lit_required(pattern, flags, lit, FUZZ_LIT_MAX);
	if (n > FUZZ_LIT_MAX)
		abort();
	for (unsigned int i = 0; i < n; i++) {
		if (lit[i].len == 0 || lit[i].len > SIGS_LIT_MAX)
			abort();
		for (unsigned int k = 0; k < lit[i].len; k++)
			if (lit[i].s[k] >= 'A' && lit[i].s[k] <= 'Z')
				abort(); /* literals come out in lower case */
	}
	n_any = sigs_lit_any(pattern, flags, any, SIGS_LIT_ANY_MAX);
	if (n_any > SIGS_LIT_ANY_MAX)
		abort();
	/* The URL gate's bitmap of a set (sigs.c keeps sets of 3 bytes or more). */
	bool long_lits = n_any > 0;

	for (unsigned int i = 0; i < n_any; i++)
		long_lits &= any[i].len >= 3;
	if (long_lits && !(any_gate = sigs_gate_of_lits(any, n_any)))
		abort();
	fuzz_url_find(lit, n, any, long_lits ? n_any : 0, in, in_len);
	gate = sigs_gate_build(&expr, &flags, 1);
	if (n == 0 && n_any == 0 && !gate)
		return 0; /* nothing claimed, nothing to check: skip the compile */
	if (hs_compile(pattern, flags, HS_MODE_BLOCK, NULL, &db, &ce) != HS_SUCCESS) {
		hs_free_compile_error(ce);
		sigs_gate_free(gate);
		sigs_gate_free(any_gate);
		return 0;
	}
	if (fuzz_matches(db, in, in_len)) {
		for (unsigned int i = 0; i < n; i++)
			if (!sigs_lit_in(&lit[i], in, in_len))
				abort(); /* a match without a literal said to be required */
		if (gate && !sigs_gate_may_match(gate, in, in_len))
			abort(); /* the gate ruled out a line the pattern matches */
		bool held = n_any == 0;

		for (unsigned int i = 0; i < n_any; i++)
			held |= sigs_lit_in(&any[i], in, in_len);
		if (!held)
			abort(); /* a match without any literal of the set */
		if (any_gate && !sigs_gate_may_match(any_gate, in, in_len))
			abort(); /* the set's bitmap ruled out a match */
	}
	sigs_gate_free(gate);
	sigs_gate_free(any_gate);
	hs_free_database(db);
	return 0;
}
