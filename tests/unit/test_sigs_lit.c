// SPDX-License-Identifier: BSD-3-Clause
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <hs.h>

#include "sensor/sigs_lit.h"

#define U8(s) ((const uint8_t *)(s))

struct lit_case {
	const char *pattern;
	unsigned int flags;
	const char *want; /* the literals joined by ' ', "" for none */
};

static void lit_join(const struct sigs_lit *lit, unsigned int n, char *buf, size_t cap)
{
	size_t at = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < n; i++)
		at += (size_t)snprintf(buf + at, cap - at, "%s%.*s", i ? " " : "", lit[i].len,
				       lit[i].s);
}

typedef unsigned int lit_fn(const char *pattern, unsigned int hs_flags, struct sigs_lit *out,
			    unsigned int max);

/* Each case's literals, as fn gives them, are those it wants. */
static void check_lits(const struct lit_case *cases, size_t n_cases, lit_fn *fn)
{
	struct sigs_lit lit[SIGS_LIT_ANY_MAX];
	char got[512];

	for (size_t i = 0; i < n_cases; i++) {
		unsigned int n = fn(cases[i].pattern, cases[i].flags, lit, 8);

		lit_join(lit, n, got, sizeof(got));
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("/%s/: got \"%s\", want \"%s\"", cases[i].pattern, got,
				 cases[i].want);
	}
}

/* Only the top-level concatenation gives literals; a quantified character is not one. */
static void test_sigs_lit_top_level_runs(void **state)
{
	static const struct lit_case cases[] = {
		{"^https?:\\/\\/([^\\/?#@:]*\\.)?xn--", 0, "http :// xn--"},
		{"^https?:\\/\\/[^\\/?#@]*@", HS_FLAG_CASELESS, "http :// @"},
		{"\\/[^?#]*\\.html?([?#]|$)", 0, "/ .htm"},
		{"ABC", HS_FLAG_CASELESS, "abc"},
		{"abc?", 0, "ab"},
		{"abc*d", 0, "ab d"},
		{"abc+d", 0, "ab d"},
		{"foo{2}bar", 0, "fo bar"},
		{"foo{2,}?bar", 0, "fo bar"},
		{"foo*?bar", 0, "fo bar"},
		{"fo(o)?bar", 0, "fo bar"},
		{"ab(cd|ef)gh", 0, "ab gh"},
		{"ab(?:c|d)e", 0, "ab e"},
		{"ab\\dcd\\bef", 0, "ab cd ef"},
		{"ab.cd^ef$", 0, "ab cd ef"},
		{"ab[)|(]cd", 0, "ab cd"},
		{"ab[]x]cd[^]]ef", 0, "ab cd ef"},
		{"ab[[:alpha:]]cd", 0, "ab cd"},
		{"a\\|b\\(c\\)", 0, "a|b(c)"},
		/* Hyperscan reads bytes: 8-bit ones are plain characters, and a
		 * quantifier takes the last byte of a UTF-8 sequence; in caseless
		 * patterns their folding is not ours to guess. */
		{"caf\xc3\xa9s", 0, "caf\xc3\xa9s"},
		{"caf\xc3\xa9?s", 0, "caf\xc3 s"},
		{"\xe6\x9c\xaa\xe6\x89\xbf(?:\xe2\x80\xbb|\\*)", 0, "\xe6\x9c\xaa\xe6\x89\xbf"},
		{"caf\xc3\xa9s", HS_FLAG_CASELESS, "caf s"},
		{"0123456789abcdefXYZ", 0, "0123456789abcdef xyz"},
		{"x?", 0, ""},
		{"[a-z]+", 0, ""},
	};

	(void)state;
	check_lits(cases, sizeof(cases) / sizeof(cases[0]), sigs_lit_required);
}

