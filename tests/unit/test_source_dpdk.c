// SPDX-License-Identifier: BSD-3-Clause
/*
 * The DPDK source in-process: one EAL (--no-huge --no-pci) for the whole
 * program, vdevs made and removed per test (net_pcap over files written here,
 * net_ring over rings the test fills, net_null). Skipped when the EAL cannot
 * start (no permission, no memory).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/source.h"
#include "pkt_build.h"

#define FRAME_MAX (80 * 1024)

static bool eal_up;
static char tmpdir[] = "/tmp/rw_test_dpdk.XXXXXX";

struct rec {
	uint64_t ts_us;
	const uint8_t *data;
	uint32_t len;
};

/* A classic little-endian pcap file, Ethernet, microseconds. */
static void write_pcap(const char *path, const struct rec *r, size_t n)
{
	const uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 262144, 1};
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(hdr, sizeof(hdr), 1, f), 1);
	for (size_t i = 0; i < n; i++) {
		uint32_t rh[4] = {(uint32_t)(r[i].ts_us / 1000000),
				  (uint32_t)(r[i].ts_us % 1000000), r[i].len, r[i].len};

		assert_int_equal(fwrite(rh, sizeof(rh), 1, f), 1);
		assert_int_equal(fwrite(r[i].data, r[i].len, 1, f), 1);
	}
	assert_int_equal(fclose(f), 0);
}

/* A TCP segment of the connection 192.0.2.10:40000 <-> 198.51.100.10:25 with payload. */
static size_t tcp_frame(uint8_t *buf, bool to_server, uint32_t seq, const char *payload,
			size_t pad_to)
{
	struct pkt_build pb;
	struct pkt_build_ipv4 ip = {.src = to_server ? "192.0.2.10" : "198.51.100.10",
				    .dst = to_server ? "198.51.100.10" : "192.0.2.10"};
	struct pkt_build_tcp tcp = {.sport = to_server ? 40000 : 25,
				    .dport = to_server ? 25 : 40000,
				    .seq = seq,
				    .flags = PKT_BUILD_TCP_ACK | PKT_BUILD_TCP_PSH,
				    .win = 512};
	static uint8_t fill[FRAME_MAX];

	pkt_build_init(&pb, buf, FRAME_MAX);
	pkt_build_eth(&pb, 0);
	pkt_build_ipv4(&pb, &ip);
	pkt_build_tcp(&pb, &tcp);
	pkt_build_payload(&pb, payload, strlen(payload));
	if (pad_to > pb.len) {
		memset(fill, 'x', pad_to - pb.len);
		pkt_build_payload(&pb, fill, pad_to - pb.len);
	}
	return pkt_build_finish(&pb);
}

static void path_in_tmp(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
}

static int open_dpdk(uint16_t workers, uint32_t idle_ms, struct source **s)
{
	struct source_cfg cfg = {
		.kind = SOURCE_DPDK, .n_workers = workers, .exit_idle_ms = idle_ms};
	struct errbuf eb = {""};
	int err = source_open(&cfg, s, &eb);

	if (err)
		print_error("source_open: %s\n", eb.msg);
	return err;
}

static void vdev_pcap(const char *name, const char *file)
{
	char args[512];

	snprintf(args, sizeof(args), "rx_pcap=%s", file);
	assert_int_equal(rte_vdev_init(name, args), 0);
}

/* Bounded: the idle time of the source is 50 ms; give it 5 s. */
static void wait_eof(struct source *s, uint16_t q)
{
	struct timespec ms = {.tv_sec = 0, .tv_nsec = 1000000};
	struct pkt p[4];

	for (int i = 0; i < 5000; i++) {
		assert_int_equal(s->ops->rx_burst(s, q, p, 4), 0);
		if (s->ops->at_eof(s, q))
			return;
		nanosleep(&ms, NULL);
	}
	fail_msg("queue %u never reached its end", q);
}

