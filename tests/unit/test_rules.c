// SPDX-License-Identifier: BSD-3-Clause
/*
 * The default rule set under rules/: every rule has a positive and a negative
 * example, and every example does what it says when scanned in its rule's
 * scope through the real engine. Benign SMTP text from the corpus captures
 * (tests/data/rules/benign.txt) must match no rule above info.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/alert.h"
#include "sensor/sigs.h"
#include "sensor/sigs_file.h"
#include "sensor/sigs_int.h" /* SIGS_VERDICT_MAX */

#define RULES_DIR   TEST_DATA_DIR "/../../rules"
#define BENIGN_FILE TEST_DATA_DIR "/rules/benign.txt"
#define U8(s)	    ((const uint8_t *)(s))

struct hits {
	unsigned int n;
	struct sigs_match m[64];
};

static void hit_cb(void *arg, const struct sigs_match *m)
{
	struct hits *h = arg;

	if (h->n < 64)
		h->m[h->n++] = *m;
}

static bool hits_have(const struct hits *h, uint32_t id)
{
	for (unsigned int i = 0; i < h->n; i++)
		if (h->m[i].id == id)
			return true;
	return false;
}

/* Scan text as the given scope sees it; a header example is "Field: value". */
static void scan_as(struct sigs_worker *w, unsigned int scope, const char *text, size_t len,
		    struct hits *h)
{
	const char *colon;
	struct sigs_stream *st;

	memset(h, 0, sizeof(*h));
	switch (scope) {
	case EV_SCOPE_HEADER:
		colon = strstr(text, ": ");
		if (!colon) {
			fail_msg("header example without \": \": %s", text);
			return;
		}
		sigs_scan_header(w, text, (size_t)(colon - text), U8(colon + 2),
				 len - (size_t)(colon + 2 - text), hit_cb, h);
		break;
	case EV_SCOPE_BODY:
		st = sigs_body_open(w, hit_cb, h);
		assert_non_null(st);
		sigs_body_feed(w, st, U8(text), len);
		sigs_body_close(w, st);
		break;
	default:
		sigs_scan_line(w, (enum event_sig_scope)scope, U8(text), len, hit_cb, h);
		break;
	}
}

/* Parsed once (for the examples) and compiled once, shared by every test. */
struct fixture {
	struct sigs_file sf;
	struct sigs *s;
	struct sigs_worker *w;
};

static int group_setup(void **state)
{
	static struct fixture fx;
	const char *paths[1] = {RULES_DIR};
	struct errbuf eb = {""};

	sigs_file_init(&fx.sf);
	if (sigs_file_read_path(&fx.sf, RULES_DIR, &eb) != 0 || sigs_create(&fx.s) != 0 ||
	    sigs_load(fx.s, paths, 1, &eb) != 0 || sigs_worker_create(fx.s, NULL, &fx.w) != 0) {
		print_error("%s\n", eb.msg);
		return -1;
	}
	*state = &fx;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *fx = *state;

	sigs_worker_destroy(fx->w);
	sigs_destroy(fx->s);
	sigs_file_fini(&fx->sf);
	return 0;
}

static void test_rules_every_rule_has_both_examples(void **state)
{
	const struct sigs_file *sf = &((struct fixture *)*state)->sf;
	unsigned int bad = 0;

	assert_true(sf->n_rules > 0);
	for (uint32_t i = 0; i < sf->n_rules; i++) {
		const struct sigs_file_rule *r = &sf->rules[i];
		unsigned int pos = 0, neg = 0;

		for (uint32_t k = 0; k < r->n_examples; k++) {
			if (sf->examples[r->first_example + k].positive)
				pos++;
			else
				neg++;
		}
		if (pos && neg)
			continue;
		print_error("%s:%u: rule %u has %u positive and %u negative examples\n", r->file,
			    r->line, r->id, pos, neg);
		bad++;
	}
	assert_int_equal(bad, 0);
}

