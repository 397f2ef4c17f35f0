/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smtp_session internals shared by smtp_session.c (config, pools, the end of
 * a session, bytes, l7 ops, the context), smtp_session_ev.c (carried values,
 * events, records), smtp_session_data.c (signatures, DATA and BDAT),
 * smtp_session_tls.c, smtp_session_cmd.c (AUTH, commands, probing) and
 * smtp_session_reply.c (the reply queue, replies). Not for other modules;
 * the layout is told at the top of smtp_session.c.
 */
#ifndef RELAYWATCH_SENSOR_SMTP_SESSION_INT_H
#define RELAYWATCH_SENSOR_SMTP_SESSION_INT_H

#include "sensor/smtp_session.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/pool.h"
#include "common/stats.h"
#include "common/strarena.h"
#include "sensor/privacy.h"
#include "sensor/smtp_auth.h"
#include "sensor/smtp_cmd.h"
#include "sensor/smtp_hdr.h"
#include "sensor/smtp_line.h"
#include "sensor/sigs.h"
#include "sensor/smtp_msg.h"
#include "sensor/rfc2047.h"
#include "sensor/tls_hello.h"

#define SMTP_TLS_BUF	    4096 /* ClientHello bytes collected at most */
#define SMTP_PROBE_LINE_MAX 1024 /* first line of a probed flow, at most */
#define SMTP_PIPELINE_CAP   255	 /* queue index is a byte */
#define SMTP_Q_INLINE	    6	 /* replies awaited in the session itself */
#define SMTP_CARRY_USER	    56	 /* AUTH user kept, in struct smtp_ext */
#define SMTP_CARRY_MECH	    20	 /* AUTH mechanism kept, after the user */
#define SMTP_CARRY_AUTH	    (SMTP_CARRY_USER + SMTP_CARRY_MECH)
#define SMTP_LAST_MAX	    56 /* last reply text kept for a session record */
#define SMTP_TX_LAST_MAX    EVENT_TEXT_MAX
/* s->last_code: the code in the low bits; above them the generation of the
 * transaction whose last[] holds the reply's text (0: the text is at
 * STR_LAST, or not kept; smtp_session_reply.c tells when). */
#define SMTP_LAST_CODE_MASK 0x3ffu
#define SMTP_LAST_GEN_SHIFT 13

/* Reply queue entry: the command (enum event_cmd), a flag, the transaction
 * generation it belongs to and the recipient index for RCPT. */
#define SMTP_Q_FLAG    0x20u /* BDAT: LAST; AUTH: a response line, not the command */
#define SMTP_Q_NO_RCPT 0x7fu
#define SMTP_Q_MAKE(cmd, flag, gen, rcpt)                                                          \
	((uint16_t)((cmd) | ((flag) ? SMTP_Q_FLAG : 0) | ((gen)&7u) << 6 | (rcpt) << 9))
#define SMTP_Q_CMD(e)  ((e)&0x1fu)
#define SMTP_Q_GEN(e)  (((e) >> 6) & 7u)
#define SMTP_Q_RCPT(e) ((e) >> 9)

