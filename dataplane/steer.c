// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/steer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/backoff.h"
#include "common/hash.h"
#include "common/ring.h"
#include "dataplane/decode.h"

#define STEER_RING  STEER_RING_FRAMES /* frames per (input, output) ring */
#define STEER_BURST 32
_Static_assert(STEER_BURST <= 32, "steer_burst() tracks a burst in a 32-bit mask");

struct steer;

struct steer_in {
	struct steer *st;
	uint16_t q;
	pthread_t thread;
	bool started;
	_Atomic bool eof;
	uint16_t spread; /* next output for a frame that belongs to no flow */
};

struct steer {
	struct source base;
	struct source *inner;
	uint16_t n_in, n_out;
	bool direct_release;  /* inner->release may run on worker threads */
	struct ring **to_out; /* [in * n_out + out]: frames for a worker */
	struct ring **back;   /* [out * n_in + in]: frames to release (if !direct) */
	struct steer_in in[SOURCE_MAX_QUEUES];
	uint16_t rr[SOURCE_MAX_QUEUES]; /* per output: next input ring to poll */
	struct decode_cfg dc;
	_Atomic bool stop;
	_Atomic uint64_t full; /* live frames dropped: output ring full */
	char desc[160];
};

static const struct source_ops steer_ops;

static uint16_t steer_pick(struct steer *st, struct steer_in *si, const struct pkt *p)
{
	struct decode_stats ds = {0};
	struct pkt_meta m;
	uint64_t h;

	if (p->hash)
		return (uint16_t)(p->hash % st->n_out);
	/* Decode only to find the inner endpoints; the worker decodes again. */
	if (decode_pkt(&st->dc, p, &m, &ds) != DECODE_OK) {
		/* UDP, fragments, garbage: a worker only counts them, so any worker
		 * will do. Taking turns keeps a tap's UDP share (QUIC, DNS) from
		 * loading the first worker alone. */
		si->spread = (uint16_t)((si->spread + 1) % st->n_out);
		return si->spread;
	}
	h = hash_sym_tuple(m.src.b, m.sport, m.dst.b, m.dport, 0);
	return (uint16_t)((uint32_t)h % st->n_out);
}

/*
 * Nothing to read (or no room to write): yield 63 times, then nap, from
 * 50 us doubling up to 200 us (with the kernel's 50 us timer slack, well
 * within the ~410 us a 4096-frame ring takes to fill at 10 Mpps). The
 * caller starts it over when work comes.
 */
static const struct backoff_cfg steer_backoff_cfg = {
	.spins = 0,
	.yields = 63,
	.nap_min_ns = 50000,
	.nap_max_ns = 200000,
};

static void steer_backoff(struct backoff *b)
{
	backoff_wait(b, &steer_backoff_cfg);
}

/* Frames workers gave back for a source that must release on its own thread. */
static void steer_drain_back(struct steer *st, uint16_t q)
{
	struct pkt pkts[STEER_BURST];

	if (st->direct_release)
		return;
	for (uint16_t o = 0; o < st->n_out; o++) {
		uint32_t n;

		while ((n = ring_dequeue_burst(st->back[o * st->n_in + q], pkts, STEER_BURST)))
			st->inner->ops->release(st->inner, q, pkts, (uint16_t)n);
	}
}

/* The frames of one output: n of them at p, in arrival order. */
static void steer_push(struct steer *st, uint16_t q, uint16_t out, struct pkt *p, uint32_t n)
{
	struct ring *r = st->to_out[q * st->n_out + out];
	struct backoff bo = {0};

	while (n) {
		uint32_t k = ring_enqueue_burst(r, p, n);

		p += k;
		n -= k;
		if (!n)
			break;
		if (st->inner->live || atomic_load_explicit(&st->stop, memory_order_relaxed)) {
			atomic_fetch_add_explicit(&st->full, n, memory_order_relaxed);
			st->inner->ops->release(st->inner, q, p, (uint16_t)n);
			return;
		}
		/* A file can wait for the workers. */
		steer_drain_back(st, q);
		steer_backoff(&bo);
	}
}

