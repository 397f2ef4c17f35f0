// SPDX-License-Identifier: BSD-3-Clause
/*
 * smtp_session: the values a session carries (HELO, banner, AUTH user and
 * mechanism, last reply), their pseudonyms, the events it sends and its
 * transaction and session records. The layout is told at the top of
 * smtp_session.c.
 */
#include "sensor/smtp_session_int.h"

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
	[C_USER] = {0, SMTP_CARRY_USER, true, 0},
	[C_MECH] = {SMTP_CARRY_USER, SMTP_CARRY_MECH, true, 0},
};

_Static_assert(68 <= STRARENA_MAX && 48 <= STRARENA_MAX && SMTP_LAST_MAX <= STRARENA_MAX,
	       "arena slots hold the carry caps");

/* The session's struct smtp_ext, taken empty if it has none; NULL: the pool is empty (counted). */
struct smtp_ext *smtp_ext_get(struct smtp_ctx *ctx, struct smtp_sess *s)
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
	memset(x->n, 0, sizeof(x->n));
	x->auth = (struct smtp_auth){0};
	return x;
}

/* One more of a rare count; lost (and counted) only if ext could not be had. */
void smtp_ext_count(struct smtp_ctx *ctx, struct smtp_sess *s, enum smtp_ext_cnt i)
{
	struct smtp_ext *x = smtp_ext_get(ctx, s);

	if (x)
		smtp_count(&x->n[i], true);
}

/* The ClientHello buffer goes back to its pool, if the session holds one;
 * struct smtp_ext too when it carries no AUTH value and no count (an AUTH
 * state is worth keeping only after an AUTH, which is counted). */