/* Whatever the analysis does not fully understand gives nothing. */
static void test_sigs_lit_unsure_gives_none(void **state)
{
	static const struct lit_case cases[] = {
		{"abc|def", 0, ""},
		{"(?i)abc", 0, ""},
		{"abc(?i)def", 0, ""},
		{"(?x)a b c", 0, ""},
		{"abc(?=def)", 0, ""},
		{"(*UTF8)abc", 0, ""},
		{"ab\\x41cd", 0, ""},
		{"ab\\Qcd\\E", 0, ""},
		{"ab\\ncd", 0, ""},
		{"ab\\1cd", 0, ""},
		{"ab\\p{L}cd", 0, ""},
		{"ab(cd", 0, ""},
		{"abcd)", 0, ""},
		{"ab[cd", 0, ""},
		{"ab{2", 0, ""},
		/* braces that are no quantifier are literal text: "ab{x" or "cd}" */
		{"ab{x|cd}", 0, ""},
		{"{a|b}c", 0, ""},
		{"ab{,2}cd", 0, ""},
		{"ab{2,x}cd", 0, ""},
		{"ab\\", 0, ""},
		{"abc", HS_FLAG_UTF8, ""},
		{"abc", HS_FLAG_UCP, ""},
		{"abc", HS_FLAG_PREFILTER, ""},
		{"1 & 2", HS_FLAG_COMBINATION, ""},
	};
	struct sigs_lit lit[8];

	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (sigs_lit_required(cases[i].pattern, cases[i].flags, lit, 8) != 0)
			fail_msg("/%s/ gave a literal", cases[i].pattern);
}

/* At most max literals are stored, the first ones. */
static void test_sigs_lit_at_most_max(void **state)
{
	struct sigs_lit lit[2];
	char got[64];
	unsigned int n;

	(void)state;
	n = sigs_lit_required("ab.cd.ef", 0, lit, 2);
	lit_join(lit, n, got, sizeof(got));
	assert_string_equal(got, "ab cd");
}

/*
 * One of a group's literals: the group must be passed (no quantifier that
 * allows zero), each alternative must have a literal (its longest), and of
 * several groups the one whose shortest literal is longest wins.
 */
static void test_sigs_lit_any(void **state)
{
	static const struct lit_case cases[] = {
		{"^https?:\\/\\/([a-z]+\\.)*(PayPal|apple|jcb)\\.com", HS_FLAG_CASELESS,
		 "paypal apple jcb"},
		{"x(web\\.app|github\\.io)(:\\d+)?\\/", 0, "web.app github.io"},
		{"(ab|cd)(efg|hij)", 0, "efg hij"},
		{"(?:ab(c|d)e|fgh)", 0, "ab fgh"},
		{"(a\\dbcd|efg)+x", 0, "bcd efg"},
		{"(abc|def){2}", 0, "abc def"},
		{"(abc|def){1,3}", 0, "abc def"},
		/* optional groups, an alternative without a literal, nothing to go on */
		{"(abc|def)?x", 0, ""},
		{"(abc|def)*x", 0, ""},
		{"(abc|def){0,2}x", 0, ""},
		{"(abc|[a-z]+)x", 0, ""},
		{"(abc|)x", 0, ""},
		{"(abc|x?)", 0, ""},
		{"abcdef", 0, ""},
		/* not understood: as sigs_lit_required() */
		{"(abc|def)|x", 0, ""},
		{"(?i)(abc|def)", 0, ""},
		{"(abc|def)\\1", 0, ""},
		{"(abc|def)", HS_FLAG_UTF8, ""},
		{"(abc|de(f)", 0, ""},
	};
	struct sigs_lit lit[2];

	(void)state;
	check_lits(cases, sizeof(cases) / sizeof(cases[0]), sigs_lit_any);
	/* A group of more alternatives than max gives nothing. */
	assert_int_equal(sigs_lit_any("(abc|def|ghi)", 0, lit, 2), 0);
}

