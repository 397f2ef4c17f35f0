/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server: the sensors' side of the collector, on one libevent loop
 * (evconnlistener + a bufferevent per connection, OpenSSL bufferevents for
 * TLS). A connection must open with a SensorHello (whose sensor_id must match
 * the client certificate under TLS), then sends frames; each is checked
 * (ingest), handed to the writer in arrival order and acknowledged
 * cumulatively per run_id once the writer has committed it. Protocol errors,
 * timeouts (hello, a frame trickling in, idle) and a peer that does not read
 * its acks close that connection only, counted by reason. Memory per
 * connection is bounded: input watermark, one frame, the in-flight list, the
 * output buffer. When the writer's queue is full, reading pauses.
 *
 * Owns: the listener, the connections, their buffers. Event-loop thread only.
 */
#ifndef RELAYWATCH_COLLECTOR_SERVER_H
#define RELAYWATCH_COLLECTOR_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "collector/metrics.h"
#include "collector/writer.h"
#include "common/errbuf.h"

struct server;

struct server_cfg {
	const char *listen; /* HOST:PORT */
	const char *tls_cert, *tls_key, *tls_ca;
	bool plaintext;		      /* no TLS: sensor_id is taken on trust */
	uint32_t max_frame;	      /* 0: INGEST_MAX_FRAME */
	unsigned int max_conns;	      /* 0: 256 */
	unsigned int max_inflight;    /* frames not yet acked per connection; 0: 4096 */
	unsigned int hello_timeout_s; /* 0: 10 (TLS handshake included) */
	unsigned int frame_timeout_s; /* a started frame must be whole by then; 0: 30 */
	unsigned int idle_timeout_s;  /* nothing received; 0: 600 */
	struct writer *writer;
	struct metrics *metrics;
};

int server_create(struct event_base *base, const struct server_cfg *cfg, struct server **out,
		  struct errbuf *eb);
/* Closes every connection (reason "shutdown") and the listener. */
void server_destroy(struct server *s);
uint16_t server_port(const struct server *s);

/* The writer's notify hook: wakes the loop to send acks. Any thread. */
void server_wake(void *server);

#endif /* RELAYWATCH_COLLECTOR_SERVER_H */
