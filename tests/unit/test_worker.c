// SPDX-License-Identifier: BSD-3-Clause
/*
 * The worker loop on real captures with a recording L7: it must hand the
 * parser each direction's bytes in order, once, and close every flow it
 * opened exactly once, whatever the burst boundaries.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/worker.h"
#include "pkt_build.h"

#define LAB(name)     TEST_CAPTURES_DIR "/" name
#define REC_MAX_SESS  8
#define REC_MAX_BYTES 16384

struct rec_sess {
	bool used;
	uint32_t opens, closes, eofs[2];
	enum flow_end why;
	size_t n[2];
	char buf[2][REC_MAX_BYTES];
	uint64_t last_ts;
	bool ts_backwards;
	const struct flow *f; /* open()'s: every later hook must get the same */
	bool wrong_flow;
	bool released;		/* data() said L7_RELEASED */
	uint32_t after_release; /* hooks called after that: must stay 0 */
};

/* rec_data() answers L7_RELEASED, as a parser that gave its session back. */
static bool rec_release;

struct rec {
	struct rec_sess s[REC_MAX_SESS];
	uint32_t sessions, gaps, housekeeps, thread_inits, thread_finis;
};

static int rec_thread_init(void *ctx)
{
	((struct rec *)ctx)->thread_inits++;
	return 0;
}

static void rec_thread_fini(void *ctx)
{
	((struct rec *)ctx)->thread_finis++;
}

static const void *rec_arena(void *ctx, size_t *bytes)
{
	*bytes = sizeof(((struct rec *)ctx)->s);
	return ((struct rec *)ctx)->s;
}

static void *rec_open(void *ctx, const struct flow *f, uint64_t ts)
{
	struct rec *r = ctx;

	if (r->sessions == REC_MAX_SESS)
		return NULL;
	r->s[r->sessions].used = true;
	r->s[r->sessions].f = f;
	r->s[r->sessions].opens++;
	r->s[r->sessions].last_ts = ts;
	return &r->s[r->sessions++];
}

static enum l7_verdict rec_data(void *ctx, void *sess, const struct flow *f, enum flow_dir dir,
				const uint8_t *p, uint32_t n, uint64_t ts)
{
	struct rec_sess *s = sess;
	size_t room = REC_MAX_BYTES - 1 - s->n[dir];

	(void)ctx;
	s->wrong_flow |= f != s->f;
	s->after_release += s->released;
	if (rec_release) {
		s->released = true;
		return L7_RELEASED;
	}
	if (ts < s->last_ts)
		s->ts_backwards = true;
	s->last_ts = ts;
	memcpy(s->buf[dir] + s->n[dir], p, n < room ? n : room);
	s->n[dir] += n < room ? n : room;
	return L7_CONTINUE;
}

static enum l7_verdict rec_gap(void *ctx, void *sess, const struct flow *f, enum flow_dir dir,
			       uint32_t len, uint64_t ts)
{
	struct rec_sess *s = sess;

	(void)dir, (void)len, (void)ts;
	s->wrong_flow |= f != s->f;
	s->after_release += s->released;
	((struct rec *)ctx)->gaps++;
	return L7_CONTINUE;
}

static void rec_eof(void *ctx, void *sess, const struct flow *f, enum flow_dir dir, uint64_t ts)
{
	struct rec_sess *s = sess;

	(void)ctx, (void)ts;
	s->wrong_flow |= f != s->f;
	s->after_release += s->released;
	s->eofs[dir]++;
}

static void rec_close(void *ctx, void *sess, const struct flow *f, enum flow_end why, uint64_t ts)
{
	struct rec_sess *s = sess;

	(void)ctx, (void)ts;
	s->wrong_flow |= f != s->f;
	s->after_release += s->released;
	s->closes++;
	s->why = why;
}

static void rec_housekeep(void *ctx, uint64_t now)
{
	(void)now;
	((struct rec *)ctx)->housekeeps++;
}