static void test_rules_examples_match_as_written(void **state)
{
	struct fixture *fx = *state;
	const struct sigs_file *sf = &fx->sf;
	unsigned int bad = 0, checked = 0;
	struct hits h;

	for (uint32_t i = 0; i < sf->n_rules; i++) {
		const struct sigs_file_rule *r = &sf->rules[i];

		for (uint32_t k = 0; k < r->n_examples; k++) {
			const struct sigs_file_example *ex = &sf->examples[r->first_example + k];

			scan_as(fx->w, r->scope, ex->text, ex->len, &h);
			checked++;
			if (hits_have(&h, r->id) == ex->positive)
				continue;
			print_error("%s:%u: rule %u %s example: %s\n", r->file, ex->line, r->id,
				    ex->positive ? "missed its positive" : "matched its negative",
				    ex->text);
			bad++;
		}
	}
	print_message("%u examples of %u rules checked\n", checked, sf->n_rules);
	assert_int_equal(bad, 0);
}

/* Every class the detectors use has rules; print the census for the record. */
static void test_rules_cover_every_class(void **state)
{
	struct fixture *fx = *state;
	struct sigs_info in;

	sigs_info(fx->s, &in);
	print_message("%u rules; db %lu B, scratch %lu B, body stream %lu B, compiled in %lu ms\n",
		      in.rules, (unsigned long)in.db_bytes, (unsigned long)in.scratch_bytes,
		      (unsigned long)in.stream_bytes, (unsigned long)(in.compile_ns / 1000000));
	for (unsigned int c = 0; c < EV_SIGCLASS_COUNT; c++) {
		print_message("  %-13s %u\n", sigs_file_class_name(c), in.per_class[c]);
		if (c != EV_SIGCLASS_OTHER)
			assert_true(in.per_class[c] > 0);
	}
	for (unsigned int sc = 0; sc < EV_SCOPE_COUNT; sc++)
		assert_true(in.per_scope[sc] > 0);
}

static int scope_of(const char *word, size_t n)
{
	for (unsigned int sc = 0; sc < EV_SCOPE_COUNT; sc++)
		if (strlen(sigs_file_scope_name(sc)) == n &&
		    memcmp(sigs_file_scope_name(sc), word, n) == 0)
			return (int)sc;
	return -1;
}

/*
 * benign.txt: "<scope> <text>" per line, SMTP text from the corpus captures
 * and ordinary mail. Nothing above info may match it: each such match would
 * be a false alarm on an ISP.
 */
static void test_rules_benign_text_matches_nothing(void **state)
{
	struct fixture *fx = *state;
	unsigned int bad = 0, lines = 0;
	char buf[8192];
	struct hits h;
	FILE *f;

	f = fopen(BENIGN_FILE, "r");
	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f)) {
		size_t len = strcspn(buf, "\r\n");
		const char *sp = memchr(buf, ' ', len);
		int sc;

		if (len == 0 || buf[0] == '#' || !sp)
			continue;
		sc = scope_of(buf, (size_t)(sp - buf));
		assert_true(sc >= 0);
		buf[len] = '\0';
		scan_as(fx->w, (unsigned int)sc, sp + 1, len - (size_t)(sp + 1 - buf), &h);
		lines++;
		for (unsigned int i = 0; i < h.n; i++) {
			if (h.m[i].severity == ALERT_SEV_INFO)
				continue;
			print_error("benign text matched rule %u: %s\n", h.m[i].id, buf);
			bad++;
		}
	}
	fclose(f);
	print_message("%u benign lines scanned\n", lines);
	assert_true(lines > 100);
	assert_int_equal(bad, 0);
}

/* ---- the line gate (sensor/sigs_gate.h) ---- */

/* The rules of one line scope again as any-field header rules: scanned without a gate. */
static struct sigs *load_as_header(const struct sigs_file *sf, unsigned int scope)
{
	size_t cap = 1u << 20, at = 0;
	char *text = malloc(cap);
	struct errbuf eb = {""};
	struct sigs *s = NULL;

	assert_non_null(text);
	for (uint32_t i = 0; i < sf->n_rules; i++) {
		const struct sigs_file_rule *r = &sf->rules[i];
		char fl[5] = "", *f = fl;

		if (r->scope != scope)
			continue;
		if (r->flags & SIGS_F_CASELESS)
			*f++ = 'i';
		if (r->flags & SIGS_F_DOTALL)
			*f++ = 's';
		if (r->flags & SIGS_F_MULTILINE)
			*f++ = 'm';
		if (r->flags & SIGS_F_UTF8)
			*f++ = 'u';
		at += (size_t)snprintf(text + at, cap - at, "%u header other low %s /%s/ \"g\"\n",
				       r->id, fl[0] ? fl : "-", r->pattern);
		assert_true(at < cap);
	}
	assert_int_equal(sigs_create(&s), 0);
	if (sigs_load_text(s, "as-header", text, at, &eb) != 0)
		fail_msg("%s", eb.msg);
	free(text);
	return s;
}