/* Session flags */
#define S_CONFIRMED    (1u << 0) /* SMTP for sure: not probing any more */
#define S_FINISHED     (1u << 1) /* records emitted, resources returned */
#define S_MIDSTREAM    (1u << 2)
#define S_UNSURE       (1u << 3) /* position unknown (mid-stream, gap): strict commands only */
#define S_BANNER       (1u << 4)
#define S_ESMTP	       (1u << 5)
#define S_TLS	       (1u << 6)
#define S_IMPLICIT_TLS (1u << 7)
#define S_PROXY	       (1u << 8)
#define S_AUTH_OK      (1u << 9)
#define S_AUTH_OPEN    (1u << 10) /* AUTH exchange without its final reply yet */
#define S_AUTH_CHAL    (1u << 11) /* a 334 came: the next client line is a response */
#define S_DATA_WAIT    (1u << 12) /* DATA sent, no reply yet */
#define S_BYTES_C      (1u << 13) /* the client sent bytes */
#define S_BYTES_S      (1u << 14) /* the server sent bytes */
#define S_BDAT_LAST    (1u << 15)
#define S_TEXT	       (1u << 16) /* gathering a multi-line reply's text in aux */
#define S_OPENED       (1u << 17) /* EV_SESSION_OPEN sent */
#define S_CARRY_CUT    (1u << 18)
#define S_GAP	       (1u << 19)
#define S_PIPELINED    (1u << 20)
#define S_RMATCHED     (1u << 21) /* the reply in progress answers the queue head */
#define S_NOT_SMTP     (1u << 22) /* probed and refused: the slot goes back to the pool */
#define S_HELLO_OUT    (1u << 23) /* a record carries the ClientHello facts */
#define S_BYPASS       (1u << 24) /* TLS: nothing more to parse; records wait for close */
#define S_STR_SAMPLED  (1u << 25) /* went by the arena figures' sample point once */
#define S_DONE	       (S_FINISHED | S_BYPASS)
/* Not flags: two small values in the flags word's last six bits, a byte the
 * session would spend on them otherwise (smtp_gen(), smtp_auth_result()). */
#define S_GEN_SHIFT   26 /* generation of the last transaction started (1..7) */
#define S_GEN_MASK    (7u << S_GEN_SHIFT)
#define S_AUTHR_SHIFT 29 /* enum smtp_auth_result of the last finished exchange */
#define S_AUTHR_MASK  (7u << S_AUTHR_SHIFT)

enum smtp_mode {
	M_CMD = 0,    /* client lines are commands */
	M_DATA,	      /* DATA content until CRLF.CRLF */
	M_BDAT,	      /* BDAT chunk octets */
	M_TLS_WAIT,   /* TLS starts: the first client byte says whether it really does */
	M_TLS,	      /* collecting the ClientHello */
	M_PROXY_HDRS, /* HTTP CONNECT request headers */
	M_IGNORE,
};

enum smtp_srv {
	SRV_LINES = 0,	  /* replies */
	SRV_PROXY_STATUS, /* waiting for "HTTP/1.x 200" */
	SRV_PROXY_HDRS,
	SRV_IGNORE,
};

/* DATA terminator scanner: where we are relative to a line start. */
enum smtp_dstate {
	D_BOL = 0, /* at the start of a line */
	D_MID,
	D_DOT,	  /* "." at the start of a line */
	D_DOT_CR, /* ".\r" at the start of a line (the CR not handed on yet) */
};

enum smtp_carry { C_HELO = 0, C_USER, C_MECH, C_BANNER, C_COUNT };

/* Counts of rare commands, in struct smtp_ext: unknown, AUTH, AUTH failed. */
enum smtp_ext_cnt { X_UNKNOWN = 0, X_AUTH, X_AUTH_FAIL, X_COUNT };

/* The session's strings in the worker's string arena (handles in s->str). */
enum smtp_sess_str { STR_HELO = 0, STR_BANNER, STR_LAST, STR_COUNT };

/* A transaction record in flight, from the tx pool. */
struct smtp_txs {
	struct smtp_tx tx;
	/* The content parser while its message is fed: only the current
	 * transaction (s->tx) has one, so it waits here, not in every session. */
	struct smtp_msgbox *msg;
	uint8_t gen;
	uint16_t last_len;
	char last[SMTP_TX_LAST_MAX]; /* "code text" of its last reply */
};

/* Line assembly and reply text, from the aux pool while needed; and the
 * chunk count of BDAT, held while a chunk is read (M_BDAT): few sessions
 * are in a chunk at once, every session would carry it otherwise. */
struct smtp_aux {
	uint64_t bdat_left; /* a BDAT size may take 64 bits (smtp_cmd.c) */
	uint16_t text_len;
	char text[EVENT_TEXT_MAX];
	uint8_t line[]; /* 2 * max_line: one per direction */
};

#define SMTP_BODY_BATCH 4096 /* decoded body bytes scanned in one Hyperscan stream call */