static const struct l7_ops rec_ops = {
	.thread_init = rec_thread_init,
	.thread_fini = rec_thread_fini,
	.sess_arena = rec_arena,
	.open = rec_open,
	.data = rec_data,
	.gap = rec_gap,
	.eof = rec_eof,
	.close = rec_close,
	.housekeep = rec_housekeep,
};

static uint8_t smtp_ports[65536 / 8];

/* Runs worker_run() over one capture; the caller frees *rp. */
/* Default decode, flow and reassembly settings, port 25 tracked, L7 into r. */
static void worker_cfg_rec(struct worker_cfg *wc, struct rec *r, uint32_t capacity)
{
	smtp_ports[25 / 8] |= 1u << (25 % 8);
	decode_cfg_default(&wc->decode);
	flow_table_cfg_default(&wc->flow);
	wc->flow.capacity = capacity;
	wc->flow.server_ports = smtp_ports;
	tcp_reasm_cfg_default(&wc->reasm);
	wc->l7_ctx = r;
	wc->server_ports = smtp_ports;
}

static void run_capture(const char *path, bool preload, struct rec **rp, struct worker_stats *ws)
{
	struct source_cfg sc = {
		.kind = SOURCE_PCAP, .path = path, .preload = preload, .n_queues = 1};
	static _Atomic bool stop;
	struct errbuf eb = {""};
	struct worker_cfg wc = {.cpu = -1, .l7 = &rec_ops, .stop = &stop};
	struct worker *w;
	struct rec *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	smtp_ports[587 / 8] |= 1u << (587 % 8);
	assert_int_equal(source_open(&sc, &wc.src, &eb), 0);
	worker_cfg_rec(&wc, r, 1024);
	assert_int_equal(worker_create(&wc, &w), 0);
	assert_int_equal(worker_run(w), 0);
	assert_true(worker_is_done(w));
	assert_true(worker_watermark(w) > 0);
	worker_stats_read(w, ws);
	worker_destroy(w);
	source_close(wc.src);
	*rp = r;
}

/* A pipelined session: the client's bytes arrive as one ordered stream with
 * the commands in the order sent, the server's start with its banner, and
 * the flow is opened and closed once, by its FIN. */
static void test_worker_delivers_both_directions_in_order(void **state)
{
	struct worker_stats ws;
	struct rec *r;
	struct rec_sess *s;

	(void)state;
	run_capture(LAB("pipelining.pcap"), false, &r, &ws);
	assert_int_equal(r->sessions, 1);
	s = &r->s[0];
	assert_int_equal(s->opens, 1);
	assert_int_equal(s->closes, 1);
	assert_int_equal(s->why, FLOW_END_FIN);
	assert_int_equal(s->eofs[FLOW_DIR_TO_SERVER], 1);
	assert_int_equal(s->eofs[FLOW_DIR_TO_CLIENT], 1);
	assert_false(s->ts_backwards);
	assert_false(s->wrong_flow);
	assert_int_equal(r->gaps, 0);
	assert_memory_equal(s->buf[FLOW_DIR_TO_CLIENT], "220 ", 4);
	assert_memory_equal(s->buf[FLOW_DIR_TO_SERVER], "EHLO ", 5);
	/* MAIL before RCPT before DATA before QUIT, each once */
	{
		const char *b = s->buf[FLOW_DIR_TO_SERVER];
		const char *mail = strstr(b, "MAIL FROM:"), *rcpt = strstr(b, "RCPT TO:");
		const char *data = strstr(b, "\r\nDATA\r\n"), *quit = strstr(b, "QUIT\r\n");

		assert_non_null(mail);
		assert_non_null(rcpt);
		assert_non_null(data);
		assert_non_null(quit);
		assert_true(mail < rcpt && rcpt < data && data < quit);
		assert_null(strstr(mail + 1, "MAIL FROM:"));
	}
	assert_true(ws.pkts > 10);
	assert_int_equal(ws.flow.created, 1);
	assert_int_equal(r->thread_inits, 1);
	assert_int_equal(r->thread_finis, 1);
	free(r);
}