struct gate_check {
	struct sigs_worker *gated, *ref[EV_SCOPE_COUNT];
	unsigned int lines, bad, matched;
};

/* One line in both line scopes: the gated scan gives what the ungated one does, in order. */
static void gate_check_line(struct gate_check *gc, const char *text, size_t n)
{
	static const unsigned int scopes[] = {EV_SCOPE_COMMAND, EV_SCOPE_REPLY};
	struct hits a, b;

	for (unsigned int k = 0; k < 2; k++) {
		unsigned int sc = scopes[k];
		bool same;

		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		sigs_scan_line(gc->gated, (enum event_sig_scope)sc, U8(text), n, hit_cb, &a);
		sigs_scan_header(gc->ref[sc], "x", 1, U8(text), n, hit_cb, &b);
		gc->lines++;
		gc->matched += b.n > 0;
		same = a.n == b.n;
		for (unsigned int i = 0; same && i < a.n; i++)
			same = a.m[i].id == b.m[i].id && a.m[i].end == b.m[i].end;
		if (same)
			continue;
		print_error("%s: %u gated matches, %u ungated: %.*s\n", sigs_file_scope_name(sc),
			    a.n, b.n, (int)n, text);
		gc->bad++;
	}
}

/* Every prefix and every suffix of text (a literal away from the line's start). */
static void gate_check_text(struct gate_check *gc, const char *text, size_t len)
{
	for (size_t n = 1; n <= len; n++)
		gate_check_line(gc, text, n);
	for (size_t i = 1; i < len; i++)
		gate_check_line(gc, text + i, len - i);
}

/* The text, and the same in upper and in lower case. */
static void gate_check_cases(struct gate_check *gc, const char *text, size_t len)
{
	char buf[8192];

	if (len > sizeof(buf))
		len = sizeof(buf);
	gate_check_text(gc, text, len);
	for (int upper = 0; upper < 2; upper++) {
		for (size_t i = 0; i < len; i++) {
			char c = text[i];

			if (upper && c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			else if (!upper && c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			buf[i] = c;
		}
		gate_check_text(gc, buf, len);
	}
}

/* The gated worker of the fixture and, per line scope, the same rules as header rules. */
static void gate_check_open(struct gate_check *gc, struct fixture *fx,
			    struct sigs *ref[EV_SCOPE_COUNT])
{
	gc->gated = fx->w;
	for (unsigned int sc = EV_SCOPE_COMMAND; sc <= EV_SCOPE_REPLY; sc++) {
		ref[sc] = load_as_header(&fx->sf, sc);
		assert_int_equal(sigs_worker_create(ref[sc], NULL, &gc->ref[sc]), 0);
	}
}

static void gate_check_close(struct gate_check *gc, struct sigs *ref[EV_SCOPE_COUNT])
{
	for (unsigned int sc = EV_SCOPE_COMMAND; sc <= EV_SCOPE_REPLY; sc++) {
		sigs_worker_destroy(gc->ref[sc]);
		sigs_destroy(ref[sc]);
	}
}

/*
 * Command and reply lines go through the line gate, which skips the scan of a
 * line no rule can match. With the shipped rules, on every prefix and suffix
 * of every rule example, every benign line and lines made to sit at the gate's edges
 * (in their case, upper and lower case), the gated scan gives the matches,
 * ends and order of an ungated one: the same rules compiled as header rules.
 */
static void test_rules_line_gate_matches_an_ungated_scan(void **state)
{
	static const char *const made[] = {
		"RCPT TO:<a%b@example.net>",
		"RCPT TO: <user!host@example.net>",
		"rcpt to:<@relay.example.org:user@example.net>",
		"RCPT TO:<user@example.net>",
		"EHLO 192.0.2.1",
		"HELO localhost.localdomain",
		"ehlo [127.0.0.1]",
		"EHLO 203.113.example",
		"HELO 127.0.0.1\n",
		"EHLO localhost\nx",
		"MAIL FROM:<a@example.com>",
		"250 2.0.0 Ok: queued as 4F2A1B3C9D",
		"250 ok\n550 5.1.1 <a@example.net>: Recipient address rejected: User unknown",
		"250-ok\n554 5.7.1 Client host [192.0.2.9] blocked using zen.spamhaus.org",
		"220 ok\n421 4.7.0 listed at bl.example.org",
		"452 4.7.1 BRBL",
		"550 relay access denied",
		"550-Unrouteable address",
		"x\n550 Unknown user a@docomo.ne.jp",
	};
	struct fixture *fx = *state;
	const struct sigs_file *sf = &fx->sf;
	struct gate_check gc = {0};
	struct sigs *ref[EV_SCOPE_COUNT] = {NULL};
	struct sigs_info in;
	char buf[8192];
	FILE *f;

	sigs_info(fx->s, &in);
	assert_int_equal(in.lines_gated, (1u << EV_SCOPE_COMMAND) | (1u << EV_SCOPE_REPLY));
	gate_check_open(&gc, fx, ref);
	for (uint32_t i = 0; i < sf->n_examples; i++)
		gate_check_cases(&gc, sf->examples[i].text, sf->examples[i].len);
	for (unsigned int i = 0; i < sizeof(made) / sizeof(made[0]); i++)
		gate_check_cases(&gc, made[i], strlen(made[i]));
	f = fopen(BENIGN_FILE, "r");
	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f)) {
		size_t len = strcspn(buf, "\r\n");
		const char *sp = memchr(buf, ' ', len);

		if (len && buf[0] != '#' && sp)
			gate_check_cases(&gc, sp + 1, len - (size_t)(sp + 1 - buf));
	}
	fclose(f);
	print_message("%u gated line scans compared\n", gc.lines);
	gate_check_close(&gc, ref);
	assert_int_equal(gc.bad, 0);
}