/* Looked for without case, anywhere, including the very start and end. */
static void test_sigs_lit_in_ignores_case(void **state)
{
	struct sigs_lit g = {.len = 4, .s = "xn--"};

	(void)state;
	assert_true(sigs_lit_in(&g, U8("xn--"), 4));
	assert_true(sigs_lit_in(&g, U8("http://XN--p.com"), 16));
	assert_true(sigs_lit_in(&g, U8("http://a.Xn--"), 13));
	assert_false(sigs_lit_in(&g, U8("http://a.xn-"), 12));
	assert_false(sigs_lit_in(&g, U8("http://a.xn-x-"), 14));
	assert_false(sigs_lit_in(&g, U8("xn--"), 3));
	assert_false(sigs_lit_in(&g, U8(""), 0));
	g.len = 0;
	assert_true(sigs_lit_in(&g, U8(""), 0));
}

/* A byte set as the characters it holds, in order ("" for none). */
static void set_join(const uint8_t *set, char *buf)
{
	size_t at = 0;

	for (unsigned int c = 1; c < 256; c++)
		if (sigs_lit_byte_in(set, (uint8_t)c))
			buf[at++] = (char)c;
	buf[at] = '\0';
}

struct alt_case {
	const char *pattern;
	unsigned int flags;
	const char *want; /* per alternative "first|class|literals" joined by " / "; NULL: unsure */
};

/* Each top-level alternative: anchored first bytes, a small class, literals. */
static void test_sigs_lit_alts(void **state)
{
	static const struct alt_case cases[] = {
		{"^(HELO|EHLO) +\\d", HS_FLAG_CASELESS, "EHeh||"},
		{"^RCPT TO: ?<[^>]*[%!][^>]*@|^RCPT TO: ?<@[^:>]+:", 0,
		 "R|!%|rcpt to: < @ / R||rcpt to: <@ :"},
		{"^[45]\\d\\d[ -].*\\bBRBL\\b", HS_FLAG_MULTILINE, "45| -|brbl"},
		{"^550[ -]x|relay access denied", HS_FLAG_CASELESS,
		 "5| -|550 x / ||relay access den ied"},
		{"^\\[a", 0, "[||[a"},
		{"^a?b", 0, "||b"},
		{"^[45]+x", 0, "||x"},
		{"^(a|b?)c", 0, "||c"},
		{"^(a|b)*c", 0, "||c"},
		{"^[^4]x", 0, "||x"},
		{"^\\dx", 0, "||x"},
		{"^.x", 0, "||x"},
		{"a[%!]?b[#]c", 0, "|#|a b c"},
		{"a[%!]{2}b", 0, "||a b"},
		{"a[%!ab]c", 0, "||a c"},
		{"a(?:x|y)b", 0, "||a b"},
		{"a|", 0, "||a / ||"},
		{"a|(?i)b", 0, NULL},
		{"\\Qa|b\\E", 0, NULL},
		{"a)|b", 0, NULL},
		{"a", HS_FLAG_UTF8, NULL},
		{"a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q", 0, NULL},
	};
	struct sigs_lit_alt alt[SIGS_LIT_ALTS_MAX];
	char got[1024], first[257], cls[257], lits[256];

	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned int n =
			sigs_lit_alts(cases[i].pattern, cases[i].flags, alt, SIGS_LIT_ALTS_MAX);
		size_t at = 0;

		if (!cases[i].want) {
			if (n)
				fail_msg("%s: %u alternatives, wanted unsure", cases[i].pattern, n);
			continue;
		}
		got[0] = '\0';
		for (unsigned int k = 0; k < n; k++) {
			set_join(alt[k].first, first);
			set_join(alt[k].cls, cls);
			lit_join(alt[k].lit, alt[k].n_lit, lits, sizeof(lits));
			assert_int_equal(alt[k].anchored, first[0] != '\0');
			assert_int_equal(alt[k].has_class, cls[0] != '\0');
			at += (size_t)snprintf(got + at, sizeof(got) - at, "%s%s|%s|%s",
					       k ? " / " : "", first, cls, lits);
		}
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].pattern, got,
				 cases[i].want);
	}
}

struct end_case {
	const char *pattern;
	unsigned int flags;
	const char *last; /* bytes of the first alternative's end; NULL: not end-anchored */
};