/* Preloaded and streamed reads of the same file give the parser the same
 * bytes (the benchmark's numbers stand for the real path). */
static void test_worker_preload_same_bytes(void **state)
{
	struct worker_stats wa, wb;
	struct rec *a, *b;

	(void)state;
	run_capture(LAB("bdat.pcap"), false, &a, &wa);
	run_capture(LAB("bdat.pcap"), true, &b, &wb);
	assert_int_equal(a->sessions, b->sessions);
	assert_int_equal(wa.pkts, wb.pkts);
	assert_int_equal(wa.bytes, wb.bytes);
	for (uint32_t i = 0; i < a->sessions; i++)
		for (int d = 0; d < 2; d++) {
			assert_int_equal(a->s[i].n[d], b->s[i].n[d]);
			assert_memory_equal(a->s[i].buf[d], b->s[i].buf[d], a->s[i].n[d]);
		}
	assert_non_null(strstr(a->s[0].buf[FLOW_DIR_TO_SERVER], "BDAT 0 LAST"));
	free(a);
	free(b);
}

/* Two sessions in one capture: each gets its own open and close. */
static void test_worker_two_sessions(void **state)
{
	struct worker_stats ws;
	struct rec *r;

	(void)state;
	run_capture(LAB("headers.pcap"), false, &r, &ws);
	assert_int_equal(r->sessions, 2);
	for (uint32_t i = 0; i < r->sessions; i++) {
		assert_int_equal(r->s[i].opens, 1);
		assert_int_equal(r->s[i].closes, 1);
		assert_false(r->s[i].wrong_flow);
		assert_non_null(strstr(r->s[i].buf[FLOW_DIR_TO_SERVER], "Subject:"));
	}
	assert_int_equal(ws.flow.created, 2);
	free(r);
}

/* A parser that gives its session back (L7_RELEASED) hears nothing more of
 * the flow, not even close(): its slot may serve another flow by then. The
 * flow stays tracked, its payload counted as bypassed. */
static void test_worker_released_session_is_not_closed(void **state)
{
	struct worker_stats ws;
	struct rec *r;

	(void)state;
	rec_release = true;
	run_capture(LAB("headers.pcap"), false, &r, &ws);
	rec_release = false;
	assert_int_equal(r->sessions, 2);
	for (uint32_t i = 0; i < r->sessions; i++) {
		assert_int_equal(r->s[i].opens, 1);
		assert_true(r->s[i].released);
		assert_int_equal(r->s[i].after_release, 0);
		assert_int_equal(r->s[i].closes, 0);
		assert_false(r->s[i].wrong_flow);
	}
	assert_int_equal(ws.flow.created, 2);
	assert_true(ws.l7_bypassed_pkts > 0);
	free(r);
}

/* Frames of one burst, built with the packet builder. */
struct burst {
	uint8_t buf[3 * WORKER_BURST][128];
	struct pkt p[3 * WORKER_BURST];
	uint16_t n;
};

static void burst_add(struct burst *b, const char *src, uint16_t sport, const char *dst,
		      uint16_t dport, uint8_t flags, uint32_t seq, const char *payload)
{
	struct pkt_build_ipv4 ip = {.src = src, .dst = dst};
	struct pkt_build_tcp tcp = {
		.sport = sport, .dport = dport, .seq = seq, .ack = 1, .flags = flags, .win = 65535};
	struct pkt_build pb;
	uint16_t i = b->n++;

	assert_true(i < WORKER_BURST * 3);
	pkt_build_init(&pb, b->buf[i], sizeof(b->buf[i]));
	pkt_build_eth(&pb, 0);
	pkt_build_ipv4(&pb, &ip);
	pkt_build_tcp(&pb, &tcp);
	if (payload)
		pkt_build_payload(&pb, payload, strlen(payload));
	b->p[i] = (struct pkt){.data = b->buf[i],
			       .len = (uint32_t)pkt_build_finish(&pb),
			       .link = PKT_LINK_ETHERNET,
			       .ts_ns = 1700000000000000000ull + i * 1000ull};
	b->p[i].wire_len = b->p[i].len;
	assert_true(b->p[i].len > 0);
}

