// SPDX-License-Identifier: BSD-3-Clause
/*
 * The worker's two burst stages (decode and prepare the whole burst, then
 * flow, reassembly and L7 in packet order) against the same packets given
 * one at a time: what L7 sees (every open, chunk, gap, end and close, in
 * order, with its bytes) and every counter must be the same. Packets come
 * from the input: four connections, IPv4 and IPv6, on a 3-flow table
 * (creation, eviction and reuse inside one burst), bursts of 1 to 48
 * (longer than WORKER_BURST: split in parts). Time moves at most 300 us per
 * packet, so no expiry (the housekeeping runs on a different burst count in
 * the two workers) can tell them apart.
 *
 * Input: 1 byte of burst-length seed, then 6 bytes per packet:
 *   [0] conn:2 from_server:1 SYN ACK FIN RST end_burst
 *   [1..2] seq offset  [3] ack offset (x 16)  [4] length (of 0..96)  [5] time step
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/worker.h"
#include "../unit/pkt_build.h"

#define MAX_PKTS  4096
#define MAX_BURST 48
#define FRAME_MAX 192

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

/* What one worker's L7 saw: a running hash of every event and how many. */
struct log {
	uint64_t hash;
	uint64_t events;
	uint32_t sessions;
	uint32_t sess_id[64];
};

static void log_add(struct log *l, uint64_t v)
{
	l->hash = (l->hash ^ v) * 0x100000001b3ull;
	l->events++;
}

static void log_bytes(struct log *l, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		log_add(l, p[i]);
}

static const void *l_arena(void *ctx, size_t *bytes)
{
	*bytes = sizeof(((struct log *)ctx)->sess_id);
	return ((struct log *)ctx)->sess_id;
}

static void *l_open(void *ctx, const struct flow *f, uint64_t ts)
{
	struct log *l = ctx;
	uint32_t id = l->sessions++;

	log_add(l, 0x10000 | (uint64_t)f->key.lo_port << 16 | f->key.hi_port |
			   (uint64_t)f->key.family << 40);
	log_add(l, ts);
	l->sess_id[id % 64] = id;
	return &l->sess_id[id % 64];
}

static enum l7_verdict l_data(void *ctx, void *sess, const struct flow *f, enum flow_dir dir,
			      const uint8_t *p, uint32_t n, uint64_t ts)
{
	struct log *l = ctx;

	log_add(l, 0x20000 | (uint64_t) * (uint32_t *)sess << 8 | dir);
	log_add(l, ts);
	log_bytes(l, p, n);
	return L7_CONTINUE;
}

static enum l7_verdict l_gap(void *ctx, void *sess, const struct flow *f, enum flow_dir dir,
			     uint32_t len, uint64_t ts)
{
	struct log *l = ctx;

	log_add(l, 0x30000 | (uint64_t) * (uint32_t *)sess << 8 | dir);
	log_add(l, (uint64_t)len << 32 ^ ts);
	return L7_CONTINUE;
}

static void l_eof(void *ctx, void *sess, const struct flow *f, enum flow_dir dir, uint64_t ts)
{
	log_add(ctx, 0x40000 | (uint64_t) * (uint32_t *)sess << 8 | dir);
	log_add(ctx, ts);
}

static void l_close(void *ctx, void *sess, const struct flow *f, enum flow_end why, uint64_t ts)
{
	log_add(ctx, 0x50000 | (uint64_t) * (uint32_t *)sess << 8 | why);
	log_add(ctx, flow_bytes(f, 0) << 32 ^ flow_bytes(f, 1) ^ ts);
}

static const struct l7_ops log_ops = {.sess_arena = l_arena,
				      .open = l_open,
				      .data = l_data,
				      .gap = l_gap,
				      .eof = l_eof,
				      .close = l_close};

static uint8_t ports[65536 / 8];

static struct {
	uint8_t frame[MAX_PKTS][FRAME_MAX];
	struct pkt pkt[MAX_PKTS];
	uint8_t end_burst[MAX_PKTS];
} in;

static const char text[] = "EHLO client.example.net\r\nMAIL FROM:<a@example.net>\r\n"
			   "250-mx.example.org\r\n250 PIPELINING\r\nRCPT TO:<b@example.org>\r\n";

