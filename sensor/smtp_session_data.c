// SPDX-License-Identifier: BSD-3-Clause
/*
 * smtp_session: message content. Signature scans of lines, headers, bodies
 * and URLs, and the DATA and BDAT bytes fed to the message parser. The
 * layout is told at the top of smtp_session.c.
 */
#include "sensor/smtp_session_int.h"

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

void smtp_sig_line(struct smtp_ctx *ctx, struct smtp_sess *s, enum event_sig_scope scope,
		   const uint8_t *p, size_t n, uint16_t code, uint64_t ts)
{
	struct smtp_sigscan sc = {ctx, s, ts, code, p, n};

	if (ctx->sigw)
		sigs_scan_line(ctx->sigw, scope, p, n, smtp_sig_match, &sc);
}

static __attribute__((noinline)) void smtp_sig_header_scan(struct smtp_msgbox *b, const char *name,
							   size_t name_len, const uint8_t *value,
							   size_t value_len)
{
	struct smtp_sigscan sc = {b->ctx, b->s, b->ts, 0, value, value_len};

	sigs_scan_header(b->ctx->sigw, name, name_len, value, value_len, smtp_sig_match, &sc);
}

/*
 * Most fields are ones no header rule sees: ruled out before the scan's
 * state (and the frame it needs, about 30 instructions) is set up.
 */
static void smtp_sig_header(void *arg, const char *name, size_t name_len, const uint8_t *value,
			    size_t value_len)
{
	struct smtp_msgbox *b = arg;

	if (sigs_header_may_scan(b->ctx->sigw, name_len, value_len))
		smtp_sig_header_scan(b, name, name_len, value, value_len);
}

static void smtp_sig_body_scan(struct smtp_msgbox *b, const uint8_t *p, size_t n)
{
	size_t keep;

	b->cur = p;
	b->cur_len = n;
	sigs_body_feed(b->ctx->sigw, b->body, p, n);
	b->body_off += n;
	b->cur = NULL;
	b->cur_len = 0;
	/* Slide the tail window over what was just scanned. A scan of a whole
	 * window or more (most are) replaces it: one copy of a constant size,
	 * inlined, not two library calls. */
	if (n >= SIGS_CTX_MAX) {
		memcpy(b->tail, p + n - SIGS_CTX_MAX, SIGS_CTX_MAX);
		b->tail_len = SIGS_CTX_MAX;
		return;
	}
	keep = SIGS_CTX_MAX - n;
	keep = keep < b->tail_len ? keep : b->tail_len;
	memmove(b->tail, b->tail + b->tail_len - keep, keep);
	memcpy(b->tail + keep, p, n);
	b->tail_len = (uint8_t)(keep + n);
}

static void smtp_sig_body_flush(void *arg)
{
	struct smtp_msgbox *b = arg;
	struct smtp_ctx *ctx = b->ctx;

	if (ctx->batch_len)
		smtp_sig_body_scan(b, ctx->batch, ctx->batch_len);
	ctx->batch_len = 0;
}

/*
 * Pieces wait in the batch; the order of body matches and URL events stays
 * the one a scan per piece gives, as smtp_sig_url flushes first. A piece
 * that finds the batch empty and fills the match window is scanned where it
 * is, not copied first: most feeds bring one such piece (a message without
 * MIME parts, a part's run of lines), and a stream's matches do not depend
 * on where its calls cut it. Nothing but URLs emits an event between a piece
 * and the flush that would have scanned it, so the order stays too.
 */
static void smtp_sig_body(void *arg, const struct smtp_msg_part *part, const uint8_t *p, size_t n)
{
	struct smtp_msgbox *b = arg;
	struct smtp_ctx *ctx = b->ctx;

	(void)part;
	if (n > SMTP_BODY_BATCH - ctx->batch_len)
		smtp_sig_body_flush(b);
	if (n >= SMTP_BODY_BATCH || (ctx->batch_len == 0 && n >= SIGS_CTX_MAX)) {
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

/* ------------------------------------------------------------------ content */

/* Inline at each of its four callers: as a function of its own (what LTO
 * made of it) it cost a call and a frame on every piece of DATA. */
static inline __attribute__((always_inline)) void
smtp_content(struct smtp_ctx *ctx, struct smtp_sess *s, const uint8_t *p, size_t n, uint64_t ts)
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

void smtp_msg_start(struct smtp_ctx *ctx, struct smtp_sess *s, uint32_t kind, uint64_t ts)
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

void smtp_data_end(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts)
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
size_t smtp_data_bytes(struct smtp_ctx *ctx, struct smtp_sess *s, const uint8_t *p, size_t n,
		       uint64_t ts)
{
	size_t i = 0, start = 0, stop = n;

	/* Most pieces hold no line-start dot: one search and one hand-on,
	 * without the state loop. One that does goes on from its dot. */
	if (n && (s->dstate == D_MID || (s->dstate == D_BOL && p[0] != '.'))) {
		i = smtp_data_next_dot(p, 0, n);
		if (i == n) {
			s->dstate = p[n - 1] == '\n' ? D_BOL : D_MID;
			smtp_content(ctx, s, p, n, ts);
			return n;
		}
		s->dstate = D_BOL;
	}
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

void smtp_data_begin(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts)
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

void smtp_bdat_chunk_end(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts)
{
	s->mode = M_CMD;
	if (s->flags & S_BDAT_LAST)
		smtp_msg_done(ctx, s, ts);
}

/* M_BDAT holds aux (smtp_cmd_bdat), where the bytes left of the chunk are. */
size_t smtp_bdat_bytes(struct smtp_ctx *ctx, struct smtp_sess *s, const uint8_t *p, size_t n,
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