/* An alternative ending with "$": the bytes its last required atom can end with. */
static void test_sigs_lit_alts_end(void **state)
{
	static const struct end_case cases[] = {
		{"^(HELO|EHLO) "
		 "+(localhost(\\.localdomain)?|127\\.0\\.0\\.1|\\[127\\.0\\.0\\.1\\])$",
		 HS_FLAG_CASELESS, "1NT]nt"},
		{"^(HELO|EHLO) +\\d{1,3}(\\.\\d{1,3}){3}$", 0, "0123456789"},
		{"ab?$", 0, "ab"},
		{"ab*c{0,2}$", 0, "abc"},
		{"ab+$", 0, "b"},
		{"a[xy]{2}$", 0, "xy"},
		{"a(?:x|y\\b)$", 0, "xy"},
		{"a\\.$", 0, "."},
		{"a\\$", 0, NULL},
		{"a\\\\$", 0, "\\"},
		{"a?$", 0, NULL},
		{"a.$", 0, NULL},
		{"a\\w$", 0, NULL},
		{"a[^x]$", 0, NULL},
		{"a(x|y?)$", 0, NULL},
		{"a(x|)$", 0, NULL},
		{"\\b+$", 0, NULL},
		{"$", 0, NULL},
	};
	struct sigs_lit_alt alt[SIGS_LIT_ALTS_MAX];
	char last[257];

	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned int n =
			sigs_lit_alts(cases[i].pattern, cases[i].flags, alt, SIGS_LIT_ALTS_MAX);

		set_join(alt[0].last, last);
		if (n == 0 || alt[0].end_anchored != (cases[i].last != NULL) ||
		    (cases[i].last && strcmp(last, cases[i].last) != 0))
			fail_msg("%s: %u alternatives, end %d \"%s\", want %s", cases[i].pattern, n,
				 n ? alt[0].end_anchored : 0, last,
				 cases[i].last ? cases[i].last : "none");
	}
}

struct where_case {
	const char *pattern;
	unsigned int flags;
	const char
		*want; /* per literal of the first alternative "lit@lo-hi" or "lit@any", by ' ' */
};

/*
 * Where an anchored alternative's literals start: plain characters count one
 * byte each, an optional one ('?') may be missing, anything else leaves the
 * bound open; an alternative that is not anchored has none.
 */
static void test_sigs_lit_alts_where(void **state)
{
	static const struct where_case cases[] = {
		{"^RCPT TO: ?<@[^:>]+:", HS_FLAG_CASELESS, "rcpt to:@0-0 <@@8-9 :@any"},
		{"^RCPT TO: ?<[^>]*[%!][^>]*@[^>]*>", HS_FLAG_CASELESS,
		 "rcpt to:@0-0 <@8-9 @@any >@any"},
		{"^ab?c", 0, "a@0-0 c@1-2"},
		{"^ab??cd", 0, "a@0-0 cd@1-2"},
		{"^a*bc", 0, "bc@any"},
		{"^a+bc", 0, "bc@any"},
		{"^a{2}bc", 0, "bc@any"},
		{"^x.y", 0, "x@0-0 y@any"},
		{"^x\\dy", 0, "x@0-0 y@any"},
		{"^x\\by", 0, "x@0-0 y@any"},
		{"^x[ab]y", 0, "x@0-0 y@any"},
		{"^(a)bc", 0, "bc@any"},
		{"^(a)?bc", 0, "bc@any"},
		{"^\\.a\\+b", 0, ".a+b@0-0"},
		{"^0123456789abcdefXYZ", 0, "0123456789abcdef@0-0 xyz@16-16"},
		{"^xa?b?c?d", 0, "x@0-0 d@1-4"},
		{"^a?bc", 0, "bc@any"}, /* a quantified first atom: not anchored */
		{"abc", 0, "abc@any"},
		{"x^abc", 0, "x@any abc@any"},
	};
	struct sigs_lit_alt alt[SIGS_LIT_ALTS_MAX];
	char got[512];

	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned int n =
			sigs_lit_alts(cases[i].pattern, cases[i].flags, alt, SIGS_LIT_ALTS_MAX);
		size_t at = 0;

		assert_true(n > 0);
		got[0] = '\0';
		for (unsigned int k = 0; k < alt[0].n_lit; k++) {
			const struct sigs_lit *l = &alt[0].lit[k];

			if (alt[0].lit_hi[k] == SIGS_LIT_AT_ANY)
				at += (size_t)snprintf(got + at, sizeof(got) - at, "%s%.*s@any",
						       k ? " " : "", l->len, l->s);
			else
				at += (size_t)snprintf(got + at, sizeof(got) - at, "%s%.*s@%u-%u",
						       k ? " " : "", l->len, l->s, alt[0].lit_lo[k],
						       alt[0].lit_hi[k]);
		}
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].pattern, got,
				 cases[i].want);
	}
}