#define CLI "192.0.2.10"
#define SRV "198.51.100.25"
#define SA  (PKT_BUILD_TCP_SYN | PKT_BUILD_TCP_ACK)
#define PA  (PKT_BUILD_TCP_PSH | PKT_BUILD_TCP_ACK)

/*
 * The burst stages: every packet is decoded and its flow prepared before the
 * first lookup, so within one burst (here longer than WORKER_BURST, so it
 * goes in two parts, and the connections straddle them) packets must find
 * flows that earlier packets of the same burst created, and miss flows that
 * earlier packets evicted, exactly as one packet at a time would. The table
 * holds two flows.
 */
static void test_worker_burst_creates_and_evicts_mid_burst(void **state)
{
	static _Atomic bool stop;
	static struct burst b;
	struct worker_cfg wc = {.cpu = -1, .l7 = &rec_ops, .stop = &stop};
	struct rec *r = calloc(1, sizeof(*r));
	struct worker_stats ws;
	struct worker *w;

	(void)state;
	assert_non_null(r);
	worker_cfg_rec(&wc, r, 2);
	assert_int_equal(worker_create(&wc, &w), 0);
	b.n = 0;
	while (b.n < WORKER_BURST - 4) /* not a tracked port */
		burst_add(&b, CLI, 50000, SRV, 80, PKT_BUILD_TCP_SYN, 1, NULL);
	burst_add(&b, CLI, 40001, SRV, 25, PKT_BUILD_TCP_SYN, 100, NULL); /* creates A */
	burst_add(&b, SRV, 25, CLI, 40001, SA, 500, NULL);		  /* A, made by the last */
	b.p[b.n] = b.p[b.n - 1];
	b.p[b.n++].len = 20; /* a cut frame between them: a decode drop */
	burst_add(&b, SRV, 25, CLI, 40001, PA, 501, "220 a\r\n");	  /* A's session */
	burst_add(&b, CLI, 40002, SRV, 25, PKT_BUILD_TCP_SYN, 100, NULL); /* B: table full */
	burst_add(&b, CLI, 40003, SRV, 25, PKT_BUILD_TCP_SYN, 100, NULL); /* C evicts B */
	burst_add(&b, CLI, 40002, SRV, 25, PKT_BUILD_TCP_ACK, 101, NULL); /* B gone: no flow */
	burst_add(&b, SRV, 25, CLI, 40003, SA, 700, NULL);
	burst_add(&b, SRV, 25, CLI, 40003, PA, 701, "220 c\r\n");	  /* C's session */
	burst_add(&b, CLI, 40004, SRV, 25, PKT_BUILD_TCP_SYN, 100, NULL); /* D evicts A */
	burst_add(&b, SRV, 25, CLI, 40001, PKT_BUILD_TCP_ACK, 508, NULL); /* A gone: no flow */
	assert_true(b.n > WORKER_BURST);
	worker_process_burst(w, b.p, b.n);
	worker_finish(w);
	worker_stats_read(w, &ws);
	assert_int_equal(ws.pkts, b.n);
	assert_int_equal(ws.decode.ok, b.n - 1);
	assert_int_equal(ws.other_port, WORKER_BURST - 4);
	assert_int_equal(ws.no_flow_pkts, 2);
	assert_int_equal(ws.flow.created, 4);
	assert_int_equal(ws.flow.evicted, 2);
	assert_int_equal(r->sessions, 2);
	assert_string_equal(r->s[0].buf[FLOW_DIR_TO_CLIENT], "220 a\r\n");
	assert_int_equal(r->s[0].why, FLOW_END_EVICTED);
	assert_string_equal(r->s[1].buf[FLOW_DIR_TO_CLIENT], "220 c\r\n");
	assert_int_equal(r->s[1].why, FLOW_END_SHUTDOWN);
	assert_int_equal(r->s[0].closes + r->s[1].closes, 2);
	assert_int_equal(worker_watermark(w), b.p[b.n - 1].ts_ns);
	worker_destroy(w);
	free(r);
}

