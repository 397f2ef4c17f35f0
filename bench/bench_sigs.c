// SPDX-License-Identifier: BSD-3-Clause
/*
 * bench_sigs: what the signature engine costs with a rule set (default: rules/).
 * Prints compile time, database/scratch/stream sizes, body scanning throughput
 * through sigs_body_feed() at packet-sized and large chunks, the raw Hyperscan
 * stream scan of the body database (the ceiling the pipeline is compared to),
 * reply-line scans per second, and what hs_reset_stream() saves over
 * hs_open_stream() + hs_close_stream() per message.
 *
 * The mail text is built from real mail lines: the "body" lines of
 * tests/data/rules/benign.txt (text of the corpus captures and ordinary mail),
 * shuffled deterministically into messages of 2-24 KiB, about 8 MiB in all.
 *
 * usage: bench_sigs [RULES_PATH [BENIGN_TXT]]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>

#include "common/clock.h"
#include "sensor/sigs.h"
#include "bench/bench_hs.h"

#define BENCH_TEXT_BYTES (8u << 20)
#define BENCH_ROUNDS	 5

struct bench_text {
	char *buf;
	size_t len;
	size_t *msg_end; /* end offset of each message */
	size_t n_msgs;
};

static uint64_t bench_lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/* The body lines of benign.txt, one per element. */
static char **bench_body_lines(const char *path, size_t *n)
{
	char line[8192], **v = NULL;
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	*n = 0;
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "body ", 5) != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				break;
		}
		v[(*n)++] = strdup(line + 5);
	}
	fclose(f);
	return v;
}

static int bench_build_text(const char *benign, struct bench_text *t)
{
	size_t n_lines, msg_left = 0, max_msgs = BENCH_TEXT_BYTES / 2048 + 1;
	char **lines = bench_body_lines(benign, &n_lines);
	uint64_t seed = 42;

	if (!lines || n_lines == 0)
		return -ENOENT;
	t->buf = malloc(BENCH_TEXT_BYTES + 8192);
	t->msg_end = calloc(max_msgs, sizeof(*t->msg_end));
	if (!t->buf || !t->msg_end)
		return -ENOMEM;
	t->len = 0;
	t->n_msgs = 0;
	while (t->len < BENCH_TEXT_BYTES && t->n_msgs < max_msgs) {
		const char *l = lines[bench_lcg(&seed) % n_lines];
		size_t ll = strlen(l);

		if (msg_left == 0)
			msg_left = 2048 + bench_lcg(&seed) % (22 * 1024);
		memcpy(t->buf + t->len, l, ll);
		t->len += ll;
		msg_left = ll >= msg_left ? 0 : msg_left - ll;
		if (msg_left == 0)
			t->msg_end[t->n_msgs++] = t->len;
	}
	if (!t->n_msgs || t->msg_end[t->n_msgs - 1] != t->len)
		t->msg_end[t->n_msgs++] = t->len;
	for (size_t i = 0; i < n_lines; i++)
		free(lines[i]);
	free(lines);
	return 0;
}

static void bench_count(void *arg, const struct sigs_match *m)
{
	(void)m;
	(*(uint64_t *)arg)++;
}

/* Every message through the sensor's API, fed in `chunk`-byte pieces. */
static double bench_body_api(struct sigs_worker *w, const struct bench_text *t, size_t chunk,
			     uint64_t *matches)
{
	uint64_t t0 = clock_mono_ns();
	size_t start = 0;

	for (size_t m = 0; m < t->n_msgs; m++) {
		struct sigs_stream *st = sigs_body_open(w, bench_count, matches);

		for (size_t at = start; at < t->msg_end[m]; at += chunk) {
			size_t n = t->msg_end[m] - at < chunk ? t->msg_end[m] - at : chunk;

			sigs_body_feed(w, st, (const uint8_t *)t->buf + at, n);
		}
		sigs_body_close(w, st);
		start = t->msg_end[m];
	}
	return (double)(clock_mono_ns() - t0) / 1e9;
}

static void bench_stream_lifecycle(hs_database_t *db, hs_scratch_t *scratch)
{
	const unsigned int n = 200000;
	hs_stream_t *st = NULL;
	uint64_t t0, t_open, t_reset;

	t0 = clock_mono_ns();
	for (unsigned int i = 0; i < n; i++) {
		hs_open_stream(db, 0, &st);
		hs_close_stream(st, scratch, NULL, NULL);
	}
	t_open = clock_mono_ns() - t0;
	hs_open_stream(db, 0, &st);
	t0 = clock_mono_ns();
	for (unsigned int i = 0; i < n; i++)
		hs_reset_stream(st, 0, scratch, NULL, NULL);
	t_reset = clock_mono_ns() - t0;
	hs_close_stream(st, scratch, NULL, NULL);
	printf("per message: hs_open_stream+hs_close_stream %.0f ns (malloc+free), "
	       "hs_reset_stream %.0f ns (pool)\n",
	       (double)t_open / n, (double)t_reset / n);
}

