// SPDX-License-Identifier: BSD-3-Clause
#include "bench/bench_hs.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/clock.h"
#include "sensor/event.h"
#include "sensor/sigs_file.h"

static int bench_hs_count(unsigned int id, unsigned long long from, unsigned long long to,
			  unsigned int flags, void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	(*(uint64_t *)ctx)++;
	return 0;
}

/* The body rules compiled on their own: the raw Hyperscan ceiling. */
hs_database_t *bench_hs_body_db(const char *rules)
{
	const char **expr;
	unsigned int *flags, *ids, n = 0;
	hs_compile_error_t *ce = NULL;
	hs_database_t *db = NULL;
	struct sigs_file sf;
	struct errbuf eb;

	sigs_file_init(&sf);
	if (sigs_file_read_path(&sf, rules, &eb)) {
		fprintf(stderr, "%s\n", eb.msg);
		return NULL;
	}
	expr = calloc(sf.n_rules, sizeof(*expr));
	flags = calloc(sf.n_rules, sizeof(*flags));
	ids = calloc(sf.n_rules, sizeof(*ids));
	for (uint32_t i = 0; expr && flags && ids && i < sf.n_rules; i++) {
		const struct sigs_file_rule *r = &sf.rules[i];

		if (r->scope != EV_SCOPE_BODY)
			continue;
		expr[n] = r->pattern;
		flags[n] = HS_FLAG_SINGLEMATCH |
			   (r->flags & SIGS_F_CASELESS ? HS_FLAG_CASELESS : 0) |
			   (r->flags & SIGS_F_DOTALL ? HS_FLAG_DOTALL : 0) |
			   (r->flags & SIGS_F_MULTILINE ? HS_FLAG_MULTILINE : 0);
		ids[n] = n;
		n++;
	}
	if (n && hs_compile_multi(expr, flags, ids, n, HS_MODE_STREAM, NULL, &db, &ce)) {
		fprintf(stderr, "compile: %s\n", ce->message);
		hs_free_compile_error(ce);
		db = NULL;
	}
	free(expr);
	free(flags);
	free(ids);
	sigs_file_fini(&sf);
	return db;
}

/* One stream per message, fed whole: hs_scan_stream at its best. */
double bench_hs_scan_msgs(hs_database_t *db, hs_scratch_t *scratch, const uint8_t *buf,
			  const size_t *msg_end, size_t n_msgs, uint64_t *matches)
{
	hs_stream_t *st = NULL;
	uint64_t t0 = clock_mono_ns();
	size_t start = 0;

	hs_open_stream(db, 0, &st);
	for (size_t m = 0; m < n_msgs; m++) {
		hs_scan_stream(st, (const char *)buf + start, (unsigned int)(msg_end[m] - start), 0,
			       scratch, bench_hs_count, matches);
		hs_reset_stream(st, 0, scratch, bench_hs_count, matches);
		start = msg_end[m];
	}
	hs_close_stream(st, scratch, NULL, NULL);
	return (double)(clock_mono_ns() - t0) / 1e9;
}
