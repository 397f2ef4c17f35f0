// SPDX-License-Identifier: BSD-3-Clause
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

/*
 * Memory. An idle session is the small struct smtp_sess, with room for a
 * few awaited replies. Everything big is taken from a pool when needed and
 * given back as soon as it is not: line assembly and multi-line reply text
 * (aux, only while a line spans segments or an error reply spans lines), a
 * deep reply queue (while more commands await replies than the session
 * holds), the transaction record (MAIL .. its EV_TX), the message parser
 * (DATA/BDAT content), the ClientHello buffer (STARTTLS .. bypass), the AUTH
 * user and mechanism (AUTH .. end of session; with the ClientHello buffer's
 * reference, in one struct smtp_ext). A pool running dry costs
 * detail, never correctness of the state machine, and is counted. Pool
 * sizes, of max_sessions: records and AUTH values 1/2, message parsers and
 * line buffers 1/4, deep reply queues 1/8, ClientHello buffers 1/16 (default
 * config: 160 bytes per idle session). HELO, banner and last reply are in a
 * string arena, in slots as big as each value needs (smtp_str_create()).
 */
#define SMTP_TLS_BUF	    4096 /* ClientHello bytes collected at most */
#define SMTP_PROBE_LINE_MAX 1024 /* first line of a probed flow, at most */
#define SMTP_PIPELINE_CAP   255	 /* queue index is a byte */
#define SMTP_Q_INLINE	    6	 /* replies awaited in the session itself */
#define SMTP_CARRY_AUTH	    76	 /* AUTH user and mechanism, in struct smtp_ext */
#define SMTP_LAST_MAX	    56	 /* last reply text kept for a session record */
#define SMTP_TX_LAST_MAX    EVENT_TEXT_MAX

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
 * What AUTH carries into every later record, and where the ClientHello is
 * collected: from the auth pool at AUTH or at the first ClientHello byte,
 * back when neither is held. Both are rare and the session keeps one
 * reference to them (issue 6: bytes per flow); a TLS session that finds the
 * pool empty loses its ClientHello facts as when the tls pool is empty
 * (buf_no_slot), never the AUTH counts, which stay in the session.
 */
struct smtp_ext {
	uint32_t tls : 20;     /* struct smtp_tlsbuf: pool index + 1 (0: none) */
	uint32_t user_len : 6; /* of C_USER */
	uint32_t mech_len : 6; /* of C_MECH */
	char carry[SMTP_CARRY_AUTH];
};

_Static_assert(sizeof(struct smtp_ext) <= 80, "one per AUTH session: keep the 80-byte stride");
_Static_assert(SMTP_SESSIONS_MAX / 16 < (1u << 20) && 56 < 64 && 20 < 64,
	       "the tls reference (a pool of max_sessions / 16) and the lengths fit their bits");

struct smtp_tlsbuf {
	struct tls_hello hello;
	bool parsed;
	uint16_t len;
	uint8_t bytes[SMTP_TLS_BUF];
};

/*
 * Widest first, so nothing pads: 4/2/1-byte fields. The pool objects a
 * session holds are pool index + 1 (0: none), half a pointer. No pointer to
 * the flow (every l7 hook gets it), no uid (made where events are read), no
 * BDAT count (in aux while a chunk is read), no AUTH reply code (its EV_AUTH
 * is made with the reply at hand).
 */
struct smtp_sess {
	uint32_t aux;	  /* struct smtp_aux, while a line or reply text needs it */
	uint32_t tx;	  /* struct smtp_txs: the current transaction */
	uint32_t tx_wait; /* struct smtp_txs: message ended, its final reply not seen yet */
	uint32_t ext;	  /* struct smtp_ext: C_USER, C_MECH, the ClientHello buffer */
	uint32_t flags;	  /* S_*, and the generation and AUTH result (S_GEN_*, S_AUTHR_*) */
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
		uint32_t big; /* index in the queue pool, while q_cap > SMTP_Q_INLINE */
	} q;
	struct smtp_line_buf lb[2]; /* indexed by enum flow_dir */
	/* Counts for the records; they stop at UINT16_MAX (smtp_count()), they
	 * do not wrap: a session of 65 536 commands is rare enough to be worth
	 * the 16 bytes every session saves. */
	uint16_t msgs_done; /* messages answered: trans_depth is this + 1 (Zeek) */
	uint16_t n_tx;	    /* transaction records emitted */
	uint16_t n_cmd, n_unknown, n_auth, n_auth_fail, n_rcpt, n_rcpt_rej;
	uint16_t rcode; /* code of the multi-line reply in progress */
	uint16_t last_code;
	uint8_t mode;	/* enum smtp_mode (client direction) */
	uint8_t srv;	/* enum smtp_srv */
	uint8_t dstate; /* enum smtp_dstate */
	uint8_t rcmd;	/* enum event_cmd the reply in progress answers */
	uint8_t q_head, q_len;
	uint8_t q_cap; /* SMTP_Q_INLINE (or less), or max_pipeline while q.big is held */
	struct smtp_auth auth;
};

/*
 * All of an idle session (smtp_session_size()): every tracked SMTP flow has
 * one from its first packet, so each byte here is max_sessions bytes per
 * worker and counts in the bytes per flow of issue 6 (goal: 256 in all).
 * pool.c rounds objects to 16 bytes: one byte past 80 costs 16 a session
 * (bytes per flow on smtp-heavy: 253 with 80, 269 with 92).
 */
_Static_assert(sizeof(struct smtp_sess) <= 80,
	       "struct smtp_sess grew past an 80-byte pool stride: say why");
_Static_assert(SMTP_AUTH_UNKNOWN <= (S_AUTHR_MASK >> S_AUTHR_SHIFT),
	       "the AUTH result must fit its bits");

struct smtp_ctx {
	struct smtp_cfg cfg;
	struct event_sink *sink;
	/* The flow of the l7 hook running now (set at each hook's entry): the
	 * worker hands it to every call, so no session keeps a pointer to it. */
	const struct flow *f;
	struct smtp_msg_cfg msg_cfg;
	struct pool sess_pool, tx_pool, aux_pool, msg_pool, tls_pool, auth_pool, q_pool;
	struct strarena *str; /* the sessions' strings (enum smtp_sess_str) */
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

_Static_assert(sizeof(struct smtp_stats) % sizeof(uint64_t) == 0,
	       "smtp_stats must be made of uint64_t");
_Static_assert(EV_CMD_OTHER < 32, "event_cmd must fit the queue entry");
_Static_assert(SMTP_TX_MAX_RCPT < SMTP_Q_NO_RCPT, "recipient index must fit the queue entry");

static void smtp_client_bytes(struct smtp_ctx *ctx, struct smtp_sess *s, const uint8_t *p,
			      const uint8_t *end, uint64_t ts);
static void smtp_server_bytes(struct smtp_ctx *ctx, struct smtp_sess *s, const uint8_t *p,
			      const uint8_t *end, uint64_t ts);

/* ------------------------------------------------------------------ config */

void smtp_cfg_default(struct smtp_cfg *cfg)
{
	*cfg = (struct smtp_cfg){
		.max_sessions = 16384,
		.max_line = 2048,
		.max_header_bytes = 64 * 1024,
		.max_pipeline = 64,
		.smtp_ports = NULL, /* NULL: 25, 587, 2525 */
		.tls_ports = NULL,  /* NULL: 465 */
		.detect_any_port = true,
		.keep_subject = true,
		.sigs = NULL,
	};
}

static bool smtp_port_in(const uint8_t *map, uint16_t port, bool tls)
{
	if (map)
		return map[port >> 3] & (1u << (port & 7));
	return tls ? port == 465 : (port == 25 || port == 587 || port == 2525);
}

/* ------------------------------------------------------------------ carry */

/*
 * Where each carried value lives and the bytes it may keep, so none squeezes
 * another. HELO and banner are in nearly every session; AUTH values only in
 * sessions that authenticate, so they wait in the auth pool, not here.
 */
static const struct {
	uint8_t off, cap;
	bool auth; /* in struct smtp_ext, else in the arena at s->str[str] */
	uint8_t str;
} smtp_carry_at[C_COUNT] = {
	[C_HELO] = {0, 68, false, STR_HELO},
	[C_BANNER] = {0, 48, false, STR_BANNER},
	[C_USER] = {0, 56, true, 0},
	[C_MECH] = {56, 20, true, 0},
};

_Static_assert(56 + 20 == SMTP_CARRY_AUTH, "carry caps fill");
_Static_assert(68 <= STRARENA_MAX && 48 <= STRARENA_MAX && SMTP_LAST_MAX <= STRARENA_MAX,
	       "arena slots hold the carry caps");

static struct smtp_ext *smtp_ext_of(const struct smtp_ctx *ctx, const struct smtp_sess *s)
{
	return s->ext ? pool_at(&ctx->auth_pool, s->ext - 1) : NULL;
}

/* The session's struct smtp_ext, taken empty if it has none; NULL: the pool is empty (counted). */
static struct smtp_ext *smtp_ext_get(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	struct smtp_ext *x = smtp_ext_of(ctx, s);

	if (x)
		return x;
	x = pool_get(&ctx->auth_pool);
	if (!x) {
		ctx->st.buf_no_slot++;
		return NULL;
	}
	s->ext = pool_index(&ctx->auth_pool, x) + 1;
	x->tls = 0;
	x->user_len = x->mech_len = 0;
	return x;
}

static struct smtp_tlsbuf *smtp_tls_of(const struct smtp_ctx *ctx, const struct smtp_sess *s)
{
	const struct smtp_ext *x = smtp_ext_of(ctx, s);

	return x && x->tls ? pool_at(&ctx->tls_pool, x->tls - 1) : NULL;
}

/* The ClientHello buffer goes back to its pool, if the session holds one;
 * struct smtp_ext too when it carries no AUTH value. */
static void smtp_tls_put(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	struct smtp_ext *x = smtp_ext_of(ctx, s);

	if (!x)
		return;
	if (x->tls) {
		pool_put(&ctx->tls_pool, smtp_tls_of(ctx, s));
		x->tls = 0;
	}
	if (!x->user_len && !x->mech_len) {
		pool_put(&ctx->auth_pool, x);
		s->ext = 0;
	}
}

static size_t smtp_ext_len(const struct smtp_ext *x, enum smtp_carry c)
{
	return c == C_USER ? x->user_len : x->mech_len;
}

static void smtp_ext_len_set(struct smtp_ext *x, enum smtp_carry c, size_t n)
{
	if (c == C_USER)
		x->user_len = n & 63u;
	else
		x->mech_len = n & 63u;
}

/* The value's length (0: none). HELO and banner: the arena keeps it. */
static size_t smtp_carry_len(const struct smtp_ctx *ctx, const struct smtp_sess *s,
			     enum smtp_carry c)
{
	const struct smtp_ext *x;

