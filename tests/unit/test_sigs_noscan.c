// SPDX-License-Identifier: BSD-3-Clause
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <hs.h>

#include "sensor/sigs.h"
#include "sensor/sigs_file.h"
#include "sensor/sigs_gate.h"
#include "sensor/sigs_int.h" /* SIGS_FIELD_NAMES */

#include "sigs_fx.h"

/* ---- lines answered without a scan ---- */

static uint64_t scans(struct sigs_worker *w)
{
	struct sigs_worker_stats st;

	sigs_worker_stats(w, &st);
	return st.scans;
}

/*
 * Test rules plus a reply rule the line gate cannot look for (no anchor, no
 * literal of 3 bytes): every reply is scanned, as the cache tests want.
 */
static void ungated_text(char text[2048], const char *rules)
{
	snprintf(text, 2048, "%s29 reply other low - /Z\\dZ/ \"ungated\"\n", rules);
}

static struct sigs *load_ungated(const char *rules)
{
	char text[2048];

	ungated_text(text, rules);
	return load(text);
}

/* A short line that matched nothing is known the next time. */
static void test_sigs_quiet_line_answered_again_without_a_scan(void **state)
{
	static const char longer[] =
		"250-a line longer than the cache keeps, which matches nothing, "
		"not even when it runs on past one hundred bytes";
	struct sigs *s = load_ungated(test_rules);
	struct sigs_worker *w = worker(s, 2);
	struct rec r;

	(void)state;
	assert_int_equal(line(w, EV_SCOPE_REPLY, "250 2.0.0 Ok: queued as 4F2A", &r), 0);
	assert_int_equal(line(w, EV_SCOPE_REPLY, "250 2.0.0 Ok: queued as 4F2A", &r), 0);
	assert_int_equal(scans(w), 1);
	/* The same bytes in another scope are another question. */
	assert_int_equal(line(w, EV_SCOPE_REPLY, "XEXPS and a few more words", &r), 0);
	assert_int_equal(line(w, EV_SCOPE_COMMAND, "XEXPS and a few more words", &r), 1);
	assert_int_equal(r.m[0].id, 10);
	assert_int_equal(line(w, EV_SCOPE_COMMAND, "XEXPS and a few more words", &r), 1);
	assert_int_equal(r.m[0].id, 10);
	/* One byte more is another line. */
	assert_int_equal(line(w, EV_SCOPE_REPLY, "250 2.0.0 Ok: queued as 4F2A.", &r), 0);
	assert_int_equal(scans(w), 4);
	for (int i = 0; i < 2; i++)
		assert_int_equal(line(w, EV_SCOPE_REPLY, longer, &r), 0);
	assert_int_equal(scans(w), 6);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

/* Two results, match by match: rule, scope, class, severity, end and context. */
static void assert_same_matches(const struct rec *a, const struct rec *b)
{
	assert_int_equal(a->n, b->n);
	for (unsigned int i = 0; i < a->n; i++) {
		assert_int_equal(a->m[i].id, b->m[i].id);
		assert_int_equal(a->m[i].scope, b->m[i].scope);
		assert_int_equal(a->m[i].sig_class, b->m[i].sig_class);
		assert_int_equal(a->m[i].severity, b->m[i].severity);
		assert_int_equal(a->m[i].end, b->m[i].end);
		assert_int_equal(a->m[i].ctx_len, b->m[i].ctx_len);
		assert_string_equal(a->ctx[i], b->ctx[i]);
	}
}

/*
 * A line, URL or header field that matched is answered again from the cache
 * with the very matches a scan gives (the same rules in the same order, the
 * same ends and context), and only for the same scope and field name.
 */
static void test_sigs_verdict_replays_the_matches_of_a_scan(void **state)
{
	static const char rules[] =
		"20 reply blocklist high i /blocked using zen\\.spamhaus\\.org/ \"zen\"\n"
		"21 reply other low - /^554 / \"554\"\n"
		"22 reply other low - /Client host/ \"client\"\n"
		"50 url phish high i /^https?:\\/\\/\\d{1,3}(\\.\\d{1,3}){3}[\\/:]/ \"ip\"\n"
		"51 url phish high i /^https?:\\/\\/[^\\/?#@]*@/ \"userinfo\"\n"
		"30 header:x-mailer mailer low - /^PHPMailer 5/ \"phpmailer\"\n"
		"31 header spam low i /\\bwon\\b/ \"won\"\n";
	static const char reply[] = "554 5.7.1 Service unavailable; Client host [198.18.0.9] "
				    "blocked using zen.spamhaus.org";
	static const char url[] = "http://192.0.2.7:80@x.example/signin";
	struct sigs *s = load_ungated(rules);
	struct sigs_worker *w = worker(s, 2);
	struct rec first, again;

	(void)state;
	assert_int_equal(line(w, EV_SCOPE_REPLY, reply, &first), 3);
	assert_int_equal(line(w, EV_SCOPE_REPLY, reply, &again), 3);
	assert_same_matches(&first, &again);
	assert_int_equal(first.m[0].id, 21);
	assert_int_equal(first.m[2].id, 20);
	assert_int_equal(first.m[2].end, strlen(reply));
	assert_int_equal(scans(w), 1);

	assert_int_equal(line(w, EV_SCOPE_URL, url, &first), 2);
	assert_int_equal(line(w, EV_SCOPE_URL, url, &again), 2);
	assert_same_matches(&first, &again);
	assert_int_equal(scans(w), 2);
	/* The same bytes as a reply are another question. */
	assert_int_equal(line(w, EV_SCOPE_REPLY, url, &again), 0);
	assert_int_equal(scans(w), 3);

	assert_int_equal(header(w, "X-Mailer", "PHPMailer 5.1 won", &first), 2);
	assert_int_equal(header(w, "X-Mailer", "PHPMailer 5.1 won", &again), 2);
	assert_same_matches(&first, &again);
	assert_int_equal(scans(w), 4);
	/* Another field with the same value: the named rule does not apply. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(header(w, "Subject", "PHPMailer 5.1 won", &again), 1);
		assert_int_equal(again.m[0].id, 31);
	}
	assert_int_equal(scans(w), 5);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

/*
 * A reply line that is the last one of its length again is answered from
 * that one's slot without the hash (sigs_scan_reply()): only when the bytes
 * are the same and that line matched nothing. At every length the cache
 * keeps and one past, a quiet line and a matching one that differ in their
 * last byte take turns; each answer is what a fresh worker's scan gives,
 * a line seen before is never scanned again, and a new set forgets them.
 */
static void test_sigs_reply_last_of_its_length_as_a_scan(void **state)
{
	struct sigs *s = load_ungated(test_rules);
	struct sigs_worker *w = worker(s, 2);
	char a[SIGS_VERDICT_MAX + 2], m[SIGS_VERDICT_MAX + 2], a20[24] = "", set[2048];
	struct rec got, ref_a, ref_m;
	struct errbuf eb;
	uint64_t before;

	(void)state;
	for (size_t n = 1; n <= SIGS_VERDICT_MAX + 1; n++) {
		struct sigs_worker *fresh = worker(s, 2);

		/* "250 qqq...Z1Y" and "250 qqq...Z1Z", cut to n from the end's side. */
		for (size_t i = 0; i < n; i++)
			a[i] = m[i] = i < 4 ? "250 "[i] : 'q';
		if (n >= 3) {
			memcpy(a + n - 3, "Z1Y", 3);
			memcpy(m + n - 3, "Z1Z", 3);
		}
		a[n] = m[n] = '\0';
		if (n == 20)
			memcpy(a20, a, n + 1);
		line(fresh, EV_SCOPE_REPLY, a, &ref_a);
		sigs_worker_destroy(fresh);
		fresh = worker(s, 2);
		line(fresh, EV_SCOPE_REPLY, m, &ref_m);
		sigs_worker_destroy(fresh);
		if (n >= 3)
			assert_int_equal(ref_m.n, 1);
		before = scans(w);
		for (const char *o = "AAMAMMA"; *o; o++) {
			line(w, EV_SCOPE_REPLY, *o == 'A' ? a : m, &got);
			assert_same_matches(&got, *o == 'A' ? &ref_a : &ref_m);
		}
		/* Lines the cache keeps are scanned once each. */
		if (n >= 3 && n <= SIGS_VERDICT_MAX)
			assert_int_equal(scans(w) - before, 2);
		/* The same bytes in another scope are another question. */
		line(w, EV_SCOPE_COMMAND, a, &got);
		line(w, EV_SCOPE_REPLY, m, &got);
		assert_same_matches(&got, &ref_m);
		line(w, EV_SCOPE_REPLY, a, &got);
		assert_same_matches(&got, &ref_a);
	}
	/* A new set empties the slots: the last line of its length is asked again. */
	ungated_text(set, test_rules);
	assert_int_equal(sigs_load_text(s, "t2.rules", set, strlen(set), &eb), 0);
	assert_true(sigs_worker_housekeep(w));
	before = scans(w);
	line(w, EV_SCOPE_REPLY, a20, &got);
	assert_int_equal(scans(w) - before, 1);
	line(w, EV_SCOPE_REPLY, a20, &got);
	assert_int_equal(scans(w) - before, 1);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

#define URL_PAT_MAX 112

/* Each pattern as URL rule 100 + i and as reply rule 200 + i. */
static struct sigs *load_url_and_reply(const char (*pats)[URL_PAT_MAX], unsigned int n)
{
	char rules[2048];
	size_t at = 0;

	for (unsigned int i = 0; i < n; i++)
		at += (size_t)snprintf(
			rules + at, sizeof(rules) - at,
			"%u url other low i %s \"u\"\n%u reply other low i %s \"r\"\n", 100 + i,
			pats[i], 200 + i, pats[i]);
	return load(rules);
}

/*
 * URLs are scanned through a vectored database, lines in block mode: the same
 * patterns as url and as reply rules give the same matches, in the same
 * order with the same ends, on every prefix of URLs that match several.
 */
static void test_sigs_url_scan_equals_a_block_scan(void **state)
{
	static const char pats[][URL_PAT_MAX] = {
		"/^(https?|ftp):\\/\\/(\\d{1,3}\\.){3}\\d{1,3}(:\\d+)?([\\/?#]|$)/",
		"/^https?:\\/\\/[^\\/?#@]*@/",
		"/^https?:\\/\\/([^\\/?#@:]*\\.)?xn--/",
		"/(paypal|apple)\\.(com|net)[.-][a-z0-9-]+\\.[a-z]{2,}([:\\/?#]|$)/",
		"/a/",
	};
	static const char *const urls[] = {
		"http://192.0.2.7:8080/x", "HTTP://paypal.com@203.0.113.77/signin",
		"http://a.xn--pypal-4ve.paypal.com-x.example/", "ftp://10.1.2.3"};
	struct sigs *s;
	struct sigs_worker *w;
	struct rec u;

	(void)state;
	s = load_url_and_reply(pats, sizeof(pats) / sizeof(pats[0]));
	w = worker(s, 2);
	for (unsigned int i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		url_equals_reply(w, urls[i], 100);
	assert_int_equal(line(w, EV_SCOPE_URL, urls[2], &u), 3);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

/*
 * URL rules that need a literal ("xn--", ".htm", "@") or one of a set
 * ("paypal", "apple", "jcb") are scanned only on URLs that may hold it
 * (sigs_url_gates(): the whole set, or the set rules with the ungated ones):
 * the matches stay those of an ungated scan, with the literal absent, cut
 * short, in another case, at either edge.
 */
static void test_sigs_url_gate_gives_the_matches_of_an_ungated_scan(void **state)
{
	static const char pats[][URL_PAT_MAX] = {
		"/^https?:\\/\\/([^\\/?#@:]*\\.)?xn--/",
		"/^https?:\\/\\/([^\\/?#@]*\\.)?xn--(paypal|pypal|aypal)-[a-z0-9]+\\./",
		"/^https?:\\/\\/([^\\/?#@]+\\.r2\\.dev|ipfs\\.io\\/ipfs)\\/[^?#]*\\.html?([?#]|$)/",
		"/^https?:\\/\\/[^\\/?#@]*@/",
		"/^(https?|ftp):\\/\\/(\\d{1,3}\\.){3}\\d{1,3}(:\\d+)?([\\/?#]|$)/",
		"/Xn--Q|zz/",
		"/^https?:\\/\\/"
		"([a-z0-9-]+\\.)*(paypal|apple|jcb)\\.(com|co\\.jp)[.-][a-z0-9-]+\\.[a-z]{2,}/",
		"/^https?:\\/\\/[^\\/?#@]+\\.(web\\.app|github\\.io)(:\\d+)?\\/"
		"[^?#]*(log-?in|verif)/",
	};
	static const char *const urls[] = {
		"http://xn--pypal-4ve.example/",
		"HTTP://A.XN--PYPAL-4VE.EXAMPLE/",
		"http://a.Xn--aypal-x1.b/login",
		"http://a.xn-pypal-4ve.example/",
		"http://a.xn-/",
		"http://a.xn--",
		"http://a.b/xn--",
		"xn--http://a.b/",
		"http://u@xn--pypal-1.c/",
		"http://ipfs.io/ipfs/x/index.HTML",
		"http://a.r2.dev/p.htm?x",
		"http://a.r2.dev/p.ht",
		"http://a.r2.dev/p.html#",
		"http://user@192.0.2.7:8080/x.htm",
		"ftp://10.1.2.3",
		"www.xn--q.zz",
		"http://plain.example/path?q=1",
		"http://PayPal.com.x.example/",
		"https://a.b.apple.co.jp-x.ex/",
		"http://jcb.com-a.bb",
		"http://jc.com-a.bb",
		"http://user@paypal.com.x.ex/",
		"http://paypal.example/apple",
		"https://x.web.app/login",
		"https://x.GitHub.IO:8/a/Verify",
		"https://x.github.i/login",
		"https://web.app/login",
		"http://x.web.app.xn--p.ex/login.htm",
	};
	struct sigs_info in;
	struct sigs *s;
	struct sigs_worker *w;

	(void)state;
	s = load_url_and_reply(pats, sizeof(pats) / sizeof(pats[0]));
	sigs_info(s, &in);
	/* xn-- twice, .htm once, @ once, a set of brands and one of hosts; the
	 * IPv4 and alternation rules have no gate. */
	assert_int_equal(in.url_gated, 6);
	w = worker(s, 2);
	for (unsigned int i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		url_equals_reply(w, urls[i], 100);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

/* Every URL rule gated: a URL without a gate is not scanned, one with it is; a reload regates. */
static void test_sigs_url_gate_all_rules_gated_and_reload(void **state)
{
	static const char set_a[] = "1 url phish low i /^https?:\\/\\/([^\\/]*\\.)?xn--/ \"a\"\n";
	static const char set_b[] = "2 url phish low - /\\.exe$/ \"b\"\n"
				    "3 url phish low - /^https?:\\/\\/[^\\/]*@/ \"c\"\n";
	struct errbuf eb = {""};
	struct sigs *s = load(set_a);
	struct sigs_worker *w = worker(s, 2);
	struct sigs_info in;
	struct rec r;

	(void)state;
	sigs_info(s, &in);
	assert_int_equal(in.url_gated, 1);
	assert_int_equal(line(w, EV_SCOPE_URL, "http://a.example/x.exe", &r), 0);
	assert_int_equal(line(w, EV_SCOPE_URL, "http://a.XN--p.example/", &r), 1);
	assert_int_equal(r.m[0].id, 1);
	assert_int_equal(sigs_load_text(s, "b.rules", set_b, strlen(set_b), &eb), 0);
	sigs_info(s, &in);
	/* ".exe" and "@": a short literal of bytes URLs seldom hold gates too. */
	assert_int_equal(in.url_gated, 2);
	assert_true(sigs_worker_housekeep(w));
	assert_int_equal(line(w, EV_SCOPE_URL, "http://a.XN--p.example/", &r), 0);
	assert_int_equal(line(w, EV_SCOPE_URL, "http://u@a.example/x.EXE", &r), 1);
	assert_int_equal(r.m[0].id, 3);
	assert_int_equal(line(w, EV_SCOPE_URL, "http://u@a.example/x.exe", &r), 2);
	assert_int_equal(line(w, EV_SCOPE_URL, "http://a.example/x.exe", &r), 1);
	assert_int_equal(line(w, EV_SCOPE_URL, "http://a.example/x.ex", &r), 0);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

/* A line shorter than any rule of its scope can match is not scanned. */
static void test_sigs_line_shorter_than_every_rule_is_not_scanned(void **state)
{
	static const char rules[] =
		"70 command other low - /^(XEXPS|XSECRET)\\b/ \"x\"\n"
		"71 command other low i /^EHLO +\\d{1,3}(\\.\\d{1,3}){3}$/ \"ip\"\n";
	static const char *const shorter[] = {"QUIT", "XEXP", "EHLO"};
	struct sigs *s = load(rules);
	struct sigs_worker *w = worker(s, 2);
	struct rec r;

	(void)state;
	for (unsigned int i = 0; i < sizeof(shorter) / sizeof(shorter[0]); i++)
		assert_int_equal(line(w, EV_SCOPE_COMMAND, shorter[i], &r), 0);
	assert_int_equal(scans(w), 0);
	/* Five bytes can match: scanned. */
	assert_int_equal(line(w, EV_SCOPE_COMMAND, "XEXPS", &r), 1);
	assert_int_equal(scans(w) + r.m[0].id, 1 + 70);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

/* The same holds for a header field's value, before its name is looked at. */
static void test_sigs_header_shorter_than_every_rule_is_not_scanned(void **state)
{
	static const char rules[] = "72 header spam low i /cheap/ \"cheap\"\n";
	struct sigs *s = load(rules);
	struct sigs_worker *w = worker(s, 2);
	struct rec r;

	(void)state;
	assert_int_equal(header(w, "Subject", "chea", &r), 0);
	assert_int_equal(header(w, "Subject", "", &r), 0);
	assert_int_equal(scans(w), 0);
	assert_int_equal(header(w, "Subject", "cheap", &r), 1);
	assert_int_equal(r.m[0].id, 72);
	assert_int_equal(scans(w), 1);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

/*
 * Lines no command or reply rule can match are not scanned (sigs_gate.h):
 * a first byte, last byte, class or literal they lack. Lines that have
 * them are scanned and match as before; a scope with a rule the gate cannot
 * look for is scanned whole.
 */
static void test_sigs_line_gate_skips_lines_no_rule_can_match(void **state)
{
	static const char rules[] =
		"1 command other low i /^(HELO|EHLO) +\\d{1,3}(\\.\\d{1,3}){3}$/ \"ip\"\n"
		"2 command other low i /^RCPT TO: ?<[^>]*[%!][^>]*@|^RCPT TO: ?<@/ \"route\"\n"
		"3 reply other low im /^[45]\\d\\d[ -].*\\bRBL\\b/ \"rbl\"\n"
		"4 reply other low i /relay access denied|\\bunable to relay\\b/ \"relay\"\n";
	static const char *const quiet_cmd[] = {"MAIL FROM:<a@example.com>",
						"RCPT TO:<a@example.net>", "EHLO 203.113.example",
						"HELO 192.0.2.1x"};
	static const char *const quiet_reply[] = {"250 2.0.0 Ok: queued as 4F2A1B",
						  "220 mx.example.net ESMTP",
						  "550 5.1.1 no RBX here", "250 access granted"};
	struct sigs *s = load(rules);
	struct sigs_worker *w = worker(s, 2);
	struct sigs_info in;
	struct rec r;

	(void)state;
	sigs_info(s, &in);
	assert_int_equal(in.lines_gated, (1u << EV_SCOPE_COMMAND) | (1u << EV_SCOPE_REPLY));
	for (unsigned int i = 0; i < sizeof(quiet_cmd) / sizeof(quiet_cmd[0]); i++)
		assert_int_equal(line(w, EV_SCOPE_COMMAND, quiet_cmd[i], &r), 0);
	for (unsigned int i = 0; i < sizeof(quiet_reply) / sizeof(quiet_reply[0]); i++)
		assert_int_equal(line(w, EV_SCOPE_REPLY, quiet_reply[i], &r), 0);
	assert_int_equal(scans(w), 0);
	assert_int_equal(line(w, EV_SCOPE_COMMAND, "ehlo 192.0.2.1", &r), 1);
	assert_int_equal(r.m[0].id, 1);
	assert_int_equal(line(w, EV_SCOPE_COMMAND, "RCPT TO:<a%b@example.net>", &r), 1);
	assert_int_equal(r.m[0].id, 2);
	assert_int_equal(line(w, EV_SCOPE_COMMAND, "RCPT TO:<@r.example:a@example.net>", &r), 1);
	assert_int_equal(line(w, EV_SCOPE_REPLY, "554 5.7.1 listed in an RBL", &r), 1);
	assert_int_equal(r.m[0].id, 3);
	assert_int_equal(line(w, EV_SCOPE_REPLY, "554 5.7.1 Unable to relay", &r), 1);
	assert_int_equal(r.m[0].id, 4);
	/* After a LF the multi-line rule may match: scanned. */
	assert_int_equal(line(w, EV_SCOPE_REPLY, "250 ok\n554 RBL", &r), 1);
	assert_int_equal(scans(w), 6);
	sigs_worker_destroy(w);
	sigs_destroy(s);

	/* One rule without anything to look for: every reply is scanned. */
	s = load_ungated(rules);
	w = worker(s, 2);
	sigs_info(s, &in);
	assert_int_equal(in.lines_gated, 1u << EV_SCOPE_COMMAND);
	assert_int_equal(line(w, EV_SCOPE_REPLY, quiet_reply[0], &r), 0);
	assert_int_equal(scans(w), 1);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

/*
 * A gate of start-anchored alternatives only (the default command rules) runs
 * before the verdict cache: the lines it lets through still match, the first
 * time and again from the cache; a gate with a 3-byte piece or a multi-line
 * rule is not cheap and runs after the cache.
 */
static void test_sigs_cheap_gate_runs_before_the_cache(void **state)
{
	static const char *const anchored[] = {"^(HELO|EHLO) +\\d{1,3}(\\.\\d{1,3}){3}$",
					       "^RCPT TO: ?<[^>]*[%!][^>]*@|^RCPT TO: ?<@"};
	static const char *const floating[] = {"^HELO x", "relay access denied"};
	static const unsigned int fl[] = {HS_FLAG_CASELESS, HS_FLAG_CASELESS};
	static const unsigned int ml[] = {HS_FLAG_MULTILINE, HS_FLAG_CASELESS};
	static const char rules[] =
		"1 command other low i /^(HELO|EHLO) +\\d{1,3}(\\.\\d{1,3}){3}$/ \"ip\"\n"
		"2 command other low i /^RCPT TO: ?<[^>]*[%!][^>]*@|^RCPT TO: ?<@/ \"route\"\n";
	struct sigs_gate *g;
	struct sigs *s;
	struct sigs_worker *w;
	struct rec r;

	(void)state;
	g = sigs_gate_build(anchored, fl, 2);
	assert_non_null(g);
	assert_true(sigs_gate_cheap(g));
	sigs_gate_free(g);
	g = sigs_gate_build(floating, fl, 2);
	assert_non_null(g);
	assert_false(sigs_gate_cheap(g));
	sigs_gate_free(g);
	g = sigs_gate_build(anchored, ml, 1);
	assert_non_null(g);
	assert_false(sigs_gate_cheap(g));
	sigs_gate_free(g);

	s = load(rules);
	w = worker(s, 2);
	for (int round = 0; round < 2; round++) {
		assert_int_equal(line(w, EV_SCOPE_COMMAND, "MAIL FROM:<a@example.com>", &r), 0);
		assert_int_equal(line(w, EV_SCOPE_COMMAND, "RCPT TO:<a@example.net>", &r), 0);
		assert_int_equal(line(w, EV_SCOPE_COMMAND, "EHLO 192.0.2.1x", &r), 0);
		assert_int_equal(line(w, EV_SCOPE_COMMAND, "ehlo 192.0.2.1", &r), 1);
		assert_int_equal(r.m[0].id, 1);
		assert_int_equal(line(w, EV_SCOPE_COMMAND, "RCPT TO:<a%b@example.net>", &r), 1);
		assert_int_equal(r.m[0].id, 2);
		/* Scanned once each; the second round is answered by the cache. */
		assert_int_equal(scans(w), 2);
	}
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

/* A new set may match what the old one did not: the worker forgets at the switch. */
static void test_sigs_quiet_lines_forgotten_when_the_set_changes(void **state)
{
	static const char set_ok[] = "62 reply other low - /2\\.1\\.0 Ok/ \"ok\"\n";
	struct sigs *s = load(test_rules);
	struct sigs_worker *w = worker(s, 2);
	struct errbuf eb;
	struct rec r;

	(void)state;
	assert_int_equal(line(w, EV_SCOPE_REPLY, "250 2.1.0 Ok, sender known", &r), 0);
	assert_int_equal(line(w, EV_SCOPE_REPLY, "554 Relay access denied", &r), 1);
	assert_int_equal(r.m[0].id, 21);
	assert_int_equal(sigs_load_text(s, "ok.rules", set_ok, strlen(set_ok), &eb), 0);
	assert_true(sigs_worker_housekeep(w));
	assert_int_equal(line(w, EV_SCOPE_REPLY, "250 2.1.0 Ok, sender known", &r), 1);
	assert_int_equal(r.m[0].id, 62);
	/* ... and what matched before may not. */
	assert_int_equal(line(w, EV_SCOPE_REPLY, "554 Relay access denied", &r), 0);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

/* When every header rule names its field, other fields are not scanned at all. */
static void test_sigs_header_field_no_rule_names_is_skipped(void **state)
{
	static const char named[] = "30 header:X-Mailer mailer medium - /^The Bat!/ \"bat\"\n"
				    "32 header:subject spam low i /cheap/ \"cheap\"\n";
	struct sigs *s = load(named);
	struct sigs_worker *w = worker(s, 2);
	struct rec r;

	(void)state;
	assert_int_equal(header(w, "Received", "cheap from The Bat!", &r), 0);
	assert_int_equal(header(w, "Subjec", "cheap", &r), 0);
	assert_int_equal(scans(w), 0);
	assert_int_equal(header(w, "SUBJECT", "Cheap", &r), 1);
	assert_int_equal(r.m[0].id, 32);
	assert_int_equal(header(w, "x-mailer", "The Bat! (v3.99.3)", &r), 1);
	assert_int_equal(r.m[0].id, 30);
	assert_int_equal(scans(w), 2);
	sigs_worker_destroy(w);
	sigs_destroy(s);
	/* A rule for any field: every field is scanned. */
	s = load(test_rules);
	w = worker(s, 2);
	assert_int_equal(header(w, "Received", "from viagra.example", &r), 1);
	assert_int_equal(r.m[0].id, 31);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

/*
 * Fields are first ruled out by name length (one bit per length, names of 63
 * bytes or more sharing one): a name of a rule's length but other bytes, and
 * long names of other lengths, must still be told apart by the compare.
 */
static void test_sigs_header_field_length_then_name(void **state)
{
	char rules[256], name[80];
	struct sigs *s;
	struct sigs_worker *w;
	struct rec r;

	(void)state;
	/* The longest name a rule may give (SIGS_FILE_HEADER_MAX), lower case. */
	memset(name, 'x', SIGS_FILE_HEADER_MAX);
	name[SIGS_FILE_HEADER_MAX] = '\0';
	snprintf(rules, sizeof(rules),
		 "32 header:subject spam low i /cheap/ \"cheap\"\n"
		 "33 header:%s spam low i /cheap/ \"long\"\n",
		 name);
	s = load(rules);
	w = worker(s, 2);
	assert_int_equal(header(w, "Subjecx", "cheap", &r), 0);	 /* same length */
	assert_int_equal(header(w, "Subjects", "cheap", &r), 0); /* a length no rule has */
	for (size_t n = 63; n < sizeof(name); n++) {		 /* all share the last bit */
		memset(name, 'X', n);
		name[n] = '\0';
		assert_int_equal(header(w, name, "cheap", &r), n == SIGS_FILE_HEADER_MAX);
		if (n == SIGS_FILE_HEADER_MAX)
			assert_int_equal(r.m[0].id, 33);
		name[n - 1] = 'y'; /* the right length, another name */
		assert_int_equal(header(w, name, "cheap", &r), 0);
	}
	assert_int_equal(scans(w), 1);
	assert_int_equal(header(w, "SUBJECT", "cheap", &r), 1);
	assert_int_equal(r.m[0].id, 32);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

/*
 * Every field of names[] x values[], rounds times, through wf (the set of
 * named rules) gives what it gives through the same rules plus an any-field
 * rule that never matches, which makes every field go through the cache and
 * the scan.
 */
static void assert_like_any_field(struct sigs_worker *wf, const char *named,
				  const char *const *names, size_t n_names,
				  const char *const *values, size_t n_values, int rounds)
{
	char text[1200];
	struct sigs *slow;
	struct sigs_worker *ws;
	struct rec a, b;

	snprintf(text, sizeof(text), "%s39 header spam low - /\\x01never\\x02/ \"any\"\n", named);
	slow = load(text);
	ws = worker(slow, 2);
	for (int round = 0; round < rounds; round++)
		for (size_t i = 0; i < n_names; i++)
			for (size_t k = 0; k < n_values; k++) {
				header(wf, names[i], values[k], &a);
				header(ws, names[i], values[k], &b);
				assert_same_matches(&a, &b);
			}
	sigs_worker_destroy(ws);
	sigs_destroy(slow);
}

/*
 * The field name is ruled out before the scan's view and the verdict cache
 * are set up: with only named rules, every field gives what it gives when an
 * any-field rule that never matches makes every field go through the cache
 * and the scan, and a skipped field leaves the cache as it was (the same
 * value under a named field, before and after, is still found).
 */
static void test_sigs_header_field_skip_equals_a_scan(void **state)
{
	static const char named[] = "30 header:X-Mailer mailer medium - /^The Bat!/ \"bat\"\n"
				    "32 header:subject spam low i /cheap|pills$/ \"cheap\"\n"
				    "34 header:to spam low - /@/ \"at\"\n";
	static const char *const names[] = {"Subject",	"SUBJECT",  "subjecT",	"Subjecx",
					    "Subjects", "X-Mailer", "x-mailer", "X-Mailex",
					    "To",	"tO",	    "Tx",	"T",
					    "Received", "From",	    "Cc"};
	static const char *const values[] = {"cheap pills", "The Bat! v3", "a@b", "nothing", "x"};
	struct sigs *fast = load(named);
	struct sigs_worker *wf = worker(fast, 2);
	struct rec a;

	(void)state;
	/* The second round answers from the cache. */
	assert_like_any_field(wf, named, names, sizeof(names) / sizeof(names[0]), values,
			      sizeof(values) / sizeof(values[0]), 2);
	/* Not vacuous: named fields did match (once per rule and field). */
	assert_int_equal(header(wf, "Subject", "cheap pills", &a), 1);
	assert_int_equal(a.m[0].id, 32);
	assert_int_equal(header(wf, "tO", "a@b", &a), 1);
	assert_int_equal(a.m[0].id, 34);
	sigs_worker_destroy(wf);
	sigs_destroy(fast);
}

/*
 * sigs_field_wanted() asks the distinct names the rules name (here X-Mailer
 * three times) and, past SIGS_FIELD_NAMES distinct names, every rule: both
 * give, field by field, what the set with an any-field rule gives (every
 * field scanned). The Received-like names share a named field's length.
 */
static void test_sigs_header_field_names_once_and_past_the_cap(void **state)
{
	static const char dup[] = "40 header:x-mailer mailer medium - /^The Bat!/ \"bat\"\n"
				  "41 header:X-Mailer mailer medium - /^PHPMailer/ \"php\"\n"
				  "42 header:x-MAILER mailer medium - /Foxmail/ \"fox\"\n"
				  "43 header:subject spam low i /cheap/ \"cheap\"\n";
	static const char *const names[] = {"X-Mailer", "x-mailer", "Received", "Reply-To",
					    "Subject",	"Subjecx",  "A1",	"a9",
					    "A10",	"Ax"};
	static const char *const values[] = {"The Bat! 4", "PHPMailer 6", "Foxmail", "cheap", "x"};
	char many[1024];
	size_t len = 0;

	(void)state;
	/* More distinct names than the list holds: a1 .. a9, then the cap's fallback. */
	for (int i = 1; i <= SIGS_FIELD_NAMES + 1; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len,
					"%d header:a%d spam low - /x/ \"a%d\"\n", 50 + i, i, i);
	len += (size_t)snprintf(many + len, sizeof(many) - len, "%s", dup);
	for (int set = 0; set < 2; set++) {
		const char *named = set ? many : dup;
		struct sigs *fast = load(named);
		struct sigs_worker *wf = worker(fast, 2);
		struct rec a;

		assert_like_any_field(wf, named, names, sizeof(names) / sizeof(names[0]), values,
				      sizeof(values) / sizeof(values[0]), 1);
		/* Not vacuous: the second and third X-Mailer rules, and a9 past the cap, match. */
		assert_int_equal(header(wf, "X-MAILER", "Foxmail", &a), 1);
		assert_int_equal(a.m[0].id, 42);
		assert_int_equal(header(wf, "x-mailer", "PHPMailer", &a), 1);
		assert_int_equal(a.m[0].id, 41);
		assert_int_equal(header(wf, "A9", "x", &a), set ? 1 : 0);
		sigs_worker_destroy(wf);
		sigs_destroy(fast);
	}
}

/* The reply path's key compare says what memcmp says: every length a key may
 * have, equal, and with one byte changed at each position; the line is a
 * buffer of exactly its length, so ASan sees a read past it. */
static void test_sigs_key_eq_as_memcmp(void **state)
{
	uint8_t key[SIGS_VERDICT_MAX];

	(void)state;
	for (size_t n = 0; n <= SIGS_VERDICT_MAX; n++) {
		uint8_t *p = malloc(n ? n : 1);

		assert_non_null(p);
		for (size_t i = 0; i < SIGS_VERDICT_MAX; i++)
			key[i] = (uint8_t)(i * 7 + 1);
		memcpy(p, key, n);
		assert_true(sigs_key_eq(key, p, n));
		for (size_t i = 0; i < n; i++) {
			for (unsigned int bit = 0; bit < 8; bit++) {
				p[i] ^= (uint8_t)(1u << bit);
				assert_false(sigs_key_eq(key, p, n));
				assert_int_equal(sigs_key_eq(key, p, n), memcmp(key, p, n) == 0);
				p[i] ^= (uint8_t)(1u << bit);
			}
		}
		/* Bytes of the key past n do not count. */
		if (n < SIGS_VERDICT_MAX) {
			key[n] ^= 0xff;
			assert_true(sigs_key_eq(key, p, n));
		}
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigs_quiet_line_answered_again_without_a_scan),
		cmocka_unit_test(test_sigs_verdict_replays_the_matches_of_a_scan),
		cmocka_unit_test(test_sigs_reply_last_of_its_length_as_a_scan),
		cmocka_unit_test(test_sigs_url_scan_equals_a_block_scan),
		cmocka_unit_test(test_sigs_url_gate_gives_the_matches_of_an_ungated_scan),
		cmocka_unit_test(test_sigs_url_gate_all_rules_gated_and_reload),
		cmocka_unit_test(test_sigs_line_gate_skips_lines_no_rule_can_match),
		cmocka_unit_test(test_sigs_cheap_gate_runs_before_the_cache),
		cmocka_unit_test(test_sigs_line_shorter_than_every_rule_is_not_scanned),
		cmocka_unit_test(test_sigs_header_shorter_than_every_rule_is_not_scanned),
		cmocka_unit_test(test_sigs_quiet_lines_forgotten_when_the_set_changes),
		cmocka_unit_test(test_sigs_header_field_no_rule_names_is_skipped),
		cmocka_unit_test(test_sigs_header_field_length_then_name),
		cmocka_unit_test(test_sigs_header_field_skip_equals_a_scan),
		cmocka_unit_test(test_sigs_header_field_names_once_and_past_the_cap),
		cmocka_unit_test(test_sigs_key_eq_as_memcmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
