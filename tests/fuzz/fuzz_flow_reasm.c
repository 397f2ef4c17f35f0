// SPDX-License-Identifier: BSD-3-Clause
/*
 * Flow table + TCP reassembly driven the way the worker drives them, by
 * segments whose seq/ack/len/flags/direction come from the input, on four
 * connections through a 3-slot table (evictions, reuse) and a small pool
 * (caps). Payload bytes differ between retransmissions, and a model keeps
 * the first byte offered at each sequence number of each stream (a segment
 * the caps refused offered nothing): every
 * delivered byte must be that one (it was offered, it sits where reassembly
 * says, the first copy won). Also checked: delivered <= sent per direction,
 * the buffered gauges are exact and within the caps, the pool is whole at
 * the end.
 *
 * Input: 8 bytes of ISN bases, then 8 bytes per step:
 *   [0] conn:2 dir:1 SYN ACK FIN RST big
 *   [1..2] seq offset  [3..4] ack offset  [5] length  [6] op  [7] time step
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "dataplane/flow.h"
#include "dataplane/tcp_reasm.h"

#define N_CONN	    4
#define CAPACITY    3
#define FLOW_BYTES  512
#define TOTAL_BYTES 4096
#define SEG_BYTES   64
#define MAX_PAYLOAD 2048

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

#define SEQ_WINDOW (1u << 17) /* every stream's bytes lie within this of its ISN base */

struct rec {
	struct flow *f;
	uint32_t life; /* stamps this flow's bytes in the model */
	uint64_t sent[2];
	uint64_t delivered[2];
};

/* First byte offered at each sequence number, per record and direction. */
static struct {
	uint32_t life[CAPACITY + 1][2][SEQ_WINDOW];
	uint8_t val[CAPACITY + 1][2][SEQ_WINDOW];
	uint32_t lives;
} model;

struct harness {
	struct flow_table *ft;
	struct tcp_reasm *r;
	struct rec recs[CAPACITY + 1];
};

static inline uint8_t byte_at(uint16_t sender_port, uint32_t seq, uint32_t version)
{
	return (uint8_t)((seq * 2654435761u) >> 24) ^ (uint8_t)sender_port ^ (uint8_t)version;
}

static struct rec *recs_base;

/* The positions the last model_offer() claimed, so a refused segment can give them back. */
static struct {
	uint32_t *life[MAX_PAYLOAD];
	uint32_t n;
} claimed;

static void model_offer(const struct rec *rc, unsigned int dir, uint32_t seq, const uint8_t *p,
			uint32_t n)
{
	unsigned int ri = (unsigned int)(rc - recs_base);

	claimed.n = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t at = (seq + i) % SEQ_WINDOW;

		if (model.life[ri][dir][at] == rc->life)
			continue;
		model.life[ri][dir][at] = rc->life;
		model.val[ri][dir][at] = p[i];
		claimed.life[claimed.n++] = &model.life[ri][dir][at];
	}
}

/* Reassembly neither kept nor delivered it: a later copy of these bytes may win. */
static void model_unoffer(void)
{
	for (uint32_t i = 0; i < claimed.n; i++)
		*claimed.life[i] = 0;
	claimed.n = 0;
}

static void drain(struct harness *h, struct flow *f)
{
	struct rec *rc = f->l7 ? &recs_base[f->l7 - 1] : NULL;
	struct tcp_reasm_chunk c;

	for (unsigned int n = 0; tcp_reasm_next(h->r, &f->tcp, &c); n++) {
		uint32_t start = f->tcp.dir[c.dir].next_seq - c.len;

		CHECK(n < 100000);
		CHECK(c.dir < 2);
		CHECK(c.len == 0 || c.ptr);
		CHECK(rc);
		for (uint32_t i = 0; i < c.len; i++) {
			uint32_t at = (start + i) % SEQ_WINDOW;
			unsigned int ri = (unsigned int)(rc - recs_base);

			CHECK(model.life[ri][c.dir][at] == rc->life);
			CHECK(model.val[ri][c.dir][at] == c.ptr[i]);
		}
		rc->delivered[c.dir] += c.len;
		CHECK(rc->delivered[c.dir] <= rc->sent[c.dir]);
	}
}

static void close_pair(struct harness *h, struct flow *f)
{
	tcp_reasm_flush(h->r, &f->tcp);
	drain(h, f);
	tcp_reasm_pair_fini(h->r, &f->tcp);
	if (f->l7)
		recs_base[f->l7 - 1].f = NULL;
	f->l7 = 0;
}

static void on_release(void *arg, struct flow *f, enum flow_end why, uint64_t now_ns)
{
	close_pair(arg, f);
}

static struct rec *rec_get(struct harness *h, struct flow *f)
{
	if (f->l7)
		return &h->recs[f->l7 - 1];
	for (unsigned int i = 0; i < CAPACITY + 1; i++) {
		if (h->recs[i].f)
			continue;
		memset(&h->recs[i], 0, sizeof(h->recs[i]));
		h->recs[i].f = f;
		h->recs[i].life = ++model.lives;
		f->l7 = i + 1; /* as the worker keeps it: a reference, not a pointer */
		return &h->recs[i];
	}
	__builtin_trap(); /* more live flows than the table holds */
}

static void check_gauges(const struct harness *h)
{
	const struct tcp_reasm_stats *st = tcp_reasm_stats(h->r);
	uint64_t sum = 0;

	CHECK(st->segs_in_use <= TOTAL_BYTES / SEG_BYTES);
	CHECK(st->buffered_now <= st->segs_in_use * SEG_BYTES);
	CHECK(st->sides_in_use <= TOTAL_BYTES / SEG_BYTES);
	CHECK(st->sides_in_use <= flow_table_stats(h->ft)->active);
	for (unsigned int i = 0; i < CAPACITY + 1; i++) {
		const struct flow *f = h->recs[i].f;

		if (!f)
			continue;
		for (unsigned int d = 0; d < 2; d++) {
			uint32_t held = tcp_reasm_buffered(h->r, &f->tcp, (enum flow_dir)d);

			CHECK(held <= FLOW_BYTES);
			sum += held;
		}
	}
	CHECK(sum == st->buffered_now);
	CHECK(flow_table_stats(h->ft)->active <= CAPACITY);
}

