// SPDX-License-Identifier: BSD-3-Clause
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include <hs.h>

#include "sensor/alert.h"
#include "sensor/sigs.h"
#include "sensor/sigs_file.h"
#include "sensor/sigs_gate.h"

#define U8(s) ((const uint8_t *)(s))

/* One rule per scope, plus an end-anchored body rule and an any-header rule. */
static const char test_rules[] =
	"# relaywatch test set\n"
	"10 command other low - /^XEXPS\\b/ \"xexps command\"\n"
	"20 reply blocklist high i /blocked using zen\\.spamhaus\\.org/ \"Spamhaus ZEN\"\n"
	"21 reply relay_denied medium - /Relay access denied/ \"postfix relay\"\n"
	"30 header:X-Mailer mailer medium - /^The Bat! \\(v3\\.99\\.3\\) Professional$/ \"bat\"\n"
	"31 header spam low i /\\bviagra\\b/ \"viagra in any field\"\n"
	"40 body phish high i /verify your password/ \"verify password\"\n"
	"41 body spam low - /END-OF-MAIL$/ \"anchored at the end\"\n"
	"50 url phish high - /^https?:\\/\\/\\d{1,3}(\\.\\d{1,3}){3}[\\/:]/ \"IP literal URL\"\n";

struct rec {
	unsigned int n;
	struct sigs_match m[32];
	char ctx[32][SIGS_CTX_MAX + 1];
};

static void rec_cb(void *arg, const struct sigs_match *m)
{
	struct rec *r = arg;

	if (r->n >= 32)
		return;
	r->m[r->n] = *m;
	memcpy(r->ctx[r->n], m->ctx ? (const char *)m->ctx : "", m->ctx_len);
	r->ctx[r->n][m->ctx_len] = '\0';
	r->n++;
}

static struct sigs *load(const char *text)
{
	struct errbuf eb = {""};
	struct sigs *s;

	assert_int_equal(sigs_create(&s), 0);
	if (sigs_load_text(s, "t.rules", text, strlen(text), &eb) != 0)
		fail_msg("load: %s", eb.msg);
	return s;
}

static struct sigs_worker *worker(struct sigs *s, uint32_t streams)
{
	struct sigs_worker_cfg cfg;
	struct sigs_worker *w;

	sigs_worker_cfg_default(&cfg);
	if (streams)
		cfg.max_streams = streams;
	assert_int_equal(sigs_worker_create(s, &cfg, &w), 0);
	return w;
}

static unsigned int line(struct sigs_worker *w, enum event_sig_scope sc, const char *s,
			 struct rec *r)
{
	memset(r, 0, sizeof(*r));
	return sigs_scan_line(w, sc, U8(s), strlen(s), rec_cb, r);
}

static unsigned int header(struct sigs_worker *w, const char *name, const char *val, struct rec *r)
{
	memset(r, 0, sizeof(*r));
	return sigs_scan_header(w, name, strlen(name), U8(val), strlen(val), rec_cb, r);
}

/* The whole body in pieces cut at the given offsets. */
static unsigned int body(struct sigs_worker *w, const char *text, const size_t *cuts,
			 unsigned int n_cuts, struct rec *r)
{
	struct sigs_stream *st;
	size_t at = 0, len = strlen(text);

	memset(r, 0, sizeof(*r));
	st = sigs_body_open(w, rec_cb, r);
	assert_non_null(st);
	for (unsigned int i = 0; i <= n_cuts; i++) {
		size_t to = i < n_cuts ? cuts[i] : len;

		sigs_body_feed(w, st, U8(text) + at, to - at);
		at = to;
	}
	sigs_body_close(w, st);
	return r->n;
}

/* ---- rules file format ---- */

struct bad_case {
	const char *text;
	const char *msg;
};

