/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baseline: what is normal for one host or account, as an exponentially
 * weighted event rate with a half-life. The state is a decayed event count
 * s = sum over events of 2^(-age / halflife): one multiply per update and no
 * buckets, 16 bytes. For a steady rate r, s tends to r * halflife / ln 2; a
 * young baseline is scaled up by its age so that it does not read as quiet.
 * rate_before() leaves out the events of the window being judged, so a burst
 * does not raise the bar it is measured against.
 * Embedded in detector tables: detector thread only.
 */
#ifndef RELAYWATCH_SENSOR_BASELINE_H
#define RELAYWATCH_SENSOR_BASELINE_H

#include <stdint.h>

struct baseline_cfg {
	double halflife_s;
};

struct baseline {
	/* Decayed event count as of last_s; a float would stop counting single
	 * events near 2^24, which a busy MTA reaches. */
	double s;
	uint32_t first_s; /* packet time (Unix s) of the first update, 0: none */
	uint32_t last_s;
};

void baseline_add(struct baseline *b, const struct baseline_cfg *c, uint64_t now_ns, double n);
/* Seconds of history, 0 when none. */
uint32_t baseline_age(const struct baseline *b, uint64_t now_ns);
/* Events per second, over all history. */
double baseline_rate(const struct baseline *b, const struct baseline_cfg *c, uint64_t now_ns);
/* Events per second before the last window_s seconds, which held `recent`
 * events; 0 when there is no history before the window. */
double baseline_rate_before(const struct baseline *b, const struct baseline_cfg *c, uint64_t now_ns,
			    uint32_t window_s, double recent);

#endif /* RELAYWATCH_SENSOR_BASELINE_H */
