// SPDX-License-Identifier: BSD-3-Clause
/* The Prometheus text writer: what a scrape parses must be exactly this. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/prom.h"

struct out {
	char *buf;
	size_t len;
	FILE *f;
	struct prom p;
};

static void out_open(struct out *o)
{
	o->buf = NULL;
	o->len = 0;
	o->f = open_memstream(&o->buf, &o->len);
	assert_non_null(o->f);
	prom_init(&o->p, o->f);
}

static const char *out_text(struct out *o)
{
	assert_int_equal(prom_finish(&o->p), 0);
	return o->buf;
}

static void out_close(struct out *o)
{
	fclose(o->f);
	free(o->buf);
}

/* A counter is exposed as <name>_total, once, with HELP and TYPE before it. */
static void test_prom_counter_gets_total_suffix_once(void **state)
{
	struct out o;

	(void)state;
	out_open(&o);
	prom_counter(&o.p, "rw_frames", "Frames received.", 42);
	prom_counter(&o.p, "rw_acks_total", "Acks sent.", 7);
	assert_string_equal(out_text(&o), "# HELP rw_frames_total Frames received.\n"
					  "# TYPE rw_frames_total counter\n"
					  "rw_frames_total 42\n"
					  "# HELP rw_acks_total Acks sent.\n"
					  "# TYPE rw_acks_total counter\n"
					  "rw_acks_total 7\n");
	out_close(&o);
}

/* Label values escape backslash, double quote and newline; HELP escapes \ and newline. */
static void test_prom_label_values_and_help_are_escaped(void **state)
{
	struct prom_label l[2] = {{"host", "a\\b\"c\nd"}, {"rank", "1"}};
	struct out o;

	(void)state;
	out_open(&o);
	prom_family(&o.p, "rw_top_score", PROM_GAUGE, "Top \"hosts\"\\scores\nsecond line");
	prom_sample(&o.p, l, 2, 18.5);
	assert_string_equal(out_text(&o),
			    "# HELP rw_top_score Top \"hosts\"\\\\scores\\nsecond line\n"
			    "# TYPE rw_top_score gauge\n"
			    "rw_top_score{host=\"a\\\\b\\\"c\\nd\",rank=\"1\"} 18.5\n");
	out_close(&o);
}

/* A bad character in a metric or label name cannot break the exposition. */
static void test_prom_bad_name_characters_become_underscores(void **state)
{
	struct prom_label l = {"9bad-label", "v"};
	struct out o;

	(void)state;
	out_open(&o);
	prom_family(&o.p, "rw.bad name", PROM_GAUGE, "x");
	prom_sample(&o.p, &l, 1, 1);
	assert_non_null(strstr(out_text(&o), "rw_bad_name{_bad_label=\"v\"} 1\n"));
	out_close(&o);
}

/* Integers are exact, other values read back as the same double, NaN and infinities spelled out. */
static void test_prom_values_format_as_prometheus_parses(void **state)
{
	char buf[64];

	(void)state;
	prom_format_value(0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	prom_format_value(18446744073709.0, buf, sizeof(buf));
	assert_string_equal(buf, "18446744073709");
	prom_format_value(0.1, buf, sizeof(buf));
	assert_string_equal(buf, "0.1");
	assert_true(strtod(buf, NULL) == 0.1);
	prom_format_value(1.0 / 3.0, buf, sizeof(buf));
	assert_true(strtod(buf, NULL) == 1.0 / 3.0);
	prom_format_value(NAN, buf, sizeof(buf));
	assert_string_equal(buf, "NaN");
	prom_format_value(INFINITY, buf, sizeof(buf));
	assert_string_equal(buf, "+Inf");
	prom_format_value(-INFINITY, buf, sizeof(buf));
	assert_string_equal(buf, "-Inf");
}

/* Buckets are cumulative, end with +Inf, and _count equals the +Inf bucket. */
static void test_prom_histogram_is_cumulative(void **state)
{
	static const double bounds[] = {0.001, 0.01, 0.1};
	struct prom_label l = {"backend", "sqlite"};
	struct prom_hist h;
	struct out o;

	(void)state;
	prom_hist_init(&h, bounds, 3);
	prom_hist_observe(&h, 0.0005);
	prom_hist_observe(&h, 0.001); /* le is inclusive */
	prom_hist_observe(&h, 0.05);
	prom_hist_observe(&h, 3);
	out_open(&o);
	prom_family(&o.p, "rw_commit_seconds", PROM_HISTOGRAM, "Commit latency.");
	prom_hist_write(&o.p, &l, 1, &h);
	assert_string_equal(out_text(&o),
			    "# HELP rw_commit_seconds Commit latency.\n"
			    "# TYPE rw_commit_seconds histogram\n"
			    "rw_commit_seconds_bucket{backend=\"sqlite\",le=\"0.001\"} 2\n"
			    "rw_commit_seconds_bucket{backend=\"sqlite\",le=\"0.01\"} 2\n"
			    "rw_commit_seconds_bucket{backend=\"sqlite\",le=\"0.1\"} 3\n"
			    "rw_commit_seconds_bucket{backend=\"sqlite\",le=\"+Inf\"} 4\n"
			    "rw_commit_seconds_sum{backend=\"sqlite\"} 3.0515\n"
			    "rw_commit_seconds_count{backend=\"sqlite\"} 4\n");
	out_close(&o);
}

/* A failed write is reported by prom_finish, not ignored. */
static void test_prom_write_error_is_reported(void **state)
{
	FILE *f = fopen("/dev/full", "w");
	struct prom p;

	(void)state;
	if (!f)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	prom_init(&p, f);
	prom_counter(&p, "rw_x", "x", 1);
	assert_int_equal(prom_finish(&p), -EIO);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prom_counter_gets_total_suffix_once),
		cmocka_unit_test(test_prom_label_values_and_help_are_escaped),
		cmocka_unit_test(test_prom_bad_name_characters_become_underscores),
		cmocka_unit_test(test_prom_values_format_as_prometheus_parses),
		cmocka_unit_test(test_prom_histogram_is_cumulative),
		cmocka_unit_test(test_prom_write_error_is_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
