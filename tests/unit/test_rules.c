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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_every_rule_has_both_examples),
		cmocka_unit_test(test_rules_examples_match_as_written),
		cmocka_unit_test(test_rules_cover_every_class),
		cmocka_unit_test(test_rules_benign_text_matches_nothing),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