/* The message parser of one message, from the msg pool, with what its
 * callbacks need to scan signatures and emit their events. */
struct smtp_msgbox {
	struct smtp_ctx *ctx;
	struct smtp_sess *s;
	struct sigs_stream *body;
	uint64_t ts; /* packet time of the bytes being fed */
	/* Decoded body bytes around a match, whatever the pieces were: the
	 * evidence of an EV_SIG must not depend on segment boundaries. */
	uint64_t body_off;  /* decoded bytes fed before cur */
	const uint8_t *cur; /* the piece being scanned */
	size_t cur_len;
	uint8_t tail_len;
	uint8_t tail[SIGS_CTX_MAX];	/* the bytes just before cur */
	_Alignas(16) unsigned char m[]; /* struct smtp_msg, smtp_msg_size() bytes */
};

#define SMTP_MSG(box) ((struct smtp_msg *)(void *)(box)->m)

/*
 * What AUTH carries into every later record, the counts of rare commands,
 * and where the ClientHello is collected: from the auth pool at the first
 * AUTH, unknown command or ClientHello byte; back at the bypass or the end
 * when it holds no count (smtp_tls_put()), else with the session slot, as
 * EV_SESSION_CLOSE reads the counts after the end. All are rare and the
 * session keeps one reference to them (issue 6: bytes per flow). The pool
 * has one object for two sessions (smtp_ctx_create()): one a session would
 * cost more than the 16 bytes each session saves. A session that finds it
 * empty loses what it would have put here (the AUTH values and counts, the
 * unknown command count: the records say 0; AUTH results are read from the
 * reply code as if the exchange had no state) and buf_no_slot counts each
 * loss; a TLS session loses its ClientHello facts as when the tls pool is
 * empty.
 */
struct smtp_ext {
	uint32_t tls : 20;     /* struct smtp_tlsbuf: pool index + 1 (0: none) */
	uint32_t user_len : 6; /* of C_USER */
	uint32_t mech_len : 6; /* of C_MECH */
	uint16_t n[X_COUNT];   /* enum smtp_ext_cnt: for the records, as smtp_count() */
	struct smtp_auth auth; /* the exchange's state */
	char carry[SMTP_CARRY_AUTH];
};

_Static_assert(sizeof(struct smtp_ext) <= 96, "one for two sessions: keep the 96-byte stride");
_Static_assert(SMTP_SESSIONS_MAX / 16 < (1u << 20) && SMTP_CARRY_USER < 64 && SMTP_CARRY_MECH < 64,
	       "the tls reference (a pool of max_sessions / 16) and the lengths fit their bits");

struct smtp_tlsbuf {
	struct tls_hello hello;
	bool parsed;
	uint16_t len;
	uint8_t bytes[SMTP_TLS_BUF];
};

/*
 * 64 bytes: 4-byte words and 2-byte counts, so nothing pads. The pool
 * objects a session holds are pool index + 1 (0: none) in bit fields as
 * wide as the biggest pool needs (SMTP_SESSIONS_MAX: tx 1/2, aux 1/4, ext
 * 1/2), with the small state values in the bits left over; the fields read
 * most (q_head, q_len) are whole bytes at the top of their word. No pointer
 * to the flow (every l7 hook gets it), no uid (made where events are read),
 * no BDAT count (in aux while a chunk is read), no AUTH reply code (its
 * EV_AUTH is made with the reply at hand), no AUTH state nor counts of AUTH
 * and unknown commands (in ext: few sessions have any).
 */
