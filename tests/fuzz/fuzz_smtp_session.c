// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz_smtp_session: one SMTP connection per input, both directions, split
 * wherever the input says. Byte 0 picks the flow: bits 0-1 the server port
 * (25, 465, 8080 probed, 587), bit 2 the handshake seen or not. Then
 * records: a control byte (bit 0: direction, bits 1-2: 3 means a gap of
 * length * 61 bytes, else data), a length byte, that many bytes. Checks
 * that every event the session emits is whole and that the pools come back.
 * Seeds: tests/fuzz/seeds/smtp_session/ (conversations of the unit tests).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/msgring.h"
#include "dataplane/flow.h"
#include "sensor/event.h"
#include "sensor/sigs.h"
#include "sensor/smtp_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct msgring *fuzz_ring;
static struct event_sink fuzz_sink;
static struct smtp_ctx *fuzz_ctx;
static struct sigs *fuzz_sigs;

/* One rule per scope, so the signature glue runs too (when Hyperscan can); the URL
 * rules take each URL database (whole set, the one of set-gated rules, base). */
static const char fuzz_rules[] = "1 reply blocklist high i /blocked using/ \"r\"\n"
				 "2 command mailer low i /^(ehlo|helo) [a-z]+$/ \"c\"\n"
				 "3 header other low i /mailer/ \"h\"\n"
				 "4 body spam low i /pills|viagra$/ \"b\"\n"
				 "5 url phish low - /\\/login/ \"u\"\n"
				 "6 url phish low i /^https?:\\/\\/(abc|cdef)\\.x/ \"s\"\n"
				 "7 url phish low - /^https?:\\/\\/\\d/ \"v\"\n";

static void fuzz_init(void)
{
	struct smtp_cfg cfg;

	if (fuzz_ctx)
		return;
	if (msgring_create(8u << 20, &fuzz_ring))
		abort();
	fuzz_sink.ring = fuzz_ring;
	smtp_cfg_default(&cfg);
	if (!sigs_create(&fuzz_sigs)) {
		struct errbuf eb;

		if (sigs_load_text(fuzz_sigs, "fuzz", fuzz_rules, sizeof(fuzz_rules) - 1, &eb) == 0)
			cfg.sigs = fuzz_sigs;
	}
	cfg.max_sessions = 4;
	cfg.max_line = 256; /* small: long lines and cuts are common */
	cfg.max_pipeline = 8;
	if (smtp_ctx_create(&cfg, &fuzz_sink, &fuzz_ctx))
		abort();
}

static void fuzz_flow(struct flow *f, uint8_t sel)
{
	static const uint16_t ports[4] = {25, 465, 8080, 587};

	memset(f, 0, sizeof(*f));
	f->key.family = 4;
	f->key.lo.b[10] = f->key.lo.b[11] = f->key.hi.b[10] = f->key.hi.b[11] = 0xff;
	f->key.lo.b[12] = 10, f->key.lo.b[15] = 1;
	f->key.hi.b[12] = 10, f->key.hi.b[15] = 2;
	f->key.lo_port = 40000;
	f->key.hi_port = ports[sel & 3];
	f->flags = FLOW_F_CLIENT_LO | (sel & 4 ? 0 : FLOW_F_SYN);
	f->first_ns = 1;
}

/* Every event must be a known type of a sane length; EV_TX exactly its record. */
static void fuzz_drain(void)
{
	const struct event_hdr *h;
	uint32_t len;

	while ((h = msgring_peek(fuzz_ring, &len))) {
		if (h->type == 0 || h->type >= EV_TYPE_COUNT || h->len != len || len < sizeof(*h))
			abort();
		if (h->type == EV_TX) {
			const struct event_tx *e = (const void *)h;

			if (len != offsetof(struct event_tx, tx) + e->tx.wire_size ||
			    e->tx.arena_used > SMTP_TX_ARENA)
				abort();
		}
		msgring_release(fuzz_ring);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_stats st;
	struct flow f;
	uint64_t ts = 1000;
	size_t i = 1;
	void *s;
	enum l7_verdict v = L7_CONTINUE;

	if (size < 1)
		return 0;
	fuzz_init();
	fuzz_flow(&f, data[0]);
	s = smtp_l7_ops.open(fuzz_ctx, &f, ts);
	while (s && v == L7_CONTINUE && i + 2 <= size) {
		uint8_t ctl = data[i], n = data[i + 1];
		enum flow_dir dir = (ctl & 1) ? FLOW_DIR_TO_CLIENT : FLOW_DIR_TO_SERVER;
		size_t take = n < size - i - 2 ? n : size - i - 2;

		i += 2;
		ts += 1000;
		if (((ctl >> 1) & 3) == 3) {
			v = smtp_l7_ops.gap(fuzz_ctx, s, &f, dir, (uint32_t)n * 61 + 1, ts);
			continue;
		}
		/* A copy of exactly the chunk: reading past it is an ASan report. */
		uint8_t *chunk = malloc(take ? take : 1);

		memcpy(chunk, data + i, take);
		v = smtp_l7_ops.data(fuzz_ctx, s, &f, dir, chunk, (uint32_t)take, ts);
		free(chunk);
		i += take;
		if (v == L7_CONTINUE && (ctl & 0x80))
			smtp_l7_ops.eof(fuzz_ctx, s, &f, dir, ts);
	}
	if (s && v != L7_RELEASED) /* released: the worker does not close it */
		smtp_l7_ops.close(fuzz_ctx, s, &f, FLOW_END_FIN, ts + 1000);
	smtp_l7_ops.housekeep(fuzz_ctx, ts);
	fuzz_drain();
	/* Everything the connection took went back: one connection at a time
	 * never finds a pool empty unless an earlier one leaked. */
	smtp_ctx_stats_read(fuzz_ctx, &st);
	if (st.sessions_active != 0 || st.tx_no_slot || st.buf_no_slot)
		abort();
	return 0;
}