/* One connection (handshake, a dialogue of numbered lines, FINs) into b. */
static void burst_dialogue(struct burst *b, unsigned int lines)
{
	uint32_t cseq = 101, sseq = 501;
	char line[32];

	b->n = 0;
	burst_add(b, CLI, 40001, SRV, 25, PKT_BUILD_TCP_SYN, 100, NULL);
	burst_add(b, SRV, 25, CLI, 40001, SA, 500, NULL);
	burst_add(b, CLI, 40001, SRV, 25, PKT_BUILD_TCP_ACK, cseq, NULL);
	for (unsigned int i = 0; i < lines; i++) {
		bool cli = i % 2;

		snprintf(line, sizeof(line), "%s %u\r\n", cli ? "NOOP" : "250", i);
		if (cli) {
			burst_add(b, CLI, 40001, SRV, 25, PA, cseq, line);
			cseq += (uint32_t)strlen(line);
			burst_add(b, SRV, 25, CLI, 40001, PKT_BUILD_TCP_ACK, sseq, NULL);
		} else {
			burst_add(b, SRV, 25, CLI, 40001, PA, sseq, line);
			sseq += (uint32_t)strlen(line);
		}
	}
	burst_add(b, CLI, 40001, SRV, 25, PKT_BUILD_TCP_FIN | PKT_BUILD_TCP_ACK, cseq, NULL);
	burst_add(b, SRV, 25, CLI, 40001, PKT_BUILD_TCP_FIN | PKT_BUILD_TCP_ACK, sseq, NULL);
}

/*
 * Burst boundaries change nothing: the same packets in bursts of every size
 * from 1 to past two slot-sized parts (and a last part of any length) give
 * the session the same bytes, and the worker the same counters, as one
 * packet at a time.
 */
static void test_worker_burst_sizes(void **state)
{
	static _Atomic bool stop;
	static struct burst b;
	static struct rec want;
	struct worker_stats ws, want_ws;

	(void)state;
	burst_dialogue(&b, 42);
	assert_true(b.n > 2 * WORKER_BURST);
	for (uint16_t size = 1; size <= b.n; size++) {
		struct worker_cfg wc = {.cpu = -1, .l7 = &rec_ops, .stop = &stop};
		struct rec *r = calloc(1, sizeof(*r));
		struct worker *w;

		assert_non_null(r);
		worker_cfg_rec(&wc, r, 16);
		assert_int_equal(worker_create(&wc, &w), 0);
		for (uint16_t i = 0; i < b.n; i += size)
			worker_process_burst(w, b.p + i,
					     (uint16_t)(b.n - i < size ? b.n - i : size));
		worker_finish(w);
		worker_stats_read(w, &ws);
		assert_int_equal(r->sessions, 1);
		assert_int_equal(r->s[0].closes, 1);
		assert_int_equal(r->s[0].why, FLOW_END_FIN);
		assert_int_equal(ws.pkts, b.n);
		assert_int_equal(ws.last_ts_ns, b.p[b.n - 1].ts_ns);
		if (size == 1) {
			want = *r;
			want_ws = ws;
			assert_true(want.s[0].n[0] > 0 && want.s[0].n[1] > 0);
		}
		for (unsigned int d = 0; d < 2; d++) {
			assert_int_equal(r->s[0].n[d], want.s[0].n[d]);
			assert_memory_equal(r->s[0].buf[d], want.s[0].buf[d], want.s[0].n[d]);
		}
		assert_int_equal(ws.decode.ok, want_ws.decode.ok);
		assert_int_equal(ws.flow.created, want_ws.flow.created);
		assert_int_equal(ws.reasm.segments, want_ws.reasm.segments);
		assert_int_equal(ws.reasm.bytes_in_order, want_ws.reasm.bytes_in_order);
		assert_int_equal(ws.l7_ignored_pkts + ws.no_flow_pkts + ws.after_close_pkts, 0);
		worker_destroy(w);
		free(r);
	}
}

