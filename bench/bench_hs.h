/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_hs: the raw Hyperscan ceiling the benchmarks compare the sensor to:
 * the body rules of a rules path compiled alone in stream mode (the same
 * flags sigs.c gives them), and a scan of messages with one stream each,
 * fed whole. Single-threaded; benchmark tools only.
 */
#ifndef RELAYWATCH_BENCH_BENCH_HS_H
#define RELAYWATCH_BENCH_BENCH_HS_H

#include <stddef.h>
#include <stdint.h>

#include <hs.h>

/* NULL (after a message on stderr) when the rules do not load or hold no body rule. */
hs_database_t *bench_hs_body_db(const char *rules);

/* Messages buf[msg_end[i-1] .. msg_end[i]); returns the seconds taken. */
double bench_hs_scan_msgs(hs_database_t *db, hs_scratch_t *scratch, const uint8_t *buf,
			  const size_t *msg_end, size_t n_msgs, uint64_t *matches);

#endif /* RELAYWATCH_BENCH_BENCH_HS_H */