	if (!smtp_carry_at[c].auth)
		return strarena_len(ctx->str, s->str[smtp_carry_at[c].str]);
	x = smtp_ext_of(ctx, s);
	return x ? smtp_ext_len(x, c) : 0;
}

/* The value's bytes ("" when it has none). */
static const char *smtp_carry_get(const struct smtp_ctx *ctx, const struct smtp_sess *s,
				  enum smtp_carry c)
{
	if (!smtp_carry_len(ctx, s, c))
		return "";
	if (!smtp_carry_at[c].auth)
		return strarena_get(ctx->str, s->str[smtp_carry_at[c].str]);
	return smtp_ext_of(ctx, s)->carry + smtp_carry_at[c].off;
}

/*
 * n bytes of p as the session's string i (none for n == 0); false when the
 * arena had no slot (counted). Equal values of all sessions share a slot.
 */
static bool smtp_str_set(struct smtp_ctx *ctx, struct smtp_sess *s, enum smtp_sess_str i,
			 const void *p, size_t n)
{
	if (strarena_set(ctx->str, &s->str[i], p, n) != n) {
		ctx->st.buf_no_slot++;
		return false;
	}
	return true;
}

/*
 * The strings go back to the arena. Before they go, the arena figures are
 * sampled when the session pool is at its fullest so far (a local maximum
 * of sessions in use is always just before one ends): the bytes of the
 * slots in use then, a shared value once, over the sessions in use then.
 */
static void smtp_str_release(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	uint32_t in_use = pool_in_use(&ctx->sess_pool);

	/* Once a session: it releases again when its slot goes back. */
	if (!(s->flags & S_STR_SAMPLED) && in_use >= ctx->str_sessions) {
		ctx->str_sessions = in_use;
		ctx->str_held_bytes = strarena_stats(ctx->str)->held_bytes;
	}
	s->flags |= S_STR_SAMPLED;
	for (int i = 0; i < STR_COUNT; i++)
		strarena_put(ctx->str, &s->str[i]);
}

/* Session values every transaction record repeats. */
static void smtp_carry_set(struct smtp_ctx *ctx, struct smtp_sess *s, enum smtp_carry c,
			   const void *p, size_t n)
{
	struct smtp_ext *ax = NULL;

	if (!smtp_carry_at[c].auth && !n) {
		strarena_put(ctx->str, &s->str[smtp_carry_at[c].str]);
		return;
	}
	if (smtp_carry_at[c].auth) {
		ax = smtp_ext_of(ctx, s);
		if (ax)
			smtp_ext_len_set(ax, c, 0);
		if (!n)
			return;
		ax = smtp_ext_get(ctx, s);
		if (!ax)
			return;
	}
	if (n > smtp_carry_at[c].cap) {
		/* The banner is a hint; a cut HELO or user name is worth a flag. */
		if (c != C_BANNER)
			s->flags |= S_CARRY_CUT;
		n = smtp_carry_at[c].cap;
	}
	if (ax) {
		memcpy(ax->carry + smtp_carry_at[c].off, p, n);
		smtp_ext_len_set(ax, c, n);
	} else if (!smtp_str_set(ctx, s, smtp_carry_at[c].str, p, n)) {
		/* No slot: the value is lost as a cap of 0 would lose it. */
		if (c != C_BANNER)
			s->flags |= S_CARRY_CUT;
		return;
	}
}

static void smtp_carry_to_tx(const struct smtp_ctx *ctx, const struct smtp_sess *s,
			     struct smtp_tx *tx, enum smtp_carry c, enum smtp_field f)
{
	size_t n = smtp_carry_len(ctx, s, c);

	if (n)
		smtp_tx_set(tx, f, smtp_carry_get(ctx, s, c), n);
}

/* ------------------------------------------------------------------ privacy */

#define SMTP_PSEUDO_MAX (PRIVACY_INPUT_MAX + 64)

/* A mailbox or user name as it is stored: its pseudonym when privacy is on;
 * "" when none can be made, never the clear value. */
static size_t smtp_pseudo(const struct smtp_ctx *ctx, const void *in, size_t n, bool user,
			  const void **out, char buf[SMTP_PSEUDO_MAX])
{
	int len;

	*out = in;
	if (!ctx->cfg.privacy || !n)
		return n;
	len = user ? privacy_user(ctx->cfg.privacy, in, n, buf, SMTP_PSEUDO_MAX)
		   : privacy_addr(ctx->cfg.privacy, in, n, buf, SMTP_PSEUDO_MAX);
	*out = buf;
	return len > 0 ? (size_t)len : 0;
}

/* Event text (reply lines, signature snippets) echoes mailboxes: the same pseudonyms. */
static uint16_t smtp_ev_text(const struct smtp_ctx *ctx, char *dst, size_t cap, const void *src,
			     size_t n)
{
	char buf[EVENT_TEXT_MAX + 1];

	if (!ctx->cfg.privacy)
		return event_copy_text(dst, cap, src, n);
	n = privacy_text(ctx->cfg.privacy, src, n < EVENT_TEXT_MAX ? n : EVENT_TEXT_MAX, buf,
			 sizeof(buf));
	return event_copy_text(dst, cap, buf, n);
}

/* ------------------------------------------------------------------ events */

/* The header's flow fields; event_begin() zeroed the rest, the body and the padding. */
static void smtp_ev_hdr(const struct smtp_ctx *ctx, struct event_hdr *h, uint64_t ts)
{
	const struct flow *f = ctx->f;

	h->ts_ns = ts;
	/* No uid: it is made where the event is read (event_fill_uid()). */
	h->first_ns = f->first_ns;
	h->family = f->key.family;
	h->client = *flow_client_addr(f);
	h->server = *flow_server_addr(f);
	h->client_port = flow_client_port(f);
	h->server_port = flow_server_port(f);
	h->vlan = f->key.vlan;
}

/* Bodies are written field by field into a zeroed event: no stale ring bytes in the padding. */
static void *smtp_ev_begin(struct smtp_ctx *ctx, enum event_type t, uint32_t len, uint64_t ts)
{
	struct event_hdr *e = event_begin(ctx->sink, t, len, NULL);

	if (e)
		smtp_ev_hdr(ctx, e, ts);
	return e;
}

static void smtp_count(uint16_t *c, bool one_more)
{
	*c = (uint16_t)(*c + (one_more && *c != UINT16_MAX));
}

static uint32_t smtp_depth(const struct smtp_sess *s)
{
	return s->msgs_done + 1;
}

static void smtp_ev_open(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts)
{
	struct event_session_open *e;

	if (s->flags & S_OPENED)
		return;
	s->flags |= S_OPENED;
	ctx->st.sessions++;
	e = smtp_ev_begin(ctx, EV_SESSION_OPEN, sizeof(*e), ts);
	if (!e)
		return;
	e->midstream = (s->flags & S_MIDSTREAM) != 0;
	e->implicit_tls = (s->flags & S_IMPLICIT_TLS) != 0;
	e->proxied = (s->flags & S_PROXY) != 0;
	event_commit(ctx->sink);
}

static void smtp_ev_banner(struct smtp_ctx *ctx, struct smtp_sess *s, uint16_t code,
			   const void *text, size_t n, uint64_t ts)
{
	struct event_banner *e = smtp_ev_begin(ctx, EV_BANNER, sizeof(*e), ts);

	if (!e)
		return;
	e->code = code;
	e->text_len = event_copy_text(e->text, sizeof(e->text), text, n);
	event_commit(ctx->sink);
}

static void smtp_ev_auth(struct smtp_ctx *ctx, struct smtp_sess *s, uint16_t code, uint64_t ts)
{
	struct event_auth *e = smtp_ev_begin(ctx, EV_AUTH, sizeof(*e), ts);

	if (!e)
		return;
	e->result = (uint8_t)smtp_auth_result(s);
	e->code = code;
	e->mech_len = event_copy_text(e->mech, sizeof(e->mech), smtp_carry_get(ctx, s, C_MECH),
				      smtp_carry_len(ctx, s, C_MECH));
	e->user_len = event_copy_text(e->user, sizeof(e->user), smtp_carry_get(ctx, s, C_USER),
				      smtp_carry_len(ctx, s, C_USER));
	event_commit(ctx->sink);
}

static void smtp_ev_rcpt(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_tx *tx,
			 const struct smtp_rcpt *r, const void *text, size_t n, uint64_t ts)
{
	struct event_rcpt *e = smtp_ev_begin(ctx, EV_RCPT, sizeof(*e), ts);

	if (!e)
		return;
	e->code = r->code;
	e->enh_class = r->enh_class;
	e->enh_subject = r->enh_subject;
	e->enh_detail = r->enh_detail;
	e->authenticated = (s->flags & S_AUTH_OK) != 0;
	e->tls = (s->flags & S_TLS) != 0;
	e->trans_depth = smtp_depth(s);
	e->mailfrom_len = event_copy_text(e->mailfrom, sizeof(e->mailfrom),
					  smtp_tx_str(tx, tx->f[SMTP_F_MAILFROM]),
					  tx->f[SMTP_F_MAILFROM].len);
	e->rcpt_len =
		event_copy_text(e->rcpt, sizeof(e->rcpt), smtp_tx_str(tx, r->addr), r->addr.len);
	e->text_len = smtp_ev_text(ctx, e->text, sizeof(e->text), text, n);
	event_commit(ctx->sink);
}

static void smtp_ev_reply(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_reply *r,
			  uint8_t cmd, const void *text, size_t n, uint64_t ts)
{
	struct event_reply *e = smtp_ev_begin(ctx, EV_REPLY, sizeof(*e), ts);

	if (!e)
		return;
	e->code = r->code;
	e->enh_class = r->enh_class;
	e->enh_subject = r->enh_subject;
	e->enh_detail = r->enh_detail;
	e->cmd = cmd;
	e->authenticated = (s->flags & S_AUTH_OK) != 0;
	e->trans_depth = s->tx ? smtp_depth(s) : 0;
	e->text_len = smtp_ev_text(ctx, e->text, sizeof(e->text), text, n);
	event_commit(ctx->sink);
}

static void smtp_ev_close(struct smtp_ctx *ctx, struct smtp_sess *s, const struct flow *f,
			  enum flow_end why, uint64_t ts)
{
	struct event_session_close *e = smtp_ev_begin(ctx, EV_SESSION_CLOSE, sizeof(*e), ts);