/*
 * RCPT lines against the relay-probe rule (5102), whose "<@" the gate looks
 * for only where a match can hold it (8 or 9 bytes in): with and without the
 * space, with "<@", "%" and "!" put at every position of the line, in upper
 * and lower case, every prefix and suffix of each, and lines longer than any
 * offset the gate keeps (255) and than the verdict cache's key. The gated
 * scan gives the matches of an ungated one.
 */
static void test_rules_line_gate_rcpt_lines_match_an_ungated_scan(void **state)
{
	static const char *const heads[] = {"RCPT TO:",	  "RCPT TO: ", "RCPT TO:  ", "RCPT  TO:",
					    "RCPT TO:\t", "RCPT TO ",  "RCPT TO:<",  "xRCPT TO:"};
	static const char *const tails[] = {"<user@example.net>",
					    "<@relay.example:u@example.net>",
					    "<a@b:c>",
					    "<>",
					    "<@>",
					    "u@example.net",
					    "<@@:>"};
	static const char *const marks[] = {"<@", "%", "!", "@", ":", ">", "<"};
	struct fixture *fx = *state;
	struct sigs *ref[EV_SCOPE_COUNT] = {NULL};
	struct gate_check gc = {0};
	char line[6000];

	gate_check_open(&gc, fx, ref);
	for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
		for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
			int len = snprintf(line, sizeof(line), "%s%s", heads[h], tails[t]);

			gate_check_cases(&gc, line, (size_t)len);
			for (size_t m = 0; m < sizeof(marks) / sizeof(marks[0]); m++) {
				size_t ml = strlen(marks[m]);

				for (int at = 0; at <= len; at++) {
					char buf[128];

					memcpy(buf, line, (size_t)at);
					memcpy(buf + at, marks[m], ml);
					memcpy(buf + at + ml, line + at, (size_t)(len - at));
					gate_check_cases(&gc, buf, (size_t)len + ml);
				}
			}
		}
	}
	/* Long lines: the mark near the start, in the middle, at the end. */
	for (size_t n = 200; n <= 5000; n = n * 5 / 2) {
		for (size_t m = 0; m < sizeof(marks) / sizeof(marks[0]); m++) {
			for (int where = 0; where < 3; where++) {
				size_t at = where == 0 ? 10 : where == 1 ? n / 2 : n - 2;
				size_t len = 9 + n + 13;

				memcpy(line, "RCPT TO:<", 9);
				memset(line + 9, 'u', n);
				memcpy(line + 9 + n, "@example.net>", 13);
				memcpy(line + at, marks[m], strlen(marks[m]));
				gate_check_line(&gc, line, len);
				memcpy(line + 8, " <", 2); /* "RCPT TO: <" */
				gate_check_line(&gc, line, len);
			}
		}
	}
	print_message("%u gated line scans compared, %u matched\n", gc.lines, gc.matched);
	gate_check_close(&gc, ref);
	assert_true(gc.matched > 1000);
	assert_int_equal(gc.bad, 0);
}

