/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics: the collector's counters, gauges and histograms, one struct
 * shared by every thread (relaxed atomics: each counter has one writer
 * thread, the /metrics handler reads), and its Prometheus rendering. No
 * per-IP label anywhere except the bounded top-N ranking gauge, which the
 * HTTP thread fills from its own cached ranking.
 */
#ifndef RELAYWATCH_COLLECTOR_METRICS_H
#define RELAYWATCH_COLLECTOR_METRICS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "collector/ingest.h"
#include "common/prom.h"

/* Why a sensor connection ended; names are metric label values. */
#define METRICS_CLOSE_REASONS(X)                                                                   \
	X(PEER_CLOSED, "peer_closed")                                                              \
	X(IO_ERROR, "io_error")                                                                    \
	X(TLS_HANDSHAKE, "tls_handshake")                                                          \
	X(FRAME_EMPTY, "frame_empty")                                                              \
	X(FRAME_TOO_BIG, "frame_too_big")                                                          \
	X(BAD_PROTOBUF, "bad_protobuf")                                                            \
	X(NO_BODY, "no_body")                                                                      \
	X(BAD_SENSOR_ID, "bad_sensor_id")                                                          \
	X(NO_HELLO, "no_hello")                                                                    \
	X(SENSOR_MISMATCH, "sensor_mismatch")                                                      \
	X(CERT_MISMATCH, "cert_mismatch")                                                          \
	X(HELLO_TIMEOUT, "hello_timeout")                                                          \
	X(FRAME_TIMEOUT, "frame_timeout")                                                          \
	X(IDLE_TIMEOUT, "idle_timeout")                                                            \
	X(SLOW_READER, "slow_reader")                                                              \
	X(TOO_MANY, "too_many_connections")                                                        \
	X(SHUTDOWN, "shutdown")

enum metrics_close {
#define METRICS_X_ENUM(n, s) METRICS_CLOSE_##n,
	METRICS_CLOSE_REASONS(METRICS_X_ENUM)
#undef METRICS_X_ENUM
		METRICS_CLOSE_COUNT
};

#define METRICS_TOP_N 10

struct metrics_top {
	char host[64];
	double score;
};

struct metrics {
	/* ingest (event loop thread) */
	_Atomic uint64_t frames[INGEST_TYPE_COUNT];
	_Atomic uint64_t bytes;
	_Atomic uint64_t rejected; /* well-formed, unusable: acked, not stored */
	_Atomic uint64_t conns_accepted;
	_Atomic uint64_t conns_handshaking; /* gauge: TLS or waiting for the hello */
	_Atomic uint64_t conns_active;	    /* gauge: hello accepted */
	_Atomic uint64_t conns_paused;	    /* gauge: reading stopped, writer queue full */
	_Atomic uint64_t closes[METRICS_CLOSE_COUNT];
	_Atomic uint64_t acks;
	struct prom_hist ack_latency; /* frame read -> ack written, seconds */
	/* store (writer thread) */
	_Atomic uint64_t stored[INGEST_TYPE_COUNT];
	_Atomic uint64_t dedup; /* re-sent frames already stored */
	_Atomic uint64_t store_errors;
	_Atomic uint64_t store_retries;
	_Atomic uint64_t commits;
	_Atomic uint64_t expired_rows;
	_Atomic uint64_t queue_frames;	 /* gauge */
	struct prom_hist commit_latency; /* one batch's inserts + commit, seconds */
	struct prom_hist batch_frames;
	/* outputs */
	_Atomic uint64_t am_posts;
	_Atomic uint64_t am_failures;
	_Atomic uint64_t am_alerts_sent;
	_Atomic uint64_t am_dropped;	 /* notification queue full */
	_Atomic uint64_t am_active;	 /* gauge */
	_Atomic uint64_t kafka_produced; /* delivered, by the delivery report */
	_Atomic uint64_t kafka_failed;
	/* ranking (HTTP thread) */
	unsigned int n_top;
	struct metrics_top top[METRICS_TOP_N];
	_Atomic uint64_t ranked_hosts;
};

void metrics_init(struct metrics *m);
const char *metrics_close_name(enum metrics_close r);
/* The whole exposition; 0 or -EIO. */
int metrics_write(const struct metrics *m, FILE *f);

static inline void metrics_inc(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static inline void metrics_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline void metrics_sub(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_sub_explicit(c, n, memory_order_relaxed);
}

static inline void metrics_set(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

#endif /* RELAYWATCH_COLLECTOR_METRICS_H */