static void bench_replies(struct sigs_worker *w)
{
	static const char *const replies[] = {
		"250 2.1.5 Ok",
		"250 2.0.0 Ok: queued as 4F1A2B3C4D",
		"550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in "
		"local recipient table",
		"554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using "
		"zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.10",
		"421-4.7.0 [192.0.2.9      15] Our system has detected an unusual rate of",
		"220 mx.example.com ESMTP Postfix (Debian/GNU)",
	};
	const unsigned int n = 2000000;
	uint64_t matches = 0, t0 = clock_mono_ns();
	double secs;

	for (unsigned int i = 0; i < n; i++) {
		const char *r = replies[i % 6];

		sigs_scan_line(w, EV_SCOPE_REPLY, (const uint8_t *)r, strlen(r), bench_count,
			       &matches);
	}
	secs = (double)(clock_mono_ns() - t0) / 1e9;
	printf("reply lines: %.2f M lines/s (%lu matches)\n", n / secs / 1e6,
	       (unsigned long)matches);
}

static void bench_compile(const char *rules)
{
	const char *paths[1] = {rules};
	uint64_t best = UINT64_MAX;
	struct sigs_info in;
	struct errbuf eb;

	for (int i = 0; i < BENCH_ROUNDS; i++) {
		struct sigs *s;

		if (sigs_create(&s) || sigs_load(s, paths, 1, &eb)) {
			fprintf(stderr, "%s\n", eb.msg);
			exit(1);
		}
		sigs_info(s, &in);
		if (in.compile_ns < best)
			best = in.compile_ns;
		sigs_destroy(s);
	}
	printf("%u rules (command %u, reply %u, header %u, body %u, url %u)\n", in.rules,
	       in.per_scope[EV_SCOPE_COMMAND], in.per_scope[EV_SCOPE_REPLY],
	       in.per_scope[EV_SCOPE_HEADER], in.per_scope[EV_SCOPE_BODY],
	       in.per_scope[EV_SCOPE_URL]);
	printf("compile (parse + 5 databases), best of %d: %.0f ms\n", BENCH_ROUNDS,
	       (double)best / 1e6);
	printf("databases %lu B; scratch %lu B per worker; body stream %lu B each "
	       "(1024-stream pool: %lu B)\n",
	       (unsigned long)in.db_bytes, (unsigned long)in.scratch_bytes,
	       (unsigned long)in.stream_bytes, (unsigned long)in.stream_bytes * 1024);
}

int main(int argc, char **argv)
{
	const char *rules = argc > 1 ? argv[1] : "rules";
	const char *benign = argc > 2 ? argv[2] : "tests/data/rules/benign.txt";
	const char *paths[1] = {rules};
	const size_t chunks[] = {1460, 65536};
	struct sigs_worker *w;
	struct bench_text t;
	hs_scratch_t *scratch = NULL;
	hs_database_t *db;
	struct errbuf eb;
	struct sigs *s;

	if (bench_build_text(benign, &t)) {
		fprintf(stderr, "%s: no body lines\n", benign);
		return 1;
	}
	printf("mail text: %.1f MiB in %zu messages\n", (double)t.len / (1 << 20), t.n_msgs);
	bench_compile(rules);
	if (sigs_create(&s) || sigs_load(s, paths, 1, &eb) || sigs_worker_create(s, NULL, &w)) {
		fprintf(stderr, "%s\n", eb.msg);
		return 1;
	}
	for (size_t c = 0; c < 2; c++) {
		double best = 1e9;
		uint64_t matches = 0;

		for (int r = 0; r < BENCH_ROUNDS; r++) {
			double secs = bench_body_api(w, &t, chunks[c], &matches);

			best = secs < best ? secs : best;
		}
		printf("body via sigs_body_feed, %zu-byte chunks: %.0f MB/s (%.2f Gbit/s), "
		       "%lu matches per pass\n",
		       chunks[c], (double)t.len / best / 1e6, (double)t.len * 8 / best / 1e9,
		       (unsigned long)(matches / BENCH_ROUNDS));
	}
	bench_replies(w);
	db = bench_hs_body_db(rules);
	if (db && hs_alloc_scratch(db, &scratch) == HS_SUCCESS) {
		double best = 1e9;
		uint64_t matches = 0;

		for (int r = 0; r < BENCH_ROUNDS; r++) {
			double secs = bench_hs_scan_msgs(db, scratch, (const uint8_t *)t.buf,
							 t.msg_end, t.n_msgs, &matches);

			best = secs < best ? secs : best;
		}
		printf("body raw hs_scan_stream, whole messages: %.0f MB/s (%.2f Gbit/s)\n",
		       (double)t.len / best / 1e6, (double)t.len * 8 / best / 1e9);
		bench_stream_lifecycle(db, scratch);
	}
	hs_free_scratch(scratch);
	hs_free_database(db);
	sigs_worker_destroy(w);
	sigs_destroy(s);
	free(t.buf);
	free(t.msg_end);
	return 0;
}