/* A flow evicted while reassembly keeps a side slot for it (its greeting
 * came early, after a hole) gives the slot and its buffer back: the bytes
 * go up after a gap and nothing stays taken. */
static void test_worker_evicted_flow_returns_side_slot(void **state)
{
	static _Atomic bool stop;
	static struct burst b;
	struct worker_cfg wc = {.cpu = -1, .l7 = &rec_ops, .stop = &stop};
	struct rec *r = calloc(1, sizeof(*r));
	struct worker_stats ws;
	struct worker *w;

	(void)state;
	assert_non_null(r);
	worker_cfg_rec(&wc, r, 1);
	assert_int_equal(worker_create(&wc, &w), 0);
	b.n = 0;
	burst_add(&b, CLI, 40001, SRV, 25, PKT_BUILD_TCP_SYN, 100, NULL);
	burst_add(&b, SRV, 25, CLI, 40001, SA, 500, NULL);
	burst_add(&b, SRV, 25, CLI, 40001, PA, 510, "ok\r\n"); /* 501..509 missing */
	worker_process_burst(w, b.p, b.n);
	for (unsigned int i = 1; i < 16; i++) /* the 16th burst publishes the counters */
		worker_process_burst(w, b.p, 0);
	worker_stats_read(w, &ws);
	assert_int_equal(ws.reasm.sides_in_use, 1);
	assert_int_equal(ws.reasm.segs_in_use, 1);
	b.n = 0;
	burst_add(&b, CLI, 40002, SRV, 25, PKT_BUILD_TCP_SYN, 100, NULL); /* evicts the first */
	worker_process_burst(w, b.p, b.n);
	worker_finish(w);
	worker_stats_read(w, &ws);
	assert_int_equal(ws.flow.evicted, 1);
	assert_int_equal(r->s[0].why, FLOW_END_EVICTED);
	assert_string_equal(r->s[0].buf[FLOW_DIR_TO_CLIENT], "ok\r\n");
	assert_int_equal(r->gaps, 1);
	assert_int_equal(ws.reasm.sides_in_use, 0);
	assert_int_equal(ws.reasm.segs_in_use, 0);
	worker_destroy(w);
	free(r);
}

/* ---- the session arena (l7.h): a flow keeps a 32-bit reference ---- */

/* L7 whose sessions are the bytes of a 2-byte arena: the first and the last. */
struct edge {
	char arena[2];
	size_t bytes; /* what sess_arena() says */
	bool no_arena;
	unsigned int opened;
	const void *data_sess[2], *close_sess[2];
};

static const void *edge_arena(void *ctx, size_t *bytes)
{
	struct edge *e = ctx;

	*bytes = e->bytes;
	return e->no_arena ? NULL : e->arena;
}

static void *edge_open(void *ctx, const struct flow *f, uint64_t ts)
{
	struct edge *e = ctx;

	(void)f, (void)ts;
	return e->opened < 2 ? &e->arena[e->opened++] : NULL;
}

static enum l7_verdict edge_data(void *ctx, void *sess, const struct flow *f, enum flow_dir dir,
				 const uint8_t *p, uint32_t n, uint64_t ts)
{
	struct edge *e = ctx;

	(void)f, (void)dir, (void)p, (void)n, (void)ts;
	e->data_sess[(char *)sess - e->arena] = sess;
	return L7_CONTINUE;
}

static enum l7_verdict edge_gap(void *ctx, void *sess, const struct flow *f, enum flow_dir dir,
				uint32_t len, uint64_t ts)
{
	(void)ctx, (void)sess, (void)f, (void)dir, (void)len, (void)ts;
	return L7_CONTINUE;
}