struct smtp_sess {
	uint32_t flags; /* S_*, and the generation and AUTH result (S_GEN_*, S_AUTHR_*) */
	/* HELO, banner and the last reply (for a session record) as strarena
	 * handles: nearly every session has them, but they are mostly far
	 * shorter than their caps (68, 48, 56), which the session used to hold
	 * inline (172 bytes); the arena slot costs what the value needs. */
	uint32_t str[STR_COUNT];
	/* Commands awaiting replies. Most sessions have a few in flight, a
	 * pipelining client one per recipient: a session that needs more than
	 * the inline entries takes a queue of max_pipeline entries from the queue
	 * pool and gives it back when no reply is awaited any more. */
	union {
		uint16_t in[SMTP_Q_INLINE];
		uint32_t big; /* index in the queue pool, while q_big */
	} q;
	struct smtp_line_buf lb[2]; /* indexed by enum flow_dir */
	uint32_t tx : 22;	    /* struct smtp_txs: the current transaction */
	uint32_t rcode : 10;	    /* code of the multi-line reply in progress */
	uint32_t tx_wait : 22; /* struct smtp_txs: message ended, its final reply not seen yet */
	uint32_t srv : 2;      /* enum smtp_srv */
	uint32_t rcmd : 5;     /* enum event_cmd the reply in progress answers */
	uint32_t mode : 3;     /* enum smtp_mode (client direction) */
	uint32_t aux : 21;     /* struct smtp_aux, while a line or reply text needs it */
	uint32_t dstate : 2;   /* enum smtp_dstate */
	uint32_t q_big : 1;    /* q.big is held: the queue holds max_pipeline (smtp_q_cap()) */
	uint32_t q_head : 8;
	uint32_t ext : 23; /* struct smtp_ext: rare counts, AUTH values, the ClientHello buffer */
	uint32_t : 1;
	uint32_t q_len : 8;
	/* Counts for the records; they stop at UINT16_MAX (smtp_count()), they
	 * do not wrap: a session of 65 536 commands is rare enough to be worth
	 * the 16 bytes every session saves. */
	uint16_t msgs_done; /* messages answered: trans_depth is this + 1 (Zeek) */
	uint16_t n_tx;	    /* transaction records emitted */
	uint16_t n_cmd, n_rcpt, n_rcpt_rej;
	uint16_t last_code;
};

/*
 * All of an idle session (smtp_session_size()): every tracked SMTP flow has
 * one from its first packet, so each byte here is max_sessions bytes per
 * worker and counts in the bytes per flow of issue 6 (goal: 256 in all).
 * pool.c rounds objects to 16 bytes: one byte past 64 costs 16 a session
 * (bytes per flow on syn-flood: 264 with 64, 280 with 80).
 */
_Static_assert(sizeof(struct smtp_sess) <= 64,
	       "struct smtp_sess grew past a 64-byte pool stride: say why");
_Static_assert(SMTP_AUTH_UNKNOWN <= (S_AUTHR_MASK >> S_AUTHR_SHIFT),
	       "the AUTH result must fit its bits");
_Static_assert(SMTP_SESSIONS_MAX / 2 < (1u << 22) && SMTP_SESSIONS_MAX / 4 < (1u << 21) &&
		       SMTP_SESSIONS_MAX < (1u << 23),
	       "pool references (index + 1 of pools of max_sessions / 2, / 4, / 2) fit their bits");
_Static_assert(M_IGNORE < 8 && SRV_IGNORE < 4 && D_DOT_CR < 4 && EV_CMD_OTHER < 32 &&
		       SMTP_PIPELINE_CAP < 256 && SMTP_LAST_CODE_MASK < 1024,
	       "the state values fit their bits");