static void test_sigs_file_every_error_message(void **state)
{
	static const struct bad_case cases[] = {
		{"x reply spam low - /a/ \"m\"", "t.rules:1: bad id (1..4294967295) 'x'"},
		{"0 reply spam low - /a/ \"m\"", "t.rules:1: bad id (1..4294967295) '0'"},
		{"4294967296 reply spam low - /a/ \"m\"", "bad id (1..4294967295) '4294967296'"},
		{"12a reply spam low - /a/ \"m\"", "bad id (1..4294967295) '12a'"},
		{"# c\n\n7", "t.rules:3: missing scope (command|reply|header|body|url)"},
		{"1 mail spam low - /a/ \"m\"",
		 "unknown scope (command|reply|header|body|url) 'mail'"},
		{"1 reply:x-mailer spam low - /a/ \"m\"",
		 "only the header scope takes a field name 'reply:x-mailer'"},
		{"1 header: spam low - /a/ \"m\"", "bad header field name ''"},
		{"1 header:a\x01 spam low - /a/ \"m\"", "bad header field name"},
		{"1 reply", "t.rules:1: missing class"},
		{"1 reply junk low - /a/ \"m\"", "unknown class (blocklist|relay_denied|"},
		{"1 reply spam", "missing severity"},
		{"1 reply spam urgent - /a/ \"m\"",
		 "unknown severity (info|low|medium|high|critical) 'urgent'"},
		{"1 reply spam low", "missing flags (letters of 'ismu', or - for none)"},
		{"1 reply spam low iq /a/ \"m\"",
		 "unknown flag (i caseless, s dotall, m multiline"},
		{"1 reply spam low ii /a/ \"m\"", "flag given twice in 'ii'"},
		{"1 reply spam low -", "expected a pattern in slashes: /.../"},
		{"1 reply spam low - a/ \"m\"", "expected a pattern in slashes: /.../"},
		{"1 reply spam low - /abc \"m\"", "pattern not closed with /"},
		{"1 reply spam low - /abc\\/ \"m\"", "pattern not closed with /"},
		{"1 reply spam low - /abc\\", "pattern not closed with /"},
		{"1 reply spam low - // \"m\"", "empty pattern"},
		{"1 reply spam low - /a/", "expected a message in double quotes"},
		{"1 reply spam low - /a/ m", "expected a message in double quotes"},
		{"1 reply spam low - /a/i \"m\"",
		 "letters after the pattern: flags go in the field before it"},
		{"1 reply spam low - /a/ \"m", "message not closed with \""},
		{"1 reply spam low - /a/ \"a\\nb\"", "bad escape in message (only \\\" and \\\\)"},
		{"1 reply spam low - /a/ \"\"", "empty message"},
		{"1 reply spam low - /a/ \"m\" # note", "text after the message '# note'"},
		{"#+ 550 blocked", "t.rules:1: example before any rule"},
		{"1 reply spam low - /a/ \"m\"\n#- ", "t.rules:2: empty example"},
		{"1 reply spam low - /a/ \"m\"\n# x\n1 reply spam low - /b/ \"n\"",
		 "t.rules:3: duplicate id 1 (first at t.rules:1)"},
	};
	struct sigs_file sf;
	struct errbuf eb;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sigs_file_init(&sf);
		eb.msg[0] = '\0';
		assert_int_equal(
			sigs_file_parse(&sf, "t.rules", cases[i].text, strlen(cases[i].text), &eb),
			-EINVAL);
		if (!strstr(eb.msg, cases[i].msg))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, eb.msg, cases[i].msg);
		sigs_file_fini(&sf);
	}
}

static void test_sigs_file_limits_nul_and_long_lines(void **state)
{
	static const char nul[] = "1 reply spam low - /a\0b/ \"m\"";
	struct sigs_file sf;
	struct errbuf eb;
	char *longl = malloc(SIGS_FILE_LINE_MAX + 16);

	(void)state;
	sigs_file_init(&sf);
	assert_int_equal(sigs_file_parse(&sf, "t.rules", nul, sizeof(nul) - 1, &eb), -EINVAL);
	assert_non_null(strstr(eb.msg, "t.rules:1: NUL byte in line"));
	sigs_file_fini(&sf);

	assert_non_null(longl);
	memset(longl, 'a', SIGS_FILE_LINE_MAX + 16);
	sigs_file_init(&sf);
	assert_int_equal(sigs_file_parse(&sf, "t.rules", longl, SIGS_FILE_LINE_MAX + 16, &eb),
			 -EINVAL);
	assert_non_null(strstr(eb.msg, "t.rules:1: line too long (max 4096 bytes)"));
	sigs_file_fini(&sf);
	free(longl);
}

static void test_sigs_file_duplicate_across_files(void **state)
{
	static const char a[] = "7 reply spam low - /a/ \"m\"\n";
	static const char b[] =
		"# second file\n8 reply spam low - /b/ \"m\"\n7 url spam low - /c/ \"m\"\n";
	struct sigs_file sf;
	struct errbuf eb;

	(void)state;
	sigs_file_init(&sf);
	assert_int_equal(sigs_file_parse(&sf, "a.rules", a, strlen(a), &eb), 0);
	assert_int_equal(sigs_file_parse(&sf, "b.rules", b, strlen(b), &eb), -EINVAL);
	assert_string_equal(eb.msg, "b.rules:3: duplicate id 7 (first at a.rules:1)");
	sigs_file_fini(&sf);
}

/* Many ids (the id index grows several times); the duplicate is found wherever it is. */
static void test_sigs_file_duplicate_among_many(void **state)
{
	const size_t cap = 3000 * 48;
	char *text = malloc(cap);
	struct sigs_file sf;
	struct errbuf eb;
	size_t n = 0;

	(void)state;
	assert_non_null(text);
	for (unsigned int i = 1; i <= 3000; i++)
		n += (size_t)snprintf(text + n, cap - n, "%u url spam low - /u%u/ \"m\"\n", i * 7,
				      i);
	sigs_file_init(&sf);
	assert_int_equal(sigs_file_parse(&sf, "many.rules", text, n, &eb), 0);
	assert_int_equal(sf.n_rules, 3000);
	snprintf(text, cap,
		 "# later\n9999 url spam low - /x/ \"m\"\n14973 url spam low - /y/ \"m\"\n");
	assert_int_equal(sigs_file_parse(&sf, "more.rules", text, strlen(text), &eb), -EINVAL);
	assert_string_equal(eb.msg, "more.rules:3: duplicate id 14973 (first at many.rules:2139)");
	sigs_file_fini(&sf);
	free(text);
}

