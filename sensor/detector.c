// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/detector.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/stats.h"

#define DETECTOR_TICK_NS (100 * NS_PER_MSEC)

struct detector {
	struct detector_cfg cfg;
	struct detector_output out;
	struct detector_input in[DETECTOR_MAX_INPUTS];
	unsigned int n_in;
	_Atomic bool stop;
	uint64_t next_tick;
	uint64_t hold_since; /* wall time we started waiting for a lagging input, 0: not */
	struct detector_stats st;
	_Atomic uint64_t pub[sizeof(struct detector_stats) / sizeof(uint64_t)];
	struct event_uid_cache uids; /* workers send no uids: made here */
};

void detector_cfg_default(struct detector_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_hold_ms = 50;
}

int detector_create(const struct detector_cfg *cfg, const struct detector_output *out,
		    struct detector **outp)
{
	struct detector *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->cfg = *cfg;
	if (out)
		d->out = *out;
	*outp = d;
	return 0;
}

void detector_destroy(struct detector *d)
{
	free(d);
}

int detector_add_input(struct detector *d, const struct detector_input *in)
{
	if (d->n_in >= DETECTOR_MAX_INPUTS || !in->ring)
		return -ENOSPC;
	d->in[d->n_in++] = *in;
	return 0;
}

void detector_stop(struct detector *d)
{
	atomic_store(&d->stop, true);
}

void detector_stats_read(struct detector *d, struct detector_stats *out)
{
	stats_read(out, d->pub, sizeof(*out));
}

static void detector_dispatch(struct detector *d, struct event_hdr *e, uint32_t len)
{
	const struct event_tx *et = (const struct event_tx *)e; /* read only for an EV_TX */

	if (len < sizeof(*e) || e->len != len || e->type == 0 || e->type >= EV_TYPE_COUNT) {
		d->st.bad_events++;
		return;
	}
	d->st.events++;
	d->st.events_by_type[e->type]++;
	if (e->ts_ns < d->st.last_ts_ns)
		d->st.out_of_order++;
	else
		d->st.last_ts_ns = e->ts_ns;

	if (e->type == EV_TX &&
	    (len < offsetof(struct event_tx, tx) + offsetof(struct smtp_tx, arena) ||
	     offsetof(struct event_tx, tx) + et->tx.wire_size > len)) {
		d->st.bad_events++;
		return;
	}
	/* Before either output: an EV_TX's record gets the uid too. */
	event_fill_uid(&d->uids, e, len);
	if (e->type == EV_TX) {
		d->st.transactions++;
		if (d->out.tx)
			d->out.tx(d->out.arg, &et->tx);
	}
	if (d->out.event)
		d->out.event(d->out.arg, e);
}

/*
 * The input whose oldest event comes first in packet time, or -1. An input
 * with nothing queued may still produce something older: wait for its
 * watermark, but never longer than max_hold_ms.
 */
static int detector_pick(struct detector *d, bool *all_done)
{
	uint64_t best_ts = UINT64_MAX;
	bool lagging = false;
	int best = -1;

	*all_done = true;
	for (unsigned int i = 0; i < d->n_in; i++) {
		struct detector_input *in = &d->in[i];
		bool done = in->done(in->arg);
		const struct event_hdr *e;
		uint32_t len;

		e = msgring_peek(in->ring, &len);
		if (!e) {
			if (!done)
				*all_done = false;
			continue;
		}
		*all_done = false;
		if (e->ts_ns < best_ts) {
			best_ts = e->ts_ns;
			best = (int)i;
		}
	}
	if (best < 0)
		return -1;
	for (unsigned int i = 0; i < d->n_in; i++) {
		struct detector_input *in = &d->in[i];
		uint32_t len;

		if ((int)i == best || msgring_peek(in->ring, &len) || in->done(in->arg))
			continue;
		if (in->watermark(in->arg) < best_ts)
			lagging = true;
	}
	if (!lagging) {
		d->hold_since = 0;
		return best;
	}
	if (d->hold_since == 0)
		d->hold_since = clock_mono_ns();
	if (clock_mono_ns() - d->hold_since < (uint64_t)d->cfg.max_hold_ms * NS_PER_MSEC)
		return -1;
	d->st.hold_timeouts++;
	d->hold_since = 0;
	return best;
}

static void detector_tick(struct detector *d, bool final)
{
	uint64_t now = clock_mono_ns();

	if (!final && now < d->next_tick)
		return;
	d->next_tick = now + DETECTOR_TICK_NS;
	if (d->out.tick)
		d->out.tick(d->out.arg, d->st.last_ts_ns, final);
	stats_publish(d->pub, &d->st, sizeof(d->st));
}

/*
 * No event waiting: yield 63 times, then nap, from 200 us doubling up to
 * 800 us. An event ring (32 MiB by default) takes far longer to fill; the
 * tick above runs on the clock, not on a count of polls.
 */
static const struct backoff_cfg detector_backoff_cfg = {
	.spins = 0,
	.yields = 63,
	.nap_min_ns = 200000,
	.nap_max_ns = 800000,
};

int detector_run(struct detector *d)
{
	struct backoff bo = {0};
	bool all_done;

	for (;;) {
		int i = detector_pick(d, &all_done);

		if (i >= 0) {
			struct msgring *r = d->in[i].ring;
			struct event_hdr *e;
			uint32_t len;

			/* The slot is the detector's until msgring_release(): the
			 * uid is written into it (event_fill_uid()). */
			e = (struct event_hdr *)msgring_peek(r, &len);
			detector_dispatch(d, e, len);
			msgring_release(r);
			backoff_reset(&bo);
			if ((d->st.events & 255) == 0)
				detector_tick(d, false);
			continue;
		}
		if (all_done || atomic_load(&d->stop))
			break;
		detector_tick(d, false);
		backoff_wait(&bo, &detector_backoff_cfg);
	}
	detector_tick(d, true);
	return 0;
}