struct smtp_ctx {
	struct smtp_cfg cfg;
	struct event_sink *sink;
	/* The flow of the l7 hook running now (set at each hook's entry): the
	 * worker hands it to every call, so no session keeps a pointer to it. */
	const struct flow *f;
	struct smtp_msg_cfg msg_cfg;
	struct pool sess_pool, tx_pool, aux_pool, msg_pool, tls_pool, auth_pool, q_pool;
	struct strarena *str;	    /* the sessions' strings (enum smtp_sess_str) */
	struct smtp_auth auth_none; /* smtp_auth_state() without ext: blank at each use */
	/* Entries the reply queue holds (smtp_q_cap()): inline, and while
	 * q.big is held; a load rather than a choice at every push and pop. */
	uint8_t q_cap[2];
	/* The arena at the fullest the session pool was (smtp_str_release()):
	 * sessions in use and the bytes of the arena's slots in use. */
	uint64_t str_sessions, str_held_bytes;
	struct sigs_worker *sigw; /* NULL: no signatures */
	struct smtp_tx *ptx;	  /* cfg.privacy: the pseudonymised copy of a leaving record */
	struct smtp_stats st;
	/* Decoded body pieces of the message being fed, scanned together: a
	 * Hyperscan stream call per line costs more than the line. Empty between
	 * smtp_msg calls (the sink's fed hook), so one per worker is enough. */
	uint32_t batch_len;
	uint8_t batch[SMTP_BODY_BATCH];
	_Alignas(64) STATS_MIRROR(smtp_stats);
};

/*
 * The pool objects of a session. The transaction pool's stride is known at
 * compile time (pool.c rounds sizes up to 16 bytes; smtp_ctx_create()
 * checks it), which spares a multiplication by a loaded size at every use.
 */
#define SMTP_TXS_STRIDE ((sizeof(struct smtp_txs) + 15) & ~(size_t)15)

static inline struct smtp_txs *smtp_txs_at(const struct smtp_ctx *ctx, uint32_t i)
{
	return i ? (struct smtp_txs *)(void *)(ctx->tx_pool.mem + (size_t)(i - 1) * SMTP_TXS_STRIDE)
		 : NULL;
}

static inline uint32_t smtp_txs_ref(const struct smtp_ctx *ctx, const struct smtp_txs *t)
{
	return t ? (uint32_t)(((const uint8_t *)t - ctx->tx_pool.mem) / SMTP_TXS_STRIDE) + 1 : 0;
}

static inline struct smtp_txs *smtp_tx_of(const struct smtp_ctx *ctx, const struct smtp_sess *s)
{
	return smtp_txs_at(ctx, s->tx);
}

static inline struct smtp_txs *smtp_tx_wait_of(const struct smtp_ctx *ctx,
					       const struct smtp_sess *s)
{
	return smtp_txs_at(ctx, s->tx_wait);
}

static inline unsigned int smtp_gen(const struct smtp_sess *s)
{
	return (s->flags & S_GEN_MASK) >> S_GEN_SHIFT;
}

static inline enum smtp_auth_result smtp_auth_result(const struct smtp_sess *s)
{
	return (enum smtp_auth_result)((s->flags & S_AUTHR_MASK) >> S_AUTHR_SHIFT);
}

static inline void smtp_auth_result_set(struct smtp_sess *s, enum smtp_auth_result r)
{
	s->flags = (s->flags & ~S_AUTHR_MASK) | (uint32_t)r << S_AUTHR_SHIFT;
}

static inline struct smtp_aux *smtp_aux_of(const struct smtp_ctx *ctx, const struct smtp_sess *s)
{
	return s->aux ? pool_at(&ctx->aux_pool, s->aux - 1) : NULL;
}

#define SMTP_PSEUDO_MAX (PRIVACY_INPUT_MAX + 64)

static inline struct smtp_ext *smtp_ext_of(const struct smtp_ctx *ctx, const struct smtp_sess *s)
{
	return s->ext ? pool_at(&ctx->auth_pool, s->ext - 1) : NULL;
}

/* A rare count of the session (0 without ext). */
static inline uint16_t smtp_ext_n(const struct smtp_ctx *ctx, const struct smtp_sess *s,
				  enum smtp_ext_cnt i)
{
	const struct smtp_ext *x = smtp_ext_of(ctx, s);

	return x ? x->n[i] : 0;
}

/* The AUTH exchange's state, in ext; without ext (the pool was dry, which
 * smtp_ext_get() counted) a blank one that nothing keeps. */
static inline struct smtp_auth *smtp_auth_state(struct smtp_ctx *ctx, const struct smtp_sess *s)
{
	struct smtp_ext *x = smtp_ext_of(ctx, s);

	if (x)
		return &x->auth;
	ctx->auth_none = (struct smtp_auth){0};
	return &ctx->auth_none;
}