static void edge_close(void *ctx, void *sess, const struct flow *f, enum flow_end why, uint64_t ts)
{
	struct edge *e = ctx;

	(void)f, (void)why, (void)ts;
	e->close_sess[(char *)sess - e->arena] = sess;
}

static const struct l7_ops edge_ops = {.sess_arena = edge_arena,
				       .open = edge_open,
				       .data = edge_data,
				       .gap = edge_gap,
				       .close = edge_close};

static const struct l7_ops no_arena_ops = {
	.open = edge_open, .data = edge_data, .gap = edge_gap, .close = edge_close};

/* A consumer must say where its sessions are, in at most 4 GiB. */
static void test_worker_create_needs_session_arena(void **state)
{
	static _Atomic bool stop;
	struct worker_cfg wc = {.cpu = -1, .l7 = &no_arena_ops, .stop = &stop};
	struct edge e = {.bytes = 2};
	struct worker *w;

	(void)state;
	worker_cfg_rec(&wc, (struct rec *)NULL, 4);
	wc.l7_ctx = &e;
	assert_int_equal(worker_create(&wc, &w), -EINVAL);
	wc.l7 = &edge_ops;
	e.no_arena = true;
	assert_int_equal(worker_create(&wc, &w), -EINVAL);
	e.no_arena = false;
	e.bytes = (size_t)UINT32_MAX + 1;
	assert_int_equal(worker_create(&wc, &w), -EINVAL);
	e.bytes = UINT32_MAX;
	assert_int_equal(worker_create(&wc, &w), 0);
	worker_destroy(w);
}

/* Sessions at the first and the last byte of the arena come back to every
 * hook as the very pointers open() gave. */
static void test_worker_sessions_at_arena_ends(void **state)
{
	static _Atomic bool stop;
	static struct burst b;
	struct worker_cfg wc = {.cpu = -1, .l7 = &edge_ops, .stop = &stop};
	struct edge e = {.bytes = sizeof(e.arena)};
	struct worker *w;

	(void)state;
	worker_cfg_rec(&wc, (struct rec *)NULL, 4);
	wc.l7_ctx = &e;
	assert_int_equal(worker_create(&wc, &w), 0);
	b.n = 0;
	burst_add(&b, CLI, 40001, SRV, 25, PKT_BUILD_TCP_SYN, 100, NULL);
	burst_add(&b, SRV, 25, CLI, 40001, SA, 500, NULL);
	burst_add(&b, CLI, 40002, SRV, 25, PKT_BUILD_TCP_SYN, 100, NULL);
	burst_add(&b, SRV, 25, CLI, 40002, SA, 700, NULL);
	burst_add(&b, SRV, 25, CLI, 40001, PA, 501, "220 a\r\n");
	burst_add(&b, SRV, 25, CLI, 40002, PA, 701, "220 b\r\n");
	worker_process_burst(w, b.p, b.n);
	worker_finish(w);
	assert_int_equal(e.opened, 2);
	assert_ptr_equal(e.data_sess[0], &e.arena[0]);
	assert_ptr_equal(e.data_sess[1], &e.arena[1]);
	assert_ptr_equal(e.close_sess[0], &e.arena[0]);
	assert_ptr_equal(e.close_sess[1], &e.arena[1]);
	worker_destroy(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worker_delivers_both_directions_in_order),
		cmocka_unit_test(test_worker_preload_same_bytes),
		cmocka_unit_test(test_worker_two_sessions),
		cmocka_unit_test(test_worker_released_session_is_not_closed),
		cmocka_unit_test(test_worker_burst_creates_and_evicts_mid_burst),
		cmocka_unit_test(test_worker_evicted_flow_returns_side_slot),
		cmocka_unit_test(test_worker_burst_sizes),
		cmocka_unit_test(test_worker_create_needs_session_arena),
		cmocka_unit_test(test_worker_sessions_at_arena_ends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