static void step(struct harness *h, const uint8_t *in, const uint32_t base[2 * N_CONN],
		 uint64_t *now, uint32_t version)
{
	static uint8_t payload[MAX_PAYLOAD];
	unsigned int conn = in[0] & 3, from_srv = (in[0] >> 2) & 1;
	uint16_t cport = (uint16_t)(40000 + conn), sport = 25;
	struct pkt_meta m = {.family = 4, .l4_proto = 6};
	enum tcp_reasm_status st;
	enum flow_dir dir;
	uint32_t data_seq;
	struct flow *f;
	struct rec *rc;

	*now += (uint64_t)in[7] * 1000000ull;
	if (in[7] >= 250)
		*now -= 300 * 1000000ull; /* a tap port a little behind */
	m.ts_ns = *now;
	m.src.b[10] = m.src.b[11] = m.dst.b[10] = m.dst.b[11] = 0xff;
	m.src.b[15] = from_srv ? 2 : 1;
	m.dst.b[15] = from_srv ? 1 : 2;
	m.sport = from_srv ? sport : cport;
	m.dport = from_srv ? cport : sport;
	m.tcp_flags =
		(uint8_t)(((in[0] & 0x08) ? PKT_TCP_SYN : 0) | ((in[0] & 0x10) ? PKT_TCP_ACK : 0) |
			  ((in[0] & 0x20) ? PKT_TCP_FIN : 0) |
			  ((in[0] & 0xc0) == 0xc0 ? PKT_TCP_RST : 0));
	m.seq = base[2 * conn + from_srv] + (uint32_t)(in[1] | in[2] << 8);
	m.ack = base[2 * conn + !from_srv] + (uint32_t)(in[3] | in[4] << 8);
	m.payload_len = (in[0] & 0x40) && !(in[0] & 0x80) ? in[5] * 8u : in[5];
	/* a retransmission carries other bytes only now and then, as real ones rarely do */
	version = (in[6] & 0x0f) == 0x0f ? version : 0;
	data_seq = m.seq + ((m.tcp_flags & PKT_TCP_SYN) ? 1 : 0);
	for (uint32_t i = 0; i < m.payload_len; i++)
		payload[i] = byte_at(m.sport, data_seq + i, version);
	m.payload = payload;

	f = flow_lookup_or_add(h->ft, &m, &dir);
	if (flow_is_closed(f))
		return;
	rc = rec_get(h, f);
	rc->sent[dir] += m.payload_len;
	if (in[6] >= 248 && in[6] < 252)
		tcp_reasm_bypass(h->r, &f->tcp);
	/* reassembly ignores the payload of a RST and of a bypassed pair */
	claimed.n = 0;
	if (!tcp_reasm_is_bypassed(&f->tcp) && !(m.tcp_flags & PKT_TCP_RST))
		model_offer(rc, dir, data_seq, payload, m.payload_len);
	st = tcp_reasm_add(h->r, &f->tcp, dir, &m);
	if (st == TCP_REASM_OK)
		drain(h, f);
	else if (st == TCP_REASM_CAPPED)
		model_unoffer();
	if (in[6] >= 240 && in[6] < 248) {
		tcp_reasm_flush(h->r, &f->tcp);
		drain(h, f);
	} else if (in[6] == 252 || in[6] == 253) {
		flow_expire(h->ft, *now + (uint64_t)in[5] * NS_PER_SEC, 8);
		return;
	} else if (in[6] == 254) {
		flow_flush_all(h->ft, *now);
		return;
	}
	if (tcp_reasm_is_closed(&f->tcp) || in[6] == 255) {
		close_pair(h, f);
		flow_mark_closed(h->ft, f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcp_reasm_cfg rcfg = {
		.flow_bytes = FLOW_BYTES,
		.total_bytes = TOTAL_BYTES,
		.seg_bytes = SEG_BYTES,
	};
	struct flow_table_cfg fcfg;
	struct harness h = {0};
	uint32_t base[2 * N_CONN];
	uint64_t now = 1700000000ull * 1000000000ull;

	if (size < 2 * N_CONN)
		return 0;
	for (unsigned int i = 0; i < 2 * N_CONN; i++)
		base[i] = (uint32_t)data[i] << 24 | 0x00ffff00u; /* 0xff..: wraps at 2^32 */
	flow_table_cfg_default(&fcfg);
	fcfg.capacity = CAPACITY;
	fcfg.release = on_release;
	fcfg.release_arg = &h;
	CHECK(flow_table_create(&fcfg, &h.ft) == 0);
	CHECK(tcp_reasm_create(&rcfg, &h.r) == 0);

	recs_base = h.recs;
	for (size_t off = 2 * N_CONN; off + 8 <= size; off += 8) {
		step(&h, data + off, base, &now, (uint32_t)off);
		check_gauges(&h);
	}
	flow_flush_all(h.ft, now);
	CHECK(flow_table_stats(h.ft)->active == 0);
	CHECK(tcp_reasm_stats(h.r)->segs_in_use == 0);
	CHECK(tcp_reasm_stats(h.r)->buffered_now == 0);
	CHECK(tcp_reasm_stats(h.r)->sides_in_use == 0);
	flow_table_destroy(h.ft);
	tcp_reasm_destroy(h.r);
	return 0;
}
