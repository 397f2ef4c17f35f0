// SPDX-License-Identifier: BSD-3-Clause
/*
 * smtp_session: the client's side. AUTH exchanges, commands, probing a flow
 * for SMTP (and a PROXY header) and the client's lines. The layout is told
 * at the top of smtp_session.c.
 */
#include "sensor/smtp_session_int.h"

/* ------------------------------------------------------------------ AUTH */

void smtp_auth_finish(struct smtp_ctx *ctx, struct smtp_sess *s, uint16_t code, uint64_t ts)
{
	s->flags &= ~(S_AUTH_OPEN | S_AUTH_CHAL);
	smtp_auth_result_set(s, code ? smtp_auth_result_of(smtp_auth_state(ctx, s), code)
				     : SMTP_AUTH_UNKNOWN);
	if (smtp_auth_result(s) == SMTP_AUTH_SUCCESS) {
		ctx->st.auth_success++;
		s->flags |= S_AUTH_OK;
	} else if (smtp_auth_result(s) == SMTP_AUTH_FAILURE) {
		ctx->st.auth_failure++;
		smtp_ext_count(ctx, s, X_AUTH_FAIL);
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
	smtp_ext_count(ctx, s, X_AUTH);
	smtp_auth_begin(smtp_auth_state(ctx, s), c->arg, c->arg_len, &out);
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
	smtp_auth_response(smtp_auth_state(ctx, s), l->ptr, l->len, &out);
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

void smtp_cmd_bdat(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_cmd *c, uint64_t ts)
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
	if (unknown)
		smtp_ext_count(ctx, s, X_UNKNOWN);
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

void smtp_confirm(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts)
{
	s->flags |= S_CONFIRMED;
	/* The greeting answers the connection: it heads the reply queue. */
	if (!(s->flags & (S_MIDSTREAM | S_BANNER | S_IMPLICIT_TLS)) && s->q_len == 0)
		smtp_q_push(ctx, s, EV_CMD_BANNER, false, SMTP_Q_NO_RCPT);
	smtp_ev_open(ctx, s, ts);
}

/* Not SMTP: the session goes back to the pool at once (see smtp_close). */
void smtp_not_smtp(struct smtp_ctx *ctx, struct smtp_sess *s)
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

void smtp_proxy_status(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_line *l)
{
	if (l->len >= 12 && !memcmp(l->ptr, "HTTP/1.", 7) && !memcmp(l->ptr + 8, " 200", 4))
		s->srv = SRV_PROXY_HDRS;
	else
		smtp_not_smtp(ctx, s);
}

/* The tunnel is up: SMTP from here on, greeting first (or TLS on 465). */
void smtp_proxy_up(struct smtp_ctx *ctx, struct smtp_sess *s, uint64_t ts)
{
	s->srv = SRV_LINES;
	if (s->flags & S_IMPLICIT_TLS) {
		s->flags |= S_TLS;
		s->mode = M_TLS_WAIT;
	}
	smtp_confirm(ctx, s, ts);
}

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

void smtp_probe_server(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_line *l,
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

void smtp_client_line(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_line *l,
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
