// SPDX-License-Identifier: BSD-3-Clause
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/sigs.h"
#include "sensor/sigs_lit.h"
#include "sensor/sigs_url.h"

#include "sigs_fx.h"

static struct sigs_lit lit(const char *s)
{
	struct sigs_lit l = {.len = (uint8_t)strlen(s)};

	memcpy(l.s, s, l.len);
	return l;
}

/* The answer of the searches the finder replaced: each literal looked for on its own. */
static enum sigs_url_hit slow_find(const struct sigs_lit *gate, unsigned int n_gate,
				   const struct sigs_lit *set, unsigned int n_set, const uint8_t *p,
				   size_t n)
{
	for (unsigned int i = 0; i < n_gate; i++)
		if (sigs_lit_in(&gate[i], p, n))
			return SIGS_URL_GATE;
	for (unsigned int i = 0; i < n_set; i++)
		if (sigs_lit_in(&set[i], p, n))
			return SIGS_URL_SET;
	return SIGS_URL_NONE;
}

static const char *const gate_words[] = {"@", "xn--", ".htm"};
static const char *const set_words[] = {
	"paypal", "apple", "live",  "web.app", "jcb",  "github.io",
	"log",	  "sign",  "verif", "ver",     "serv", /* the first 3 bytes of another literal, or
							  of a word */
};

/* Every prefix of text, and the same in upper case: the finder against the searches. */
static void find_equals_slow(const struct sigs_url_find *f, const struct sigs_lit *gate,
			     unsigned int n_gate, const struct sigs_lit *set, unsigned int n_set,
			     const char *text)
{
	size_t len = strlen(text);
	uint8_t up[256];

	assert_true(len < sizeof(up));
	for (size_t i = 0; i < len; i++)
		up[i] = (uint8_t)(text[i] >= 'a' && text[i] <= 'z' ? text[i] - 32 : text[i]);
	for (size_t n = 0; n <= len; n++) {
		enum sigs_url_hit want = slow_find(gate, n_gate, set, n_set, U8(text), n);

		if (sigs_url_find(f, U8(text), n) != want || sigs_url_find(f, up, n) != want)
			fail_msg("%.*s: finder differs from the search (%d)", (int)n, text, want);
	}
}

/*
 * The finder gives the answer of a search for each literal, on every literal
 * at every place of a URL, in both cases, cut short by one byte, next to
 * words that share its first bytes or their hash, and on URLs without any.
 */
static void test_sigs_url_find_agrees_with_a_search_of_each_literal(void **state)
{
	struct sigs_lit gate[3], set[sizeof(set_words) / sizeof(set_words[0])];
	const unsigned int n_gate = 3, n_set = sizeof(set) / sizeof(set[0]);
	struct sigs_url_find *f;
	char url[200], word[32];

	(void)state;
	for (unsigned int i = 0; i < n_gate; i++)
		gate[i] = lit(gate_words[i]);
	for (unsigned int i = 0; i < n_set; i++)
		set[i] = lit(set_words[i]);
	f = sigs_url_find_build(gate, n_gate, set, n_set);
	assert_non_null(f);
	for (unsigned int w = 0; w < n_gate + n_set; w++) {
		const char *s = w < n_gate ? gate_words[w] : set_words[w - n_gate];

		for (size_t cut = 0; cut < 2; cut++) {
			snprintf(word, sizeof(word), "%.*s", (int)(strlen(s) - cut), s);
			for (int at = 0; at < 24; at++) {
				snprintf(url, sizeof(url), "%.*s%s%s", at,
					 "http://a.b-c.example/x/y/z", word, "/q.ph?z=1");
				find_equals_slow(f, gate, n_gate, set, n_set, url);
			}
		}
	}
	static const char *const more[] = {
		"https://www.example.com/delivery/6878",
		"https://x.example/server/version",
		"http://paypal.com@203.0.113.77/signin",
		"http://xn-pypal.example/x.ht",
		"https://secure.WEB.APP/Office365/login.HTML",
		"www.univ.example/travel/7036",
		"ve",
		"",
	};
	for (unsigned int i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		find_equals_slow(f, gate, n_gate, set, n_set, more[i]);
	sigs_url_find_free(f);
	sigs_url_find_free(NULL);
}

/*
 * Literals that share a bucket (the low byte of the hash: the same second
 * and third bytes) or the whole hash ('!' and 'a' share their low five
 * bits), 128 of them (the most a finder takes), some gate and some set,
 * added in an order the buckets are not in: at every place of a URL, the
 * finder gives the answer of the searches.
 */
static void test_sigs_url_find_buckets_agree_with_a_search(void **state)
{
	static const char first[] = "abcdefghijklmnopqrstuvwxyz0123456789!#$%&()*+,-";
	struct sigs_lit gate[2], set[126];
	struct sigs_url_find *f;
	char url[200];

	(void)state;
	gate[0] = lit("zbc");
	gate[1] = lit(":bc9");
	for (unsigned int i = 0; i < 126; i++) {
		char w[8];

		/* "?bc", "?bd", "?cb"... and longer ones: many per bucket, many buckets */
		snprintf(w, sizeof(w), "%c%c%c%.*s", first[(i * 7) % (sizeof(first) - 1)],
			 "bcd"[i % 3], "cbe"[(i / 3) % 3], (int)(i % 4), "wxyz");
		set[i] = lit(w);
	}
	f = sigs_url_find_build(gate, 2, set, 126);
	assert_non_null(f);
	for (unsigned int w = 0; w < 128; w++) {
		const struct sigs_lit *l = w < 2 ? &gate[w] : &set[w - 2];

		for (size_t cut = 0; cut < 2; cut++)
			for (int at = 0; at < 12; at++) {
				snprintf(url, sizeof(url), "%.*s%.*s%s", at, "http://q.example/",
					 (int)(l->len - cut), l->s, "/x?y=1");
				find_equals_slow(f, gate, 2, set, 126, url);
			}
	}
	find_equals_slow(f, gate, 2, set, 126, "http://abcw.example/!bcwx/zbd/:bc/:bc9");
	sigs_url_find_free(f);
}

/* Too many literals, a set literal under 3 bytes or an empty gate: no finder, the caller's tests.
 */
static void test_sigs_url_find_refuses_what_it_cannot_look_for(void **state)
{
	struct sigs_lit many[200], two = lit("ab"), none = lit("");

	(void)state;
	for (unsigned int i = 0; i < 200; i++) {
		char s[8];

		snprintf(s, sizeof(s), "w%03u", i);
		many[i] = lit(s);
	}
	assert_null(sigs_url_find_build(NULL, 0, many, 200));
	assert_null(sigs_url_find_build(NULL, 0, &two, 1));
	assert_null(sigs_url_find_build(&none, 1, NULL, 0));
	assert_non_null(many[0].len);
}

/* ---- the stock URL rules, routed, against the same rules unrouted ---- */

#define URL_ID_REPLY 100000

/* rules/phish.rules' URL rules as URL rules and, with URL_ID_REPLY added to each id, as replies. */
static struct sigs *load_stock_url_rules(void)
{
	static char rules[65536];
	char path[512], lbuf[4096];
	size_t at = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/rules/phish.rules", TEST_SOURCE_ROOT);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(lbuf, sizeof(lbuf), fp)) {
		char *sp = strchr(lbuf, ' ');
		unsigned long id = strtoul(lbuf, NULL, 10);

		if (!id || !sp || strncmp(sp, " url ", 5) != 0)
			continue;
		at += (size_t)snprintf(rules + at, sizeof(rules) - at, "%s%lu reply %s", lbuf,
				       id + URL_ID_REPLY, sp + 5);
		assert_true(at < sizeof(rules));
	}
	fclose(fp);
	return load(rules);
}