/*
 * A burst goes out one ring operation per output, not per frame: each
 * operation moves the ring's index between two cores. Each output's frames
 * keep their order (all a worker needs: one flow, one output).
 */
static void steer_burst(struct steer *st, uint16_t q, struct pkt *pkts, uint16_t n)
{
	struct pkt group[STEER_BURST];
	uint16_t out[STEER_BURST];
	uint32_t todo = 0; /* bit i: pkts[i] not sent yet */

	for (uint16_t i = 0; i < n; i++)
		pkts[i].rxq = q;
	if (st->n_out == 1) { /* nothing to choose: no decode, no copy */
		steer_push(st, q, 0, pkts, n);
		return;
	}
	for (uint16_t i = 0; i < n; i++) {
		out[i] = steer_pick(st, &st->in[q], &pkts[i]);
		todo |= 1u << i;
	}
	while (todo) {
		uint16_t o = out[__builtin_ctz(todo)];
		uint32_t k = 0;

		for (uint32_t rest = todo; rest; rest &= rest - 1) {
			unsigned int i = (unsigned int)__builtin_ctz(rest);

			if (out[i] != o)
				continue;
			group[k++] = pkts[i];
			todo &= ~(1u << i);
		}
		steer_push(st, q, o, group, k);
	}
}

static void *steer_thread(void *arg)
{
	struct steer_in *si = arg;
	struct steer *st = si->st;
	struct source *inner = st->inner;
	struct pkt pkts[STEER_BURST];
	struct backoff bo = {0};

	if (inner->ops->thread_init && inner->ops->thread_init(inner, si->q) != 0)
		goto out;
	while (!atomic_load_explicit(&st->stop, memory_order_relaxed)) {
		uint16_t n = inner->ops->rx_burst(inner, si->q, pkts, STEER_BURST);

		steer_drain_back(st, si->q);
		if (n == 0) {
			if (inner->ops->at_eof(inner, si->q))
				break;
			steer_backoff(&bo);
			continue;
		}
		backoff_reset(&bo);
		steer_burst(st, si->q, pkts, n);
	}
out:
	atomic_store_explicit(&si->eof, true, memory_order_release);
	/* Keep returning frames until every worker is done with them. */
	while (!st->direct_release && !atomic_load_explicit(&st->stop, memory_order_relaxed)) {
		steer_drain_back(st, si->q);
		steer_backoff(&bo);
	}
	return NULL;
}

static uint16_t steer_rx(struct source *s, uint16_t q, struct pkt *pkts, uint16_t n)
{
	struct steer *st = (struct steer *)s;
	uint16_t got = 0;

	for (uint16_t k = 0; k < st->n_in && got < n; k++) {
		uint16_t in = (uint16_t)((st->rr[q] + k) % st->n_in);

		got += (uint16_t)ring_dequeue_burst(st->to_out[in * st->n_out + q], pkts + got,
						    n - got);
	}
	st->rr[q] = (uint16_t)((st->rr[q] + 1) % st->n_in);
	return got;
}

static void steer_release(struct source *s, uint16_t q, struct pkt *pkts, uint16_t n)
{
	struct steer *st = (struct steer *)s;

	/* Runs of frames from one input queue go back together. */
	for (uint16_t i = 0, j; i < n; i = j) {
		for (j = (uint16_t)(i + 1); j < n && pkts[j].rxq == pkts[i].rxq; j++)
			;
		if (st->direct_release)
			st->inner->ops->release(st->inner, pkts[i].rxq, &pkts[i],
						(uint16_t)(j - i));
		else /* sized like the forward ring, so there is always room */
			ring_enqueue_burst(st->back[q * st->n_in + pkts[i].rxq], &pkts[i], j - i);
	}
}

static bool steer_at_eof(struct source *s, uint16_t q)
{
	struct steer *st = (struct steer *)s;

	for (uint16_t in = 0; in < st->n_in; in++)
		if (!atomic_load_explicit(&st->in[in].eof, memory_order_acquire))
			return false;
	/* Inputs finished first, then check that nothing is left for us. */
	for (uint16_t in = 0; in < st->n_in; in++)
		if (ring_count(st->to_out[in * st->n_out + q]))
			return false;
	return true;
}