/* Slashes, quotes, CRLF, rulers and examples all come out as written. */
static void test_sigs_file_fields_and_examples(void **state)
{
	static const char text[] = "#------------------------------------------\r\n"
				   "  42\theader:X-Mailer  mailer critical ism /^a\\/b \"c\"$/  "
				   "\"say \\\"hi\\\" \\\\ ok\"\r\n"
				   "#+ X-Mailer: a/b \"c\"\r\n"
				   "# a comment between examples\n"
				   "#- X-Mailer: a/b\n"
				   "43 url phish info - /x/ \"m\"\n"
				   "#+ http://x\n";
	const struct sigs_file_rule *r;
	struct sigs_file sf;
	struct errbuf eb;

	(void)state;
	sigs_file_init(&sf);
	assert_int_equal(sigs_file_parse(&sf, "t.rules", text, strlen(text), &eb), 0);
	assert_int_equal(sf.n_rules, 2);
	r = &sf.rules[0];
	assert_int_equal(r->id, 42);
	assert_int_equal(r->scope, EV_SCOPE_HEADER);
	assert_string_equal(r->header, "x-mailer");
	assert_int_equal(r->sig_class, EV_SIGCLASS_MAILER);
	assert_int_equal(r->severity, ALERT_SEV_CRITICAL);
	assert_int_equal(r->flags, SIGS_F_CASELESS | SIGS_F_DOTALL | SIGS_F_MULTILINE);
	assert_string_equal(r->pattern, "^a\\/b \"c\"$");
	assert_string_equal(r->msg, "say \"hi\" \\ ok");
	assert_int_equal(r->line, 2);
	assert_int_equal(r->n_examples, 2);
	assert_true(sf.examples[r->first_example].positive);
	assert_string_equal(sf.examples[r->first_example].text, "X-Mailer: a/b \"c\"");
	assert_false(sf.examples[r->first_example + 1].positive);
	assert_int_equal(sf.examples[r->first_example + 1].line, 5);
	assert_null(sf.rules[1].header);
	assert_int_equal(sf.rules[1].n_examples, 1);
	assert_string_equal(sf.examples[sf.rules[1].first_example].text, "http://x");
	sigs_file_fini(&sf);
}

/* ---- compiling ---- */

static void expect_load_error(const char *text, const char *want)
{
	struct errbuf eb = {""};
	struct sigs *s;

	assert_int_equal(sigs_create(&s), 0);
	assert_int_equal(sigs_load_text(s, "t.rules", text, strlen(text), &eb), -EINVAL);
	if (!strstr(eb.msg, want))
		fail_msg("got \"%s\", want \"%s\"", eb.msg, want);
	assert_int_equal(sigs_generation(s), 0);
	sigs_destroy(s);
}

static void test_sigs_bad_patterns_name_file_line_and_hyperscan(void **state)
{
	(void)state;
	expect_load_error("1 reply spam low - /ok/ \"m\"\n5 reply spam low - /a(b/ \"m\"\n",
			  "t.rules:2: id 5: Hyperscan: Missing close parenthesis");
	expect_load_error("6 body spam low - /a*/ \"m\"\n", "t.rules:1: id 6: Hyperscan: ");
	expect_load_error("1 url spam low - /x/ \"m\"\n2 url spam low - /(a)\\1/ \"m\"\n",
			  "t.rules:2: id 2: Hyperscan: ");
}

/* ---- every scope ---- */