void smtp_tls_put(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	struct smtp_ext *x = smtp_ext_of(ctx, s);

	if (!x)
		return;
	if (x->tls) {
		pool_put(&ctx->tls_pool, smtp_tls_of(ctx, s));
		x->tls = 0;
	}
	if (!x->user_len && !x->mech_len && !x->n[X_UNKNOWN] && !x->n[X_AUTH]) {
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
bool smtp_str_set(struct smtp_ctx *ctx, struct smtp_sess *s, enum smtp_sess_str i, const void *p,
		  size_t n)
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
void smtp_str_release(struct smtp_ctx *ctx, struct smtp_sess *s)
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
void smtp_carry_set(struct smtp_ctx *ctx, struct smtp_sess *s, enum smtp_carry c, const void *p,
		    size_t n)
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

/* A mailbox or user name as it is stored: its pseudonym when privacy is on;
 * "" when none can be made, never the clear value. */
size_t smtp_pseudo(const struct smtp_ctx *ctx, const void *in, size_t n, bool user,
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

/*
 * Event text (reply lines, signature snippets) echoes mailboxes: the same
 * pseudonyms. Out of line: its buffer would give every event's text copy,
 * pseudonymised or not, a frame to set up.
 */
static __attribute__((noinline)) uint16_t
smtp_ev_text_private(const struct smtp_ctx *ctx, char *dst, size_t cap, const void *src, size_t n)
{
	char buf[EVENT_TEXT_MAX + 1];

	n = privacy_text(ctx->cfg.privacy, src, n < EVENT_TEXT_MAX ? n : EVENT_TEXT_MAX, buf,
			 sizeof(buf));
	return event_copy_text(dst, cap, buf, n);
}

uint16_t smtp_ev_text(const struct smtp_ctx *ctx, char *dst, size_t cap, const void *src, size_t n)
{
	if (!ctx->cfg.privacy)
		return event_copy_text(dst, cap, src, n);
	return smtp_ev_text_private(ctx, dst, cap, src, n);
}

/* ------------------------------------------------------------------ events */

/* The header's flow fields; event_begin() zeroed the rest, the body and the padding. */
static void smtp_ev_hdr(const struct smtp_ctx *ctx, struct event_hdr *h, uint64_t ts)
{
	const struct flow *f = ctx->f;
	/* The ends are read before any store into h: the compiler cannot tell
	 * h from f, and made each accessor's test of the flow's side again
	 * after every store (four tests an event). */
	const union pkt_addr client = *flow_client_addr(f), server = *flow_server_addr(f);
	uint16_t client_port = flow_client_port(f), server_port = flow_server_port(f);

	h->ts_ns = ts;
	/* No uid: it is made where the event is read (event_fill_uid()). */
	h->first_ns = f->first_ns;
	h->family = f->key.family;
	h->client = client;
	h->server = server;
	h->client_port = client_port;
	h->server_port = server_port;
	h->vlan = f->key.vlan;
}

/*
 * Bodies are written field by field into a zeroed event: no stale ring bytes
 * in the padding. Inline in this file's builders (a call and its frame were
 * some 15 instructions an event); smtp_ev_begin() for the others.
 */
static inline __attribute__((always_inline)) void *
smtp_ev_start(struct smtp_ctx *ctx, enum event_type t, uint32_t len, uint64_t ts)
{
	struct event_hdr *e = event_begin(ctx->sink, t, len, NULL);

	if (e)
		smtp_ev_hdr(ctx, e, ts);
	return e;
}

void *smtp_ev_begin(struct smtp_ctx *ctx, enum event_type t, uint32_t len, uint64_t ts)
{
	return smtp_ev_start(ctx, t, len, ts);
}

/* A record whose bytes past `zero` the caller copies in whole: only the head is zeroed. */
static void *smtp_ev_begin_head(struct smtp_ctx *ctx, enum event_type t, uint32_t len,
				uint32_t zero, uint64_t ts)
{
	struct event_hdr *e = event_begin_head(ctx->sink, t, len, zero);

	if (e)
		smtp_ev_hdr(ctx, e, ts);
	return e;
}

void smtp_ev_open(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts)
{
	struct event_session_open *e;

	if (s->flags & S_OPENED)
		return;
	s->flags |= S_OPENED;
	ctx->st.sessions++;
	e = smtp_ev_start(ctx, EV_SESSION_OPEN, sizeof(*e), ts);
	if (!e)
		return;
	e->midstream = (s->flags & S_MIDSTREAM) != 0;
	e->implicit_tls = (s->flags & S_IMPLICIT_TLS) != 0;
	e->proxied = (s->flags & S_PROXY) != 0;
	event_commit(ctx->sink);
}

void smtp_ev_banner(struct smtp_ctx *ctx, struct smtp_sess *s, uint16_t code, const void *text,
		    size_t n, uint64_t ts)
{
	struct event_banner *e = smtp_ev_start(ctx, EV_BANNER, sizeof(*e), ts);

	if (!e)
		return;
	e->code = code;
	e->text_len = event_copy_text(e->text, sizeof(e->text), text, n);
	event_commit(ctx->sink);
}

void smtp_ev_auth(struct smtp_ctx *ctx, struct smtp_sess *s, uint16_t code, uint64_t ts)
{
	struct event_auth *e = smtp_ev_start(ctx, EV_AUTH, sizeof(*e), ts);

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

void smtp_ev_rcpt(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_tx *tx,
		  const struct smtp_rcpt *r, const void *text, size_t n, uint64_t ts)
{
	struct event_rcpt *e = smtp_ev_start(ctx, EV_RCPT, sizeof(*e), ts);

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

void smtp_ev_reply(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_reply *r,
		   uint8_t cmd, const void *text, size_t n, uint64_t ts)
{
	struct event_reply *e = smtp_ev_start(ctx, EV_REPLY, sizeof(*e), ts);

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

void smtp_ev_close(struct smtp_ctx *ctx, struct smtp_sess *s, const struct flow *f,
		   enum flow_end why, uint64_t ts)
{
	struct event_session_close *e = smtp_ev_start(ctx, EV_SESSION_CLOSE, sizeof(*e), ts);

	if (!e)
		return;
	e->bytes_to_server = flow_bytes(f, FLOW_DIR_TO_SERVER);
	e->bytes_to_client = flow_bytes(f, FLOW_DIR_TO_CLIENT);
	e->duration_ns = ts > f->first_ns ? ts - f->first_ns : 0;
	e->transactions = s->n_tx;
	e->commands = s->n_cmd;
	e->unknown_cmds = smtp_ext_n(ctx, s, X_UNKNOWN);
	e->auth_attempts = smtp_ext_n(ctx, s, X_AUTH);
	e->auth_failures = smtp_ext_n(ctx, s, X_AUTH_FAIL);
	e->rcpt_total = s->n_rcpt;
	e->rcpt_rejected = s->n_rcpt_rej;
	e->tls = (s->flags & S_TLS) != 0;
	e->end_reason = (uint8_t)why;
	e->saw_banner = (s->flags & S_BYTES_S) != 0;
	e->one_sided = !flow_bytes(f, FLOW_DIR_TO_SERVER) || !flow_bytes(f, FLOW_DIR_TO_CLIENT);
	event_commit(ctx->sink);
}

/* ------------------------------------------------------------------ transactions */

struct smtp_txs *smtp_tx_begin(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts)
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

void smtp_msg_stop(struct smtp_ctx *ctx, struct smtp_sess *s)
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
	tx->auth_attempts = smtp_ext_n(ctx, s, X_AUTH);
	tx->auth_failures = smtp_ext_n(ctx, s, X_AUTH_FAIL);
	/* The result or an open exchange say AUTH too when ext was not to be had. */
	if (tx->auth_attempts || smtp_auth_result(s) || (s->flags & S_AUTH_OPEN))
		tx->flags |= SMTP_TX_F_AUTH;
	tx->auth_result = (uint8_t)smtp_auth_result(s);
	if (!smtp_tx_has(tx, SMTP_F_HELO))
		smtp_carry_to_tx(ctx, s, tx, C_HELO, SMTP_F_HELO);
	if (!smtp_tx_has(tx, SMTP_F_AUTH_MECH))
		smtp_carry_to_tx(ctx, s, tx, C_MECH, SMTP_F_AUTH_MECH);
	if (!smtp_tx_has(tx, SMTP_F_AUTH_USER))
		smtp_carry_to_tx(ctx, s, tx, C_USER, SMTP_F_AUTH_USER);
}

void smtp_tx_hello(struct smtp_sess *s, struct smtp_tx *tx, const struct tls_hello *h)
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
void smtp_tx_emit(struct smtp_ctx *ctx, struct smtp_sess *s, struct smtp_txs *t, bool answered,
		  uint64_t ts)
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
	/* Every byte past the head is the copy's: it is not zeroed first. */
	e = smtp_ev_begin_head(ctx, EV_TX, (uint32_t)(offsetof(struct event_tx, tx) + wire),
			       (uint32_t)offsetof(struct event_tx, tx), ts);
	if (e) {
		memcpy(&e->tx, tx, wire);
		event_commit(ctx->sink);
	}
	if (answered)
		smtp_count(&s->msgs_done, true);
	smtp_last_gone(ctx, s, t);
	pool_put(&ctx->tx_pool, t);
}

void smtp_tx_emit_open(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts)
{
	if (s->tx)
		smtp_tx_emit(ctx, s, smtp_tx_of(ctx, s), false, ts);
}

/* "NNN ", the head of last_reply, for a code 100..999 not parsed from a line. */
void smtp_code_head(uint16_t code, char head[4])
{
	head[0] = (char)('0' + code / 100 % 10);
	head[1] = (char)('0' + code / 10 % 10);
	head[2] = (char)('0' + code % 10);
	head[3] = ' ';
}

/* "code text" as Zeek logs last_reply; head: "NNN " (struct smtp_reply's). */
size_t smtp_fmt_reply(char *dst, size_t cap, const char head[4], const uint8_t *text, size_t n)
{
	if (cap < 5)
		return 0;
	memcpy(dst, head, 4);
	if (n > cap - 4)
		n = cap - 4;
	memcpy(dst + 4, text, n);
	return 4 + n;
}

/* A session that never had a transaction still says what happened in it. */
struct smtp_txs *smtp_session_tx(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	struct smtp_txs *t = smtp_tx_begin(ctx, s, ctx->f->first_ns);

	if (t)
		t->tx.flags |= SMTP_TX_F_SESSION;
	return t;
}

void smtp_session_record(struct smtp_ctx *ctx, struct smtp_sess *s, struct smtp_txs *t, uint64_t ts)
{
	char text[SMTP_LAST_MAX], head[4];
	size_t n;

	if (!t)
		t = smtp_session_tx(ctx, s);
	if (!t)
		return;
	t->tx.last_code = smtp_last_text(ctx, s, text, &n);
	if (t->tx.last_code) {
		smtp_code_head(t->tx.last_code, head);
		t->last_len = (uint16_t)smtp_fmt_reply(t->last, sizeof(t->last), head,
						       (const uint8_t *)text, n);
	}
	smtp_tx_emit(ctx, s, t, false, ts);
}
