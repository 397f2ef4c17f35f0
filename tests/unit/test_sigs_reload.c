// SPDX-License-Identifier: BSD-3-Clause
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sensor/sigs.h"

#include "sigs_fx.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigs_reload_switches_at_housekeep_and_bad_file_keeps_set),
		cmocka_unit_test(test_sigs_reload_open_body_finishes_on_old_set),
		cmocka_unit_test(test_sigs_second_reload_cuts_bodies_of_the_oldest_set),
		cmocka_unit_test(test_sigs_two_threads_reload_while_scanning),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