/* Found where it starts, as sigs_lit_in() would find it there: every offset window, any case. */
static void test_sigs_lit_at_agrees_with_a_search(void **state)
{
	static const char *const texts[] = {"RCPT TO:<@a:b>", "rcpt to: <@<@x>", "<@", "<", "",
					    "xx<@yy<@",	      "RCPT TO:<<@"};
	static const char *const lits[] = {"<@", "rcpt to:", "@", "<@y"};

	(void)state;
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		const uint8_t *p = U8(texts[t]);
		size_t n = strlen(texts[t]);

		for (size_t l = 0; l < sizeof(lits) / sizeof(lits[0]); l++) {
			struct sigs_lit lit = {.len = (uint8_t)strlen(lits[l])};

			memcpy(lit.s, lits[l], lit.len);
			for (size_t lo = 0; lo <= n + 1; lo++) {
				for (size_t hi = lo; hi <= n + 2; hi++) {
					/* A search in the window the offsets allow. */
					size_t end = hi + lit.len < n ? hi + lit.len : n;
					bool want = lo < n && sigs_lit_in(&lit, p + lo, end - lo);

					if (sigs_lit_at(&lit, p, n, lo, hi) != want)
						fail_msg("\"%s\" in \"%s\" at %zu-%zu: want %d",
							 lits[l], texts[t], lo, hi, want);
				}
			}
		}
	}
}

/* Every offset window of p[0..20) with a word to read: the word compare and the byte loop agree. */
static void word_at_check(const struct sigs_lit *lit, const struct sigs_lit_word *w,
			  const uint8_t *p, unsigned int c)
{
	for (size_t lo = 0; lo <= 12; lo++)
		for (size_t hi = lo; hi <= 12; hi++)
			if (sigs_lit_word_at(w, p, lo, hi) != sigs_lit_at(lit, p, 20, lo, hi))
				fail_msg("\"%.*s\" with byte %u: %zu-%zu", lit->len, lit->s, c, lo,
					 hi);
}

/*
 * sigs_lit_word_at() against sigs_lit_at() (the byte loop it stands for):
 * literals of 1 to 8 bytes of letters, digits and marks, put in upper case
 * at every place, with every byte value in each of their places; a literal
 * a word cannot hold has no mask.
 */
