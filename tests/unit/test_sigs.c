// SPDX-License-Identifier: BSD-3-Clause
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
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

#include "sensor/alert.h"
#include "sensor/sigs.h"
#include "sensor/sigs_file.h"

#include "sigs_fx.h"

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
		cmocka_unit_test(test_sigs_load_directory_in_name_order),
		cmocka_unit_test(test_sigs_file_directory_errors),
		cmocka_unit_test(test_sigs_file_directory_path_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