/*
 * The stock rules route a URL to the rules it may match by the literals it
 * holds: the rules' own examples, brands and hosts of their sets in each
 * place a rule looks for them, in both cases, and words that share pieces
 * with them ("server", "delivery") give the matches of the unrouted rules.
 */
static void test_sigs_url_stock_rules_routed_equal_unrouted(void **state)
{
	static const char *const examples[] = {
		"http://198.51.100.23:8080/secure/paypal/webscr/login.php",
		"http://www.paypal.com@203.0.113.77/signin",
		"http://xn--pypal-4ve.com/login",
		"http://xn--ggle-55da.com/login",
		"https://secure-docs-3721.web.app/office365/login.html",
		"https://storage.googleapis.com/xy7-docs/index.html#user@example.com",
		"https://storage.googleapis.com/xy7-docs/report.pdf",
		"http://paypal.com.account-secure.example/webscr",
		"https://login.microsoft.com-verify.example.net/",
		"https://www.amazon.co.jp/gp/css/order-history",
		"https://octocat.github.io/Spoon-Knife/",
		"https://www.example.com/delivery/6878",
		"https://www.shop.example/server/version/confirm",
		"ftp://10.1.2.3",
	};
	static const char *const words[] = {
		"paypal",
		"live",
		"jcb",
		"yahoo",
		"web.app",
		"github.io",
		"000webhostapp.com",
		"r2.dev",
		"blob.core.windows.net",
		"login",
		"sign-in",
		"verif",
		"deliver",
		"serve",
	};
	static const char *const shapes[][2] = {
		{"http://", ".com-x.example/"},	   {"https://a.", "/login"},
		{"https://x.example/", "/a.html"}, {"http://", ".co.jp.a.bc/"},
		{"HTTPS://A.", ".NET-B.CD:8/"},	   {"http://1.2.3.4/", ""},
	};
	struct sigs_worker *w;
	struct sigs *s;
	char url[256];

	(void)state;
	s = load_stock_url_rules();
	w = worker(s, 2);
	for (unsigned int i = 0; i < sizeof(examples) / sizeof(examples[0]); i++)
		url_equals_reply(w, examples[i], URL_ID_REPLY);
	for (unsigned int i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		for (unsigned int k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
			snprintf(url, sizeof(url), "%s%s%s", shapes[k][0], words[i], shapes[k][1]);
			url_equals_reply(w, url, URL_ID_REPLY);
		}
	}
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigs_url_find_agrees_with_a_search_of_each_literal),
		cmocka_unit_test(test_sigs_url_find_buckets_agree_with_a_search),
		cmocka_unit_test(test_sigs_url_find_refuses_what_it_cannot_look_for),
		cmocka_unit_test(test_sigs_url_stock_rules_routed_equal_unrouted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
