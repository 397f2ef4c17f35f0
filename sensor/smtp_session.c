// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/smtp_session_int.h"

/*
 * Files. smtp_session.c: config, pools, the end of a session, the bytes of
 * each direction, the l7 ops and the context; smtp_session_ev.c: carried
 * values, events and records; smtp_session_data.c: signatures, DATA and
 * BDAT; smtp_session_tls.c: TLS; smtp_session_cmd.c: AUTH, commands and
 * probing; smtp_session_reply.c: the reply queue and replies.
 * smtp_session_int.h is what they share.
 */

/*
 * Memory. An idle session is the small struct smtp_sess, with room for a
 * few awaited replies. Everything big is taken from a pool when needed and
 * given back as soon as it is not: line assembly and multi-line reply text
 * (aux, only while a line spans segments or an error reply spans lines), a
 * deep reply queue (while more commands await replies than the session
 * holds), the transaction record (MAIL .. its EV_TX), the message parser
 * (DATA/BDAT content), the ClientHello buffer (STARTTLS .. bypass), the AUTH
 * user, mechanism, state and counts and the count of unknown commands (AUTH
 * or an unknown command .. end of session; with the ClientHello buffer's
 * reference, in one struct smtp_ext). A pool running dry costs
 * detail, never correctness of the state machine, and is counted. Pool
 * sizes, of max_sessions: records and struct smtp_ext 1/2, message parsers
 * and line buffers 1/4, deep reply queues 1/8, ClientHello buffers 1/16.
 * HELO, banner and last reply are in a string arena, in slots as big as
 * each value needs (smtp_str_create()). Default config (16384 sessions): an
 * idle session is 68 bytes (smtp_session_size(): struct smtp_sess, 64, and
 * its pool index, 4); the whole context (smtp_ctx_mem_bytes()) is about 132
 * MiB, 8.5 kB a session (8 460), nearly all of it the pools above, each
 * session's share: records 3 946, message parsers 1 593, line buffers
 * 1 093, ClientHello buffers 275, struct smtp_ext 50, deep queues 16.5; and
 * the string arena's 1 418 (1 416 of slots in 4-byte steps, address space
 * resident only as used, and 2 of table).
 */
_Static_assert(sizeof(struct smtp_stats) % sizeof(uint64_t) == 0,
	       "smtp_stats must be made of uint64_t");
_Static_assert(EV_CMD_OTHER < 32, "event_cmd must fit the queue entry");
_Static_assert(SMTP_TX_MAX_RCPT < SMTP_Q_NO_RCPT, "recipient index must fit the queue entry");

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

/* ------------------------------------------------------------------ pools */

struct smtp_aux *smtp_aux_get(struct smtp_ctx *ctx, struct smtp_sess *s)
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

/* A client line may be (part of) an AUTH response: gone once it was read. */
void smtp_line_wipe_client(const struct smtp_ctx *ctx, struct smtp_sess *s)
{
	smtp_line_wipe(&s->lb[FLOW_DIR_TO_SERVER], smtp_line_space(ctx, s, FLOW_DIR_TO_SERVER),
		       ctx->cfg.max_line);
}

/* A partial line needs a buffer: attach one (or none) and read again. */
static __attribute__((noinline)) enum smtp_line_status
smtp_next_line_buf(struct smtp_ctx *ctx, struct smtp_sess *s, enum flow_dir dir, const uint8_t **p,
		   const uint8_t *end, struct smtp_line *l)
{
	smtp_line_attach(&s->lb[dir], smtp_aux_get(ctx, s) != NULL);
	return smtp_line_next(&s->lb[dir], smtp_line_space(ctx, s, dir), ctx->cfg.max_line, p, end,
			      l);
}

static bool smtp_next_line(struct smtp_ctx *ctx, struct smtp_sess *s, enum flow_dir dir,
			   const uint8_t **p, const uint8_t *end, struct smtp_line *l)
{
	enum smtp_line_status st = smtp_line_next(&s->lb[dir], smtp_line_space(ctx, s, dir),
						  ctx->cfg.max_line, p, end, l);

	if (st == SMTP_LINE_NEED_BUF)
		st = smtp_next_line_buf(ctx, s, dir, p, end, l);
	if (st != SMTP_LINE_OK)
		return false;
	/* Nearly every line has none of the three: one test, not three counter updates. */
	if (__builtin_expect(l->bare_lf | l->has_nul | l->truncated, 0)) {
		ctx->st.bare_lf += l->bare_lf;
		ctx->st.nul_bytes += l->has_nul;
		ctx->st.line_too_long += l->truncated;
	}
	return true;
}

/* ------------------------------------------------------------------ end */