static inline struct smtp_tlsbuf *smtp_tls_of(const struct smtp_ctx *ctx, const struct smtp_sess *s)
{
	const struct smtp_ext *x = smtp_ext_of(ctx, s);

	return x && x->tls ? pool_at(&ctx->tls_pool, x->tls - 1) : NULL;
}

static inline void smtp_count(uint16_t *c, bool one_more)
{
	*c = (uint16_t)(*c + (one_more && *c != UINT16_MAX));
}

static inline uint32_t smtp_depth(const struct smtp_sess *s)
{
	return s->msgs_done + 1;
}

/* The line assembly space of one direction, in aux: NULL without aux. */
static inline uint8_t *smtp_line_space(const struct smtp_ctx *ctx, const struct smtp_sess *s,
				       enum flow_dir dir)
{
	return s->aux ? smtp_aux_of(ctx, s)->line + (size_t)dir * ctx->cfg.max_line : NULL;
}

static inline uint8_t smtp_q_inline_cap(const struct smtp_ctx *ctx)
{
	return (uint8_t)(ctx->cfg.max_pipeline < SMTP_Q_INLINE ? ctx->cfg.max_pipeline
							       : SMTP_Q_INLINE);
}

/* Entries the reply queue holds now: inline, or a deep queue's. */
static inline unsigned int smtp_q_cap(const struct smtp_ctx *ctx, const struct smtp_sess *s)
{
	return ctx->q_cap[s->q_big];
}

/* The content parser of the current transaction, if its message is being fed. */
static inline struct smtp_msgbox *smtp_msgbox_of(const struct smtp_ctx *ctx,
						 const struct smtp_sess *s)
{
	return s->tx ? smtp_tx_of(ctx, s)->msg : NULL;
}

static inline bool smtp_tx_empty(const struct smtp_tx *tx)
{
	return !smtp_tx_has(tx, SMTP_F_MAILFROM) && tx->n_rcpt == 0 &&
	       !(tx->flags & (SMTP_TX_F_BOUNCE | SMTP_TX_F_DATA));
}

/* smtp_session.c */
struct smtp_aux *smtp_aux_get(struct smtp_ctx *ctx, struct smtp_sess *s);
void smtp_line_wipe_client(const struct smtp_ctx *ctx, struct smtp_sess *s);
void smtp_release(struct smtp_ctx *ctx, struct smtp_sess *s);

/* smtp_session_ev.c */
struct smtp_ext *smtp_ext_get(struct smtp_ctx *ctx, struct smtp_sess *s);
void smtp_ext_count(struct smtp_ctx *ctx, struct smtp_sess *s, enum smtp_ext_cnt i);
void smtp_tls_put(struct smtp_ctx *ctx, struct smtp_sess *s);
bool smtp_str_set(struct smtp_ctx *ctx, struct smtp_sess *s, enum smtp_sess_str i, const void *p,
		  size_t n);
void smtp_str_release(struct smtp_ctx *ctx, struct smtp_sess *s);
void smtp_carry_set(struct smtp_ctx *ctx, struct smtp_sess *s, enum smtp_carry c, const void *p,
		    size_t n);
size_t smtp_pseudo(const struct smtp_ctx *ctx, const void *in, size_t n, bool user,
		   const void **out, char buf[SMTP_PSEUDO_MAX]);
uint16_t smtp_ev_text(const struct smtp_ctx *ctx, char *dst, size_t cap, const void *src, size_t n);
void *smtp_ev_begin(struct smtp_ctx *ctx, enum event_type t, uint32_t len, uint64_t ts);
void smtp_ev_open(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts);
void smtp_ev_banner(struct smtp_ctx *ctx, struct smtp_sess *s, uint16_t code, const void *text,
		    size_t n, uint64_t ts);
