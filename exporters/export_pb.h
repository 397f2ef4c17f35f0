/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * export_pb: the sensor's client of relaywatch-collector. The detector
 * thread hands it alerts, transactions (--archive) and host summaries; each
 * becomes a Frame with the next seq, goes into a bounded hand-off ring and
 * the call returns at once (no lock, no syscall unless the exporter thread
 * sleeps). The exporter thread owns everything else: the spool, the socket
 * (non-blocking connect with back-off, TLS 1.2+ with a client certificate,
 * plain TCP only when told), the SensorHello, sending in order, cumulative
 * acks, and the errors a user must see.
 *
 * Owns: the exporter thread, its connection, the spool, the hand-off ring.
 * Enqueue calls: one thread (the detector's). Stats, wait: any thread.
 */
#ifndef RELAYWATCH_EXPORTERS_EXPORT_PB_H
#define RELAYWATCH_EXPORTERS_EXPORT_PB_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/errbuf.h"
#include "exporters/pb_conv.h"
#include "exporters/spool.h"
#include "rw_config.h"
#include "sensor/alert.h"
#include "sensor/detect.h"
#include "sensor/smtp_tx.h"

#define EXPORT_PB_BACKOFF_MIN_MS  500
#define EXPORT_PB_BACKOFF_MAX_MS  30000
#define EXPORT_PB_CONNECT_TIMEOUT 10000 /* ms: TCP connect plus TLS handshake */
#define EXPORT_PB_ACK_TIMEOUT	  30000 /* ms without an ack while frames are out */
#define EXPORT_PB_DRAIN_TIMEOUT	  60	/* s without progress before a run gives up */
#define EXPORT_PB_RING_BYTES	  (8u << 20)
#define EXPORT_PB_ACK_MAX	  4096 /* longest Ack accepted from the collector */

/* Why a connection attempt or session ended. */
enum export_pb_fail {
	EXPORT_PB_FAIL_DNS = 0,		 /* the collector's name does not resolve */
	EXPORT_PB_FAIL_REFUSED = 1,	 /* nothing listens there */
	EXPORT_PB_FAIL_TIMEOUT = 2,	 /* connect or TLS handshake too slow */
	EXPORT_PB_FAIL_NETWORK = 3,	 /* unreachable, reset, other socket errors */
	EXPORT_PB_FAIL_TLS_VERIFY = 4,	 /* the collector's certificate: unknown CA, wrong name */
	EXPORT_PB_FAIL_TLS_REJECTED = 5, /* the collector refused our certificate (TLS alert) */
	EXPORT_PB_FAIL_TLS_OTHER = 6,	 /* any other TLS failure (version, not TLS at all) */
	EXPORT_PB_FAIL_PROTOCOL = 7,	 /* the collector sent something that is not an Ack */
	EXPORT_PB_FAIL_COLLECTOR = 8,	 /* Ack.error: the collector refused this sensor */
	EXPORT_PB_FAIL_ACK_TIMEOUT = 9,	 /* frames out, no ack for EXPORT_PB_ACK_TIMEOUT */
	EXPORT_PB_FAIL_CLOSED = 10,	 /* the collector closed the connection */
	EXPORT_PB_FAIL_COUNT
};

struct export_pb_cfg {
	const char *address;			 /* HOST:PORT or [IPv6]:PORT */
	const char *tls_cert, *tls_key, *tls_ca; /* PEM files */
	bool plaintext;				 /* no TLS (--collector-plaintext) */
	const char *sensor_id;
	const char *spool_dir;	  /* NULL or "": memory only */
	uint64_t spool_max_bytes; /* 0: 256 MiB */
	uint32_t drain_timeout_s; /* 0: EXPORT_PB_DRAIN_TIMEOUT */
	/* privacy for transactions (sensor/privacy.h) */
	const char *privacy_key_file; /* NULL or "": as recorded */
	bool pseudonymize_ips;
	bool drop_subject;
	/* SensorHello */
	const char *config_digest; /* export_pb_digest() of the effective config */
	const char *const *home_net;
	unsigned int n_home_net;
	uint64_t started_ns; /* wall clock */
	/* 0: the defaults above; tests shorten them */
	uint32_t backoff_min_ms, backoff_max_ms, connect_timeout_ms, ack_timeout_ms;
	uint32_t ring_bytes;
};

/* All uint64_t: published with stats.h. */
struct export_pb_stats {
	uint64_t enqueued[SPOOL_CLASS_COUNT];
	uint64_t handoff_full[SPOOL_CLASS_COUNT];  /* dropped: exporter thread behind */
	uint64_t too_big[SPOOL_CLASS_COUNT];	   /* dropped: frame over the limit */
	uint64_t spool_evicted[SPOOL_CLASS_COUNT]; /* dropped: spool full */
	uint64_t spool_refused[SPOOL_CLASS_COUNT]; /* dropped: spool full of better */
	uint64_t spool_bytes, spool_frames;	   /* gauges */
	uint64_t spool_recovered;		   /* frames of earlier runs */
	uint64_t spool_damaged_files, spool_write_errors;
	uint64_t frames_sent, frames_resent, frames_acked, bytes_sent, acks;
	uint64_t connect_attempts;
	uint64_t sessions;		 /* connections that got to sending */
	uint64_t reconnects;		 /* sessions after the first */
	uint64_t tls_handshake_failures; /* VERIFY + REJECTED + TLS_OTHER */
	uint64_t failures[EXPORT_PB_FAIL_COUNT];
	uint64_t connected; /* gauge: 0 or 1 */
	uint64_t in_flight; /* gauge: sent, not acked */
};

struct export_pb;
struct config;

/* What export_pb_cfg_from_config() points into; lives until export_pb_create(). */
struct export_pb_setup {
	char sensor_id[256];
	char digest[65];
	char home[PB_CONV_HOME_MAX][48];
	const char *home_ptr[PB_CONV_HOME_MAX];
};

/* out from the sensor's configuration (collector:, privacy:, home_net, and
 * the digest); started_ns and the tuning fields are left 0. */
void export_pb_cfg_from_config(const struct config *c, struct export_pb_setup *st,
			       struct export_pb_cfg *out);
/* The canonical text the config digest covers (export_pb_cfg.c says what is
 * in it); its length, or -ENOSPC. */
long export_pb_config_text(const struct config *c, char *buf, size_t cap);
/* Lower-case hex SHA-256 (out: 65 bytes). */
void export_pb_digest(const void *text, size_t len, char out[65]);

#if HAVE_COLLECTOR

/* Back-off before retry n (0-based) after failures: min doubling up to max,
 * spread +-25% by rnd (so that sensors restarted together do not reconnect
 * together), never above max. */
uint32_t export_pb_backoff_ms(uint32_t attempt, uint64_t rnd, uint32_t min_ms, uint32_t max_ms);

/* Loads the TLS material (errors name the file and the cause), opens the
 * spool (reading what a previous run left), starts the exporter thread. */
int export_pb_create(const struct export_pb_cfg *cfg, struct export_pb **out, struct errbuf *eb);
/* Stops the thread; frames not acknowledged stay in the spool directory. */
void export_pb_destroy(struct export_pb *ex);

/* Detector thread: never blocks; a frame that cannot be queued is counted. */
void export_pb_alert(struct export_pb *ex, const struct alert *a);
void export_pb_tx(struct export_pb *ex, const struct smtp_tx *tx);
void export_pb_summary(struct export_pb *ex, const struct detect_host_summary *hs, uint64_t ts_ns,
		       uint32_t period_s);
/*
 * From the detector's tick: every period_s of packet time, a HostSummary for
 * each host seen in that period (totals since first seen: a newer one
 * supersedes the older), walked a slice per tick so that no tick takes
 * long. final: the rest at once, waiting for room in the hand-off ring.
 */
void export_pb_summary_tick(struct export_pb *ex, const struct detect_engine *de, uint64_t now_ns,
			    uint32_t period_s, bool final);

/*
 * After the last enqueue: wait up to wait_ms for every frame to be
 * acknowledged. 0: all delivered; -EAGAIN: not yet; -ETIMEDOUT: nothing was
 * acknowledged for drain_timeout_s, the reason (and where the frames are) in eb.
 */
int export_pb_wait(struct export_pb *ex, uint32_t wait_ms, struct errbuf *eb);

void export_pb_stats_read(struct export_pb *ex, struct export_pb_stats *out);
/* The last failure, "" when none since the last success. */
void export_pb_last_error(struct export_pb *ex, char *buf, size_t cap);
uint64_t export_pb_run_id(const struct export_pb *ex);
/* For metrics labels: "dns", "refused", ..., "closed". */
const char *export_pb_fail_name(enum export_pb_fail f);
/* Summary lines for people. */
void export_pb_print(struct export_pb *ex, FILE *f);

#else /* !HAVE_COLLECTOR: built with -Dcollector=disabled */

static inline int export_pb_create(const struct export_pb_cfg *cfg, struct export_pb **out,
				   struct errbuf *eb)
{
	return errbuf_set(eb, -ENOTSUP,
			  "--collector: this relaywatch was built without the "
			  "collector export (-Dcollector=disabled)");
}
static inline void export_pb_destroy(struct export_pb *ex)
{
}
static inline void export_pb_alert(struct export_pb *ex, const struct alert *a)
{
}
static inline void export_pb_tx(struct export_pb *ex, const struct smtp_tx *tx)
{
}
static inline void export_pb_summary(struct export_pb *ex, const struct detect_host_summary *hs,
				     uint64_t ts_ns, uint32_t period_s)
{
}
static inline void export_pb_summary_tick(struct export_pb *ex, const struct detect_engine *de,
					  uint64_t now_ns, uint32_t period_s, bool final)
{
}
static inline int export_pb_wait(struct export_pb *ex, uint32_t wait_ms, struct errbuf *eb)
{
	return 0;
}
static inline void export_pb_print(struct export_pb *ex, FILE *f)
{
}

#endif /* HAVE_COLLECTOR */

#endif /* RELAYWATCH_EXPORTERS_EXPORT_PB_H */