/* One frame from 6 input bytes; returns its length. */
static uint32_t build(uint8_t *buf, const uint8_t *b, const uint32_t isn[8])
{
	static const char *const cli4 = "192.0.2.10", *const srv4 = "198.51.100.25";
	static const char *const cli6 = "2001:db8::a", *const srv6 = "2001:db8::19";
	unsigned int conn = b[0] & 3, srv = (b[0] >> 2) & 1;
	uint16_t cport = (uint16_t)(40000 + conn);
	struct pkt_build_tcp tcp = {
		.sport = srv ? 25 : cport,
		.dport = srv ? cport : 25,
		.seq = isn[conn * 2 + srv] + (uint32_t)(b[1] | b[2] << 8),
		.ack = isn[conn * 2 + !srv] + (uint32_t)b[3] * 16,
		.flags = (uint8_t)(((b[0] & 0x08) ? PKT_BUILD_TCP_SYN : 0) |
				   ((b[0] & 0x10) ? PKT_BUILD_TCP_ACK : 0) |
				   ((b[0] & 0x20) ? PKT_BUILD_TCP_FIN : 0) |
				   ((b[0] & 0x40) ? PKT_BUILD_TCP_RST : 0)),
		.win = 65535,
	};
	uint32_t len = b[4] % 97, off = b[4] % (sizeof(text) - 1 - 96);
	struct pkt_build pb;

	pkt_build_init(&pb, buf, FRAME_MAX);
	pkt_build_eth(&pb, 0);
	if (conn & 2) {
		struct pkt_build_ipv6 ip = {.src = srv ? srv6 : cli6, .dst = srv ? cli6 : srv6};

		pkt_build_ipv6(&pb, &ip);
	} else {
		struct pkt_build_ipv4 ip = {.src = srv ? srv4 : cli4, .dst = srv ? cli4 : srv4};

		pkt_build_ipv4(&pb, &ip);
	}
	pkt_build_tcp(&pb, &tcp);
	if (len)
		pkt_build_payload(&pb, text + off, len);
	return (uint32_t)pkt_build_finish(&pb);
}

static struct worker *make(struct log *l, _Atomic bool *stop)
{
	struct worker_cfg wc = {.cpu = -1, .l7 = &log_ops, .l7_ctx = l, .stop = stop};
	struct worker *w;

	ports[25 / 8] |= 1u << (25 % 8);
	decode_cfg_default(&wc.decode);
	flow_table_cfg_default(&wc.flow);
	wc.flow.capacity = 3;
	wc.flow.server_ports = ports;
	tcp_reasm_cfg_default(&wc.reasm);
	wc.reasm.flow_bytes = 512;
	wc.reasm.total_bytes = 4096;
	wc.reasm.seg_bytes = 64;
	wc.server_ports = ports;
	CHECK(worker_create(&wc, &w) == 0);
	return w;
}

/* Every counter but bursts (one worker has more of them, by design). */
static void check_same(struct worker *a, struct worker *b)
{
	struct worker_stats sa, sb;

	worker_stats_read(a, &sa);
	worker_stats_read(b, &sb);
	sa.bursts = sb.bursts = 0;
	CHECK(memcmp(&sa, &sb, sizeof(sa)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t isn[8] = {1000,	   500000,    0xfffff000u, 77,
					123456789, 987654321, 0x7ffffff0u, 0x80000010u};
	static _Atomic bool stop;
	struct log la = {.hash = 0xcbf29ce484222325ull}, lb = la;
	uint64_t ts = 1700000000000000000ull;
	struct worker *a, *b;
	uint32_t n = 0, seed;

	if (size < 1)
		return 0;
	seed = data[0];
	for (size_t off = 1; off + 6 <= size && n < MAX_PKTS; off += 6, n++) {
		const uint8_t *r = data + off;

		ts += (uint64_t)(r[5] & 3) * 100000u;
		in.pkt[n] =
			(struct pkt){.data = in.frame[n], .link = PKT_LINK_ETHERNET, .ts_ns = ts};
		in.pkt[n].len = in.pkt[n].wire_len = build(in.frame[n], r, isn);
		CHECK(in.pkt[n].len > 0);
		in.end_burst[n] = (r[0] & 0x80) != 0;
	}
	a = make(&la, &stop);
	b = make(&lb, &stop);
	for (uint32_t i = 0; i < n;) {
		uint32_t k = 1;

		/* up to MAX_BURST, cut where the input says or where the seed's length ends */
		while (i + k < n && k < MAX_BURST && !in.end_burst[i + k - 1] &&
		       k < (seed % MAX_BURST) + 1)
			k++;
		worker_process_burst(a, &in.pkt[i], (uint16_t)k);
		for (uint32_t j = 0; j < k; j++)
			worker_process_burst(b, &in.pkt[i + j], 1);
		i += k;
		seed = seed * 1103515245u + 12345u;
		seed >>= 8;
	}
	worker_finish(a);
	worker_finish(b);
	CHECK(la.events == lb.events);
	CHECK(la.hash == lb.hash);
	CHECK(la.sessions == lb.sessions);
	check_same(a, b);
	worker_destroy(a);
	worker_destroy(b);
	return 0;
}
