/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * backoff: what a polling thread does after polls that found nothing: spin,
 * then yield, then nap, each nap twice the last from nap_min_ns up to
 * nap_max_ns, and back to spinning at the first poll that finds work. An
 * idle thread so wakes a few thousand times a second, not tens of
 * thousands, and a busy one never naps. backoff_next() is pure (the
 * sequence is tested); backoff_wait() carries it out. backoff_due() says
 * when periodic work (housekeeping) is due by a clock, so longer naps cannot
 * hold it back the way counting polls would.
 */
#ifndef RELAYWATCH_COMMON_BACKOFF_H
#define RELAYWATCH_COMMON_BACKOFF_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct backoff_cfg {
	uint32_t spins;	     /* empty polls that return at once */
	uint32_t yields;     /* empty polls (spins included) before the first nap */
	uint32_t nap_min_ns; /* the first nap; 0: never nap, yield on */
	uint32_t nap_max_ns; /* where the doubling stops */
};

/* One polling thread's state; all zero (backoff_reset()) when work came. */
struct backoff {
	uint32_t empty;	 /* empty polls in a row, saturating */
	uint32_t nap_ns; /* the last nap; 0: none yet */
};

enum backoff_act {
	BACKOFF_SPIN,
	BACKOFF_YIELD,
	BACKOFF_NAP,
};

/* A poll found work: the next empty poll starts over with spinning. */
static inline void backoff_reset(struct backoff *b)
{
	b->empty = 0;
	b->nap_ns = 0;
}

/* One more empty poll: what to do now; for BACKOFF_NAP, *nap_ns is how long. */
static inline enum backoff_act backoff_next(struct backoff *b, const struct backoff_cfg *c,
					    uint32_t *nap_ns)
{
	if (b->empty < UINT32_MAX)
		b->empty++;
	if (b->empty <= c->spins)
		return BACKOFF_SPIN;
	if (b->empty <= c->yields || !c->nap_min_ns)
		return BACKOFF_YIELD;
	if (!b->nap_ns)
		b->nap_ns = c->nap_min_ns < c->nap_max_ns ? c->nap_min_ns : c->nap_max_ns;
	else
		b->nap_ns = b->nap_ns <= c->nap_max_ns / 2 ? 2 * b->nap_ns : c->nap_max_ns;
	*nap_ns = b->nap_ns;
	return BACKOFF_NAP;
}

/* After an empty poll: spin, yield or nap as backoff_next() says. */
static inline void backoff_wait(struct backoff *b, const struct backoff_cfg *c)
{
	uint32_t nap_ns = 0;

	switch (backoff_next(b, c, &nap_ns)) {
	case BACKOFF_SPIN:
		break;
	case BACKOFF_YIELD:
		sched_yield();
		break;
	case BACKOFF_NAP: {
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)nap_ns};

		nanosleep(&ts, NULL);
		break;
	}
	}
}

/*
 * True when now_ns has reached *next_ns, which then moves to period_ns past
 * now_ns: after a long stall the work runs once, not once per period
 * missed. *next_ns = 0 makes it due at once.
 */
static inline bool backoff_due(uint64_t *next_ns, uint64_t now_ns, uint64_t period_ns)
{
	if (now_ns < *next_ns)
		return false;
	*next_ns = now_ns + period_ns;
	return true;
}

#endif /* RELAYWATCH_COMMON_BACKOFF_H */