/* Bytes, capture time (microseconds -> ns), port and link come through as written. */
static void test_source_dpdk_pcap_frames_keep_bytes_and_time(void **state)
{
	static uint8_t f[3][FRAME_MAX];
	struct rec r[3];
	struct source_stats st;
	struct source *s;
	struct pkt p[8];
	char path[256];
	uint16_t n;

	(void)state;
	if (!eal_up)
		skip();
	r[0] = (struct rec){1700000000123456ull, f[0], 0};
	r[0].len = (uint32_t)tcp_frame(f[0], true, 1, "EHLO client.example.net\r\n", 0);
	r[1] = (struct rec){1700000000200001ull, f[1], 0};
	r[1].len = (uint32_t)tcp_frame(f[1], false, 7, "250 mx.example.org\r\n", 0);
	r[2] = (struct rec){1700000001000000ull, f[2], 0};
	r[2].len = (uint32_t)tcp_frame(f[2], true, 26, "QUIT\r\n", 0);
	path_in_tmp(path, sizeof(path), "one.pcap");
	write_pcap(path, r, 3);
	vdev_pcap("net_pcap_one", path);

	assert_int_equal(open_dpdk(1, 50, &s), 0);
	assert_int_equal(s->n_queues, 1);
	assert_true(s->symmetric);
	assert_false(s->live); /* a file replay loses nothing when read late */
	assert_true(s->release_any_thread);
	n = s->ops->rx_burst(s, 0, p, 8);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(p[i].len, r[i].len);
		assert_int_equal(p[i].wire_len, r[i].len);
		assert_memory_equal(p[i].data, r[i].data, r[i].len);
		assert_int_equal(p[i].ts_ns, r[i].ts_us * 1000);
		assert_int_equal(p[i].link, PKT_LINK_ETHERNET);
		assert_int_equal(p[i].rxq, 0);
	}
	s->ops->release(s, 0, p, n);
	wait_eof(s, 0);
	s->ops->stats(s, &st);
	assert_int_equal(st.pkts, 3);
	assert_int_equal(st.n_q, 1);
	assert_int_equal(st.q[0].pkts, 3);
	assert_int_equal(st.q[0].nic_pkts, 3);
	source_close(s);
	assert_int_equal(rte_vdev_uninit("net_pcap_one"), 0);
}

/* A split tap replayed from two files: one queue, frames in capture order. */
static void test_source_dpdk_two_ports_replay_merged_by_time(void **state)
{
	static uint8_t f[6][FRAME_MAX];
	struct rec c[3], sv[3];
	struct source_stats st;
	uint16_t port_c, port_s;
	char pc[256], ps[256];
	struct source *s;
	struct pkt p[16];
	uint16_t n;

	(void)state;
	if (!eal_up)
		skip();
	for (int i = 0; i < 3; i++) {
		c[i] = (struct rec){1000000 + 20 * i, f[2 * i], 0};
		c[i].len = (uint32_t)tcp_frame(f[2 * i], true, 100 + i, "NOOP\r\n", 0);
		sv[i] = (struct rec){1000000 + 20 * i + 10, f[2 * i + 1], 0};
		sv[i].len = (uint32_t)tcp_frame(f[2 * i + 1], false, 900 + i, "250 ok\r\n", 0);
	}
	path_in_tmp(pc, sizeof(pc), "dir1.pcap");
	path_in_tmp(ps, sizeof(ps), "dir2.pcap");
	write_pcap(pc, c, 3);
	write_pcap(ps, sv, 3);
	vdev_pcap("net_pcap_dir1", pc);
	vdev_pcap("net_pcap_dir2", ps);
	assert_int_equal(rte_eth_dev_get_port_by_name("net_pcap_dir1", &port_c), 0);
	assert_int_equal(rte_eth_dev_get_port_by_name("net_pcap_dir2", &port_s), 0);

	assert_int_equal(open_dpdk(2, 50, &s), 0);
	assert_int_equal(s->n_queues, 1);
	assert_true(s->symmetric); /* both directions in the one merged queue */
	n = s->ops->rx_burst(s, 0, p, 16);
	assert_int_equal(n, 6);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(p[i].port, i % 2 ? port_s : port_c);
		assert_int_equal(p[i].ts_ns, (1000000ull + 10 * i) * 1000);
	}
	s->ops->release(s, 0, p, n);
	wait_eof(s, 0);
	s->ops->stats(s, &st);
	assert_int_equal(st.n_q, 2); /* counted per port queue */
	assert_int_equal(st.q[0].pkts + st.q[1].pkts, 6);
	assert_int_equal(st.q[0].pkts, 3);
	source_close(s);
	assert_int_equal(rte_vdev_uninit("net_pcap_dir1"), 0);
	assert_int_equal(rte_vdev_uninit("net_pcap_dir2"), 0);
}