void smtp_release(struct smtp_ctx *ctx, struct smtp_sess *s)
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
	/* struct smtp_ext stays only for its counts, which EV_SESSION_CLOSE
	 * reads after the end: it goes with the session (smtp_sess_free()). */
	smtp_tls_put(ctx, s);
	smtp_str_release(ctx, s);
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
/* ------------------------------------------------------------------ bytes */

static inline __attribute__((always_inline)) void smtp_client_bytes(struct smtp_ctx *ctx,
								    struct smtp_sess *s,
								    const uint8_t *p,
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
	if (s->ext)
		pool_put(&ctx->auth_pool, smtp_ext_of(ctx, s));
	pool_put(&ctx->sess_pool, s);
}

/* l7.h: the flow entry keeps a session as its offset in the pool, which the
 * largest pool allowed keeps in 32 bits (pool slots are rounded up to 16). */
_Static_assert((sizeof(struct smtp_sess) + 15) * (uint64_t)SMTP_SESSIONS_MAX < UINT32_MAX,
	       "a session's offset in its pool fits a flow's 32-bit reference");

static const void *smtp_sess_arena(void *arg, size_t *bytes)
{
	struct smtp_ctx *ctx = arg;

	*bytes = (size_t)ctx->sess_pool.n * ctx->sess_pool.obj_size;
	return ctx->sess_pool.mem;
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

/*
 * Most of a long message's packets: client bytes in DATA of a session known
 * to be SMTP. smtp_feed() would find nothing else to do for them (no
 * probing, and its loop takes DATA first), so they go to the DATA walk
 * without its frame and tests. Bytes after the message's end go to
 * smtp_feed(), which sets the same flag, takes them through its loop (a
 * session done since stops there) and gives aux back.
 */
static __attribute__((noinline)) enum l7_verdict smtp_data_client(struct smtp_ctx *ctx,
								  struct smtp_sess *s,
								  const uint8_t *p, uint32_t n,
								  uint64_t ts)
{
	size_t used;

	s->flags |= S_BYTES_C;
	used = smtp_data_bytes(ctx, s, p, n, ts);
	if (used < n)
		smtp_feed(ctx, s, FLOW_DIR_TO_SERVER, p + used, n - (uint32_t)used, ts);
	else
		smtp_aux_put(ctx, s);
	return smtp_verdict(ctx, s);
}

static __attribute__((noinline)) enum l7_verdict smtp_data_any(struct smtp_ctx *ctx,
							       struct smtp_sess *s,
							       enum flow_dir dir, const uint8_t *p,
							       uint32_t n, uint64_t ts)
{
	if (!(s->flags & S_DONE))
		smtp_feed(ctx, s, dir, p, n, ts);
	return smtp_verdict(ctx, s);
}

/* Two tail calls: no frame here for either kind of packet. */
static enum l7_verdict smtp_data(void *arg, void *sess, const struct flow *f, enum flow_dir dir,
				 const uint8_t *p, uint32_t n, uint64_t ts)
{
	struct smtp_ctx *ctx = arg;
	struct smtp_sess *s = sess;

	ctx->f = f;
	if (s->mode == M_DATA && dir == FLOW_DIR_TO_SERVER && n &&
	    (s->flags & (S_CONFIRMED | S_DONE)) == S_CONFIRMED)
		return smtp_data_client(ctx, s, p, n, ts);
	return smtp_data_any(ctx, s, dir, p, n, ts);
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
	.sess_arena = smtp_sess_arena,
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
 * banner cap (48) may take all three values of every session, the 52- and
 * 56-byte classes HELO and last reply, the larger ones HELO alone. That is
 * 1 416 bytes of address space a session (752 with 8-byte steps: the 4-byte
 * ones cost address space, not resident memory, and save 3-5 bytes of held
 * slots a session); only the slots ever used become resident.
 * The interning table has an entry for every four sessions (2 bytes a
 * session): values repeat so much (2 798 distinct of 28 483 replies in
 * short spam) that more entries were bytes for nothing; a value whose
 * bucket is full is kept private, as without the table (bench, smtp-heavy
 * / short-spam string bytes per session: 48.2 / 25.9 with 8 bytes a
 * session, 44.2 / 21.9 with 4, both before the sample-once fix; 40.8 /
 * 19.2 at c79d696, 37.9 / 19.1 with 4-byte slot steps; 35.9 / 17.1 with
 * 2: on all five bench profiles, 8 MB and 256 MB captures, exactly the 2
 * bytes of table less, so no value lost its sharing).
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
	return strarena_create(slots, n / 4, &ctx->str);
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
	ctx->q_cap[0] = smtp_q_inline_cap(ctx);
	ctx->q_cap[1] = (uint8_t)ctx->cfg.max_pipeline;
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
