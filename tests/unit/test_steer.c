// SPDX-License-Identifier: BSD-3-Clause
/*
 * steer: a capture read through the software distribution to 1..5 outputs.
 * Every frame comes out exactly once; each output gets its frames in file
 * order (the burst goes out one ring operation per output, and must not
 * reorder); both directions of a connection share one output; frames of no
 * connection (not TCP, malformed) take turns over the outputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dataplane/decode.h"
#include "dataplane/source.h"
#include "dataplane/steer.h"
#include "pcap_no_flow.h"

#define MAX_FRAMES 4096
#define MAX_OUT	   5

static const char *const captures[] = {
	TEST_CORPUS_DIR "/arkime/tests/pcap/ntlm_synthetic.pcap",
	TEST_CORPUS_DIR "/zeek/testing/btest/Traces/smtp.pcap",
	TEST_CAPTURES_DIR "/headers.pcap",
};

/* A frame by its bytes and time: FNV-1a over both. */
static uint64_t frame_id(const struct pkt *p)
{
	uint64_t h = 0xcbf29ce484222325ull ^ p->ts_ns;

	for (uint32_t i = 0; i < p->len; i++)
		h = (h ^ p->data[i]) * 0x100000001b3ull;
	return h ^ p->len;
}

/* The symmetric 5-tuple of a TCP/UDP frame (0 for the rest): what must not split. */
static uint64_t conn_of(const struct decode_cfg *dc, const struct pkt *p)
{
	struct decode_stats ds = {0};
	struct pkt_meta m;
	uint64_t a = 0, b = 0;

	if (decode_pkt(dc, p, &m, &ds) != DECODE_OK)
		return 0;
	for (unsigned int i = 0; i < sizeof(m.src.b); i++) {
		a = a * 131 + m.src.b[i];
		b = b * 131 + m.dst.b[i];
	}
	a = a * 65599 + m.sport;
	b = b * 65599 + m.dport;
	return (a ^ b) + (a + b) * 3; /* the same both ways */
}

/* The capture in file order, straight from the pcap source. */
static uint32_t read_plain(const char *path, uint64_t *ids)
{
	struct source_cfg sc = {.kind = SOURCE_PCAP, .path = path, .n_queues = 1};
	struct errbuf eb = {""};
	struct source *src;
	struct pkt pkts[32];
	uint32_t n = 0;

	assert_int_equal(source_open(&sc, &src, &eb), 0);
	while (!src->ops->at_eof(src, 0)) {
		uint16_t k = src->ops->rx_burst(src, 0, pkts, 32);

		for (uint16_t i = 0; i < k; i++) {
			assert_true(n < MAX_FRAMES);
			ids[n++] = frame_id(&pkts[i]);
		}
		src->ops->release(src, 0, pkts, k);
	}
	source_close(src);
	return n;
}

static void check_steered(const char *path, uint16_t n_out)
{
	static uint64_t file_ids[MAX_FRAMES], conn_out[MAX_FRAMES][2];
	struct source_cfg sc = {.kind = SOURCE_PCAP, .path = path, .n_queues = 1};
	uint32_t n_file = read_plain(path, file_ids), got = 0, pos[MAX_OUT] = {0}, n_conn = 0;
	uint32_t no_flow[MAX_OUT] = {0}, lo = UINT32_MAX, hi = 0;
	bool taken[MAX_FRAMES] = {0};
	struct errbuf eb = {""};
	struct source *raw, *st;
	struct decode_cfg dc;
	struct pkt pkts[32];

	decode_cfg_default(&dc);
	assert_true(n_file > 20);
	assert_int_equal(source_open(&sc, &raw, &eb), 0);
	assert_int_equal(steer_open(raw, n_out, &st, &eb), 0);
	/* Bounded: every round either takes a frame or finds an output not at its end. */
	for (uint32_t rounds = 0; rounds < 50000000u; rounds++) {
		bool all_eof = true;

		for (uint16_t q = 0; q < n_out; q++) {
			uint16_t k = st->ops->rx_burst(st, q, pkts, 32);

			for (uint16_t i = 0; i < k; i++) {
				uint64_t id = frame_id(&pkts[i]), c = conn_of(&dc, &pkts[i]);
				uint32_t j = pos[q], x = 0;

				/* in file order within the output: the next match after the last
				 * one */
				while (j < n_file && (taken[j] || file_ids[j] != id))
					j++;
				assert_true(j < n_file);
				taken[j] = true;
				pos[q] = j + 1;
				got++;
				if (!c) {
					no_flow[q]++;
					continue;
				}
				while (x < n_conn && conn_out[x][0] != c)
					x++;
				if (x == n_conn) {
					conn_out[n_conn][0] = c;
					conn_out[n_conn++][1] = q;
				}
				assert_int_equal(conn_out[x][1],
						 q); /* one connection, one output */
			}
			st->ops->release(st, q, pkts, k);
			all_eof = all_eof && st->ops->at_eof(st, q);
		}
		if (all_eof)
			break;
	}
	assert_int_equal(got, n_file);
	/* Frames of no flow take turns over the outputs (one input: one turn order). */
	for (uint16_t q = 0; q < n_out; q++) {
		lo = no_flow[q] < lo ? no_flow[q] : lo;
		hi = no_flow[q] > hi ? no_flow[q] : hi;
	}
	assert_true(hi - lo <= 1);
	if (n_out > 1 && n_conn > 4) {
		uint32_t used = 0;

		for (uint16_t q = 0; q < n_out; q++)
			used += pos[q] > 0;
		assert_true(used > 1); /* the hash spread the connections */
	}
	source_close(st);
	source_close(raw);
}

static void test_steer_every_frame_once_in_order_per_output(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(captures) / sizeof(captures[0]); c++)
		for (uint16_t n_out = 1; n_out <= MAX_OUT; n_out++)
			check_steered(captures[c], n_out);
}

/* A capture of UDP only: every output gets its share, none gets them all. */
static void test_steer_spreads_frames_of_no_flow(void **state)
{
	char path[] = "/tmp/rw-test-udp.XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pcap_no_flow_write(path, 301), 0);
	for (uint16_t n_out = 1; n_out <= MAX_OUT; n_out++)
		check_steered(path, n_out);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steer_every_frame_once_in_order_per_output),
		cmocka_unit_test(test_steer_spreads_frames_of_no_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