	if (!e)
		return;
	e->bytes_to_server = flow_bytes(f, FLOW_DIR_TO_SERVER);
	e->bytes_to_client = flow_bytes(f, FLOW_DIR_TO_CLIENT);
	e->duration_ns = ts > f->first_ns ? ts - f->first_ns : 0;
	e->transactions = s->n_tx;
	e->commands = s->n_cmd;
	e->unknown_cmds = s->n_unknown;
	e->auth_attempts = s->n_auth;
	e->auth_failures = s->n_auth_fail;
	e->rcpt_total = s->n_rcpt;
	e->rcpt_rejected = s->n_rcpt_rej;
	e->tls = (s->flags & S_TLS) != 0;
	e->end_reason = (uint8_t)why;
	e->saw_banner = (s->flags & S_BYTES_S) != 0;
	e->one_sided = !flow_bytes(f, FLOW_DIR_TO_SERVER) || !flow_bytes(f, FLOW_DIR_TO_CLIENT);
	event_commit(ctx->sink);
}

/* ------------------------------------------------------------------ signatures */

/* One scan of a line, header field or URL: what its matches are reported with. */
struct smtp_sigscan {
	struct smtp_ctx *ctx;
	struct smtp_sess *s;
	uint64_t ts;
	uint16_t reply_code;
	const void *snip; /* the text matched in, shown cut */
	size_t snip_len;
};

static void smtp_ev_sig(struct smtp_ctx *ctx, struct smtp_sess *s, const struct sigs_match *m,
			uint16_t reply_code, const void *snip, size_t n, uint64_t ts)
{
	struct event_sig *e = smtp_ev_begin(ctx, EV_SIG, sizeof(*e), ts);

	if (!e)
		return;
	e->sig_id = m->id;
	e->scope = m->scope;
	e->sig_class = m->sig_class;
	e->severity = m->severity;
	e->trans_depth = s->tx ? smtp_depth(s) : 0;
	e->reply_code = reply_code;
	e->authenticated = (s->flags & S_AUTH_OK) != 0;
	e->snippet_len = smtp_ev_text(ctx, e->snippet, sizeof(e->snippet), snip, n);
	event_commit(ctx->sink);
}

static void smtp_sig_match(void *arg, const struct sigs_match *m)
{
	struct smtp_sigscan *sc = arg;

	smtp_ev_sig(sc->ctx, sc->s, m, sc->reply_code, sc->snip, sc->snip_len, sc->ts);
}

/* A body match shows the SIGS_CTX_MAX decoded bytes that end where it does. */
static void smtp_sig_body_match(void *arg, const struct sigs_match *m)
{
	struct smtp_msgbox *b = arg;
	uint8_t snip[2 * SIGS_CTX_MAX];
	uint64_t end = m->end, start;
	size_t n = 0;

	if (end > b->body_off + b->cur_len)
		end = b->body_off + b->cur_len;
	start = end > SIGS_CTX_MAX ? end - SIGS_CTX_MAX : 0;
	for (uint64_t o = start; o < end; o++) {
		if (o >= b->body_off)
			snip[n++] = b->cur[o - b->body_off];
		else if (o + b->tail_len >= b->body_off)
			snip[n++] = b->tail[b->tail_len - (b->body_off - o)];
	}
	smtp_ev_sig(b->ctx, b->s, m, 0, snip, n, b->ts);
}

static void smtp_sig_line(struct smtp_ctx *ctx, struct smtp_sess *s, enum event_sig_scope scope,
			  const uint8_t *p, size_t n, uint16_t code, uint64_t ts)
{
	struct smtp_sigscan sc = {ctx, s, ts, code, p, n};

	if (ctx->sigw)
		sigs_scan_line(ctx->sigw, scope, p, n, smtp_sig_match, &sc);
}

static void smtp_sig_header(void *arg, const char *name, size_t name_len, const uint8_t *value,
			    size_t value_len)
{
	struct smtp_msgbox *b = arg;
	struct smtp_sigscan sc = {b->ctx, b->s, b->ts, 0, value, value_len};

	sigs_scan_header(b->ctx->sigw, name, name_len, value, value_len, smtp_sig_match, &sc);
}

static void smtp_sig_body_scan(struct smtp_msgbox *b, const uint8_t *p, size_t n)
{
	size_t keep;

	b->cur = p;
	b->cur_len = n;
	sigs_body_feed(b->ctx->sigw, b->body, p, n);
	/* Slide the tail window over what was just scanned. */
	keep = n >= SIGS_CTX_MAX ? 0 : SIGS_CTX_MAX - n;
	keep = keep < b->tail_len ? keep : b->tail_len;
	memmove(b->tail, b->tail + b->tail_len - keep, keep);
	n = n < SIGS_CTX_MAX ? n : SIGS_CTX_MAX;
	memcpy(b->tail + keep, p + b->cur_len - n, n);
	b->tail_len = (uint8_t)(keep + n);
	b->body_off += b->cur_len;
	b->cur = NULL;
	b->cur_len = 0;
}

static void smtp_sig_body_flush(void *arg)
{
	struct smtp_msgbox *b = arg;
	struct smtp_ctx *ctx = b->ctx;

	if (ctx->batch_len)
		smtp_sig_body_scan(b, ctx->batch, ctx->batch_len);
	ctx->batch_len = 0;
}

/* Pieces wait in the batch; the order of body matches and URL events stays
 * the one a scan per piece gives, as smtp_sig_url flushes first. */
static void smtp_sig_body(void *arg, const struct smtp_msg_part *part, const uint8_t *p, size_t n)
{
	struct smtp_msgbox *b = arg;
	struct smtp_ctx *ctx = b->ctx;

	(void)part;
	if (n > SMTP_BODY_BATCH - ctx->batch_len)
		smtp_sig_body_flush(b);
	if (n >= SMTP_BODY_BATCH) {
		smtp_sig_body_scan(b, p, n);
		return;
	}
	memcpy(ctx->batch + ctx->batch_len, p, n);
	ctx->batch_len += (uint32_t)n;
}

static void smtp_sig_url(void *arg, const uint8_t *url, size_t n)
{
	struct smtp_msgbox *b = arg;

	smtp_sig_body_flush(b);
	smtp_sig_line(b->ctx, b->s, EV_SCOPE_URL, url, n, 0, b->ts);
}

static const struct smtp_msg_sink smtp_sig_sink = {
	.header = smtp_sig_header,
	.body = smtp_sig_body,
	.url = smtp_sig_url,
	.fed = smtp_sig_body_flush,
};

/* ------------------------------------------------------------------ pools */

static struct smtp_aux *smtp_aux_get(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	if (!s->aux) {
		struct smtp_aux *a = pool_get(&ctx->aux_pool);

		if (!a) {
			ctx->st.buf_no_slot++;
			return NULL;
		}
		a->text_len = 0;
		s->aux = pool_index(&ctx->aux_pool, a) + 1;
		return a;
	}
	return smtp_aux_of(ctx, s);
}

/* Give aux back once no partial line, no reply text and no BDAT chunk needs it. */
static inline void smtp_aux_put(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	if (!s->aux || (s->flags & S_TEXT) || smtp_line_pending(&s->lb[0]) ||
	    smtp_line_pending(&s->lb[1]) || (s->mode == M_BDAT && !(s->flags & S_DONE)))
		return;
	smtp_line_detach(&s->lb[0]);
	smtp_line_detach(&s->lb[1]);
	pool_put(&ctx->aux_pool, smtp_aux_of(ctx, s));
	s->aux = 0;
}

/* The line assembly space of one direction, in aux: NULL without aux. */
static uint8_t *smtp_line_space(const struct smtp_ctx *ctx, const struct smtp_sess *s,
				enum flow_dir dir)
{
	return s->aux ? smtp_aux_of(ctx, s)->line + (size_t)dir * ctx->cfg.max_line : NULL;
}

/* A client line may be (part of) an AUTH response: gone once it was read. */
static void smtp_line_wipe_client(const struct smtp_ctx *ctx, struct smtp_sess *s)
{
	smtp_line_wipe(&s->lb[FLOW_DIR_TO_SERVER], smtp_line_space(ctx, s, FLOW_DIR_TO_SERVER),
		       ctx->cfg.max_line);
}

static bool smtp_next_line(struct smtp_ctx *ctx, struct smtp_sess *s, enum flow_dir dir,
			   const uint8_t **p, const uint8_t *end, struct smtp_line *l)
{
	struct smtp_line_buf *lb = &s->lb[dir];
	uint32_t cap = ctx->cfg.max_line;
	enum smtp_line_status st = smtp_line_next(lb, smtp_line_space(ctx, s, dir), cap, p, end, l);

	if (st == SMTP_LINE_NEED_BUF) {
		smtp_line_attach(lb, smtp_aux_get(ctx, s) != NULL);
		st = smtp_line_next(lb, smtp_line_space(ctx, s, dir), cap, p, end, l);
	}
	if (st != SMTP_LINE_OK)
		return false;
	ctx->st.bare_lf += l->bare_lf;
	ctx->st.nul_bytes += l->has_nul;
	ctx->st.line_too_long += l->truncated;
	return true;
}

/* ------------------------------------------------------------------ queue */

static uint8_t smtp_q_inline_cap(const struct smtp_ctx *ctx)
{
	return (uint8_t)(ctx->cfg.max_pipeline < SMTP_Q_INLINE ? ctx->cfg.max_pipeline
							       : SMTP_Q_INLINE);
}

static uint16_t *smtp_q_ents(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	return s->q_cap > SMTP_Q_INLINE ? pool_at(&ctx->q_pool, s->q.big) : s->q.in;
}

/* The command the next reply answers; the queue must not be empty. */
static uint16_t smtp_q_head(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	return smtp_q_ents(ctx, s)[s->q_head];
}

/* The inline entries are full: move them to a pooled queue of max_pipeline.
 * false: the command is not queued, counted here once under its cause. */
static bool smtp_q_grow(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	uint16_t *big;

	if (s->q_cap >= ctx->cfg.max_pipeline) {
		ctx->st.pipeline_overflow++;
		return false;
	}
	big = pool_get(&ctx->q_pool);
	if (!big) {
		ctx->st.buf_no_slot++;
		return false;
	}
	for (unsigned int i = 0; i < s->q_len; i++)
		big[i] = s->q.in[(s->q_head + i) % s->q_cap];
	s->q.big = pool_index(&ctx->q_pool, big);
	s->q_head = 0;
	s->q_cap = (uint8_t)ctx->cfg.max_pipeline;
	return true;
}

/* Nothing awaited: back to the inline entries. */
static void smtp_q_empty(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	if (s->q_cap > SMTP_Q_INLINE) {
		pool_put(&ctx->q_pool, pool_at(&ctx->q_pool, s->q.big));
		s->q_cap = smtp_q_inline_cap(ctx);
	}
	s->q_len = 0;
	s->q_head = 0;
}

static void smtp_q_push(struct smtp_ctx *ctx, struct smtp_sess *s, uint8_t cmd, bool flag,
			unsigned int rcpt)
{
	uint8_t gen = s->tx ? smtp_tx_of(ctx, s)->gen : 0;

	/* A command while an earlier one still waits: pipelining (RFC 2920). A
	 * capture without the server's side tells nothing, so it is not marked. */
	if (s->q_len && (s->flags & S_BYTES_S) &&
	    (s->q_len > 1 || SMTP_Q_CMD(smtp_q_head(ctx, s)) != EV_CMD_BANNER)) {
		s->flags |= S_PIPELINED;
		if (s->tx)
			smtp_tx_of(ctx, s)->tx.flags |= SMTP_TX_F_PIPELINED;
	}
	if (s->q_len >= s->q_cap && !smtp_q_grow(ctx, s))
		return;
	smtp_q_ents(ctx, s)[(s->q_head + s->q_len) % s->q_cap] = SMTP_Q_MAKE(cmd, flag, gen, rcpt);
	s->q_len++;
}

static bool smtp_q_pop(struct smtp_ctx *ctx, struct smtp_sess *s, uint16_t *e)
{
	if (!s->q_len)
		return false;
	*e = smtp_q_head(ctx, s);
	if (--s->q_len)
		s->q_head = (uint8_t)((s->q_head + 1) % s->q_cap);
	else
		smtp_q_empty(ctx, s);
	return true;
}

/* The transaction a queued command belongs to, if it is still in flight. */
static struct smtp_txs *smtp_q_tx(const struct smtp_ctx *ctx, struct smtp_sess *s, uint16_t e)
{
	unsigned int gen = SMTP_Q_GEN(e);

	if (!gen)
		return NULL;
	struct smtp_txs *t = smtp_tx_wait_of(ctx, s);

	if (t && t->gen == gen)
		return t;
	t = smtp_tx_of(ctx, s);
	if (t && t->gen == gen)
		return t;
	return NULL;
}

/* ------------------------------------------------------------------ transactions */

static struct smtp_txs *smtp_tx_begin(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts)
{
	struct smtp_txs *t = pool_get(&ctx->tx_pool);

