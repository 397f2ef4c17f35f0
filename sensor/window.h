/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * window: sliding-window event counters in packet time. A window of span S
 * is WINDOW_BUCKETS buckets of S / WINDOW_BUCKETS each; the sum covers the
 * current bucket and the ones before it, so between S - S/B and S of
 * history. The span lives in a shared struct window_cfg (one per counter
 * kind), the per-entry state is 24 bytes, so a million hosts can carry a
 * dozen of them. Time may go backwards a little (events from several
 * workers): a late event lands in its own bucket while that bucket is still
 * in the window, and is dropped (and said so) when it is older.
 * Buckets saturate at 65535 events rather than wrap.
 * Embedded in detector tables: detector thread only.
 */
#ifndef RELAYWATCH_SENSOR_WINDOW_H
#define RELAYWATCH_SENSOR_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

/* 10 buckets: a 10 min window moves by the minute, 1 h by 6 min. */
#define WINDOW_BUCKETS 10

struct window_cfg {
	uint64_t bucket_ns;
	uint32_t span_s;
};

struct window {
	uint32_t head; /* number of the newest bucket: time / bucket_ns */
	uint16_t b[WINDOW_BUCKETS];
};

/* span_s >= 1; a span below WINDOW_BUCKETS seconds gets 1 s buckets. */
void window_cfg_init(struct window_cfg *c, uint32_t span_s);

/* Count n events at now_ns. False when now_ns is older than the window
 * (the events are not counted). */
bool window_add(struct window *w, const struct window_cfg *c, uint64_t now_ns, uint32_t n);
/* Events in the whole span ending at now_ns. */
uint32_t window_sum(const struct window *w, const struct window_cfg *c, uint64_t now_ns);
/* Events in the last secs seconds (rounded up to whole buckets, at most the
 * span): lets one counter serve detectors with shorter windows. */
uint32_t window_sum_last(const struct window *w, const struct window_cfg *c, uint64_t now_ns,
			 uint32_t secs);
void window_clear(struct window *w);

#endif /* RELAYWATCH_SENSOR_WINDOW_H */
