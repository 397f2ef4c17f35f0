// SPDX-License-Identifier: BSD-3-Clause
#include "bench/bench_body.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sensor/smtp_msg.h"
#include "sensor/smtp_tx.h"

#define BODY_LINE_MAX 8192
/* Sessions open at once, all workers together (l7.h wants them in one
 * arena: here a table of pointers to them, as this pass mallocs each). */
#define BODY_SLOTS (1u << 20)

struct body_sess {
	bool in_data;
	bool truncated; /* the line in buf went past BODY_LINE_MAX */
	size_t llen;
	struct smtp_msg *msg;
	struct smtp_tx tx;
	uint8_t line[BODY_LINE_MAX + 2];
};

static bool body_grow(struct bench_bodies *b, void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 1024;
	void *np;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	np = realloc(*p, n * elem);
	if (!np) {
		b->failed = true;
		return false;
	}
	*p = np;
	*cap = n;
	return true;
}

static void body_bytes(void *arg, const struct smtp_msg_part *part, const uint8_t *p, size_t n)
{
	struct bench_bodies *b = arg;

	if (!body_grow(b, (void **)&b->buf, &b->cap, b->len + n, 1))
		return;
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	if (part->is_text)
		b->text_bytes += n;
}

static const struct smtp_msg_sink body_sink = {.body = body_bytes};

static void body_msg_end(struct bench_bodies *b, struct body_sess *s)
{
	smtp_msg_end(s->msg);
	s->in_data = false;
	if (body_grow(b, (void **)&b->msg_end, &b->cap_msgs, b->n_msgs + 1, sizeof(size_t)))
		b->msg_end[b->n_msgs++] = b->len;
}

/* One client line without its LF (CR kept): a command, or a line of content. */
static void body_line(struct bench_bodies *b, struct body_sess *s)
{
	static const struct smtp_msg_cfg mcfg = {
		.max_header_bytes = 64 * 1024,
		.decode_body = true,
		.binary_bodies = true, /* the reference: every decoded byte, attachments too */
		.keep_subject = true,
	};
	const uint8_t *p = s->line;
	size_t n = s->llen;

	if (n && p[n - 1] == '\r')
		n--;
	if (!s->in_data) {
		if (n == 4 && strncasecmp((const char *)p, "DATA", 4) == 0) {
			memset(&s->tx, 0, sizeof(s->tx));
			smtp_msg_begin(s->msg, &mcfg, &s->tx, &body_sink, b);
			s->in_data = true;
		}
		return;
	}
	if (n == 1 && p[0] == '.' && !s->truncated) {
		body_msg_end(b, s);
		return;
	}
	if (n && p[0] == '.')
		p++, n--; /* dot-stuffing */
	s->line[s->llen] = '\n';
	b->content_bytes += s->llen + 1;
	smtp_msg_feed(s->msg, p, (size_t)(s->line + s->llen + 1 - p));
}

static const void *body_arena(void *ctx, size_t *bytes)
{
	struct bench_bodies *b = ctx;

	if (!b->slot) {
		b->slot = calloc(BODY_SLOTS, sizeof(*b->slot));
		b->free_slot = malloc(BODY_SLOTS * sizeof(*b->free_slot));
		if (!b->slot || !b->free_slot) {
			free(b->slot);
			free(b->free_slot);
			b->slot = NULL;
			b->free_slot = NULL;
			b->failed = true;
			return NULL;
		}
		for (uint32_t i = 0; i < BODY_SLOTS; i++)
			b->free_slot[i] = BODY_SLOTS - 1 - i;
		b->n_free = BODY_SLOTS;
	}
	*bytes = BODY_SLOTS * sizeof(*b->slot);
	return b->slot;
}

static void *body_open(void *ctx, const struct flow *f, uint64_t ts_ns)
{
	struct bench_bodies *b = ctx;
	uint16_t port = flow_server_port(f);
	struct body_sess *s;
	uint32_t i;

	/* the generator's SMTP sessions; other flows carry no messages */
	if (port != 25 && port != 587 && port != 2525)
		return NULL;
	if (!b->n_free) {
		b->failed = true; /* a message missed: the figures are incomplete */
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->msg = malloc(smtp_msg_size());
	if (!s->msg) {
		free(s);
		return NULL;
	}
	i = b->free_slot[--b->n_free];
	b->slot[i] = s;
	return &b->slot[i];
}

static enum l7_verdict body_data(void *ctx, void *sess, const struct flow *f, enum flow_dir dir,
				 const uint8_t *p, uint32_t n, uint64_t ts_ns)
{
	struct body_sess *s = *(struct body_sess **)sess;

	if (dir != FLOW_DIR_TO_SERVER)
		return L7_CONTINUE;
	for (uint32_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			body_line(ctx, s);
			s->llen = 0;
			s->truncated = false;
		} else if (s->llen < BODY_LINE_MAX) {
			s->line[s->llen++] = p[i];
		} else {
			s->truncated = true;
		}
	}
	return L7_CONTINUE;
}

static enum l7_verdict body_gap(void *ctx, void *sess, const struct flow *f, enum flow_dir dir,
				uint32_t len, uint64_t ts_ns)
{
	return L7_CONTINUE;
}

static void body_close(void *ctx, void *sess, const struct flow *f, enum flow_end why,
		       uint64_t ts_ns)
{
	struct bench_bodies *b = ctx;
	struct body_sess **slot = sess;
	struct body_sess *s = *slot;

	if (s->in_data)
		body_msg_end(b, s);
	free(s->msg);
	free(s);
	*slot = NULL;
	b->free_slot[b->n_free++] = (uint32_t)(slot - b->slot);
}

const struct l7_ops bench_body_ops = {
	.sess_arena = body_arena,
	.open = body_open,
	.data = body_data,
	.gap = body_gap,
	.close = body_close,
};

void bench_bodies_fini(struct bench_bodies *b)
{
	free(b->buf);
	free(b->msg_end);
	free(b->slot);
	free(b->free_slot);
	memset(b, 0, sizeof(*b));
}