static bool hits_same(const struct hits *a, const struct hits *b)
{
	if (a->n != b->n)
		return false;
	for (unsigned int i = 0; i < a->n; i++)
		if (a->m[i].id != b->m[i].id || a->m[i].end != b->m[i].end ||
		    a->m[i].ctx_len != b->m[i].ctx_len ||
		    memcmp(a->m[i].ctx, b->m[i].ctx, a->m[i].ctx_len) != 0)
			return false;
	return true;
}

static uint64_t scans_of(struct sigs_worker *w)
{
	struct sigs_worker_stats st;

	sigs_worker_stats(w, &st);
	return st.scans;
}

/* A line seen once by ref (its first sight: a scan, or the gate's no) and
 * three times by the warm worker: the same matches each time, the repeats
 * of a line the cache can key answered without a scan. */
static unsigned int reply_check(struct sigs_worker *warm, struct sigs_worker *ref, const char *p,
				size_t n)
{
	struct hits want, got;
	uint64_t scans;
	unsigned int bad = 0;

	scan_as(ref, EV_SCOPE_REPLY, p, n, &want);
	scan_as(warm, EV_SCOPE_REPLY, p, n, &got);
	bad += !hits_same(&want, &got);
	scans = scans_of(warm);
	for (int k = 0; k < 2; k++) {
		scan_as(warm, EV_SCOPE_REPLY, p, n, &got);
		bad += !hits_same(&want, &got);
	}
	/* A key longer than the cache keeps is scanned each time. */
	bad += n <= SIGS_VERDICT_MAX && scans_of(warm) != scans;
	if (bad)
		print_error("reply '%.*s': %u matches, reference %u\n", (int)n, p, got.n, want.n);
	return bad;
}

/*
 * Reply lines the verdict cache holds are answered from their slot before a
 * scan's view is set up (sigs_scan_reply()). Every reply example, whole and
 * cut at the lengths around the key compare's words and the cache's key
 * limit, gives on a warm worker, again and again, what a worker that sees it
 * once gives; and the rejections that match are replayed, not dropped.
 */
static void test_rules_reply_repeats_answer_as_a_scan(void **state)
{
	static const size_t cuts[] = {7, 8, 9, 12, 15, 16, 17, 24, 99, 100, 101};
	struct fixture *fx = *state;
	const struct sigs_file *sf = &fx->sf;
	struct sigs_worker *ref;
	unsigned int bad = 0, lines = 0;

	assert_int_equal(sigs_worker_create(fx->s, NULL, &ref), 0);
	for (uint32_t i = 0; i < sf->n_rules; i++) {
		const struct sigs_file_rule *r = &sf->rules[i];

		if (r->scope != EV_SCOPE_REPLY)
			continue;
		for (uint32_t k = 0; k < r->n_examples; k++) {
			const struct sigs_file_example *ex = &sf->examples[r->first_example + k];

			bad += reply_check(fx->w, ref, ex->text, ex->len);
			lines++;
			for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
				if (cuts[c] >= ex->len)
					continue;
				bad += reply_check(fx->w, ref, ex->text, cuts[c]);
				lines++;
			}
		}
	}
	print_message("%u reply lines answered again\n", lines);
	sigs_worker_destroy(ref);
	assert_true(lines > 150);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_every_rule_has_both_examples),
		cmocka_unit_test(test_rules_examples_match_as_written),
		cmocka_unit_test(test_rules_cover_every_class),
		cmocka_unit_test(test_rules_benign_text_matches_nothing),
		cmocka_unit_test(test_rules_line_gate_matches_an_ungated_scan),
		cmocka_unit_test(test_rules_line_gate_rcpt_lines_match_an_ungated_scan),
		cmocka_unit_test(test_rules_reply_repeats_answer_as_a_scan),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