static void test_sigs_every_scope_match_and_non_match(void **state)
{
	struct sigs *s = load(test_rules);
	struct sigs_worker *w = worker(s, 4);
	struct rec r;

	(void)state;
	assert_int_equal(line(w, EV_SCOPE_COMMAND, "XEXPS user", &r), 1);
	assert_int_equal(r.m[0].id, 10);
	assert_int_equal(r.m[0].scope, EV_SCOPE_COMMAND);
	assert_int_equal(line(w, EV_SCOPE_COMMAND, "EXPN XEXPS", &r), 0);

	assert_int_equal(line(w, EV_SCOPE_REPLY,
			      "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked "
			      "using ZEN.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1",
			      &r),
			 1);
	assert_int_equal(r.m[0].id, 20);
	assert_int_equal(r.m[0].scope, EV_SCOPE_REPLY);
	assert_int_equal(r.m[0].sig_class, EV_SIGCLASS_BLOCKLIST);
	assert_int_equal(r.m[0].severity, ALERT_SEV_HIGH);
	assert_int_equal(r.m[0].end, strlen("554 5.7.1 Service unavailable; Client host "
					    "[192.0.2.1] blocked using ZEN.spamhaus.org"));
	assert_string_equal(r.ctx[0] + strlen(r.ctx[0]) - 16, "ZEN.spamhaus.org");
	assert_int_equal(line(w, EV_SCOPE_REPLY, "250 2.1.5 Ok zen.spamhaus.org", &r), 0);
	/* Scopes do not leak: a reply text scanned as a command matches nothing. */
	assert_int_equal(line(w, EV_SCOPE_COMMAND, "554 5.7.1 <a@b>: Relay access denied", &r), 0);
	assert_int_equal(line(w, EV_SCOPE_REPLY, "554 5.7.1 <a@b>: Relay access denied", &r), 1);
	assert_int_equal(r.m[0].sig_class, EV_SIGCLASS_RELAY_DENIED);

	assert_int_equal(header(w, "x-mailer", "The Bat! (v3.99.3) Professional", &r), 1);
	assert_int_equal(r.m[0].id, 30);
	assert_int_equal(r.m[0].scope, EV_SCOPE_HEADER);
	/* Restricted to X-Mailer: the same value in another field is not it. */
	assert_int_equal(header(w, "Subject", "The Bat! (v3.99.3) Professional", &r), 0);
	assert_int_equal(header(w, "X-Mailer", "The Bat! (v11.0.3) Professional", &r), 0);
	assert_int_equal(header(w, "Subject", "cheap VIAGRA now", &r), 1);
	assert_int_equal(r.m[0].id, 31);

	assert_int_equal(line(w, EV_SCOPE_URL, "http://198.51.100.7/login.php", &r), 1);
	assert_int_equal(r.m[0].id, 50);
	assert_int_equal(line(w, EV_SCOPE_URL, "http://www.example.com/198.51.100.7/", &r), 0);
	/* A body phrase is not looked for in lines, nor a line rule in the body. */
	assert_int_equal(line(w, EV_SCOPE_URL, "http://x/verify your password", &r), 0);
	assert_int_equal(line(w, EV_SCOPE_BODY, "verify your password", &r), 0);

	assert_int_equal(body(w, "Please verify your password now.", NULL, 0, &r), 1);
	assert_int_equal(r.m[0].id, 40);
	assert_int_equal(r.m[0].scope, EV_SCOPE_BODY);
	assert_int_equal(r.m[0].sig_class, EV_SIGCLASS_PHISH);
	assert_int_equal(body(w, "Please verify the password you chose.", NULL, 0, &r), 0);
	assert_int_equal(body(w, "XEXPS blocked using zen.spamhaus.org", NULL, 0, &r), 0);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

/* A phrase cut at every possible offset, and fed a byte at a time, matches once. */
static void test_sigs_body_match_across_every_split(void **state)
{
	static const char text[] = "Dear customer,\r\nplease Verify Your Password today.\r\n";
	const size_t phrase_end = strlen("Dear customer,\r\nplease Verify Your Password");
	struct sigs *s = load(test_rules);
	struct sigs_worker *w = worker(s, 2);
	size_t cuts[sizeof(text)];
	struct rec r;

	(void)state;
	for (size_t k = 0; k <= strlen(text); k++) {
		assert_int_equal(body(w, text, &k, 1, &r), 1);
		assert_int_equal(r.m[0].id, 40);
		assert_int_equal(r.m[0].end, phrase_end);
		/* The context comes from the chunk that completed the match. */
		assert_int_equal(r.m[0].ctx_len, k < phrase_end ? phrase_end - k : phrase_end);
	}
	for (size_t k = 0; k < strlen(text) - 1; k++)
		cuts[k] = k + 1;
	assert_int_equal(body(w, text, cuts, (unsigned int)strlen(text) - 1, &r), 1);
	assert_int_equal(r.m[0].end, phrase_end);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

static void test_sigs_dedup_per_line_and_per_message(void **state)
{
	static const char twice[] =
		"Verify your password. verify your password! VERIFY YOUR PASSWORD";
	const size_t cuts[] = {10, 25, 40, 50};
	struct sigs *s = load(test_rules);
	struct sigs_worker *w = worker(s, 2);
	struct sigs_worker_stats st;
	struct rec r;

	(void)state;
	assert_int_equal(line(w, EV_SCOPE_REPLY,
			      "554 Relay access denied; Relay access denied; Relay access denied",
			      &r),
			 1);
	assert_int_equal(body(w, twice, cuts, 4, &r), 1);
	/* Dedup is per scan: the next line or message reports again. */
	assert_int_equal(line(w, EV_SCOPE_REPLY, "554 Relay access denied", &r), 1);
	assert_int_equal(body(w, twice, NULL, 0, &r), 1);
	sigs_worker_stats(w, &st);
	assert_int_equal(st.matches, 4);
	assert_int_equal(st.scans, 2);
	assert_int_equal(st.streams_opened, 2);
	assert_int_equal(st.streams_open, 0);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

/* `$` in a body rule is the end of the message: reported by close, not by feed. */
static void test_sigs_body_end_anchor_reported_at_close(void **state)
{
	struct sigs *s = load(test_rules);
	struct sigs_worker *w = worker(s, 2);
	struct sigs_stream *st;
	struct rec r = {0};

	(void)state;
	st = sigs_body_open(w, rec_cb, &r);
	sigs_body_feed(w, st, U8("text\r\nEND-OF-MAIL"), 17);
	assert_int_equal(r.n, 0);
	sigs_body_close(w, st);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.m[0].id, 41);
	assert_int_equal(r.m[0].end, 17);
	assert_int_equal(r.m[0].ctx_len, 0);
	assert_int_equal(body(w, "END-OF-MAIL and more", NULL, 0, &r), 0);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

static void test_sigs_stream_pool_is_bounded(void **state)
{
	struct sigs *s = load(test_rules);
	struct sigs_worker *w = worker(s, 2);
	struct sigs_stream *a, *b, *c;
	struct sigs_worker_stats st;
	struct rec r;

	(void)state;
	a = sigs_body_open(w, rec_cb, &r);
	b = sigs_body_open(w, rec_cb, &r);
	c = sigs_body_open(w, rec_cb, &r);
	assert_non_null(a);
	assert_non_null(b);
	assert_null(c);
	sigs_body_feed(w, c, U8("verify your password"), 20); /* NULL stream: ignored */
	sigs_body_close(w, c);
	sigs_worker_stats(w, &st);
	assert_int_equal(st.streams_no_slot, 1);
	assert_int_equal(st.streams_open, 2);
	assert_true(st.stream_pool_bytes > 0);
	assert_true(st.scratch_bytes > 0);
	sigs_body_close(w, a);
	c = sigs_body_open(w, rec_cb, &r);
	assert_non_null(c);
	sigs_body_close(w, b);
	sigs_body_close(w, c);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

static void test_sigs_empty_handle_matches_nothing(void **state)
{
	struct sigs_worker *w;
	struct sigs_info in;
	struct errbuf eb;
	struct sigs *s;
	struct rec r;

	(void)state;
	assert_int_equal(sigs_create(&s), 0);
	w = worker(s, 2);
	assert_int_equal(line(w, EV_SCOPE_REPLY, "554 Relay access denied", &r), 0);
	assert_null(sigs_body_open(w, rec_cb, &r));
	sigs_info(s, &in);
	assert_int_equal(in.generation, 0);
	assert_int_equal(in.sets_live, 0);
	assert_int_equal(sigs_load_text(s, "t.rules", test_rules, strlen(test_rules), &eb), 0);
	assert_true(sigs_worker_housekeep(w));
	assert_int_equal(line(w, EV_SCOPE_REPLY, "554 Relay access denied", &r), 1);
	assert_int_equal(body(w, "verify your password", NULL, 0, &r), 1);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

static void test_sigs_info_and_rule_msg(void **state)
{
	struct sigs *s = load(test_rules);
	struct sigs_info in;
	char msg[64];

	(void)state;
	sigs_info(s, &in);
	assert_int_equal(in.generation, 1);
	assert_int_equal(in.rules, 8);
	assert_int_equal(in.per_scope[EV_SCOPE_REPLY], 2);
	assert_int_equal(in.per_scope[EV_SCOPE_BODY], 2);
	assert_int_equal(in.per_class[EV_SIGCLASS_PHISH], 2);
	assert_int_equal(in.per_class[EV_SIGCLASS_BLOCKLIST], 1);
	assert_true(in.db_bytes > 0);
	assert_true(in.stream_bytes > 0);
	assert_true(in.scratch_bytes > 0);
	assert_int_equal(in.sets_live, 1);
	assert_int_equal(sigs_rule_msg(s, 20, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "Spamhaus ZEN");
	assert_int_equal(sigs_rule_msg(s, 99, msg, sizeof(msg)), -ENOENT);
	sigs_destroy(s);
}

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
static struct sigs *load_ungated(const char *rules)
{
	char text[2048];

	snprintf(text, sizeof(text), "%s29 reply other low - /Z\\dZ/ \"ungated\"\n", rules);
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

/* URL rules a URL (and each prefix) gets, compared with the same patterns as (ungated) reply rules.
 */
static void url_equals_reply(struct sigs_worker *w, const char *url)
{
	struct rec u, b;

	for (size_t n = 1; n <= strlen(url); n++) {
		memset(&u, 0, sizeof(u));
		memset(&b, 0, sizeof(b));
		sigs_scan_line(w, EV_SCOPE_URL, U8(url), n, rec_cb, &u);
		sigs_scan_line(w, EV_SCOPE_REPLY, U8(url), n, rec_cb, &b);
		if (u.n != b.n)
			fail_msg("%.*s: %u URL matches, %u reply", (int)n, url, u.n, b.n);
		for (unsigned int k = 0; k < u.n; k++) {
			assert_int_equal(u.m[k].id + 100, b.m[k].id);
			assert_int_equal(u.m[k].end, b.m[k].end);
		}
	}
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
		url_equals_reply(w, urls[i]);
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
		url_equals_reply(w, urls[i]);
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

/* ---- reload ---- */

static const char set_b[] = "60 reply blocklist critical - /listed at BL-B/ \"B\"\n"
			    "61 body spam medium - /claim your prize/ \"prize\"\n";
static const char set_c[] = "70 reply other info - /C-ONLY/ \"C\"\n"
			    "71 body spam low - /c-body/ \"c\"\n";

static void test_sigs_reload_switches_at_housekeep_and_bad_file_keeps_set(void **state)
{
	struct sigs *s = load(test_rules);
	struct sigs_worker *w = worker(s, 2);
	struct sigs_worker_stats st;
	struct sigs_info in;
	struct errbuf eb;
	struct rec r;

	(void)state;
	assert_false(sigs_worker_housekeep(w));
	assert_int_equal(sigs_load_text(s, "b.rules", set_b, strlen(set_b), &eb), 0);
	assert_int_equal(sigs_generation(s), 2);
	/* Until its safe point the worker keeps the set it has. */
	assert_int_equal(line(w, EV_SCOPE_REPLY, "554 Relay access denied", &r), 1);
	assert_int_equal(line(w, EV_SCOPE_REPLY, "554 listed at BL-B", &r), 0);
	sigs_info(s, &in);
	assert_int_equal(in.sets_live, 2);
	assert_true(sigs_worker_housekeep(w));
	assert_int_equal(line(w, EV_SCOPE_REPLY, "554 Relay access denied", &r), 0);
	assert_int_equal(line(w, EV_SCOPE_REPLY, "554 listed at BL-B", &r), 1);
	assert_int_equal(r.m[0].id, 60);
	sigs_info(s, &in);
	assert_int_equal(in.sets_live, 1); /* nobody holds the first set: freed */

	/* A bad file: error text for the log, the running set untouched. */
	assert_int_equal(sigs_load_text(s, "bad.rules", "62 reply spam low - /(/ \"x\"\n", 27, &eb),
			 -EINVAL);
	assert_non_null(strstr(eb.msg, "bad.rules:1: id 62: Hyperscan:"));
	assert_int_equal(sigs_generation(s), 2);
	assert_false(sigs_worker_housekeep(w));
	assert_int_equal(line(w, EV_SCOPE_REPLY, "554 listed at BL-B", &r), 1);
	sigs_info(s, &in);
	assert_int_equal(in.sets_live, 1);
	assert_int_equal(in.rules, 2);
	sigs_worker_stats(w, &st);
	assert_int_equal(st.generation, 2);
	assert_int_equal(st.switches, 1);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

/* A body open across a reload finishes on its old set; new bodies use the new one. */
static void test_sigs_reload_open_body_finishes_on_old_set(void **state)
{
	struct sigs *s = load(test_rules);
	struct sigs_worker *w = worker(s, 2);
	struct sigs_stream *old_st, *new_st;
	struct rec r_old = {0}, r_new = {0};
	struct sigs_info in;
	struct errbuf eb;

	(void)state;
	old_st = sigs_body_open(w, rec_cb, &r_old);
	sigs_body_feed(w, old_st, U8("please verify your "), 19);
	assert_int_equal(sigs_load_text(s, "b.rules", set_b, strlen(set_b), &eb), 0);
	assert_true(sigs_worker_housekeep(w));
	new_st = sigs_body_open(w, rec_cb, &r_new);
	assert_non_null(new_st);
	sigs_body_feed(w, old_st, U8("password; claim your prize"), 26);
	sigs_body_feed(w, new_st, U8("verify your password; claim your prize"), 38);
	assert_int_equal(r_old.n, 1);
	assert_int_equal(r_old.m[0].id, 40);
	assert_int_equal(r_new.n, 1);
	assert_int_equal(r_new.m[0].id, 61);
	sigs_info(s, &in);
	assert_int_equal(in.sets_live, 2); /* the worker still drains the first set */
	sigs_body_close(w, old_st);
	sigs_body_close(w, new_st);
	assert_false(sigs_worker_housekeep(w));
	sigs_info(s, &in);
	assert_int_equal(in.sets_live, 1);
	/* The returned stream was reopened on the new set. */
	assert_int_equal(body(w, "claim your prize", NULL, 0, &r_new), 1);
	assert_non_null(sigs_body_open(w, rec_cb, &r_new));
	assert_non_null(sigs_body_open(w, rec_cb, &r_new));
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

/* Two reloads before an old body ends: that body is cut, counted, and its slot comes back. */
static void test_sigs_second_reload_cuts_bodies_of_the_oldest_set(void **state)
{
	struct sigs *s = load(test_rules);
	struct sigs_worker *w = worker(s, 1);
	struct sigs_worker_stats st;
	struct sigs_stream *a;
	struct sigs_info in;
	struct errbuf eb;
	struct rec r = {0};

	(void)state;
	a = sigs_body_open(w, rec_cb, &r);
	assert_non_null(a);
	assert_int_equal(sigs_load_text(s, "b.rules", set_b, strlen(set_b), &eb), 0);
	assert_true(sigs_worker_housekeep(w));
	assert_null(sigs_body_open(w, rec_cb, &r)); /* the only slot is still busy */
	assert_int_equal(sigs_load_text(s, "c.rules", set_c, strlen(set_c), &eb), 0);
	assert_true(sigs_worker_housekeep(w));
	sigs_body_feed(w, a, U8("verify your password"), 20);
	sigs_body_close(w, a);
	assert_int_equal(r.n, 0);
	sigs_worker_stats(w, &st);
	assert_int_equal(st.streams_cut, 1);
	assert_int_equal(st.streams_open, 0);
	assert_int_equal(st.generation, 3);
	sigs_info(s, &in);
	assert_int_equal(in.sets_live, 1);
	assert_false(sigs_worker_housekeep(w));
	assert_int_equal(body(w, "a c-body b", NULL, 0, &r), 1);
	assert_int_equal(r.m[0].id, 71);
	sigs_worker_destroy(w);
	sigs_destroy(s);
}

/* ---- two threads ---- */

#define RELOADS 24

struct scanner {
	struct sigs *s;
	_Atomic uint64_t seen_gen;
	_Atomic bool stop;
	_Atomic unsigned int wrong;
	unsigned long iterations;
};

static void gen_rules(char *buf, size_t cap, uint64_t g)
{
	snprintf(buf, cap,
		 "%lu reply blocklist high - /MARK/ \"reply mark of set %lu\"\n"
		 "%lu body spam low - /BODYMARK/ \"body mark of set %lu\"\n",
		 (unsigned long)(1000 + g), (unsigned long)g, (unsigned long)(2000 + g),
		 (unsigned long)g);
}

/* Every match must come from the set the worker says it uses: never a mix. */
static void *scanner_main(void *arg)
{
	struct scanner *sc = arg;
	struct sigs_worker_cfg cfg = {.max_streams = 4};
	struct sigs_worker_stats st;
	struct sigs_worker *w;
	struct sigs_stream *b;
	struct rec r;

	if (sigs_worker_create(sc->s, &cfg, &w) != 0) {
		atomic_fetch_add(&sc->wrong, 1);
		return NULL;
	}
	for (sc->iterations = 0; sc->iterations < 20000000ul && !atomic_load(&sc->stop);
	     sc->iterations++) {
		sigs_worker_housekeep(w);
		sigs_worker_stats(w, &st);
		memset(&r, 0, sizeof(r));
		if (sigs_scan_line(w, EV_SCOPE_REPLY, U8("550 5.7.1 MARK"), 14, rec_cb, &r) != 1 ||
		    r.m[0].id != 1000 + st.generation)
			atomic_fetch_add(&sc->wrong, 1);
		memset(&r, 0, sizeof(r));
		b = sigs_body_open(w, rec_cb, &r);
		sigs_body_feed(w, b, U8("xx BODY"), 7);
		sigs_body_feed(w, b, U8("MARK yy"), 7);
		sigs_body_close(w, b);
		if (!b || r.n != 1 || r.m[0].id != 2000 + st.generation)
			atomic_fetch_add(&sc->wrong, 1);
		atomic_store(&sc->seen_gen, st.generation);
	}
	sigs_worker_destroy(w);
	return NULL;
}

static void test_sigs_two_threads_reload_while_scanning(void **state)
{
	struct scanner sc = {0};
	struct sigs_info in;
	struct errbuf eb;
	pthread_t t;
	char text[256];

	(void)state;
	assert_int_equal(sigs_create(&sc.s), 0);
	gen_rules(text, sizeof(text), 1);
	assert_int_equal(sigs_load_text(sc.s, "g.rules", text, strlen(text), &eb), 0);
	assert_int_equal(pthread_create(&t, NULL, scanner_main, &sc), 0);
	for (uint64_t g = 2; g <= RELOADS; g++) {
		gen_rules(text, sizeof(text), g);
		assert_int_equal(sigs_load_text(sc.s, "g.rules", text, strlen(text), &eb), 0);
		/* Let the scanner reach a safe point now and then (bounded wait). */
		for (int i = 0; g % 3 == 0 && i < 10000 && atomic_load(&sc.seen_gen) < g; i++)
			usleep(1000);
	}
	for (int i = 0; i < 10000 && atomic_load(&sc.seen_gen) < RELOADS; i++)
		usleep(1000);
	atomic_store(&sc.stop, true);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(atomic_load(&sc.wrong), 0);
	assert_int_equal(atomic_load(&sc.seen_gen), RELOADS);
	assert_true(sc.iterations > 0);
	sigs_info(sc.s, &in);
	assert_int_equal(in.sets_live, 1); /* every retired set was freed */
	sigs_destroy(sc.s);
}

/* ---- files and directories ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_sigs_load_directory_in_name_order(void **state)
{
	char dir[] = "/tmp/relaywatch-sigs-XXXXXX";
	const char *paths[1] = {dir};
	const char *missing[1] = {"/nonexistent/relaywatch.rules"};
	char path[600];
	struct sigs_info in;
	struct errbuf eb;
	struct sigs *s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "20-b.rules", "2 reply spam low - /b/ \"b\"\n");
	write_file(dir, "10-a.rules", "1 reply spam low - /a/ \"a\"\n3 url spam low - /c/ \"c\"\n");
	write_file(dir, "notes.txt", "this is not a rules file\n");
	assert_int_equal(sigs_create(&s), 0);
	if (sigs_load(s, paths, 1, &eb) != 0)
		fail_msg("%s", eb.msg);
	sigs_info(s, &in);
	assert_int_equal(in.rules, 3);
	assert_int_equal(sigs_load(s, missing, 1, &eb), -ENOENT);
	assert_non_null(strstr(eb.msg, "/nonexistent/relaywatch.rules: No such file"));
	write_file(dir, "30-c.rules", "2 url spam low - /dup/ \"dup\"\n");
	assert_int_equal(sigs_load(s, paths, 1, &eb), -EINVAL);
	assert_non_null(strstr(eb.msg, "30-c.rules:1: duplicate id 2 (first at "));
	assert_int_equal(sigs_generation(s), 1);
	sigs_destroy(s);
	snprintf(path, sizeof(path), "%s/10-a.rules", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/20-b.rules", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/30-c.rules", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	unlink(path);
	rmdir(dir);
}

/* sigs_file_read_path on a directory (the default rules dir): what in it cannot be read. */
static int read_dir(const char *dir, struct errbuf *eb)
{
	struct sigs_file sf;
	int err;

	sigs_file_init(&sf);
	eb->msg[0] = '\0';
	err = sigs_file_read_path(&sf, dir, eb);
	sigs_file_fini(&sf);
	return err;
}

static void expect_msg(const struct errbuf *eb, const char *dir, const char *rest)
{
	char want[1024];

	snprintf(want, sizeof(want), "%s%s", dir, rest);
	assert_string_equal(eb->msg, want);
}

static void test_sigs_file_directory_errors(void **state)
{
	char dir[] = "/tmp/relaywatch-sigsdir-XXXXXX", path[600];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct errbuf eb;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(read_dir(dir, &eb), -ENOENT);
	expect_msg(&eb, dir, ": no *.rules files");

	snprintf(path, sizeof(path), "%s/a.rules", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(read_dir(dir, &eb), -EINVAL);
	expect_msg(&eb, dir, "/a.rules: not a regular file");
	assert_int_equal(rmdir(path), 0);

	/* A socket: stat sees a file, open() says ENXIO. */
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(read_dir(dir, &eb), -ENXIO);
	expect_msg(&eb, dir, "/a.rules: cannot open: No such device or address");
	close(fd);
	assert_int_equal(unlink(path), 0);

	for (int i = 0; i < 257; i++) {
		snprintf(path, sizeof(path), "%03d.rules", i);
		write_file(dir, path, "");
	}
	assert_int_equal(read_dir(dir, &eb), -E2BIG);
	expect_msg(&eb, dir, ": more than 256 .rules files");
	for (int i = 0; i < 257; i++) {
		snprintf(path, sizeof(path), "%s/%03d.rules", dir, i);
		assert_int_equal(unlink(path), 0);
	}
	assert_int_equal(rmdir(dir), 0);
}

/* A rules directory whose path is legal but whose files' paths are not. */
static void test_sigs_file_directory_path_too_long(void **state)
{
	char top[] = "/tmp/relaywatch-sigslong-XXXXXX", deep[4096], name[251], want[64];
	struct errbuf eb;
	size_t len;
	int depth = 0, fd;

	(void)state;
	assert_non_null(mkdtemp(top));
	memset(name, 'n', sizeof(name) - 7);
	memcpy(name + sizeof(name) - 7, ".rules", 7);
	len = (size_t)snprintf(deep, sizeof(deep), "%s", top);
	/* About 3850 bytes of directories, then a 250-byte name: over 4095 together. */
	while (len + 201 < 4000) {
		deep[len++] = '/';
		memset(deep + len, 'd', 200);
		len += 200;
		deep[len] = '\0';
		assert_int_equal(mkdir(deep, 0700), 0);
		depth++;
	}
	fd = open(deep, O_DIRECTORY | O_RDONLY);
	assert_true(fd >= 0);
	close(openat(fd, name, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(read_dir(deep, &eb), -ENAMETOOLONG);
	snprintf(want, sizeof(want),
		 "path too long (%zu bytes, at most 4095): ", len + 1 + strlen(name));
	assert_int_equal(strncmp(eb.msg, want, strlen(want)), 0);
	assert_int_equal(unlinkat(fd, name, 0), 0);
	close(fd);
	while (depth--) {
		assert_int_equal(rmdir(deep), 0);
		len -= 201;
		deep[len] = '\0';
	}
	assert_int_equal(rmdir(top), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigs_file_every_error_message),
		cmocka_unit_test(test_sigs_file_limits_nul_and_long_lines),
		cmocka_unit_test(test_sigs_file_duplicate_across_files),
		cmocka_unit_test(test_sigs_file_duplicate_among_many),
		cmocka_unit_test(test_sigs_file_fields_and_examples),
		cmocka_unit_test(test_sigs_bad_patterns_name_file_line_and_hyperscan),
		cmocka_unit_test(test_sigs_every_scope_match_and_non_match),
		cmocka_unit_test(test_sigs_body_match_across_every_split),
		cmocka_unit_test(test_sigs_dedup_per_line_and_per_message),
		cmocka_unit_test(test_sigs_body_end_anchor_reported_at_close),
		cmocka_unit_test(test_sigs_stream_pool_is_bounded),
		cmocka_unit_test(test_sigs_empty_handle_matches_nothing),
		cmocka_unit_test(test_sigs_info_and_rule_msg),
		cmocka_unit_test(test_sigs_quiet_line_answered_again_without_a_scan),
		cmocka_unit_test(test_sigs_verdict_replays_the_matches_of_a_scan),
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
		cmocka_unit_test(test_sigs_reload_switches_at_housekeep_and_bad_file_keeps_set),
		cmocka_unit_test(test_sigs_reload_open_body_finishes_on_old_set),
		cmocka_unit_test(test_sigs_second_reload_cuts_bodies_of_the_oldest_set),
		cmocka_unit_test(test_sigs_two_threads_reload_while_scanning),
		cmocka_unit_test(test_sigs_load_directory_in_name_order),
		cmocka_unit_test(test_sigs_file_directory_errors),
		cmocka_unit_test(test_sigs_file_directory_path_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
