/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smtp_session: the SMTP parser as the worker sees it. Implements l7_ops:
 * a per-flow resumable state machine fed with reassembled bytes of both
 * directions. It splits lines (smtp_line), parses commands and replies
 * (smtp_cmd), matches replies to pipelined commands through a bounded
 * queue, follows AUTH (smtp_auth), hands DATA/BDAT content to smtp_msg,
 * stops parsing after STARTTLS/implicit TLS (keeping the ClientHello facts,
 * tls_hello), and emits events and transaction records (event.h).
 *
 * Owns: a per-worker context with a fixed pool of sessions and of
 * transaction records, made at create. Worker thread only. Line assembly
 * buffers (where a partial AUTH line can wait) are kept out of core dumps
 * and wiped once an AUTH line is consumed or a half line is dropped.
 */
#ifndef RELAYWATCH_SENSOR_SMTP_SESSION_H
#define RELAYWATCH_SENSOR_SMTP_SESSION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dataplane/l7.h"
#include "sensor/event.h"

struct sigs;
struct privacy;

/*
 * The most sessions a worker may have (limits.smtp_sessions_per_worker):
 * the string arena names a slot by 24 bits and holds up to three values a
 * session in its small classes.
 */
#define SMTP_SESSIONS_MAX (1u << 22)

struct smtp_cfg {
	uint32_t max_sessions;	   /* concurrent SMTP sessions per worker (default 16384) */
	uint32_t max_line;	   /* command/reply line kept, bytes (default 2048, RFC: 512) */
	uint32_t max_header_bytes; /* message header bytes parsed (default 64 KiB) */
	uint32_t max_pipeline;	   /* commands awaiting a reply (default 64, at most 255) */
	const uint8_t *smtp_ports; /* 65536-bit map: ports that are SMTP (NULL: 25, 587, 2525) */
	const uint8_t *tls_ports;  /* 65536-bit map: implicit TLS (NULL: 465) */
	bool detect_any_port;	   /* look for SMTP (and HTTP CONNECT to it) on other ports */
	bool keep_subject;	   /* privacy: subject in records (default true) */
	struct sigs *sigs;	   /* Hyperscan signatures; NULL: no content matching */
	/* privacy.pseudonymize: mailboxes and AUTH users stored as pseudonyms
	 * (sensor/privacy.h); NULL: as written. Read-only, shared by workers. */
	const struct privacy *privacy;
};

/* All uint64_t: published with stats.h. */
struct smtp_stats {
	uint64_t sessions;
	uint64_t sessions_active;  /* gauge */
	uint64_t sessions_no_slot; /* pool empty: flow not parsed */
	uint64_t not_smtp;	   /* flows on other ports that were not SMTP */
	uint64_t transactions;
	uint64_t session_records; /* sessions that ended without a transaction */
	uint64_t commands;
	uint64_t cmd_helo, cmd_ehlo, cmd_auth, cmd_mail, cmd_rcpt, cmd_data, cmd_bdat;
	uint64_t cmd_rset, cmd_noop, cmd_vrfy, cmd_expn, cmd_starttls, cmd_quit;
	uint64_t cmd_unknown;
	uint64_t replies;
	union {
		struct {
			uint64_t replies_2xx, replies_3xx, replies_4xx, replies_5xx;
		};
		uint64_t replies_class[4]; /* by the code's first digit less 2 */
	};
	uint64_t replies_bad;
	uint64_t replies_unmatched; /* a reply with no command waiting */
	uint64_t pipeline_overflow; /* more commands in flight than the queue holds */
	uint64_t line_too_long;	    /* lines cut at max_line */
	uint64_t bare_lf;	    /* lines ended by LF alone */
	uint64_t nul_bytes;	    /* lines holding NUL */
	uint64_t auth_attempts, auth_success, auth_failure;
	uint64_t auth_bad_base64;
	uint64_t messages; /* DATA/BDAT content completed */
	uint64_t message_bytes;
	uint64_t recipients;
	uint64_t tls_sessions;
	uint64_t tls_hellos;	   /* ClientHellos parsed */
	uint64_t gaps;		   /* stream gaps the parser resynced after */
	uint64_t tx_truncated;	   /* records with a value or list cut */
	uint64_t header_truncated; /* messages whose headers passed max_header_bytes */
	uint64_t events_dropped;   /* event ring full */
	uint64_t tx_no_slot;	   /* transaction pool empty: transaction not recorded */
	uint64_t buf_no_slot;	   /* line, reply queue, message, ClientHello or AUTH pool empty */
	uint64_t lines_skipped;	   /* client lines not taken as commands (mid-stream, gap) */
	/* The string arena (HELO, banner, last reply), at housekeeping: slot bytes
	 * held, a value shared by sessions once (gauge), and values that found an
	 * equal one to share. */
	uint64_t string_bytes;
	uint64_t strings_shared;
};

struct smtp_ctx;

void smtp_cfg_default(struct smtp_cfg *cfg);
int smtp_ctx_create(const struct smtp_cfg *cfg, struct event_sink *sink, struct smtp_ctx **out);
void smtp_ctx_destroy(struct smtp_ctx *ctx);

/* The l7_ops to hand to the worker, with the ctx as its context. */
extern const struct l7_ops smtp_l7_ops;

/* Any thread: last published counters. */
void smtp_ctx_stats_read(struct smtp_ctx *ctx, struct smtp_stats *out);
size_t smtp_ctx_mem_bytes(const struct smtp_ctx *ctx);
/* Bytes one idle session costs in its pool, free-index entry included
 * (reported with bytes per flow). */
size_t smtp_session_size(void);
/*
 * The string arena's share of a session (HELO, banner, last reply; equal
 * values of all sessions share one slot): at the fullest the session pool
 * has been, the sessions in use and the bytes their strings took, each
 * shared value once, with those sessions' share of the interning table.
 * The worker's thread, or after it stopped: not published.
 */
void smtp_ctx_str_held(const struct smtp_ctx *ctx, uint64_t *sessions, uint64_t *bytes);

#endif /* RELAYWATCH_SENSOR_SMTP_SESSION_H */
