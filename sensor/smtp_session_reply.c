// SPDX-License-Identifier: BSD-3-Clause
/*
 * smtp_session: the server's side. The queue of awaited replies, replies
 * matched to the commands they answer, and the server's lines. The layout
 * is told at the top of smtp_session.c.
 */
#include "sensor/smtp_session_int.h"

/* ------------------------------------------------------------------ queue */

static uint16_t *smtp_q_ents(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	return s->q_big ? pool_at(&ctx->q_pool, s->q.big) : s->q.in;
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

	if (smtp_q_cap(ctx, s) >= ctx->cfg.max_pipeline) {
		ctx->st.pipeline_overflow++;
		return false;
	}
	big = pool_get(&ctx->q_pool);
	if (!big) {
		ctx->st.buf_no_slot++;
		return false;
	}
	for (unsigned int i = 0; i < s->q_len; i++)
		big[i] = s->q.in[(s->q_head + i) % smtp_q_cap(ctx, s)];
	s->q.big = pool_index(&ctx->q_pool, big);
	s->q_head = 0;
	s->q_big = 1;
	return true;
}

/* Nothing awaited: back to the inline entries. */
void smtp_q_empty(struct smtp_ctx *ctx, struct smtp_sess *s)
{
	if (s->q_big) {
		pool_put(&ctx->q_pool, pool_at(&ctx->q_pool, s->q.big));
		s->q_big = 0;
	}
	s->q_len = 0;
	s->q_head = 0;
}

void smtp_q_push(struct smtp_ctx *ctx, struct smtp_sess *s, uint8_t cmd, bool flag,
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
	if (s->q_len >= smtp_q_cap(ctx, s) && !smtp_q_grow(ctx, s))
		return;
	smtp_q_ents(ctx, s)[(s->q_head + s->q_len) % smtp_q_cap(ctx, s)] =
		SMTP_Q_MAKE(cmd, flag, gen, rcpt);
	s->q_len++;
}