/* net_pcap chains a frame larger than one mbuf: it comes out whole; one above
 * 64 KiB cannot be copied and is dropped and counted, and the next one follows. */
static void test_source_dpdk_chained_frames_are_linearised(void **state)
{
	static uint8_t big[FRAME_MAX], huge[FRAME_MAX], small[FRAME_MAX];
	struct source_stats st;
	struct rec r[3];
	struct source *s;
	struct pkt p[8];
	char path[256];
	uint16_t n;

	(void)state;
	if (!eal_up)
		skip();
	r[0] = (struct rec){1000, big, (uint32_t)tcp_frame(big, true, 1, "DATA\r\n", 9000)};
	memset(huge, 0x55, 70000);
	r[1] = (struct rec){2000, huge, 70000};
	r[2] = (struct rec){3000, small, (uint32_t)tcp_frame(small, true, 9000, "QUIT\r\n", 0)};
	path_in_tmp(path, sizeof(path), "jumbo.pcap");
	write_pcap(path, r, 3);
	vdev_pcap("net_pcap_jumbo", path);

	assert_int_equal(open_dpdk(1, 50, &s), 0);
	n = s->ops->rx_burst(s, 0, p, 8);
	assert_int_equal(n, 2);
	assert_int_equal(p[0].len, 9000);
	assert_memory_equal(p[0].data, big, 9000);
	assert_int_equal(p[1].len, r[2].len);
	assert_memory_equal(p[1].data, small, r[2].len);
	s->ops->stats(s, &st);
	assert_int_equal(st.multiseg_copied, 1);
	assert_int_equal(st.multiseg_dropped, 1);
	s->ops->release(s, 0, p, n);
	source_close(s);
	assert_int_equal(rte_vdev_uninit("net_pcap_jumbo"), 0);
}

struct release_arg {
	struct source *s;
	struct pkt *p;
	uint16_t n;
	unsigned int lcore;
};

static void *release_elsewhere(void *arg)
{
	struct release_arg *a = arg;

	a->s->ops->release(a->s, 0, a->p, a->n);
	a->lcore = rte_lcore_id();
	return NULL;
}

/* A ring port is live and has one queue per ring, read separately; frames may
 * be released by a thread that never polled, which then gets an lcore id. */