	if (!t) {
		ctx->st.tx_no_slot++;
		return NULL;
	}
	smtp_tx_init(&t->tx, ctx->f, ts);
	t->msg = NULL;
	t->gen = (uint8_t)(smtp_gen(s) % 7 + 1);
	s->flags = (s->flags & ~S_GEN_MASK) | (uint32_t)t->gen << S_GEN_SHIFT;
	t->last_len = 0;
	smtp_hdr_path_start(&t->tx);
	smtp_carry_to_tx(ctx, s, &t->tx, C_HELO, SMTP_F_HELO);
	smtp_carry_to_tx(ctx, s, &t->tx, C_MECH, SMTP_F_AUTH_MECH);
	smtp_carry_to_tx(ctx, s, &t->tx, C_USER, SMTP_F_AUTH_USER);
	smtp_carry_to_tx(ctx, s, &t->tx, C_BANNER, SMTP_F_SERVER_BANNER);
	s->tx = smtp_txs_ref(ctx, t);
	return t;
}

/* The content parser of the current transaction, if its message is being fed. */
static struct smtp_msgbox *smtp_msgbox_of(const struct smtp_ctx *ctx, const struct smtp_sess *s)
{
	return s->tx ? smtp_tx_of(ctx, s)->msg : NULL;
}

static void smtp_msg_stop(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	struct smtp_msgbox *b = smtp_msgbox_of(ctx, s);

	if (!b)
		return;
	smtp_msg_end(SMTP_MSG(b));
	if (b->body)
		sigs_body_close(ctx->sigw, b->body);
	pool_put(&ctx->msg_pool, b);
	smtp_tx_of(ctx, s)->msg = NULL;
}

/* Recipients whose reply never came still reach the detector, with code 0. */
static void smtp_tx_rcpt_flush(struct smtp_ctx *ctx, struct smtp_sess *s, struct smtp_txs *t,
			       uint64_t ts)
{
	for (unsigned int i = 0; i < t->tx.n_rcpt_stored; i++)
		if (t->tx.rcpt[i].code == 0)
			smtp_ev_rcpt(ctx, s, &t->tx, &t->tx.rcpt[i], "", 0, ts);
}

/* What the session knows goes into every record it emits. */
static void smtp_tx_session_facts(const struct smtp_ctx *ctx, struct smtp_sess *s,
				  struct smtp_tx *tx)
{
	static const struct {
		uint32_t s, tx;
	} map[] = {
		{S_TLS, SMTP_TX_F_TLS},	    {S_IMPLICIT_TLS, SMTP_TX_F_IMPLICIT_TLS},
		{S_PROXY, SMTP_TX_F_PROXY}, {S_MIDSTREAM, SMTP_TX_F_MIDSTREAM},
		{S_ESMTP, SMTP_TX_F_ESMTP}, {S_CARRY_CUT, SMTP_TX_F_TRUNCATED},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (s->flags & map[i].s)
			tx->flags |= map[i].tx;
	/* The flow counts payload both ways, also what the parser never saw. */
	if (!flow_bytes(ctx->f, FLOW_DIR_TO_SERVER) || !flow_bytes(ctx->f, FLOW_DIR_TO_CLIENT))
		tx->flags |= SMTP_TX_F_ONE_SIDED;
	if (s->n_auth)
		tx->flags |= SMTP_TX_F_AUTH;
	tx->auth_result = (uint8_t)smtp_auth_result(s);
	tx->auth_attempts = s->n_auth;
	tx->auth_failures = s->n_auth_fail;
	if (!smtp_tx_has(tx, SMTP_F_HELO))
		smtp_carry_to_tx(ctx, s, tx, C_HELO, SMTP_F_HELO);
	if (!smtp_tx_has(tx, SMTP_F_AUTH_MECH))
		smtp_carry_to_tx(ctx, s, tx, C_MECH, SMTP_F_AUTH_MECH);
	if (!smtp_tx_has(tx, SMTP_F_AUTH_USER))
		smtp_carry_to_tx(ctx, s, tx, C_USER, SMTP_F_AUTH_USER);
}

static void smtp_tx_hello(struct smtp_sess *s, struct smtp_tx *tx, const struct tls_hello *h)
{
	tx->flags |= SMTP_TX_F_TLS_HELLO;
	s->flags |= S_HELLO_OUT;
	tx->tls_version_hi = (h->version >> 8) == 3 ? (uint8_t)h->version : 0;
	smtp_tx_set(tx, SMTP_F_TLS_SNI, h->sni, h->sni_len);
	smtp_tx_set(tx, SMTP_F_TLS_JA4, h->ja4, strnlen(h->ja4, sizeof(h->ja4)));
}

/*
 * The record leaves: into the ring as EV_TX, back to the pool. answered: its
 * message got the final reply, which is when Zeek counts it (trans_depth).
 */
static void smtp_tx_emit(struct smtp_ctx *ctx, struct smtp_sess *s, struct smtp_txs *t,
			 bool answered, uint64_t ts)
{
	struct smtp_tx *tx = &t->tx;
	struct event_tx *e;
	size_t wire;

	if (t == smtp_tx_of(ctx, s)) {
		smtp_msg_stop(ctx, s);
		s->tx = 0;
	}
	if (t == smtp_tx_wait_of(ctx, s))
		s->tx_wait = 0;
	smtp_tx_rcpt_flush(ctx, s, t, ts);
	smtp_tx_session_facts(ctx, s, tx);
	if (t->last_len)
		smtp_tx_set(tx, SMTP_F_LAST_REPLY, t->last, t->last_len);
	tx->trans_depth = (tx->flags & SMTP_TX_F_SESSION) ? 0 : smtp_depth(s);
	tx->end_ns = ts;
	if (tx->flags & SMTP_TX_F_SESSION) {
		ctx->st.session_records++;
	} else {
		ctx->st.transactions++;
		smtp_count(&s->n_tx, true);
	}
	ctx->st.tx_truncated += (tx->flags & SMTP_TX_F_TRUNCATED) != 0;
	ctx->st.header_truncated += (tx->flags & SMTP_TX_F_HDR_TRUNC) != 0;
	if (ctx->ptx) {
		privacy_tx(ctx->cfg.privacy, tx, ctx->ptx);
		tx = ctx->ptx;
	}
	wire = smtp_tx_wire_size(tx);
	e = smtp_ev_begin(ctx, EV_TX, (uint32_t)(offsetof(struct event_tx, tx) + wire), ts);
	if (e) {
		memcpy(&e->tx, tx, wire);
		event_commit(ctx->sink);
	}
	if (answered)
		smtp_count(&s->msgs_done, true);
	pool_put(&ctx->tx_pool, t);
}

static void smtp_tx_emit_open(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts)
{
	if (s->tx)
		smtp_tx_emit(ctx, s, smtp_tx_of(ctx, s), false, ts);
}

static bool smtp_tx_empty(const struct smtp_tx *tx)
{
	return !smtp_tx_has(tx, SMTP_F_MAILFROM) && tx->n_rcpt == 0 &&
	       !(tx->flags & (SMTP_TX_F_BOUNCE | SMTP_TX_F_DATA));
}

/* "code text" as Zeek logs last_reply. */
static size_t smtp_fmt_reply(char *dst, size_t cap, uint16_t code, const uint8_t *text, size_t n)
{
	if (cap < 5)
		return 0;
	dst[0] = (char)('0' + code / 100 % 10);
	dst[1] = (char)('0' + code / 10 % 10);
	dst[2] = (char)('0' + code % 10);
	dst[3] = ' ';
	if (n > cap - 4)
		n = cap - 4;
	memcpy(dst + 4, text, n);
	return 4 + n;
}

/* A session that never had a transaction still says what happened in it. */
static struct smtp_txs *smtp_session_tx(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	struct smtp_txs *t = smtp_tx_begin(ctx, s, ctx->f->first_ns);

	if (t)
		t->tx.flags |= SMTP_TX_F_SESSION;
	return t;
}

static void smtp_session_record(struct smtp_ctx *ctx, struct smtp_sess *s, struct smtp_txs *t,
				uint64_t ts)
{
	if (!t)
		t = smtp_session_tx(ctx, s);
	if (!t)
		return;
	t->tx.last_code = s->last_code;
	if (s->last_code)
		t->last_len = (uint16_t)smtp_fmt_reply(
			t->last, sizeof(t->last), s->last_code,
			s->str[STR_LAST] ? (const uint8_t *)strarena_get(ctx->str, s->str[STR_LAST])
					 : (const uint8_t *)"",
			strarena_len(ctx->str, s->str[STR_LAST]));
	smtp_tx_emit(ctx, s, t, false, ts);
}

/* ------------------------------------------------------------------ content */

static void smtp_content(struct smtp_ctx *ctx, struct smtp_sess *s, const uint8_t *p, size_t n,
			 uint64_t ts)
{
	struct smtp_txs *t = smtp_tx_of(ctx, s);

	if (!n)
		return;
	ctx->st.message_bytes += n;
	if (!t)
		return;
	t->tx.msg_size += n;
	if (t->msg) {
		t->msg->ts = ts;
		smtp_msg_feed(SMTP_MSG(t->msg), p, n);
	}
}

static void smtp_msg_start(struct smtp_ctx *ctx, struct smtp_sess *s, uint32_t kind, uint64_t ts)
{
	struct smtp_msgbox *b;

	if (!s->tx && !smtp_tx_begin(ctx, s, ts))
		return;
	smtp_tx_of(ctx, s)->tx.flags |= SMTP_TX_F_DATA | kind;
	if (smtp_tx_of(ctx, s)->msg)
		return;
	b = pool_get(&ctx->msg_pool);
	if (!b) {
		ctx->st.buf_no_slot++;
		return;
	}
	smtp_tx_of(ctx, s)->msg = b;
	b->ctx = ctx;
	b->s = s;
	b->ts = ts;
	b->body = NULL;
	b->body_off = 0;
	b->cur = NULL;
	b->cur_len = 0;
	b->tail_len = 0;
	if (ctx->sigw)
		b->body = sigs_body_open(ctx->sigw, smtp_sig_body_match, b);
	smtp_msg_begin(SMTP_MSG(b), &ctx->msg_cfg, &smtp_tx_of(ctx, s)->tx,
		       ctx->sigw ? &smtp_sig_sink : NULL, b);
}

/* The message is whole: its record waits for the server's verdict. */
static void smtp_msg_done(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts)
{
	ctx->st.messages++;
	smtp_msg_stop(ctx, s);
	if (!s->tx)
		return;
	smtp_tx_of(ctx, s)->tx.flags |= SMTP_TX_F_COMPLETE;
	/* Still waiting for the previous message's reply: it is not coming. */
	if (s->tx_wait)
		smtp_tx_emit(ctx, s, smtp_tx_wait_of(ctx, s), false, ts);
	s->tx_wait = s->tx;
	s->tx = 0;
}

static void smtp_data_end(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts)
{
	smtp_q_push(ctx, s, EV_CMD_DATA_END, false, SMTP_Q_NO_RCPT);
	smtp_msg_done(ctx, s, ts);
	s->mode = M_CMD;
}

/*
 * From p[i], not a line start, to the next '.' that starts a line, or n. Only
 * such a dot can stuff or end the message, and a base64 attachment, the bulk
 * of the bytes, has none: one memchr over the whole piece, not one per line.
 */
static size_t smtp_data_next_dot(const uint8_t *p, size_t i, size_t n)
{
	const uint8_t *dot;

	while (i < n && (dot = memchr(p + i, '.', n - i))) {
		i = (size_t)(dot - p);
		if (i > 0 && p[i - 1] == '\n')
			return i;
		i++;
	}
	return n;
}

/*
 * DATA content: hand on everything but the stuffed dots (RFC 5321 4.5.2)
 * until CRLF.CRLF (bare LF tolerated), wherever the segments cut it.
 * Returns the bytes consumed.
 */
static size_t smtp_data_bytes(struct smtp_ctx *ctx, struct smtp_sess *s, const uint8_t *p, size_t n,
			      uint64_t ts)
{
	size_t i = 0, start = 0, stop = n;

	while (i < n) {
		switch (s->dstate) {
		case D_MID:
			i = smtp_data_next_dot(p, i, n);
			if (i < n || p[n - 1] == '\n')
				s->dstate = D_BOL;
			break;
		case D_BOL:
			if (p[i] == '.') {
				smtp_content(ctx, s, p + start, i - start, ts);
				start = ++i;
				s->dstate = D_DOT;
			} else {
				s->dstate = D_MID;
			}
			break;
		case D_DOT:
		case D_DOT_CR:
			if (p[i] == '\n') {
				smtp_data_end(ctx, s, ts);
				return i + 1;
			}
			if (s->dstate == D_DOT && p[i] == '\r') {
				i++;
				s->dstate = D_DOT_CR;
				break;
			}
			/* ".\r" then something else: the CR held back from an earlier chunk is
			 * text. */
			if (s->dstate == D_DOT_CR && start == i)
				smtp_content(ctx, s, (const uint8_t *)"\r", 1, ts);
			s->dstate = D_MID;
			break;
		}
	}
	/* A CR right after a line-start dot may belong to the terminator: hold it. */
	if (s->dstate == D_DOT_CR && n > start)
		stop = n - 1;
	smtp_content(ctx, s, p + start, stop - start, ts);
	return n;
}

static void smtp_data_begin(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts)
{
	struct smtp_line_buf *lb = &s->lb[FLOW_DIR_TO_SERVER];

	s->mode = M_DATA;
	s->dstate = D_BOL;
	smtp_msg_start(ctx, s, 0, ts);
	/* Content that came before the 354 and waits in the line buffer is the message's. */
	if (smtp_line_pending(lb) && smtp_line_attached(lb)) {
		smtp_data_bytes(ctx, s, smtp_line_space(ctx, s, FLOW_DIR_TO_SERVER), lb->len, ts);
		smtp_line_reset(lb);
	}
}

static void smtp_bdat_chunk_end(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts)
{
	s->mode = M_CMD;
	if (s->flags & S_BDAT_LAST)
		smtp_msg_done(ctx, s, ts);
}

/* M_BDAT holds aux (smtp_cmd_bdat), where the bytes left of the chunk are. */
static size_t smtp_bdat_bytes(struct smtp_ctx *ctx, struct smtp_sess *s, const uint8_t *p, size_t n,
			      uint64_t ts)
{
	struct smtp_aux *a = smtp_aux_of(ctx, s);
	size_t take = n < a->bdat_left ? n : (size_t)a->bdat_left;

	smtp_content(ctx, s, p, take, ts);
	a->bdat_left -= take;
	if (a->bdat_left == 0)
		smtp_bdat_chunk_end(ctx, s, ts);
	return take;
}

/* ------------------------------------------------------------------ TLS */

static void smtp_release(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	smtp_q_empty(ctx, s);
	smtp_msg_stop(ctx, s);
	/* Records of a session never confirmed as SMTP are dropped unsaid. */
	if (s->tx) {
		pool_put(&ctx->tx_pool, smtp_tx_of(ctx, s));
		s->tx = 0;
	}
	if (s->tx_wait) {
		pool_put(&ctx->tx_pool, smtp_tx_wait_of(ctx, s));
		s->tx_wait = 0;
	}
	smtp_tls_put(ctx, s);
	smtp_str_release(ctx, s);
	if (s->ext) {
		pool_put(&ctx->auth_pool, smtp_ext_of(ctx, s));
		s->ext = 0;
	}
	if (s->aux) {
		/* A client line left half (an AUTH line whose end never came) goes with it. */
		if (smtp_line_pending(&s->lb[FLOW_DIR_TO_SERVER]))
			smtp_line_wipe_client(ctx, s);
		smtp_line_reset(&s->lb[0]);
		smtp_line_reset(&s->lb[1]);
		s->flags &= ~S_TEXT;
		smtp_aux_put(ctx, s);
	}
}

static void smtp_auth_finish(struct smtp_ctx *ctx, struct smtp_sess *s, uint16_t code, uint64_t ts);

/* Everything the session will say is said now: records out, memory back. */
static void smtp_finish(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts)
{
	if (s->flags & S_FINISHED)
		return;
	s->flags |= S_FINISHED;
	if (s->flags & S_OPENED) {
		if (s->flags & S_AUTH_OPEN)
			smtp_auth_finish(ctx, s, 0, ts);
		if (s->tx_wait)
			smtp_tx_emit(ctx, s, smtp_tx_wait_of(ctx, s), false, ts);
		if (s->tx && (smtp_tx_of(ctx, s)->tx.flags & SMTP_TX_F_SESSION))
			smtp_session_record(ctx, s, smtp_tx_of(ctx, s), ts);
		smtp_tx_emit_open(ctx, s, ts);
		if (s->n_tx == 0 && !(s->flags & S_HELLO_OUT))
			smtp_session_record(ctx, s, NULL, ts);
	}
	smtp_release(ctx, s);
	s->mode = M_IGNORE;
	s->srv = SRV_IGNORE;
}

/*
 * TLS from here on: nothing more to parse, the flow is bypassed. The
 * ClientHello facts go into the record now and the buffers back to their
 * pools; the record itself waits for close(), which knows how the
 * connection ended.
 */
static void smtp_tls_done(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	struct smtp_tlsbuf *b = smtp_tls_of(ctx, s);
	struct smtp_txs *t = smtp_tx_of(ctx, s);

	if (!t && (s->flags & S_OPENED)) {
		t = smtp_session_tx(ctx, s);
		s->tx = smtp_txs_ref(ctx, t);
	}
	if (t && b && b->parsed)
		smtp_tx_hello(s, &t->tx, &b->hello);
	smtp_msg_stop(ctx, s);
	smtp_tls_put(ctx, s);
	smtp_line_reset(&s->lb[0]);
	smtp_line_reset(&s->lb[1]);
	s->flags = (s->flags & ~S_TEXT) | S_BYPASS;
	s->mode = M_IGNORE;
	s->srv = SRV_IGNORE;
}

static size_t smtp_tls_bytes(struct smtp_ctx *ctx, struct smtp_sess *s, const uint8_t *p, size_t n,
			     uint64_t ts)
{
	struct smtp_tlsbuf *b = smtp_tls_of(ctx, s);
	struct smtp_ext *x;
	size_t take;
	int rc;

	if (!b) {
		/* The buffer's reference waits in struct smtp_ext: no ClientHello
		 * without one, as without a buffer (both counted in buf_no_slot). */
		x = smtp_ext_get(ctx, s);
		b = x ? pool_get(&ctx->tls_pool) : NULL;
		if (!b) {
			if (x)
				ctx->st.buf_no_slot++;
			smtp_tls_done(ctx, s);
			return n;
		}
		x->tls = pool_index(&ctx->tls_pool, b) + 1;
		b->len = 0;
		b->parsed = false;
	}
	take = SMTP_TLS_BUF - b->len;
	take = n < take ? n : take;
	memcpy(b->bytes + b->len, p, take);
	b->len = (uint16_t)(b->len + take);
	rc = tls_hello_parse(b->bytes, b->len, &b->hello);
	if (rc == -EAGAIN && b->len < SMTP_TLS_BUF)
		return n;
	if (rc == 0) {
		b->parsed = true;
		ctx->st.tls_hellos++;
	}
	smtp_tls_done(ctx, s);
	return n;
}

/* After STARTTLS/on 465: a handshake record, or (decrypted capture) clear text. */
static void smtp_tls_wait(struct smtp_ctx *ctx, struct smtp_sess *s, uint8_t first)
{
	if (first == 0x16) {
		s->mode = M_TLS;
		ctx->st.tls_sessions++;
		return;
	}
	s->mode = M_CMD;
	if (s->flags & S_IMPLICIT_TLS)
		s->flags &= ~(S_TLS | S_IMPLICIT_TLS);
	/* Clear text goes on (a decrypted capture): the records to come say TLS;
	 * the one that stood for the switch alone is not needed. */
	if (s->tx && smtp_tx_empty(&smtp_tx_of(ctx, s)->tx)) {
		pool_put(&ctx->tx_pool, smtp_tx_of(ctx, s));
		s->tx = 0;
	}
}

static void smtp_reply_last(struct smtp_ctx *ctx, struct smtp_sess *s, struct smtp_txs *t,
			    const struct smtp_reply *r);

static void smtp_starttls(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_reply *r,
			  uint64_t ts)
{
	s->flags |= S_TLS;
	/* Zeek logs the switch to TLS as a transaction of its own (tls: true),
	 * and so does Suricata; it ends when the session does, its last reply
	 * the 220 that started TLS. */
	if (!s->tx && smtp_tx_begin(ctx, s, ts))
		smtp_reply_last(ctx, s, smtp_tx_of(ctx, s), r);
	smtp_line_reset(&s->lb[FLOW_DIR_TO_SERVER]);
	s->mode = M_TLS_WAIT;
}

/* ------------------------------------------------------------------ AUTH */

static void smtp_auth_finish(struct smtp_ctx *ctx, struct smtp_sess *s, uint16_t code, uint64_t ts)
{
	s->flags &= ~(S_AUTH_OPEN | S_AUTH_CHAL);
	smtp_auth_result_set(s, code ? smtp_auth_result_of(&s->auth, code) : SMTP_AUTH_UNKNOWN);
	if (smtp_auth_result(s) == SMTP_AUTH_SUCCESS) {
		ctx->st.auth_success++;
		s->flags |= S_AUTH_OK;
	} else if (smtp_auth_result(s) == SMTP_AUTH_FAILURE) {
		ctx->st.auth_failure++;
		smtp_count(&s->n_auth_fail, true);
	}
	smtp_ev_auth(ctx, s, code, ts);
}

static void smtp_auth_learnt(struct smtp_ctx *ctx, struct smtp_sess *s,
			     const struct smtp_auth_out *out)
{
	char buf[SMTP_PSEUDO_MAX];
	const void *user;
	size_t n;

	if (out->user_len) {
		n = smtp_pseudo(ctx, out->user, out->user_len, true, &user, buf);
		smtp_carry_set(ctx, s, C_USER, user, n);
	}
	if (out->bad_base64)
		ctx->st.auth_bad_base64++;
}

static void smtp_cmd_auth(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_cmd *c,
			  uint64_t ts)
{
	struct smtp_auth_out out;

	if (s->flags & S_AUTH_OPEN)
		smtp_auth_finish(ctx, s, 0, ts);
	smtp_auth_begin(&s->auth, c->arg, c->arg_len, &out);
	smtp_count(&s->n_auth, true);
	ctx->st.auth_attempts++;
	s->flags |= S_AUTH_OPEN;
	smtp_carry_set(ctx, s, C_MECH, out.mech, out.mech_len);
	/* A new exchange: the user name of the last one does not carry over. */
	smtp_carry_set(ctx, s, C_USER, "", 0);
	smtp_auth_learnt(ctx, s, &out);
	explicit_bzero(&out, sizeof(out));
	/* An initial response may have been assembled in the line buffer. */
	smtp_line_wipe_client(ctx, s);
	smtp_q_push(ctx, s, EV_CMD_AUTH, false, SMTP_Q_NO_RCPT);
}

/* One client line of an open exchange: only smtp_auth looks at its bytes. */
static void smtp_auth_line(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_line *l)
{
	struct smtp_auth_out out;

	memset(&out, 0, sizeof(out));
	smtp_auth_response(&s->auth, l->ptr, l->len, &out);
	s->flags &= ~S_AUTH_CHAL;
	smtp_auth_learnt(ctx, s, &out);
	explicit_bzero(&out, sizeof(out));
	smtp_line_wipe_client(ctx, s);
	smtp_q_push(ctx, s, EV_CMD_AUTH, true, SMTP_Q_NO_RCPT);
}

/* ------------------------------------------------------------------ commands */

static uint64_t *smtp_verb_counter(struct smtp_stats *st, enum smtp_verb v)
{
	switch (v) {
	case SMTP_VERB_HELO:
		return &st->cmd_helo;
	case SMTP_VERB_EHLO:
		return &st->cmd_ehlo;
	case SMTP_VERB_AUTH:
		return &st->cmd_auth;
	case SMTP_VERB_MAIL:
		return &st->cmd_mail;
	case SMTP_VERB_RCPT:
		return &st->cmd_rcpt;
	case SMTP_VERB_DATA:
		return &st->cmd_data;
	case SMTP_VERB_BDAT:
		return &st->cmd_bdat;
	case SMTP_VERB_RSET:
		return &st->cmd_rset;
	case SMTP_VERB_NOOP:
		return &st->cmd_noop;
	case SMTP_VERB_VRFY:
		return &st->cmd_vrfy;
	case SMTP_VERB_EXPN:
		return &st->cmd_expn;
	case SMTP_VERB_STARTTLS:
		return &st->cmd_starttls;
	case SMTP_VERB_QUIT:
		return &st->cmd_quit;
	case SMTP_VERB_HELP:
		return NULL;
	default:
		return &st->cmd_unknown;
	}
}

static void smtp_cmd_mail(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_cmd *c,
			  uint64_t ts)
{
	struct smtp_txs *t;

	if (c->path_ok) {
		/* Zeek: a new MAIL closes the transaction in flight, answered or
		 * not, even when the server refuses it as nested (503): Suricata
		 * keeps the old envelope then; the corpus sides with Zeek. */
		smtp_tx_emit_open(ctx, s, ts);
		t = smtp_tx_begin(ctx, s, ts);
		if (t) {
			char buf[SMTP_PSEUDO_MAX];
			const void *a;
			size_t n = smtp_pseudo(ctx, c->addr, c->addr_len, false, &a, buf);

			smtp_tx_set(&t->tx, SMTP_F_MAILFROM, a, n);
			if (c->null_path)
				t->tx.flags |= SMTP_TX_F_BOUNCE;
		}
	}
	smtp_q_push(ctx, s, EV_CMD_MAIL, false, SMTP_Q_NO_RCPT);
}

static void smtp_cmd_rcpt(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_cmd *c,
			  uint64_t ts)
{
	unsigned int idx = SMTP_Q_NO_RCPT;

	if (c->path_ok) {
		ctx->st.recipients++;
		smtp_count(&s->n_rcpt, true);
		if (s->tx || smtp_tx_begin(ctx, s, ts)) {
			uint16_t k = smtp_tx_of(ctx, s)->tx.n_rcpt_stored;
			char buf[SMTP_PSEUDO_MAX];
			const void *a;
			size_t n = smtp_pseudo(ctx, c->addr, c->addr_len, false, &a, buf);

			if (smtp_tx_add_rcpt(&smtp_tx_of(ctx, s)->tx, a, n))
				idx = k;
		}
	}
	smtp_q_push(ctx, s, EV_CMD_RCPT, false, idx);
}

static void smtp_cmd_bdat(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_cmd *c,
			  uint64_t ts)
{
	if (!c->bdat_ok) {
		/* "BDAT 5 X", absurd sizes: servers refuse them and read no chunk. */
		smtp_q_push(ctx, s, EV_CMD_BDAT, false, SMTP_Q_NO_RCPT);
		return;
	}
	smtp_msg_start(ctx, s, SMTP_TX_F_BDAT, ts);
	smtp_q_push(ctx, s, EV_CMD_BDAT, c->bdat_last, SMTP_Q_NO_RCPT);
	if (c->bdat_last)
		s->flags |= S_BDAT_LAST;
	else
		s->flags &= ~S_BDAT_LAST;
	if (c->bdat_size && smtp_aux_get(ctx, s)) {
		smtp_aux_of(ctx, s)->bdat_left = c->bdat_size;
		s->mode = M_BDAT;
		return;
	}
	/* No aux to count the chunk in (counted): what follows is read as
	 * after a hole, strict commands only, and the message ends here. */
	if (c->bdat_size)
		s->flags |= S_UNSURE;
	smtp_bdat_chunk_end(ctx, s, ts);
}

static uint8_t smtp_simple_cmd(enum smtp_verb v)
{
	switch (v) {
	case SMTP_VERB_RSET:
		return EV_CMD_RSET;
	case SMTP_VERB_NOOP:
		return EV_CMD_NOOP;
	case SMTP_VERB_VRFY:
		return EV_CMD_VRFY;
	case SMTP_VERB_EXPN:
		return EV_CMD_EXPN;
	case SMTP_VERB_STARTTLS:
		return EV_CMD_STARTTLS;
	case SMTP_VERB_QUIT:
		return EV_CMD_QUIT;
	default:
		return EV_CMD_OTHER;
	}
}

static void smtp_command(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_cmd *c,
			 uint64_t ts)
{
	uint64_t *cnt = smtp_verb_counter(&ctx->st, c->verb);
	bool unknown = c->verb == SMTP_VERB_UNKNOWN || c->verb == SMTP_VERB_NONE;

	ctx->st.commands++;
	smtp_count(&s->n_cmd, true);
	if (cnt)
		(*cnt)++;
	smtp_count(&s->n_unknown, unknown);
	switch (c->verb) {
	case SMTP_VERB_HELO:
	case SMTP_VERB_EHLO:
		/* "EHLO" alone (rejected) keeps the name given before. */
		if (c->arg_len)
			smtp_carry_set(ctx, s, C_HELO, c->arg, c->arg_len);
		s->flags = c->verb == SMTP_VERB_EHLO ? s->flags | S_ESMTP : s->flags & ~S_ESMTP;
		smtp_q_push(ctx, s, c->verb == SMTP_VERB_EHLO ? EV_CMD_EHLO : EV_CMD_HELO, false,
			    SMTP_Q_NO_RCPT);
		break;
	case SMTP_VERB_AUTH:
		smtp_cmd_auth(ctx, s, c, ts);
		break;
	case SMTP_VERB_MAIL:
		smtp_cmd_mail(ctx, s, c, ts);
		break;
	case SMTP_VERB_RCPT:
		smtp_cmd_rcpt(ctx, s, c, ts);
		break;
	case SMTP_VERB_DATA:
		smtp_q_push(ctx, s, EV_CMD_DATA, false, SMTP_Q_NO_RCPT);
		s->flags |= S_DATA_WAIT;
		break;
	case SMTP_VERB_BDAT:
		smtp_cmd_bdat(ctx, s, c, ts);
		break;
	default:
		smtp_q_push(ctx, s, smtp_simple_cmd(c->verb), false, SMTP_Q_NO_RCPT);
		break;
	}
	if (s->tx) {
		smtp_tx_of(ctx, s)->tx.n_commands++;
		smtp_tx_of(ctx, s)->tx.n_unknown_cmds += unknown;
	}
}

/* The client streams the message without waiting for 354 (pipelining, or
 * the server's side is missing): this line already is content. */
static void smtp_data_optimistic(struct smtp_ctx *ctx, struct smtp_sess *s,
				 const struct smtp_line *l, uint64_t ts)
{
	static const uint8_t crlf[2] = {'\r', '\n'};

	smtp_data_begin(ctx, s, ts);
	smtp_data_bytes(ctx, s, l->ptr, l->len, ts);
	if (s->mode == M_DATA)
		smtp_data_bytes(ctx, s, l->bare_lf ? crlf + 1 : crlf, l->bare_lf ? 1 : 2, ts);
}

/* ------------------------------------------------------------------ probing */

static void smtp_confirm(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts)
{
	s->flags |= S_CONFIRMED;
	/* The greeting answers the connection: it heads the reply queue. */
	if (!(s->flags & (S_MIDSTREAM | S_BANNER | S_IMPLICIT_TLS)) && s->q_len == 0)
		smtp_q_push(ctx, s, EV_CMD_BANNER, false, SMTP_Q_NO_RCPT);
	smtp_ev_open(ctx, s, ts);
}

/* Not SMTP: the session goes back to the pool at once (see smtp_close). */
static void smtp_not_smtp(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	ctx->st.not_smtp++;
	smtp_release(ctx, s);
	s->flags |= S_FINISHED | S_NOT_SMTP;
	s->mode = M_IGNORE;
	s->srv = SRV_IGNORE;
}

static bool smtp_proxy_port(uint32_t port)
{
	return port == 25 || port == 587 || port == 465 || port == 2525;
}

/* "CONNECT host:port HTTP/1.x" to a mail port: an open proxy relaying SMTP. */
static uint32_t smtp_proxy_request(const struct smtp_line *l)
{
	const uint8_t *p = l->ptr;
	uint32_t n = l->len, i = 8, port = 0, digits = 0;

	if (n < 10 || memcmp(p, "CONNECT ", 8) || !memmem(p, n, "HTTP/1.", 7))
		return 0;
	while (i < n && p[i] != ' ')
		i++;
	/* host:port ends at i; the port is the digits after the last ':'. */
	while (i > 8 && p[i - 1] >= '0' && p[i - 1] <= '9' && digits < 5) {
		i--;
		digits++;
	}
	if (!digits || p[i - 1] != ':')
		return 0;
	for (uint32_t k = 0; k < digits; k++)
		port = port * 10 + (uint32_t)(p[i + k] - '0');
	return smtp_proxy_port(port) ? port : 0;
}

static void smtp_probe_client(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_line *l,
			      uint64_t ts);

static void smtp_proxy_status(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_line *l)
{
	if (l->len >= 12 && !memcmp(l->ptr, "HTTP/1.", 7) && !memcmp(l->ptr + 8, " 200", 4))
		s->srv = SRV_PROXY_HDRS;
	else
		smtp_not_smtp(ctx, s);
}

/* The tunnel is up: SMTP from here on, greeting first (or TLS on 465). */
static void smtp_proxy_up(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts)
{
	s->srv = SRV_LINES;
	if (s->flags & S_IMPLICIT_TLS) {
		s->flags |= S_TLS;
		s->mode = M_TLS_WAIT;
	}
	smtp_confirm(ctx, s, ts);
}

static void smtp_client_line(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_line *l,
			     uint64_t ts);
static void smtp_server_line(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_line *l,
			     uint64_t ts);

static void smtp_probe_client(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_line *l,
			      uint64_t ts)
{
	struct smtp_cmd c;
	uint32_t port;

	smtp_cmd_parse(l->ptr, l->len, &c);
	if ((c.verb == SMTP_VERB_EHLO || c.verb == SMTP_VERB_HELO) && c.strict && !l->truncated) {
		smtp_confirm(ctx, s, ts);
		smtp_client_line(ctx, s, l, ts);
		return;
	}
	port = smtp_proxy_request(l);
	if (!port) {
		smtp_not_smtp(ctx, s);
		return;
	}
	s->flags |= S_PROXY | (port == 465 ? S_IMPLICIT_TLS : 0);
	s->mode = M_PROXY_HDRS;
	if (s->srv == SRV_LINES)
		s->srv = SRV_PROXY_STATUS;
}

static void smtp_probe_server(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_line *l,
			      uint64_t ts)
{
	struct smtp_reply r;

	if (!l->truncated && smtp_reply_parse(l->ptr, l->len, &r) && r.code == 220) {
		smtp_confirm(ctx, s, ts);
		smtp_server_line(ctx, s, l, ts);
		return;
	}
	smtp_not_smtp(ctx, s);
}

/* Could a line from a stream we are unsure about be an end of DATA? */
static bool smtp_is_dot(const struct smtp_line *l)
{
	return l->len == 1 && l->ptr[0] == '.';
}

static void smtp_client_line(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_line *l,
			     uint64_t ts)
{
	struct smtp_cmd c;
	bool strict;

	if (s->mode == M_PROXY_HDRS) {
		if (l->len == 0 && !l->truncated)
			s->mode = (s->flags & (S_IMPLICIT_TLS | S_CONFIRMED)) ==
						  (S_IMPLICIT_TLS | S_CONFIRMED)
					  ? M_TLS_WAIT
					  : M_CMD;
		return;
	}
	if (!(s->flags & (S_CONFIRMED | S_PROXY))) {
		smtp_probe_client(ctx, s, l, ts);
		return;
	}
	/* The server asked (334): whatever comes is the answer, commands or not. */
	if ((s->flags & S_AUTH_CHAL) && !l->after_gap) {
		smtp_auth_line(ctx, s, l);
		return;
	}
	smtp_cmd_parse(l->ptr, l->len, &c);
	strict = c.strict && !l->truncated;
	if ((s->flags & S_AUTH_OPEN) && !strict) {
		smtp_auth_line(ctx, s, l);
		return;
	}
	if ((s->flags & S_DATA_WAIT) && !strict && !l->after_gap) {
		smtp_data_optimistic(ctx, s, l, ts);
		return;
	}
	if (((s->flags & S_UNSURE) || l->after_gap) && !strict) {
		/* Text of a message we joined in the middle: only its end tells something. */
		if (smtp_is_dot(l) && (s->flags & S_UNSURE))
			smtp_q_push(ctx, s, EV_CMD_DATA_END, false, SMTP_Q_NO_RCPT);
		else
			ctx->st.lines_skipped++;
		return;
	}
	/* AUTH carries credentials in its arguments: never scanned, never shown. */
	if (c.verb != SMTP_VERB_AUTH)
		smtp_sig_line(ctx, s, EV_SCOPE_COMMAND, l->ptr, l->len, 0, ts);
	smtp_command(ctx, s, &c, ts);
}

/* ------------------------------------------------------------------ replies */

static void smtp_text_add(struct smtp_aux *aux, const uint8_t *p, size_t n)
{
	size_t room = sizeof(aux->text) - 1 - aux->text_len;

	if (aux->text_len && room) {
		aux->text[aux->text_len++] = ' ';
		room--;
	}
	n = n < room ? n : room;
	memcpy(aux->text + aux->text_len, p, n);
	aux->text_len = (uint16_t)(aux->text_len + n);
}

static bool smtp_greeting_code(uint16_t code)
{
	return code == 220 || code == 421 || code == 554;
}

static bool smtp_banner_like(const struct smtp_sess *s, uint16_t code)
{
	return !(s->flags & S_BANNER) && s->n_cmd == 0 && smtp_greeting_code(code);
}

/* First line of a reply: what it answers, and whether its text is worth gathering. */
static void smtp_reply_first(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_reply *r,
			     uint64_t ts)
{
	/* The server speaks only after the end of data: the terminator was lost. */
	if (s->mode == M_DATA && !(s->flags & S_DATA_WAIT))
		smtp_data_end(ctx, s, ts);
	s->flags &= ~(S_RMATCHED | S_TEXT);
	/* A greeting is 220 (or 421/554 refusing service): anything else means
	 * the capture lost it and the reply answers the first command. */
	if (s->q_len && SMTP_Q_CMD(smtp_q_head(ctx, s)) == EV_CMD_BANNER &&
	    !smtp_greeting_code(r->code)) {
		uint16_t e;

		smtp_q_pop(ctx, s, &e);
	}
	if (s->q_len) {
		s->flags |= S_RMATCHED;
		s->rcmd = (uint8_t)SMTP_Q_CMD(smtp_q_head(ctx, s));
	} else {
		s->rcmd = smtp_banner_like(s, r->code) ? EV_CMD_BANNER : EV_CMD_NONE;
	}
	if (s->rcmd == EV_CMD_BANNER && !s->str[STR_BANNER])
		smtp_carry_set(ctx, s, C_BANNER, r->text, r->text_len);
	if (r->more && (r->code >= 400 || s->rcmd == EV_CMD_BANNER) && smtp_aux_get(ctx, s)) {
		s->flags |= S_TEXT;
		smtp_aux_of(ctx, s)->text_len = 0;
		smtp_text_add(smtp_aux_of(ctx, s), r->text, r->text_len);
	}
}

static void smtp_reply_rcpt(struct smtp_ctx *ctx, struct smtp_sess *s, struct smtp_txs *t,
			    unsigned int idx, const struct smtp_reply *r, const void *text,
			    size_t n, uint64_t ts)
{
	bool ok = r->code >= 200 && r->code < 300, bad = r->code >= 400;
	struct smtp_rcpt *rc;

	smtp_count(&s->n_rcpt_rej, bad);
	if (!t)
		return;
	t->tx.n_rcpt_accepted += ok;
	t->tx.n_rcpt_rejected += bad;
	if (idx >= t->tx.n_rcpt_stored)
		return;
	rc = &t->tx.rcpt[idx];
	rc->code = r->code;
	rc->enh_class = r->enh_class;
	rc->enh_subject = r->enh_subject;
	rc->enh_detail = r->enh_detail;
	smtp_ev_rcpt(ctx, s, &t->tx, rc, text, n, ts);
}

static void smtp_reply_data(struct smtp_ctx *ctx, struct smtp_sess *s, struct smtp_txs *t,
			    const struct smtp_reply *r, uint64_t ts)
{
	s->flags &= ~S_DATA_WAIT;
	if (t)
		t->tx.data_code = r->code;
	if (r->code == 354) {
		if (s->mode == M_CMD)
			smtp_data_begin(ctx, s, ts);
		return;
	}
	/* Refused: what the client streamed ahead is read as commands by the server. */
	if (s->mode == M_DATA) {
		smtp_msg_stop(ctx, s);
		s->mode = M_CMD;
	}
}

static void smtp_reply_bdat(struct smtp_ctx *ctx, struct smtp_sess *s, struct smtp_txs *t,
			    uint16_t e, const struct smtp_reply *r, uint64_t ts)
{
	/* Answered while its chunk is still coming (nothing queued after the
	 * chunk being read): the server refused the command and reads what
	 * follows as commands (RFC 3030 replies come after the chunk). */
	if (s->mode == M_BDAT && s->q_len == 0)
		s->mode = M_CMD; /* aux and its chunk count go back after this call */
	if (!(e & SMTP_Q_FLAG))
		return;
	if (t) {
		t->tx.data_code = r->code;
		smtp_tx_emit(ctx, s, t, true, ts);
	} else {
		smtp_count(&s->msgs_done, true);
	}
}

static void smtp_reply_auth(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_reply *r,
			    uint64_t ts)
{
	if (!(s->flags & S_AUTH_OPEN))
		return;
	if (r->code == 334) {
		smtp_auth_challenge(&s->auth, r->text, r->text_len);
		s->flags |= S_AUTH_CHAL;
		return;
	}
	smtp_auth_finish(ctx, s, r->code, ts);
}

static void smtp_reply_dispatch(struct smtp_ctx *ctx, struct smtp_sess *s, uint16_t e,
				struct smtp_txs *t, const struct smtp_reply *r, const void *text,
				size_t n, uint64_t ts)
{
	bool ok = r->code >= 200 && r->code < 300;

	switch (s->rcmd) {
	case EV_CMD_BANNER:
		s->flags |= S_BANNER;
		smtp_ev_banner(ctx, s, r->code, text, n, ts);
		break;
	case EV_CMD_HELO:
	case EV_CMD_EHLO:
		/* RFC 5321 4.1.4: an accepted EHLO resets the transaction it
		 * found, not one a pipelined MAIL opened after it. */
		if (ok && t && t == smtp_tx_of(ctx, s))
			smtp_tx_emit(ctx, s, t, false, ts);
		break;
	case EV_CMD_AUTH:
		smtp_reply_auth(ctx, s, r, ts);
		break;
	case EV_CMD_MAIL:
		if (t)
			t->tx.mail_code = r->code;
		break;
	case EV_CMD_RCPT:
		smtp_reply_rcpt(ctx, s, t, SMTP_Q_RCPT(e), r, text, n, ts);
		break;
	case EV_CMD_DATA:
		smtp_reply_data(ctx, s, t, r, ts);
		break;
	case EV_CMD_DATA_END:
		if (t) {
			t->tx.data_code = r->code;
			smtp_tx_emit(ctx, s, t, true, ts);
		} else {
			smtp_count(&s->msgs_done, true);
		}
		break;
	case EV_CMD_BDAT:
		smtp_reply_bdat(ctx, s, t, e, r, ts);
		break;
	case EV_CMD_RSET:
		if (ok && t && t == smtp_tx_of(ctx, s))
			smtp_tx_emit(ctx, s, t, false, ts);
		break;
	case EV_CMD_STARTTLS:
		if (r->code == 220)
			smtp_starttls(ctx, s, r, ts);
		break;
	case EV_CMD_QUIT:
		smtp_tx_emit_open(ctx, s, ts);
		break;
	default:
		break;
	}
}

/* Remember the reply as the last one of its transaction and of the session. */
static void smtp_reply_last(struct smtp_ctx *ctx, struct smtp_sess *s, struct smtp_txs *t,
			    const struct smtp_reply *r)
{
	size_t n = r->text_len < SMTP_LAST_MAX ? r->text_len : SMTP_LAST_MAX;

	s->last_code = r->code;
	/* No slot: the session record says the code alone. */
	smtp_str_set(ctx, s, STR_LAST, r->text, n);
	if (!t)
		return;
	t->tx.last_code = r->code;
	t->last_len =
		(uint16_t)smtp_fmt_reply(t->last, sizeof(t->last), r->code, r->text, r->text_len);
}

static void smtp_reply_final(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_reply *r,
			     uint64_t ts)
{
	const void *text = r->text;
	size_t n = r->text_len;
	uint16_t e = SMTP_Q_MAKE(EV_CMD_NONE, false, 0, SMTP_Q_NO_RCPT);
	struct smtp_txs *t = NULL;

	ctx->st.replies++;
	switch (r->code / 100) {
	case 2:
		ctx->st.replies_2xx++;
		break;
	case 3:
		ctx->st.replies_3xx++;
		break;
	case 4:
		ctx->st.replies_4xx++;
		break;
	case 5:
		ctx->st.replies_5xx++;
		break;
	default:
		break;
	}
	if ((s->flags & S_RMATCHED) && smtp_q_pop(ctx, s, &e)) {
		s->flags &= ~S_UNSURE;
		t = smtp_q_tx(ctx, s, e);
	} else if (s->rcmd == EV_CMD_NONE) {
		ctx->st.replies_unmatched++;
	}
	/* smtp_server_line() added this last line to the gathered text already. */
	if (s->flags & S_TEXT) {
		text = smtp_aux_of(ctx, s)->text;
		n = smtp_aux_of(ctx, s)->text_len;
		s->flags &= ~S_TEXT;
	}
	smtp_reply_last(ctx, s, t ? t : smtp_tx_of(ctx, s), r);
	if (r->code >= 400)
		smtp_ev_reply(ctx, s, r, s->rcmd, text, n, ts);
	smtp_reply_dispatch(ctx, s, e, t, r, text, n, ts);
}

static void smtp_server_line(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_line *l,
			     uint64_t ts)
{
	struct smtp_reply r;

	if (s->srv == SRV_PROXY_STATUS) {
		smtp_proxy_status(ctx, s, l);
		return;
	}
	if (s->srv == SRV_PROXY_HDRS) {
		if (l->len == 0 && !l->truncated)
			smtp_proxy_up(ctx, s, ts);
		return;
	}
	if (!(s->flags & S_CONFIRMED)) {
		smtp_probe_server(ctx, s, l, ts);
		return;
	}
	if (!smtp_reply_parse(l->ptr, l->len, &r)) {
		ctx->st.replies_bad++;
		return;
	}
	smtp_sig_line(ctx, s, EV_SCOPE_REPLY, l->ptr, l->len, r.code, ts);
	/* A new code in the middle of a multi-line reply: the old one is over. */
	if (s->rcode && r.code != s->rcode)
		s->rcode = 0;
	if (!s->rcode)
		smtp_reply_first(ctx, s, &r, ts);
	else if (s->flags & S_TEXT)
		smtp_text_add(smtp_aux_of(ctx, s), r.text, r.text_len);
	if (r.more) {
		s->rcode = r.code;
		return;
	}
	s->rcode = 0;
	smtp_reply_final(ctx, s, &r, ts);
}

/* ------------------------------------------------------------------ bytes */

static void smtp_client_bytes(struct smtp_ctx *ctx, struct smtp_sess *s, const uint8_t *p,
			      const uint8_t *end, uint64_t ts)
{
	struct smtp_line l;

	/* Every turn consumes bytes, changes mode or returns. */
	while (p < end && !(s->flags & S_DONE)) {
		switch (s->mode) {
		case M_DATA:
			p += smtp_data_bytes(ctx, s, p, (size_t)(end - p), ts);
			break;
		case M_BDAT:
			p += smtp_bdat_bytes(ctx, s, p, (size_t)(end - p), ts);
			break;
		case M_TLS_WAIT:
			smtp_tls_wait(ctx, s, *p);
			break;
		case M_TLS:
			p += smtp_tls_bytes(ctx, s, p, (size_t)(end - p), ts);
			break;
		case M_IGNORE:
			return;
		default:
			if (!smtp_next_line(ctx, s, FLOW_DIR_TO_SERVER, &p, end, &l))
				return;
			smtp_client_line(ctx, s, &l, ts);
			break;
		}
	}
}

static void smtp_server_bytes(struct smtp_ctx *ctx, struct smtp_sess *s, const uint8_t *p,
			      const uint8_t *end, uint64_t ts)
{
	struct smtp_line l;

	while (p < end && !(s->flags & S_DONE)) {
		/* Server bytes during TLS are the handshake: nothing for us. */
		if (s->srv == SRV_IGNORE || s->mode == M_TLS)
			return;
		if (!smtp_next_line(ctx, s, FLOW_DIR_TO_CLIENT, &p, end, &l))
			return;
		smtp_server_line(ctx, s, &l, ts);
	}
}

/* First bytes of a flow off the SMTP ports: text, or not worth a look. */
static bool smtp_probe_byte_ok(uint8_t c)
{
	return c >= 0x20 && c < 0x7f;
}

/* ------------------------------------------------------------------ l7 ops */

static void smtp_sess_free(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	smtp_release(ctx, s);
	pool_put(&ctx->sess_pool, s);
}

static void *smtp_open(void *arg, const struct flow *f, uint64_t ts)
{
	struct smtp_ctx *ctx = arg;
	uint16_t port = flow_server_port(f);
	bool tls = smtp_port_in(ctx->cfg.tls_ports, port, true);
	bool smtp = !tls && smtp_port_in(ctx->cfg.smtp_ports, port, false);
	struct smtp_sess *s;

	if (!tls && !smtp && !ctx->cfg.detect_any_port) {
		ctx->st.not_smtp++;
		return NULL;
	}
	s = pool_get(&ctx->sess_pool);
	if (!s) {
		ctx->st.sessions_no_slot++;
		return NULL;
	}
	memset(s, 0, sizeof(*s));
	ctx->f = f;
	s->q_cap = smtp_q_inline_cap(ctx);
	smtp_line_init(&s->lb[0]);
	smtp_line_init(&s->lb[1]);
	if (!flow_syn_seen(f))
		s->flags |= S_MIDSTREAM | S_UNSURE;
	if (tls) {
		s->flags |= S_TLS | S_IMPLICIT_TLS;
		s->mode = M_TLS_WAIT;
	}
	if (tls || smtp)
		smtp_confirm(ctx, s, ts);
	return s;
}

static void smtp_feed(struct smtp_ctx *ctx, struct smtp_sess *s, enum flow_dir dir,
		      const uint8_t *p, uint32_t n, uint64_t ts)
{
	if (!(s->flags & (S_CONFIRMED | S_PROXY)) && n && !smtp_line_pending(&s->lb[dir]) &&
	    !smtp_probe_byte_ok(p[0])) {
		smtp_not_smtp(ctx, s);
		return;
	}
	s->flags |= dir == FLOW_DIR_TO_SERVER ? S_BYTES_C : S_BYTES_S;
	if (dir == FLOW_DIR_TO_SERVER)
		smtp_client_bytes(ctx, s, p, p + n, ts);
	else
		smtp_server_bytes(ctx, s, p, p + n, ts);
	/* A first line longer than any greeting or EHLO: some other protocol. */
	if (!(s->flags & (S_CONFIRMED | S_PROXY | S_DONE)) &&
	    smtp_line_seen(&s->lb[dir]) > SMTP_PROBE_LINE_MAX)
		smtp_not_smtp(ctx, s);
	smtp_aux_put(ctx, s);
}

/*
 * After L7_BYPASS the worker calls nothing but close(), so a flow found not
 * to be SMTP can give its slot back now instead of holding it until the
 * flow ends (with detect_any_port every TCP flow is probed); L7_RELEASED
 * tells the worker not to call close() for it.
 */
static enum l7_verdict smtp_verdict(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	if (!(s->flags & S_DONE))
		return L7_CONTINUE;
	if (s->flags & S_NOT_SMTP) {
		smtp_sess_free(ctx, s);
		return L7_RELEASED;
	}
	return L7_BYPASS;
}

static enum l7_verdict smtp_data(void *arg, void *sess, const struct flow *f, enum flow_dir dir,
				 const uint8_t *p, uint32_t n, uint64_t ts)
{
	struct smtp_ctx *ctx = arg;
	struct smtp_sess *s = sess;

	ctx->f = f;

	if (!(s->flags & S_DONE))
		smtp_feed(ctx, s, dir, p, n, ts);
	return smtp_verdict(ctx, s);
}

static void smtp_gap_lines(struct smtp_ctx *ctx, struct smtp_sess *s, enum flow_dir dir)
{
	/* Zeek's rule: after a hole nobody knows which reply answers what. */
	smtp_line_gap(&s->lb[dir]);
	smtp_q_empty(ctx, s);
	s->rcode = 0;
	s->flags &= ~(S_TEXT | S_AUTH_CHAL);
	s->flags |= S_UNSURE;
}

static void smtp_gap_client(struct smtp_ctx *ctx, struct smtp_sess *s, uint32_t len, uint64_t ts)
{
	struct smtp_aux *a;
	uint64_t take;

	switch (s->mode) {
	case M_DATA:
		/* Keep looking for the terminator; the reply to it also ends DATA. */
		if (smtp_msgbox_of(ctx, s))
			smtp_msg_gap(SMTP_MSG(smtp_tx_of(ctx, s)->msg), len);
		s->dstate = D_MID;
		break;
	case M_BDAT:
		a = smtp_aux_of(ctx, s);
		take = len < a->bdat_left ? len : a->bdat_left;
		if (smtp_msgbox_of(ctx, s))
			smtp_msg_gap(SMTP_MSG(smtp_tx_of(ctx, s)->msg), (size_t)take);
		a->bdat_left -= take;
		if (a->bdat_left)
			break;
		smtp_bdat_chunk_end(ctx, s, ts);
		if (len > take)
			smtp_gap_lines(ctx, s, FLOW_DIR_TO_SERVER);
		break;
	case M_TLS_WAIT:
	case M_TLS:
		smtp_tls_done(ctx, s);
		break;
	default:
		smtp_gap_lines(ctx, s, FLOW_DIR_TO_SERVER);
		break;
	}
}

static enum l7_verdict smtp_gap(void *arg, void *sess, const struct flow *f, enum flow_dir dir,
				uint32_t len, uint64_t ts)
{
	struct smtp_ctx *ctx = arg;
	struct smtp_sess *s = sess;

	ctx->f = f;

	if (s->flags & S_DONE)
		return smtp_verdict(ctx, s);
	ctx->st.gaps++;
	if (!(s->flags & S_CONFIRMED)) {
		/* No way to tell what a flow is from the middle of a hole. */
		smtp_not_smtp(ctx, s);
		return smtp_verdict(ctx, s);
	}
	s->flags |= S_GAP;
	if (s->tx)
		smtp_tx_of(ctx, s)->tx.flags |= SMTP_TX_F_GAP;
	if (s->tx_wait)
		smtp_tx_wait_of(ctx, s)->tx.flags |= SMTP_TX_F_GAP;
	if (dir == FLOW_DIR_TO_SERVER)
		smtp_gap_client(ctx, s, len, ts);
	else
		smtp_gap_lines(ctx, s, FLOW_DIR_TO_CLIENT);
	smtp_aux_put(ctx, s);
	return smtp_verdict(ctx, s);
}

static void smtp_eof(void *arg, void *sess, const struct flow *f, enum flow_dir dir, uint64_t ts)
{
	static const uint8_t lf = '\n';
	struct smtp_ctx *ctx = arg;
	struct smtp_sess *s = sess;

	ctx->f = f;

	/* A last line without its line end still counts. Not while probing: the
	 * worker goes on after eof(), so the slot must not be given back here. */
	if (!(s->flags & S_DONE) && (s->flags & S_CONFIRMED) && smtp_line_pending(&s->lb[dir]))
		smtp_feed(ctx, s, dir, &lf, 1, ts);
}

static void smtp_close(void *arg, void *sess, const struct flow *f, enum flow_end why, uint64_t ts)
{
	struct smtp_ctx *ctx = arg;
	struct smtp_sess *s = sess;

	ctx->f = f;
	smtp_finish(ctx, s, ts);
	if (s->flags & S_OPENED)
		smtp_ev_close(ctx, s, f, why, ts);
	smtp_sess_free(ctx, s);
}

static void smtp_housekeep(void *arg, uint64_t now_ns)
{
	struct smtp_ctx *ctx = arg;

	(void)now_ns;
	/* The worker's safe point for a reloaded signature set. */
	if (ctx->sigw)
		sigs_worker_housekeep(ctx->sigw);
	ctx->st.sessions_active = pool_in_use(&ctx->sess_pool);
	ctx->st.events_dropped = ctx->sink->dropped;
	ctx->st.string_bytes = strarena_stats(ctx->str)->held_bytes;
	ctx->st.strings_shared = strarena_stats(ctx->str)->shared;
	stats_publish(ctx->mirror_smtp_stats, &ctx->st, sizeof(ctx->st));
}

/* iconv converters and the JA4 digest context are per thread: made here, off the packet path. */
static int smtp_thread_init(void *ctx)
{
	int err = rfc2047_thread_init();

	return err ? err : tls_hello_thread_init();
}

static void smtp_thread_fini(void *ctx)
{
	rfc2047_thread_fini();
	tls_hello_thread_fini();
}

const struct l7_ops smtp_l7_ops = {
	.thread_init = smtp_thread_init,
	.thread_fini = smtp_thread_fini,
	.open = smtp_open,
	.data = smtp_data,
	.gap = smtp_gap,
	.eof = smtp_eof,
	.close = smtp_close,
	.housekeep = smtp_housekeep,
};

/* ------------------------------------------------------------------ context */

static uint32_t smtp_share(uint32_t n, uint32_t div, uint32_t min)
{
	return n / div > min ? n / div : min;
}

/*
 * Slots for every session's three strings whatever their lengths, so the
 * arena never runs dry while the session pool does not: classes up to the
 * banner cap (48) may take all three values of every session, the 56-byte
 * class HELO and last reply, the larger ones HELO alone. That is 752 bytes
 * of address space a session; only the slots ever used become resident.
 * The interning table has an entry for every two sessions (4 bytes a
 * session): values repeat so much (2 798 distinct of 28 483 replies in
 * short spam) that more entries were bytes for nothing; a value whose
 * bucket is full is kept private, as without the table (bench, smtp-heavy
 * / short-spam string bytes per session: 48.2 / 25.9 with 8 bytes a
 * session, 44.2 / 21.9 with 4, both before the sample-once fix; 44.4 /
 * 21.9 now).
 */
_Static_assert(3ull * SMTP_SESSIONS_MAX < STRARENA_IDX_MASK,
	       "the string arena must name every slot SMTP_SESSIONS_MAX sessions may take");

static int smtp_str_create(struct smtp_ctx *ctx, uint32_t n)
{
	uint32_t slots[STRARENA_CLASSES];

	for (uint32_t c = 0; c < STRARENA_CLASSES; c++) {
		size_t size = (c + 1) * STRARENA_GRAIN;
		uint32_t values = size <= 48 ? 3 : size <= SMTP_LAST_MAX ? 2 : 1;

		if (n > UINT32_MAX / values)
			return -EINVAL;
		slots[c] = n * values;
	}
	return strarena_create(slots, n / 2, &ctx->str);
}

int smtp_ctx_create(const struct smtp_cfg *cfg, struct event_sink *sink, struct smtp_ctx **out)
{
	struct smtp_ctx *ctx;
	uint32_t n;
	int err;

	if (!cfg || !sink || !cfg->max_sessions || cfg->max_sessions > SMTP_SESSIONS_MAX ||
	    cfg->max_line < 64 || cfg->max_line > SMTP_LINE_CAP_MAX || !cfg->max_pipeline)
		return -EINVAL;
	ctx = aligned_alloc(64, (sizeof(*ctx) + 63) & ~(size_t)63);
	if (!ctx)
		return -ENOMEM;
	memset(ctx, 0, sizeof(*ctx));
	ctx->cfg = *cfg;
	if (ctx->cfg.max_pipeline > SMTP_PIPELINE_CAP)
		ctx->cfg.max_pipeline = SMTP_PIPELINE_CAP;
	ctx->sink = sink;
	ctx->msg_cfg = (struct smtp_msg_cfg){
		.max_header_bytes = cfg->max_header_bytes,
		.decode_body = cfg->sigs != NULL,
		.keep_subject = cfg->keep_subject,
	};
	n = cfg->max_sessions;
	err = pool_init(&ctx->sess_pool, n, sizeof(struct smtp_sess));
	if (!err)
		err = pool_init(&ctx->tx_pool, smtp_share(n, 2, 16), sizeof(struct smtp_txs));
	if (!err && ctx->tx_pool.obj_size != SMTP_TXS_STRIDE)
		err = -EINVAL; /* pool.c rounds differently now: SMTP_TXS_STRIDE must follow */
	if (!err)
		err = pool_init(&ctx->msg_pool, smtp_share(n, 4, 16),
				sizeof(struct smtp_msgbox) + smtp_msg_size());
	/* Line assembly can hold a partial AUTH line: out of core dumps. */
	if (!err)
		err = pool_init_nodump(&ctx->aux_pool, smtp_share(n, 4, 16),
				       sizeof(struct smtp_aux) + 2 * (size_t)cfg->max_line);
	if (!err)
		err = pool_init(&ctx->tls_pool, smtp_share(n, 16, 8), sizeof(struct smtp_tlsbuf));
	if (!err)
		err = pool_init(&ctx->auth_pool, smtp_share(n, 2, 16), sizeof(struct smtp_ext));
	/* Deep queues are held only while a pipelined burst waits for its replies. */
	if (!err && ctx->cfg.max_pipeline > SMTP_Q_INLINE)
		err = pool_init(&ctx->q_pool, smtp_share(n, 8, 8),
				ctx->cfg.max_pipeline * sizeof(uint16_t));
	if (!err)
		err = smtp_str_create(ctx, n);
	if (!err && cfg->privacy) {
		ctx->ptx = malloc(sizeof(*ctx->ptx));
		err = ctx->ptx ? 0 : -ENOMEM;
	}
	if (!err && cfg->sigs) {
		struct sigs_worker_cfg wc;

		sigs_worker_cfg_default(&wc);
		err = sigs_worker_create(cfg->sigs, &wc, &ctx->sigw);
	}
	if (err) {
		smtp_ctx_destroy(ctx);
		return err;
	}
	*out = ctx;
	return 0;
}

void smtp_ctx_destroy(struct smtp_ctx *ctx)
{
	if (!ctx)
		return;
	pool_fini(&ctx->sess_pool);
	pool_fini(&ctx->tx_pool);
	pool_fini(&ctx->msg_pool);
	sigs_worker_destroy(ctx->sigw);
	pool_fini(&ctx->aux_pool);
	pool_fini(&ctx->tls_pool);
	pool_fini(&ctx->auth_pool);
	pool_fini(&ctx->q_pool);
	strarena_destroy(ctx->str);
	free(ctx->ptx);
	free(ctx);
}

void smtp_ctx_stats_read(struct smtp_ctx *ctx, struct smtp_stats *out)
{
	stats_read(out, ctx->mirror_smtp_stats, sizeof(*out));
}

size_t smtp_ctx_mem_bytes(const struct smtp_ctx *ctx)
{
	return sizeof(*ctx) + pool_bytes(&ctx->sess_pool) + pool_bytes(&ctx->tx_pool) +
	       pool_bytes(&ctx->msg_pool) + pool_bytes(&ctx->aux_pool) +
	       pool_bytes(&ctx->tls_pool) + pool_bytes(&ctx->auth_pool) + pool_bytes(&ctx->q_pool) +
	       (ctx->str ? strarena_mem_bytes(ctx->str) : 0) + (ctx->ptx ? sizeof(*ctx->ptx) : 0);
}

void smtp_ctx_str_held(const struct smtp_ctx *ctx, uint64_t *sessions, uint64_t *bytes)
{
	/* The table is made for max_sessions sessions: each has its share. */
	*sessions = ctx->str_sessions;
	*bytes = ctx->str_held_bytes +
		 strarena_table_bytes(ctx->str) * ctx->str_sessions / ctx->cfg.max_sessions;
}

size_t smtp_session_size(void)
{
	/* Its reply queue included; a deep queue is taken only while a
	 * pipelined burst is in flight. What the pool spends on it: the
	 * object, rounded as pool.c rounds it, and its free-index entry
	 * (pool_bytes() / n). */
	return ((sizeof(struct smtp_sess) + 15) & ~(size_t)15) + sizeof(uint32_t);
}