static void test_sigs_lit_word_at_agrees_with_sigs_lit_at(void **state)
{
	static const char *const lits[] = {"<@",  "rcpt to:", "@",	 "a",	    "z",
					   "<@y", "to:<",     "mail fr", "x%!",	    "0",
					   "`{",  "@[",	      "ab\xc3",	 "12345678"};
	struct sigs_lit nine = {.len = 9, .s = "abcdefghi"}, upper = {.len = 2, .s = "aB"};
	uint8_t p[32];

	(void)state;
	for (size_t l = 0; l < sizeof(lits) / sizeof(lits[0]); l++) {
		struct sigs_lit lit = {.len = (uint8_t)strlen(lits[l])};
		struct sigs_lit_word w;

		memcpy(lit.s, lits[l], lit.len);
		w = sigs_lit_word_of(&lit);
		assert_true(w.mask != 0);
		for (size_t at = 0; at < 12; at++) {
			for (size_t pos = 0; pos < lit.len; pos++) {
				for (unsigned int c = 0; c < 256; c++) {
					memset(p, 'q', sizeof(p));
					for (size_t k = 0; k < lit.len; k++)
						p[at + k] =
							(uint8_t)toupper((unsigned char)lit.s[k]);
					p[at + pos] = (uint8_t)c;
					word_at_check(&lit, &w, p, c);
				}
			}
		}
	}
	/* Longer than a word, or an upper-case letter no folded input equals. */
	assert_true(sigs_lit_word_of(&nine).mask == 0);
	assert_true(sigs_lit_word_of(&upper).mask == 0);
}

/* The piece loop sigs_lit_tri_next() stands for: each piece hashed afresh with byte_lower(). */
static size_t tri_next_slow(const uint64_t *tri, const uint8_t *p, size_t i, size_t n, uint32_t *h)
{
	for (; i < n; i++) {
		*h = sigs_lit_tri(byte_lower(p[i - 2]), byte_lower(p[i - 1]), byte_lower(p[i]));
		if ((tri[*h >> 6] >> (*h & 63)) & 1)
			return i;
	}
	return n;
}

/*
 * The table-folded, unmasked, two-a-round loop finds the piece the plain
 * one finds, with the same hash: the bitmap holds one piece, put at every
 * place of texts of 3 to 40 bytes (both cases, and bytes of every value
 * beside it, so the bits above the mask cannot leak in), searched from
 * every start; and a bitmap of pieces no text holds gives n.
 */
static void test_sigs_lit_tri_next_agrees_with_a_plain_loop(void **state)
{
	static const char *const pieces[] = {"xn-", "app", "r2.", "@a1", "biz", "\x80\xff\x00"};
	static uint64_t tri[SIGS_LIT_TRI_WORDS];
	uint8_t text[40];

	(void)state;
	for (unsigned int k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
		const uint8_t *pc = U8(pieces[k]);

		memset(tri, 0, sizeof(tri));
		sigs_lit_tri_set(tri, byte_lower(pc[0]), byte_lower(pc[1]), byte_lower(pc[2]));
		for (size_t n = 3; n <= sizeof(text); n++)
			for (size_t at = 0; at <= n; at++) /* at + 3 > n: no piece */
				for (unsigned int c = 0; c < 256; c += 7) {
					memset(text, (int)c, sizeof(text));
					for (size_t j = 0; j < 3 && at + j < n; j++)
						text[at + j] =
							(uint8_t)((at & 1) && pc[j] >= 'a' &&
										  pc[j] <= 'z'
									  ? pc[j] - 32
									  : pc[j]);
					for (size_t i = 2; i <= n; i++) {
						uint32_t h = sigs_lit_tri_start(text + i - 2),
							 hs = 0;
						size_t want = tri_next_slow(tri, text, i, n, &hs);
						size_t got = sigs_lit_tri_next(tri, text, i, n, &h);

						assert_int_equal(got, want);
						if (got < n)
							assert_int_equal(h, hs);
					}
				}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigs_lit_top_level_runs),
		cmocka_unit_test(test_sigs_lit_word_at_agrees_with_sigs_lit_at),
		cmocka_unit_test(test_sigs_lit_unsure_gives_none),
		cmocka_unit_test(test_sigs_lit_at_most_max),
		cmocka_unit_test(test_sigs_lit_any),
		cmocka_unit_test(test_sigs_lit_in_ignores_case),
		cmocka_unit_test(test_sigs_lit_alts),
		cmocka_unit_test(test_sigs_lit_alts_end),
		cmocka_unit_test(test_sigs_lit_alts_where),
		cmocka_unit_test(test_sigs_lit_at_agrees_with_a_search),
		cmocka_unit_test(test_sigs_lit_tri_next_agrees_with_a_plain_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