static void steer_stats(struct source *s, struct source_stats *out)
{
	struct steer *st = (struct steer *)s;

	memset(out, 0, sizeof(*out));
	out->steer_full = atomic_load_explicit(&st->full, memory_order_relaxed);
}

static const char *steer_last_error(struct source *s)
{
	struct steer *st = (struct steer *)s;

	return st->inner->ops->last_error ? st->inner->ops->last_error(st->inner) : NULL;
}

static void steer_close(struct source *s)
{
	struct steer *st = (struct steer *)s;
	struct pkt pkts[STEER_BURST];

	if (!st)
		return;
	atomic_store(&st->stop, true);
	for (uint16_t i = 0; i < st->n_in; i++)
		if (st->in[i].started)
			pthread_join(st->in[i].thread, NULL);
	for (uint32_t r = 0; r < (uint32_t)st->n_in * st->n_out; r++) {
		uint32_t n;

		/* Frames nobody read go back to the source before it closes. */
		while (st->to_out && st->to_out[r] &&
		       (n = ring_dequeue_burst(st->to_out[r], pkts, STEER_BURST)))
			st->inner->ops->release(st->inner, pkts[0].rxq, pkts, (uint16_t)n);
		if (st->to_out)
			ring_destroy(st->to_out[r]);
		if (st->back)
			ring_destroy(st->back[r]);
	}
	free(st->to_out);
	free(st->back);
	free(st);
}

static int steer_alloc_rings(struct steer *st)
{
	uint32_t nr = (uint32_t)st->n_in * st->n_out;

	st->to_out = calloc(nr, sizeof(*st->to_out));
	st->back = calloc(nr, sizeof(*st->back));
	if (!st->to_out || !st->back)
		return -ENOMEM;
	for (uint32_t r = 0; r < nr; r++) {
		if (ring_create(STEER_RING, sizeof(struct pkt), &st->to_out[r]))
			return -ENOMEM;
		if (!st->direct_release &&
		    ring_create(STEER_RING, sizeof(struct pkt), &st->back[r]))
			return -ENOMEM;
	}
	return 0;
}

int steer_open(struct source *inner, uint16_t n_out, struct source **out, struct errbuf *eb)
{
	struct steer *st;
	int err;

	if (n_out == 0 || n_out > SOURCE_MAX_QUEUES)
		return errbuf_set(eb, -EINVAL, "steer: %u output queues asked, 1..%u", n_out,
				  SOURCE_MAX_QUEUES);
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->base.ops = &steer_ops;
	st->base.n_queues = n_out;
	st->base.symmetric = true;
	st->base.live = inner->live;
	st->base.release_any_thread = false;
	snprintf(st->desc, sizeof(st->desc), "%s (steered to %u workers)", inner->desc, n_out);
	st->base.desc = st->desc;
	st->inner = inner;
	st->n_in = inner->n_queues;
	st->n_out = n_out;
	st->direct_release = inner->release_any_thread;
	decode_cfg_default(&st->dc);
	err = steer_alloc_rings(st);
	if (err) {
		errbuf_set(eb, err, "steer: no memory for rings");
		goto err_close;
	}
	for (uint16_t i = 0; i < st->n_in; i++) {
		st->in[i].st = st;
		st->in[i].q = i;
		err = -pthread_create(&st->in[i].thread, NULL, steer_thread, &st->in[i]);
		if (err) {
			errbuf_set(eb, err, "steer: cannot start thread: %s", strerror(-err));
			goto err_close;
		}
		st->in[i].started = true;
	}
	*out = &st->base;
	return 0;

err_close:
	steer_close(&st->base);
	return err;
}

static const struct source_ops steer_ops = {
	.name = "steer",
	.rx_burst = steer_rx,
	.release = steer_release,
	.at_eof = steer_at_eof,
	.stats = steer_stats,
	.last_error = steer_last_error,
	.close = steer_close,
};
