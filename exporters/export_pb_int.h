/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * export_pb internals shared by export_pb.c (API, hand-off, exporter
 * thread) and export_pb_conn.c (connect, TLS, sending, acks). Not for
 * other modules. The fields are grouped by the thread that writes them.
 */
#ifndef RELAYWATCH_EXPORTERS_EXPORT_PB_INT_H
#define RELAYWATCH_EXPORTERS_EXPORT_PB_INT_H

#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include <openssl/ssl.h>

#include "common/frame.h"
#include "common/msgring.h"
#include "common/stats.h"
#include "exporters/export_pb.h"
#include "exporters/pb_conv.h"
#include "exporters/spool.h"

#define EXPORT_PB_ERR_MAX   512
#define EXPORT_PB_OUT_BATCH (256u * 1024) /* bytes packed per refill of the send buffer */
#define EXPORT_PB_OUT_CAP   (EXPORT_PB_OUT_BATCH + FRAME_HDR + SPOOL_FRAME_MAX)
#define EXPORT_PB_WINDOW    65536 /* frames sent and not yet acknowledged, at most */
#define EXPORT_PB_IDLE_MS   5	  /* longest sleep: a frame waits at most this long */

/* One frame in the hand-off ring. */
struct export_pb_rec {
	uint32_t cls; /* enum spool_class */
	uint32_t len;
	uint64_t seq;
	uint8_t data[]; /* the packed Frame */
};

enum export_pb_state {
	EXPORT_PB_IDLE = 0, /* waiting for the next attempt */
	EXPORT_PB_CONNECTING = 1,
	EXPORT_PB_TLS = 2, /* handshake */
	EXPORT_PB_UP = 3,  /* hello sent or going; frames and acks flow */
};

struct export_pb {
	/* set by create, read-only afterwards */
	struct export_pb_cfg cfg;
	char address[256], host[256], port[8];
	bool host_is_ip;
	char sensor_id[256], spool_dir[1024];
	char tls_cert[1024], tls_ca[1024]; /* named in error messages */
	uint64_t run_id;
	SSL_CTX *ssl_ctx; /* NULL: plain TCP */
	uint8_t *hello;	  /* length header + Frame{hello} */
	uint32_t hello_len;
	struct msgring *ring;
	int wake_fd;
	pthread_t thread;
	bool started;
	_Atomic bool stop;
	_Atomic bool sleeping;

	/* detector thread */
	struct privacy *privacy; /* archive pseudonyms; NULL: off */
	struct pb_conv *conv;
	uint64_t next_seq;
	_Atomic uint64_t enqueued[SPOOL_CLASS_COUNT], handoff_full[SPOOL_CLASS_COUNT];
	_Atomic uint64_t too_big[SPOOL_CLASS_COUNT];
	_Atomic uint64_t enqueued_total;
	struct {
		uint64_t due_ns;   /* packet time of the next walk, 0: not started */
		uint64_t since_ns; /* hosts seen since this go into the walk */
		uint64_t end_ns;   /* the walk's summaries are as of this */
		uint32_t cursor;
		bool walking;
	} sum;

	/* exporter thread */
	struct spool *sp;
	enum export_pb_state state;
	int fd;
	SSL *ssl;
	struct addrinfo *ai, *ai_cur; /* this attempt's addresses, the one tried */
	int conn_errno;		      /* last connect() failure over the addresses */
	short want;		      /* poll events the TLS handshake waits for */
	short revents;		      /* on fd, from the last poll */
	int alert;		      /* last TLS alert received (level << 8 | desc), -1: none */
	uint64_t deadline_ns;	      /* connect + handshake */
	uint64_t next_attempt_ns;
	uint64_t ack_wait_ns;  /* since when frames wait for an ack */
	uint64_t session_ns;   /* when the session started */
	uint64_t session_acks; /* xs.acks when it started: none since, it never worked */
	uint64_t next_sync_ns;
	uint32_t attempt; /* failures since the last ack: back-off step */
	uint64_t rng;
	uint8_t *out; /* send buffer */
	uint32_t out_len, out_off;
	struct frame_reader fr;		/* acks */
	uint64_t taken;			/* records moved from the ring to the spool */
	struct export_pb_stats xs;	/* exporter-side counters, published as pub */
	char logged[EXPORT_PB_ERR_MAX]; /* last failure logged, and when */
	uint64_t logged_ns;

	/* published by the exporter thread, read by any */
	_Atomic uint64_t pub[sizeof(struct export_pb_stats) / sizeof(uint64_t)];
	_Atomic uint64_t delivered; /* enqueued_total once all of it was acked or dropped */
	_Atomic uint64_t taken_pub;
	pthread_mutex_t err_lock;
	char last_err[EXPORT_PB_ERR_MAX];

	/* export_pb_wait's caller */
	uint64_t wait_acked, wait_since_ns;
};

uint64_t export_pb_rng(struct export_pb *ex);

/* export_pb_conn.c: the exporter thread's side of the socket. */
int export_pb_conn_init(struct export_pb *ex, struct errbuf *eb);
void export_pb_conn_fini(struct export_pb *ex);
/* One turn of the state machine, after poll() set ex->revents. */
void export_pb_conn_step(struct export_pb *ex, uint64_t now);
/* What to poll for (pfd->fd -1: nothing) and for how long, in ms. */
int export_pb_conn_poll(struct export_pb *ex, uint64_t now, struct pollfd *pfd);
void export_pb_conn_close(struct export_pb *ex);

#endif /* RELAYWATCH_EXPORTERS_EXPORT_PB_INT_H */