static void test_source_dpdk_ring_queues_are_separate_and_release_anywhere(void **state)
{
	struct rte_ring *rings[2];
	struct rte_mempool *mp;
	struct release_arg ra;
	struct rte_mbuf *m[4];
	struct source *s;
	struct pkt p[8];
	pthread_t t;
	int port;

	(void)state;
	if (!eal_up)
		skip();
	rings[0] = rte_ring_create("rw_t_r0", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	rings[1] = rte_ring_create("rw_t_r1", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	mp = rte_pktmbuf_pool_create("rw_t_mp", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	assert_non_null(rings[0]);
	assert_non_null(rings[1]);
	assert_non_null(mp);
	port = rte_eth_from_rings("net_ring_t", rings, 2, rings, 2, 0);
	assert_true(port >= 0);

	assert_int_equal(open_dpdk(1, 0, &s), 0);
	assert_int_equal(s->n_queues, 2);
	assert_false(s->symmetric); /* two queues and no RSS: steer.c must spread them */
	assert_true(s->live);
	assert_int_equal(rte_pktmbuf_alloc_bulk(mp, m, 4), 0);
	for (int i = 0; i < 4; i++) {
		char *d = rte_pktmbuf_append(m[i], 60);

		memset(d, i, 60);
	}
	assert_int_equal(rte_ring_enqueue_bulk(rings[1], (void **)m, 3, NULL), 3);
	assert_int_equal(rte_ring_enqueue_bulk(rings[0], (void **)&m[3], 1, NULL), 1);
	assert_int_equal(s->ops->rx_burst(s, 1, p, 8), 3);
	assert_int_equal(p[2].data[0], 2);
	assert_int_equal(p[2].rxq, 1);
	assert_int_equal(p[2].port, port);
	assert_int_equal(s->ops->rx_burst(s, 0, p + 3, 5), 1);
	assert_int_equal(p[3].data[59], 3);
	assert_false(s->ops->at_eof(s, 0)); /* live, no idle limit: never ends */

	ra = (struct release_arg){.s = s, .p = p, .n = 4, .lcore = LCORE_ID_ANY};
	assert_int_equal(pthread_create(&t, NULL, release_elsewhere, &ra), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_not_equal(ra.lcore, LCORE_ID_ANY);
	assert_int_equal(rte_mempool_avail_count(mp) + rte_mempool_in_use_count(mp), 255);
	assert_int_equal(rte_mempool_in_use_count(mp), 0);
	source_close(s);
	rte_mempool_free(mp);
	rte_ring_free(rings[0]);
	rte_ring_free(rings[1]);
}

/* RSS ports get one queue per worker and are symmetric alone, never together. */
static void test_source_dpdk_rss_queues_follow_workers(void **state)
{
	struct source *s;

	(void)state;
	if (!eal_up)
		skip();
	assert_int_equal(rte_vdev_init("net_null_a", NULL), 0);
	assert_int_equal(open_dpdk(3, 0, &s), 0);
	assert_int_equal(s->n_queues, 3);
	assert_true(s->symmetric);
	source_close(s); /* closes the port too */
	assert_int_equal(rte_vdev_uninit("net_null_a"), 0);

	assert_int_equal(rte_vdev_init("net_null_a", NULL), 0);
	assert_int_equal(rte_vdev_init("net_null_b", NULL), 0);
	assert_int_equal(open_dpdk(4, 0, &s), 0);
	assert_int_equal(s->n_queues, 4); /* two per port */
	assert_false(s->symmetric);	  /* one direction per port: steer.c decides */
	source_close(s);
	assert_int_equal(rte_vdev_uninit("net_null_a"), 0);
	assert_int_equal(rte_vdev_uninit("net_null_b"), 0);
}

static int eal_setup(void **state)
{
	char *argv[] = {"test_source_dpdk", "-l",	   "0",
			"--no-huge",	    "-m",	   "256",
			"--no-pci",	    "--no-shconf", "--no-telemetry",
			"--log-level",	    "*:error",	   NULL};

	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	eal_up = rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) >= 0;
	if (!eal_up)
		print_message("EAL did not start: the DPDK tests are skipped\n");
	return 0;
}

static int eal_teardown(void **state)
{
	char cmd[64 + sizeof(tmpdir)];

	(void)state;
	if (eal_up)
		rte_eal_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_dpdk_pcap_frames_keep_bytes_and_time),
		cmocka_unit_test(test_source_dpdk_two_ports_replay_merged_by_time),
		cmocka_unit_test(test_source_dpdk_chained_frames_are_linearised),
		cmocka_unit_test(test_source_dpdk_ring_queues_are_separate_and_release_anywhere),
		cmocka_unit_test(test_source_dpdk_rss_queues_follow_workers),
	};

	return cmocka_run_group_tests(tests, eal_setup, eal_teardown);
}
