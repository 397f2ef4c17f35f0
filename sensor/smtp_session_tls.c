// SPDX-License-Identifier: BSD-3-Clause
/*
 * smtp_session: STARTTLS and implicit TLS, the ClientHello gathered until
 * the flow is bypassed. The layout is told at the top of smtp_session.c.
 */
#include "sensor/smtp_session_int.h"

/* ------------------------------------------------------------------ TLS */

void smtp_tls_done(struct smtp_ctx *ctx, struct smtp_sess *s)
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

size_t smtp_tls_bytes(struct smtp_ctx *ctx, struct smtp_sess *s, const uint8_t *p, size_t n,
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
void smtp_tls_wait(struct smtp_ctx *ctx, struct smtp_sess *s, uint8_t first)
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
		smtp_last_gone(ctx, s, smtp_tx_of(ctx, s));
		pool_put(&ctx->tx_pool, smtp_tx_of(ctx, s));
		s->tx = 0;
	}
}

void smtp_starttls(struct smtp_ctx *ctx, struct smtp_sess *s, const struct smtp_reply *r,
		   uint64_t ts)
{
	s->flags |= S_TLS;
	/* Zeek logs the switch to TLS as a transaction of its own (tls: true),
	 * and so does Suricata; it ends when the session does, its last reply
	 * the 220 that started TLS. */
	if (!s->tx && smtp_tx_begin(ctx, s, ts))
		smtp_reply_last(ctx, s, smtp_tx_of(ctx, s), r);
	smtp_last_keep(ctx, s, r);
	smtp_line_reset(&s->lb[FLOW_DIR_TO_SERVER]);
	s->mode = M_TLS_WAIT;
}