static inline __attribute__((always_inline)) bool smtp_q_pop(struct smtp_ctx *ctx,
							     struct smtp_sess *s, uint16_t *e)
{
	if (!s->q_len)
		return false;
	*e = smtp_q_head(ctx, s);
	if (--s->q_len)
		s->q_head = (uint8_t)((s->q_head + 1) % smtp_q_cap(ctx, s));
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

/*
 * First line of a reply: what it answers, and whether its text is worth
 * gathering. true: the banner string was set from it and holds its text whole.
 */
static bool smtp_reply_first(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_reply *r,
			     uint64_t ts)
{
	bool held = false;
	unsigned int cmd;

	/* The server speaks only after the end of data: the terminator was lost. */
	if (s->mode == M_DATA && !(s->flags & S_DATA_WAIT))
		smtp_data_end(ctx, s, ts);
	s->flags &= ~(S_RMATCHED | S_TEXT);
	/* The head is read once (it was twice a reply), again only after a pop. */
	cmd = s->q_len ? SMTP_Q_CMD(smtp_q_head(ctx, s)) : EV_CMD_NONE;
	/* A greeting is 220 (or 421/554 refusing service): anything else means
	 * the capture lost it and the reply answers the first command. */
	if (cmd == EV_CMD_BANNER && !smtp_greeting_code(r->code)) {
		uint16_t e;

		smtp_q_pop(ctx, s, &e);
		cmd = s->q_len ? SMTP_Q_CMD(smtp_q_head(ctx, s)) : EV_CMD_NONE;
	}
	if (s->q_len) {
		s->flags |= S_RMATCHED;
		s->rcmd = (uint8_t)cmd;
	} else {
		s->rcmd = smtp_banner_like(s, r->code) ? EV_CMD_BANNER : EV_CMD_NONE;
	}
	if (s->rcmd == EV_CMD_BANNER && !s->str[STR_BANNER]) {
		smtp_carry_set(ctx, s, C_BANNER, r->text, r->text_len);
		held = r->text_len && r->text_len <= SMTP_LAST_MAX &&
		       strarena_len(ctx->str, s->str[STR_BANNER]) == r->text_len;
	}
	if (r->more && (r->code >= 400 || s->rcmd == EV_CMD_BANNER) && smtp_aux_get(ctx, s)) {
		s->flags |= S_TEXT;
		smtp_aux_of(ctx, s)->text_len = 0;
		smtp_text_add(smtp_aux_of(ctx, s), r->text, r->text_len);
	}
	return held;
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
		smtp_auth_challenge(smtp_auth_state(ctx, s), r->text, r->text_len);
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

/*
 * The session's last reply is read only for a session record
 * (smtp_session_record()): when the session ends with no transaction record
 * said (n_tx == 0), or after TLS starts (the record smtp_tls_done() makes).
 * Interning its text in the arena at every reply cost ~185 instructions a
 * reply (callgrind); instead, while a transaction holds the same text in
 * its last[], the session names that transaction by its generation (in
 * last_code's high bits), and the text goes to the arena only when that
 * transaction leaves (smtp_last_gone()) while the text may still be read.
 *
 * The greeting is the session's last reply until the EHLO's replaces it, and
 * the banner string (C_BANNER) most often holds its very text: then
 * SMTP_LAST_BANNER, a bit between the code and the generation, says so, and
 * the text is not interned a second time (short-spam: -85 instructions a
 * session). The banner string is set once and kept until the session's
 * strings go back, so it still holds the text when the record reads it.
 */
#define SMTP_LAST_BANNER (SMTP_LAST_CODE_MASK + 1u)

_Static_assert(SMTP_TX_LAST_MAX - 4 >= SMTP_LAST_MAX, "a transaction's last[] holds the session's");
_Static_assert(999 <= SMTP_LAST_CODE_MASK &&
		       (SMTP_LAST_CODE_MASK | SMTP_LAST_BANNER) < (1u << SMTP_LAST_GEN_SHIFT) &&
		       (7u << SMTP_LAST_GEN_SHIFT) <= UINT16_MAX,
	       "a code, the banner bit and a generation share last_code");

/* The text may be read later: n_tx only grows, and S_TLS is set (and the
 * text kept, smtp_last_keep()) before smtp_tls_done() can make a record. */
static bool smtp_last_wanted(const struct smtp_sess *s)
{
	return s->n_tx == 0 || (s->flags & S_TLS);
}

static void smtp_last_arena(struct smtp_ctx *ctx, struct smtp_sess *s, const void *p, size_t n)
{
	s->last_code &= (uint16_t)~SMTP_LAST_BANNER;
	/* No slot: the session record says the code alone. */
	smtp_str_set(ctx, s, STR_LAST, p, n < SMTP_LAST_MAX ? n : SMTP_LAST_MAX);
}

/* The greeting, whose text the banner string holds whole: named, not interned again. */
static __attribute__((noinline)) void smtp_last_banner(struct smtp_ctx *ctx, struct smtp_sess *s,
						       uint16_t code)
{
	s->last_code = (uint16_t)(code | SMTP_LAST_BANNER);
	strarena_put(ctx->str, &s->str[STR_LAST]);
}

/* Remember the reply as the last one of its transaction and of the session. */
void smtp_reply_last(struct smtp_ctx *ctx, struct smtp_sess *s, struct smtp_txs *t,
		     const struct smtp_reply *r)
{
	s->last_code = r->code;
	if (t) {
		t->tx.last_code = r->code;
		t->last_len = (uint16_t)smtp_fmt_reply(t->last, sizeof(t->last), r->head, r->text,
						       r->text_len);
		s->last_code = (uint16_t)(s->last_code | t->gen << SMTP_LAST_GEN_SHIFT);
		if (s->str[STR_LAST])
			strarena_put(ctx->str, &s->str[STR_LAST]);
	} else if (smtp_last_wanted(s)) {
		smtp_last_arena(ctx, s, r->text, r->text_len);
	} else if (s->str[STR_LAST]) {
		strarena_put(ctx->str, &s->str[STR_LAST]);
	}
}

/* S_TLS was just set: r, the session's last reply, may be read again. */
void smtp_last_keep(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_reply *r)
{
	if (!(s->last_code >> SMTP_LAST_GEN_SHIFT))
		smtp_last_arena(ctx, s, r->text, r->text_len);
}

/* t goes back to its pool: if it holds the session's last reply, the arena takes it. */
void smtp_last_gone(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_txs *t)
{
	if ((s->last_code >> SMTP_LAST_GEN_SHIFT) != t->gen)
		return;
	s->last_code &= SMTP_LAST_CODE_MASK;
	if (smtp_last_wanted(s))
		smtp_last_arena(ctx, s, t->last + 4, t->last_len - 4u);
}

/* The session's last reply: its code (0: none) and text, copied into buf. */
uint16_t smtp_last_text(const struct smtp_ctx *ctx, const struct smtp_sess *s,
			char buf[SMTP_LAST_MAX], size_t *n)
{
	unsigned int gen = s->last_code >> SMTP_LAST_GEN_SHIFT;
	const struct smtp_txs *t = NULL;
	const char *p = NULL;

	*n = 0;
	if (!gen) {
		uint32_t h = s->str[s->last_code & SMTP_LAST_BANNER ? STR_BANNER : STR_LAST];

		*n = strarena_len(ctx->str, h);
		p = strarena_get(ctx->str, h);
	} else {
		t = smtp_tx_of(ctx, s);
		if (!t || t->gen != gen)
			t = smtp_tx_wait_of(ctx, s);
		if (t && t->gen == gen && t->last_len >= 4) {
			*n = t->last_len - 4u;
			p = t->last + 4;
		}
	}
	*n = *n < SMTP_LAST_MAX ? *n : SMTP_LAST_MAX;
	if (*n)
		memcpy(buf, p, *n);
	return (uint16_t)(s->last_code & SMTP_LAST_CODE_MASK);
}

/* held: this one-line reply's text is the banner string's whole (smtp_reply_first()). */
static void smtp_reply_final(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_reply *r,
			     bool held, uint64_t ts)
{
	const void *text = r->text;
	size_t n = r->text_len;
	uint16_t e = SMTP_Q_MAKE(EV_CMD_NONE, false, 0, SMTP_Q_NO_RCPT);
	unsigned int cls = (unsigned int)(r->head[0] - '2');
	struct smtp_txs *t = NULL, *lt;

	ctx->st.replies++;
	/* The class from the code's first digit, not code / 100 and a jump
	 * table: 2..5 counted, 1xx (which the parser takes) not. */
	if (cls < 4)
		ctx->st.replies_class[cls]++;
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
	lt = t ? t : smtp_tx_of(ctx, s);
	if (held && !lt && smtp_last_wanted(s))
		smtp_last_banner(ctx, s, r->code);
	else
		smtp_reply_last(ctx, s, lt, r);
	if (r->code >= 400)
		smtp_ev_reply(ctx, s, r, s->rcmd, text, n, ts);
	smtp_reply_dispatch(ctx, s, e, t, r, text, n, ts);
}

void smtp_server_line(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_line *l,
		      uint64_t ts)
{
	struct smtp_reply r;
	bool held = false;

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
		held = smtp_reply_first(ctx, s, &r, ts);
	else if (s->flags & S_TEXT)
		smtp_text_add(smtp_aux_of(ctx, s), r.text, r.text_len);
	if (r.more) {
		s->rcode = r.code;
		return;
	}
	s->rcode = 0;
	smtp_reply_final(ctx, s, &r, held, ts);
}