void smtp_ev_auth(struct smtp_ctx *ctx, struct smtp_sess *s, uint16_t code, uint64_t ts);
void smtp_ev_rcpt(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_tx *tx,
		  const struct smtp_rcpt *r, const void *text, size_t n, uint64_t ts);
void smtp_ev_reply(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_reply *r,
		   uint8_t cmd, const void *text, size_t n, uint64_t ts);
void smtp_ev_close(struct smtp_ctx *ctx, struct smtp_sess *s, const struct flow *f,
		   enum flow_end why, uint64_t ts);
struct smtp_txs *smtp_tx_begin(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts);
void smtp_msg_stop(struct smtp_ctx *ctx, struct smtp_sess *s);
void smtp_tx_hello(struct smtp_sess *s, struct smtp_tx *tx, const struct tls_hello *h);
void smtp_tx_emit(struct smtp_ctx *ctx, struct smtp_sess *s, struct smtp_txs *t, bool answered,
		  uint64_t ts);
void smtp_tx_emit_open(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts);
void smtp_code_head(uint16_t code, char head[4]);
size_t smtp_fmt_reply(char *dst, size_t cap, const char head[4], const uint8_t *text, size_t n);
struct smtp_txs *smtp_session_tx(struct smtp_ctx *ctx, struct smtp_sess *s);
void smtp_session_record(struct smtp_ctx *ctx, struct smtp_sess *s, struct smtp_txs *t,
			 uint64_t ts);

/* smtp_session_data.c */
void smtp_sig_line(struct smtp_ctx *ctx, struct smtp_sess *s, enum event_sig_scope scope,
		   const uint8_t *p, size_t n, uint16_t code, uint64_t ts);
void smtp_msg_start(struct smtp_ctx *ctx, struct smtp_sess *s, uint32_t kind, uint64_t ts);
void smtp_data_end(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts);
size_t smtp_data_bytes(struct smtp_ctx *ctx, struct smtp_sess *s, const uint8_t *p, size_t n,
		       uint64_t ts);
void smtp_data_begin(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts);
void smtp_bdat_chunk_end(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts);
size_t smtp_bdat_bytes(struct smtp_ctx *ctx, struct smtp_sess *s, const uint8_t *p, size_t n,
		       uint64_t ts);

/* smtp_session_tls.c */
void smtp_tls_done(struct smtp_ctx *ctx, struct smtp_sess *s);
size_t smtp_tls_bytes(struct smtp_ctx *ctx, struct smtp_sess *s, const uint8_t *p, size_t n,
		      uint64_t ts);
void smtp_tls_wait(struct smtp_ctx *ctx, struct smtp_sess *s, uint8_t first);
void smtp_starttls(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_reply *r,
		   uint64_t ts);

/* smtp_session_cmd.c */
void smtp_auth_finish(struct smtp_ctx *ctx, struct smtp_sess *s, uint16_t code, uint64_t ts);
void smtp_cmd_bdat(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_cmd *c,
		   uint64_t ts);
void smtp_confirm(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts);
void smtp_not_smtp(struct smtp_ctx *ctx, struct smtp_sess *s);
void smtp_proxy_status(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_line *l);
void smtp_proxy_up(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts);
void smtp_probe_server(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_line *l,
		       uint64_t ts);
void smtp_client_line(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_line *l,
		      uint64_t ts);

/* smtp_session_reply.c */
void smtp_q_empty(struct smtp_ctx *ctx, struct smtp_sess *s);
void smtp_q_push(struct smtp_ctx *ctx, struct smtp_sess *s, uint8_t cmd, bool flag,
		 unsigned int rcpt);
void smtp_reply_last(struct smtp_ctx *ctx, struct smtp_sess *s, struct smtp_txs *t,
		     const struct smtp_reply *r);
void smtp_last_keep(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_reply *r);
void smtp_last_gone(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_txs *t);
uint16_t smtp_last_text(const struct smtp_ctx *ctx, const struct smtp_sess *s,
			char buf[SMTP_LAST_MAX], size_t *n);
void smtp_server_line(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_line *l,
		      uint64_t ts);

#endif
