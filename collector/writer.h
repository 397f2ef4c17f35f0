/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * writer: the store's one writer thread. The event loop submits checked
 * frames in arrival order; the writer stores them in batches (a batch is what
 * queued up while the previous commit ran, at most batch_max frames, after
 * waiting up to batch_wait_ms for more), commits, and only then reports each
 * frame done so the loop can ack it. Transient store errors keep the frames
 * queued and retry with backoff (no ack until stored); a frame the database
 * refuses on its own is counted, reported done and never retried. New alerts
 * go to the on_alert hook after their commit. Expires the archive hourly.
 *
 * Owns: its thread, its store connection, the queue and the frames in it.
 * writer_submit()/writer_take_done() are for the event-loop thread.
 */
#ifndef RELAYWATCH_COLLECTOR_WRITER_H
#define RELAYWATCH_COLLECTOR_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "collector/ingest.h"
#include "collector/metrics.h"
#include "collector/store.h"
#include "common/errbuf.h"

#define WRITER_PEER_MAX 160

struct writer;

struct writer_item {
	struct writer_item *next;
	uint64_t conn_id;
	uint64_t recv_mono_ns;
	uint64_t recv_real_ns;
	uint32_t bytes;		    /* frame size, for the queue bound */
	enum ingest_status status;  /* INGEST_OK or INGEST_REJECT_FIELD */
	Relaywatch__Frame *frame;   /* owned by the item */
	char peer[WRITER_PEER_MAX]; /* hello only */
};

/* One frame done: stored, duplicate, or refused. */
struct writer_done {
	uint64_t conn_id;
	uint64_t run_id;
	uint64_t seq;
	uint64_t recv_mono_ns;
	bool hello;
	uint64_t hello_max_seq; /* hello: highest seq already stored for its run */
};

typedef void writer_notify_fn(void *arg);
typedef void writer_alert_fn(const struct store_alert *a, void *arg);

struct writer_cfg {
	const char *db;
	struct store_opts store_opts;
	unsigned int batch_max;	     /* 0: 1000 */
	unsigned int batch_wait_ms;  /* 0: commit what is queued at once (group commit) */
	unsigned int queue_max;	     /* frames; 0: 20000 */
	uint64_t queue_max_bytes;    /* 0: 64 MiB */
	uint64_t retention_s;	     /* 0: keep the archive forever */
	unsigned int expire_every_s; /* 0: 3600 */
	writer_notify_fn *notify;    /* done items are waiting; called on the writer thread */
	void *notify_arg;
	writer_alert_fn *on_alert; /* a new alert was committed; writer thread */
	void *alert_arg;
	struct metrics *metrics;
};

int writer_create(const struct writer_cfg *cfg, struct writer **out, struct errbuf *eb);
/* Stores what is queued, then stops the thread. */
void writer_destroy(struct writer *w);

/* Sets the notify hook (before the first submit). */
void writer_set_notify(struct writer *w, writer_notify_fn *fn, void *arg);
/* Takes the item; -ENOSPC (item not taken) when the queue is full. */
int writer_submit(struct writer *w, struct writer_item *it);
bool writer_has_room(struct writer *w);
/* Copies up to n done records into out; returns how many. */
unsigned int writer_take_done(struct writer *w, struct writer_done *out, unsigned int n);

struct writer_item *writer_item_new(void);
void writer_item_free(struct writer_item *it);

#endif /* RELAYWATCH_COLLECTOR_WRITER_H */
