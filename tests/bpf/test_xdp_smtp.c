// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_xdp_smtp: the XDP pre-filter, loaded from its skeleton and run with
 * bpf_prog_test_run_opts() over a table of frames (Katran's fixtures): each
 * row names a frame, the XDP action it must get, the reason counter that must
 * move by one (and no other) and what its source address's record must gain.
 *
 * How "redirected" is observable without traffic: the test makes its own
 * network namespace, binds a real AF_XDP socket (copy mode) to queue 0 of its
 * loopback and puts it in smtp_xsks at index 0, which is the rx queue
 * test_run reports. The program then takes its real path: the map lookup
 * finds the socket and bpf_redirect_map() returns XDP_REDIRECT, which
 * test_run hands back as the verdict (without live frames nothing is sent).
 * With the entry removed the same frame must be XDP_PASS + no_socket.
 *
 * Needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN for the namespace): exits
 * 77 otherwise, which meson reports as SKIP. Also prints the program's cost
 * per packet from test_run's repeat (not asserted).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "ebpf/xdp_loader.h"
#include "ebpf/xdp_smtp_shared.h"
#include "pkt_build.h"
#include "xdp_smtp.skel.h"

#define SKIP	 77
#define CLIENT4	 "192.0.2.10"
#define SERVER4	 "198.51.100.20"
#define CLIENT6	 "2001:db8:1::10"
#define SERVER6	 "2001:db8:2::20"
#define FRAMES	 64
#define FSIZE	 4096
#define MAX_CPUS 1024

enum ext {
	EXT_HBH = 1 << 0,    /* hop-by-hop options, 8 bytes */
	EXT_DST = 1 << 1,    /* destination options, 16 bytes */
	EXT_RT = 1 << 2,     /* routing header, 24 bytes */
	EXT_AH = 1 << 3,     /* authentication header, 24 bytes */
	EXT_ATOMIC = 1 << 4, /* fragment header, offset 0 and no M: the whole datagram */
	EXT_FRAG = 1 << 5,   /* fragment header, M set */
	EXT_SEVEN = 1 << 6,  /* seven destination options headers: more than we walk */
};

struct frame {
	const char *name;
	uint8_t l3;	  /* 4, 6, or 0 for ARP */
	uint16_t tpid[3]; /* VLAN tags outermost first, 0: none */
	uint8_t l4;	  /* IPPROTO_TCP / UDP / ICMP / ICMPV6 */
	uint16_t sport, dport;
	uint8_t flags;	      /* TCP flags */
	bool reply;	      /* server -> client (swap addresses) */
	uint8_t v4_opt;	      /* IPv4 option bytes */
	uint16_t v4_frag;     /* IPv4 flags/offset field */
	uint8_t v6_ext;	      /* enum ext bits */
	uint8_t ihl_override; /* write this IHL after building (broken headers) */
	size_t cut;	      /* 0: whole frame; else keep this many bytes */
	/* expectations */
	int action;
	enum xdp_smtp_reason reason;
	bool counted;	     /* the source's record gains one packet */
	uint8_t syns, flows; /* ... and these */
};

#define SYN	PKT_BUILD_TCP_SYN
#define SYNACK	(PKT_BUILD_TCP_SYN | PKT_BUILD_TCP_ACK)
#define DATA	(PKT_BUILD_TCP_PSH | PKT_BUILD_TCP_ACK)
#define RED	XDP_REDIRECT, XDP_SMTP_R_REDIRECTED, true
#define PASS(r) XDP_PASS, XDP_SMTP_R_##r, false

/* Frames with a cut length are cut from the frame the same row builds. */
/* One row per frame; clang-format would spread each over ten lines. */
/* clang-format off */
static const struct frame frames[] = {
	/* SMTP, both directions, every default port, both families */
	{ "v4 SYN to 25", 4, {0}, IPPROTO_TCP, 40000, 25, SYN, .action = RED, .syns = 1, .flows = 1 },
	{ "v4 SYN-ACK from 25", 4, {0}, IPPROTO_TCP, 25, 40000, SYNACK, true, .action = RED },
	{ "v4 data to 25", 4, {0}, IPPROTO_TCP, 40000, 25, DATA, .action = RED },
	{ "v4 data from 25", 4, {0}, IPPROTO_TCP, 25, 40000, DATA, true, .action = RED },
	{ "v4 SYN to 465", 4, {0}, IPPROTO_TCP, 40001, 465, SYN, .action = RED, .syns = 1, .flows = 1 },
	{ "v4 SYN to 587", 4, {0}, IPPROTO_TCP, 40002, 587, SYN, .action = RED, .syns = 1, .flows = 1 },
	{ "v4 SYN to 2525", 4, {0}, IPPROTO_TCP, 40003, 2525, SYN, .action = RED, .syns = 1,
	  .flows = 1 },
	{ "v4 SYN-ACK to 587 (odd, still a SYN)", 4, {0}, IPPROTO_TCP, 40004, 587, SYNACK,
	  .action = RED, .syns = 1 },
	{ "v6 SYN to 25", 6, {0}, IPPROTO_TCP, 40000, 25, SYN, .action = RED, .syns = 1, .flows = 1 },
	{ "v6 data from 25", 6, {0}, IPPROTO_TCP, 25, 40000, DATA, true, .action = RED },
	{ "v6 SYN to 587", 6, {0}, IPPROTO_TCP, 40005, 587, SYN, .action = RED, .syns = 1, .flows = 1 },
	/* encapsulations and options */
	{ "802.1Q v4 data to 25", 4, {0x8100}, IPPROTO_TCP, 40000, 25, DATA, .action = RED },
	{ "QinQ v6 data to 25", 6, {0x88a8, 0x8100}, IPPROTO_TCP, 40000, 25, DATA, .action = RED },
	{ "v4 with 8 option bytes", 4, {0}, IPPROTO_TCP, 40000, 25, DATA, .v4_opt = 8,
	  .action = RED },
	{ "v6 hop-by-hop + dst opts + routing", 6, {0}, IPPROTO_TCP, 40000, 25, DATA,
	  .v6_ext = EXT_HBH | EXT_DST | EXT_RT, .action = RED },
	{ "v6 AH", 6, {0}, IPPROTO_TCP, 40000, 25, DATA, .v6_ext = EXT_AH, .action = RED },
	{ "v6 atomic fragment", 6, {0}, IPPROTO_TCP, 40000, 25, DATA, .v6_ext = EXT_ATOMIC,
	  .action = RED },
	/* everything else goes on to the kernel */
	{ "v4 HTTP", 4, {0}, IPPROTO_TCP, 40000, 80, SYN, .action = PASS(NOT_SMTP) },
	{ "v6 HTTPS reply", 6, {0}, IPPROTO_TCP, 443, 40000, DATA, true, .action = PASS(NOT_SMTP) },
	{ "v4 port 24 and 26", 4, {0}, IPPROTO_TCP, 24, 26, DATA, .action = PASS(NOT_SMTP) },
	{ "v4 UDP to 25", 4, {0}, IPPROTO_UDP, 40000, 25, .action = PASS(NOT_TCP) },
	{ "v6 UDP DNS", 6, {0}, IPPROTO_UDP, 40000, 53, .action = PASS(NOT_TCP) },
	{ "v4 ICMP echo", 4, {0}, IPPROTO_ICMP, .action = PASS(NOT_TCP) },
	{ "v6 ICMPv6 echo", 6, {0}, IPPROTO_ICMPV6, .action = PASS(NOT_TCP) },
	{ "ARP request", 0, {0}, .action = PASS(NOT_IP) },
	{ "802.1Q ARP", 0, {0x8100}, .action = PASS(NOT_IP) },
	{ "v4 first fragment (MF)", 4, {0}, IPPROTO_TCP, 40000, 25, DATA, .v4_frag = PKT_BUILD_IP_MF,
	  .action = PASS(FRAGMENT) },
	{ "v4 later fragment", 4, {0}, IPPROTO_TCP, 40000, 25, DATA, .v4_frag = 185,
	  .action = PASS(FRAGMENT) },
	{ "v6 fragment", 6, {0}, IPPROTO_TCP, 40000, 25, DATA, .v6_ext = EXT_FRAG,
	  .action = PASS(FRAGMENT) },
	/* broken and truncated frames: passed, counted by reason */
	{ "802.1Q tag cut", 4, {0x8100}, IPPROTO_TCP, 40000, 25, SYN, .cut = 16,
	  .action = PASS(ERR_VLAN) },
	{ "three VLAN tags", 4, {0x88a8, 0x8100, 0x8100}, IPPROTO_TCP, 40000, 25, SYN,
	  .action = PASS(ERR_VLAN) },
	{ "v4 header cut at 10", 4, {0}, IPPROTO_TCP, 40000, 25, SYN, .cut = 24,
	  .action = PASS(ERR_IPV4) },
	{ "v4 options cut", 4, {0}, IPPROTO_TCP, 40000, 25, SYN, .v4_opt = 20, .cut = 14 + 30,
	  .action = PASS(ERR_IPV4) },
	{ "v4 IHL 4", 4, {0}, IPPROTO_TCP, 40000, 25, SYN, .ihl_override = 4,
	  .action = PASS(ERR_IPV4) },
	{ "v4 IHL 15 past the end", 4, {0}, IPPROTO_TCP, 40000, 25, SYN, .ihl_override = 15,
	  .cut = 14 + 40, .action = PASS(ERR_IPV4) },
	{ "v6 header cut at 30", 6, {0}, IPPROTO_TCP, 40000, 25, SYN, .cut = 14 + 30,
	  .action = PASS(ERR_IPV6) },
	{ "v6 ext header cut", 6, {0}, IPPROTO_TCP, 40000, 25, SYN, .v6_ext = EXT_DST,
	  .cut = 14 + 40 + 10, .action = PASS(ERR_IPV6_EXT) },
	{ "v6 seven ext headers", 6, {0}, IPPROTO_TCP, 40000, 25, SYN, .v6_ext = EXT_SEVEN,
	  .action = PASS(ERR_IPV6_EXT) },
	{ "v4 TCP cut at 12", 4, {0}, IPPROTO_TCP, 40000, 25, SYN, .cut = 14 + 20 + 12,
	  .action = PASS(ERR_TCP) },
	{ "v4 TCP cut at 19", 4, {0}, IPPROTO_TCP, 40000, 25, SYN, .cut = 14 + 20 + 19,
	  .action = PASS(ERR_TCP) },
	{ "v6 TCP cut at 2", 6, {0}, IPPROTO_TCP, 40000, 25, SYN, .cut = 14 + 40 + 2,
	  .action = PASS(ERR_TCP) },
};
/* clang-format on */

struct fixture {
	struct xdp_smtp *skel;
	int prog_fd, xsks_fd, src_fd, verdict_fd;
	int ncpus;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq, rx;
	void *area;
};

static struct fixture fx;

/* ---- frames ---- */

static void add_v6_ext(struct pkt_build *pb, uint8_t ext)
{
	if (ext & EXT_HBH)
		pkt_build_ipv6_ext(pb, 0, 8);
	if (ext & EXT_DST)
		pkt_build_ipv6_ext(pb, 60, 16);
	if (ext & EXT_RT)
		pkt_build_ipv6_ext(pb, 43, 24);
	if (ext & EXT_AH)
		pkt_build_ipv6_ah(pb, 12, 0x1234);
	if (ext & EXT_ATOMIC)
		pkt_build_ipv6_frag(pb, 0, false, 7);
	if (ext & EXT_FRAG)
		pkt_build_ipv6_frag(pb, 0, true, 7);
	for (int i = 0; i < 7 && (ext & EXT_SEVEN); i++)
		pkt_build_ipv6_ext(pb, 60, 8);
}

static void add_l3(struct pkt_build *pb, const struct frame *f)
{
	static const uint8_t opts[20] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
					 1, 1, 1, 1, 1, 1, 1, 1, 1, 0};
	const char *src = f->l3 == 4 ? CLIENT4 : CLIENT6, *dst = f->l3 == 4 ? SERVER4 : SERVER6;

	if (f->reply) {
		const char *t = src;

		src = dst;
		dst = t;
	}
	if (f->l3 == 4) {
		struct pkt_build_ipv4 ip = {.src = src,
					    .dst = dst,
					    .frag = f->v4_frag,
					    .opt = opts,
					    .opt_len = f->v4_opt};

		pkt_build_ipv4(pb, &ip);
	} else {
		struct pkt_build_ipv6 ip6 = {.src = src, .dst = dst};

		pkt_build_ipv6(pb, &ip6);
		add_v6_ext(pb, f->v6_ext);
	}
}

static void add_l4(struct pkt_build *pb, const struct frame *f)
{
	static const uint8_t echo[8] = {8, 0, 0, 0, 0, 1, 0, 1};
	static const uint8_t echo6[8] = {128, 0, 0, 0, 0, 1, 0, 1};
	static const char ehlo[] = "EHLO client.example.org\r\n";

	if (f->l4 == IPPROTO_TCP) {
		struct pkt_build_tcp th = {.sport = f->sport,
					   .dport = f->dport,
					   .seq = 1000,
					   .ack = f->flags & PKT_BUILD_TCP_ACK ? 2000 : 0,
					   .flags = f->flags,
					   .win = 65535};

		pkt_build_tcp(pb, &th);
		if (f->flags & PKT_BUILD_TCP_PSH)
			pkt_build_payload(pb, ehlo, sizeof(ehlo) - 1);
	} else if (f->l4 == IPPROTO_UDP) {
		pkt_build_udp(pb, f->sport, f->dport);
		pkt_build_payload(pb, "x", 1);
	} else {
		/* No ICMP builder: the protocol number is set by hand, the message is bytes. */
		pkt_build_payload(pb, f->l4 == IPPROTO_ICMP ? echo : echo6, 8);
	}
}

static void set_l3_proto(uint8_t *buf, size_t l3_off, const struct frame *f)
{
	if (f->l4 != IPPROTO_ICMP && f->l4 != IPPROTO_ICMPV6)
		return;
	if (f->l3 == 4)
		buf[l3_off + 9] = f->l4;
	else
		buf[l3_off + 6] = f->l4;
}

static size_t build(const struct frame *f, uint8_t *buf, size_t cap)
{
	static const uint8_t arp[28] = {0,   1, 8, 0,  6, 4, 0, 1, 2, 0, 0,   0, 0, 1,
					192, 0, 2, 10, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1};
	struct pkt_build pb;
	size_t len;
	int l3 = -1;

	pkt_build_init(&pb, buf, cap);
	pkt_build_eth(&pb, f->l3 == 0 ? 0x0806 : 0);
	for (int i = 0; i < 3 && f->tpid[i]; i++)
		pkt_build_vlan(&pb, f->tpid[i], (uint16_t)(100 + i));
	if (f->l3 == 0) {
		pkt_build_payload(&pb, arp, sizeof(arp));
	} else {
		l3 = (int)pb.len;
		add_l3(&pb, f);
		add_l4(&pb, f);
	}
	len = pkt_build_finish(&pb);
	assert_true(len > 0);
	if (l3 >= 0)
		set_l3_proto(buf, (size_t)l3, f);
	if (f->ihl_override)
		buf[l3] = (uint8_t)(0x40 | f->ihl_override);
	len = pkt_build_pad_to(&pb, 60, 0);
	return f->cut && f->cut < len ? f->cut : len;
}

/* ---- counters ---- */

static void read_verdicts(uint64_t pkts[XDP_SMTP_R_COUNT])
{
	static struct xdp_smtp_verdict_ctr v[MAX_CPUS];

	for (__u32 r = 0; r < XDP_SMTP_R_COUNT; r++) {
		pkts[r] = 0;
		assert_int_equal(bpf_map_lookup_elem(fx.verdict_fd, &r, v), 0);
		for (int c = 0; c < fx.ncpus; c++)
			pkts[r] += v[c].pkts;
	}
}

static void src_key(const char *addr, struct xdp_smtp_src_key *k)
{
	memset(k, 0, sizeof(*k));
	if (strchr(addr, ':')) {
		assert_int_equal(inet_pton(AF_INET6, addr, k->addr), 1);
	} else {
		k->addr[10] = 0xff;
		k->addr[11] = 0xff;
		assert_int_equal(inet_pton(AF_INET, addr, &k->addr[12]), 1);
	}
}

/* Merged over CPUs; all zero when the source has no record. */
static void read_src(const char *addr, struct xdp_smtp_src_val *out)
{
	static struct xdp_smtp_src_val v[MAX_CPUS];
	struct xdp_smtp_src_key k;

	memset(out, 0, sizeof(*out));
	src_key(addr, &k);
	if (bpf_map_lookup_elem(fx.src_fd, &k, v) != 0)
		return;
	for (int c = 0; c < fx.ncpus; c++) {
		out->smtp_syns += v[c].smtp_syns;
		out->flows += v[c].flows;
		out->pkts += v[c].pkts;
		out->bytes += v[c].bytes;
		if (v[c].last_ns > out->last_ns)
			out->last_ns = v[c].last_ns;
	}
}

static int run(const uint8_t *frame, size_t len, __u32 repeat, __u32 *duration)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .repeat = repeat);

	assert_int_equal(bpf_prog_test_run_opts(fx.prog_fd, &opts), 0);
	if (duration)
		*duration = opts.duration;
	return (int)opts.retval;
}

/* ---- tests ---- */

static void check_frame(const struct frame *f)
{
	uint64_t before[XDP_SMTP_R_COUNT], after[XDP_SMTP_R_COUNT];
	struct xdp_smtp_src_val s0, s1;
	const char *src;
	uint8_t buf[512];
	size_t len = build(f, buf, sizeof(buf));

	src = f->l3 == 4 ? (f->reply ? SERVER4 : CLIENT4) : (f->reply ? SERVER6 : CLIENT6);
	read_verdicts(before);
	read_src(src, &s0);
	if (run(buf, len, 1, NULL) != f->action)
		fail_msg("%s: action %d, expected %d", f->name, run(buf, len, 1, NULL), f->action);
	read_verdicts(after);
	read_src(src, &s1);
	for (int r = 0; r < XDP_SMTP_R_COUNT; r++) {
		uint64_t want = r == (int)f->reason ? 1 : 0;

		if (after[r] - before[r] != want)
			fail_msg("%s: reason %d moved by %llu, expected %llu", f->name, r,
				 (unsigned long long)(after[r] - before[r]),
				 (unsigned long long)want);
	}
	if (f->l3 == 0)
		return;
	if (s1.pkts - s0.pkts != (f->counted ? 1u : 0u) ||
	    s1.bytes - s0.bytes != (f->counted ? len : 0u) ||
	    s1.smtp_syns - s0.smtp_syns != f->syns || s1.flows - s0.flows != f->flows ||
	    (f->counted && s1.last_ns <= s0.last_ns))
		fail_msg("%s: source %s gained pkts %llu bytes %llu syns %llu flows %llu; expected "
			 "%u %zu %u %u",
			 f->name, src, (unsigned long long)(s1.pkts - s0.pkts),
			 (unsigned long long)(s1.bytes - s0.bytes),
			 (unsigned long long)(s1.smtp_syns - s0.smtp_syns),
			 (unsigned long long)(s1.flows - s0.flows), f->counted ? 1u : 0u,
			 f->counted ? len : 0, f->syns, f->flows);
}

static void test_xdp_smtp_frame_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		print_message("  %-40s -> %s\n", frames[i].name,
			      frames[i].action == XDP_REDIRECT ? "redirect" : "pass");
		check_frame(&frames[i]);
	}
}

/* An SMTP frame on a queue nobody listens on goes to the kernel, counted. */
static void test_xdp_smtp_no_socket_passes_and_counts(void **state)
{
	struct frame f = {"v4 SYN to 25, no socket",
			  4,
			  {0},
			  IPPROTO_TCP,
			  40100,
			  25,
			  SYN,
			  .action = XDP_PASS,
			  .reason = XDP_SMTP_R_NO_SOCKET,
			  .counted = true,
			  .syns = 1,
			  .flows = 1};
	__u32 q = 0, fd = (__u32)xsk_socket__fd(fx.xsk);

	(void)state;
	assert_int_equal(bpf_map_delete_elem(fx.xsks_fd, &q), 0);
	check_frame(&f);
	assert_int_equal(bpf_map_update_elem(fx.xsks_fd, &q, &fd, BPF_ANY), 0);
	f.action = XDP_REDIRECT;
	f.reason = XDP_SMTP_R_REDIRECTED;
	check_frame(&f);
}

/* The port set is rodata set before load: it replaces the defaults. */
static void test_xdp_smtp_configured_ports_replace_defaults(void **state)
{
	struct xdp_smtp *skel = xdp_smtp__open();
	uint8_t buf[256];
	struct frame f = {"v4 SYN", 4, {0}, IPPROTO_TCP, 40000, 25, SYN};
	int fd;

	(void)state;
	assert_non_null(skel);
	skel->rodata->smtp_ports[0] = htons(10025);
	skel->rodata->n_smtp_ports = 1;
	assert_int_equal(xdp_smtp__load(skel), 0);
	fd = bpf_program__fd(skel->progs.xdp_smtp_redirect);

	for (int port = 0; port < 2; port++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf);
		__u32 r = port ? XDP_SMTP_R_NO_SOCKET : XDP_SMTP_R_NOT_SMTP;
		static struct xdp_smtp_verdict_ctr v[MAX_CPUS];
		uint64_t n = 0;

		f.dport = port ? 10025 : 25;
		opts.data_size_in = (__u32)build(&f, buf, sizeof(buf));
		assert_int_equal(bpf_prog_test_run_opts(fd, &opts), 0);
		assert_int_equal(opts.retval, XDP_PASS);
		assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.smtp_verdicts), &r, v),
				 0);
		for (int c = 0; c < fx.ncpus; c++)
			n += v[c].pkts;
		assert_int_equal(n, 1);
	}
	xdp_smtp__destroy(skel);
}

/* Cost per packet from test_run's own timing; printed, never asserted. */
static void test_xdp_smtp_cost_per_packet(void **state)
{
	static const struct frame syn = {"SMTP SYN", 4, {0}, IPPROTO_TCP, 40000, 25, SYN};
	static const struct frame udp = {"UDP", 4, {0}, IPPROTO_UDP, 40000, 53};
	static const struct frame http = {"HTTP", 6, {0}, IPPROTO_TCP, 40000, 80, DATA};
	const struct frame *fs[] = {&syn, &udp, &http};
	const __u32 repeat = 1000000;
	uint8_t buf[256];

	(void)state;
	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		size_t len = build(fs[i], buf, sizeof(buf));
		__u32 ns = 0;
		int action = run(buf, len, repeat, &ns);

		printf("# xdp_smtp cost: %-9s (%s) %u ns/packet over %u runs\n", fs[i]->name,
		       action == XDP_REDIRECT ? "redirect" : "pass", ns, repeat);
	}
}

/* ---- the loader, on this namespace's loopback ---- */

struct seen {
	struct xdp_loader_src v4, v6;
	int n;
};

static void on_src(void *arg, const struct xdp_loader_src *src)
{
	static const uint8_t v4[16] = {[10] = 0xff, [11] = 0xff, [12] = 127, [15] = 1};
	static const uint8_t v6[16] = {[15] = 1};
	struct seen *s = arg;

	s->n++;
	if (src->family == 4 && memcmp(src->addr, v4, 16) == 0)
		s->v4 = *src;
	if (src->family == 6 && memcmp(src->addr, v6, 16) == 0)
		s->v6 = *src;
}

/* A SYN to port 25 over loopback, refused (nobody listens): one SYN out, one RST back. */
static void knock(int family)
{
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(25)};
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(25)};
	int fd = socket(family, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a6.sin6_addr = in6addr_loopback;
	if (family == AF_INET)
		assert_int_equal(connect(fd, (struct sockaddr *)&a4, sizeof(a4)), -1);
	else
		assert_int_equal(connect(fd, (struct sockaddr *)&a6, sizeof(a6)), -1);
	assert_int_equal(errno, ECONNREFUSED);
	close(fd);
}

/* Attach (generic XDP on lo), count real traffic per source, merge per-CPU maps, detach. */
static void test_xdp_smtp_loader_counts_real_traffic_and_detaches(void **state)
{
	const uint16_t ports[] = {25, 587};
	struct xdp_loader_cfg cfg = {.ifname = "lo",
				     .mode = XDP_LOADER_GENERIC,
				     .ports = ports,
				     .n_ports = 2,
				     .guardian = true};
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct xdp_loader_totals t;
	struct errbuf eb = {""};
	struct xdp_loader *ld = NULL;
	struct seen seen = {0};
	struct timespec now;
	uint64_t t0;

	(void)state;
	clock_gettime(CLOCK_REALTIME, &now);
	t0 = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	assert_int_equal(xdp_loader_attach(&cfg, &ld, &eb), 0);
	assert_true(xdp_loader_has_guardian(ld));
	assert_string_equal(xdp_loader_mode_name(ld), "generic");
	knock(AF_INET);
	knock(AF_INET6);

	assert_true(xdp_loader_read_sources(ld, 0, on_src, &seen) >= 2);
	/* Client and server are both 127.0.0.1: the SYN (a flow) and the RST from port 25. */
	assert_int_equal(seen.v4.flows, 1);
	assert_int_equal(seen.v4.smtp_syns, 1);
	assert_int_equal(seen.v4.pkts, 2);
	assert_int_equal(seen.v6.flows, 1);
	assert_int_equal(seen.v6.pkts, 2);
	assert_true(seen.v4.first_ns >= t0 - 1000000000ull && seen.v4.last_ns >= seen.v4.first_ns);
	clock_gettime(CLOCK_REALTIME, &now);
	assert_true(seen.v4.last_ns <=
		    (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec);
	/* Only sources seen since a later time: none. */
	seen.n = 0;
	assert_int_equal(
		xdp_loader_read_sources(ld, seen.v6.last_ns + 1000000000ull, on_src, &seen), 0);
	assert_int_equal(xdp_loader_read_verdicts(ld, &t), 0);
	assert_int_equal(t.pkts[XDP_SMTP_R_NO_SOCKET], 4);
	assert_int_equal(t.pkts[XDP_SMTP_R_REDIRECTED], 0);

	xdp_loader_destroy(ld);
	assert_int_equal(bpf_xdp_query((int)if_nametoindex("lo"), XDP_FLAGS_SKB_MODE, &q), 0);
	assert_int_equal(q.prog_id, 0);
}

static void test_xdp_smtp_loader_names_a_missing_interface(void **state)
{
	struct xdp_loader_cfg cfg = {.ifname = "rw-no-such-if0"};
	struct errbuf eb = {""};
	struct xdp_loader *ld = NULL;

	(void)state;
	assert_int_equal(xdp_loader_attach(&cfg, &ld, &eb), -ENODEV);
	assert_non_null(strstr(eb.msg, "rw-no-such-if0"));
	assert_null(ld);
}

/* ---- set-up: a private netns, the skeleton loaded, one AF_XDP socket on lo ---- */

static int lo_up(void)
{
	struct ifreq ifr = {0};
	int s = socket(AF_INET, SOCK_DGRAM, 0), err = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
		err = -errno;
	close(s);
	return err;
}

static int bind_xsk(void)
{
	struct xsk_socket_config xc = {
		.rx_size = 64,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	struct xsk_umem_config uc = {.fill_size = FRAMES, .comp_size = FRAMES, .frame_size = FSIZE};
	__u32 q = 0, fd;
	int err;

	fx.area = mmap(NULL, FRAMES * FSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (fx.area == MAP_FAILED)
		return -errno;
	err = xsk_umem__create(&fx.umem, fx.area, FRAMES * FSIZE, &fx.fq, &fx.cq, &uc);
	if (err)
		return err;
	err = xsk_socket__create(&fx.xsk, "lo", 0, fx.umem, &fx.rx, NULL, &xc);
	if (err)
		return err;
	fd = (__u32)xsk_socket__fd(fx.xsk);
	return bpf_map_update_elem(fx.xsks_fd, &q, &fd, BPF_ANY) ? -errno : 0;
}

static int setup(void)
{
	int err;

	if (geteuid() != 0)
		return -EPERM;
	if (unshare(CLONE_NEWNET) != 0 || lo_up() != 0)
		return -EPERM;
	fx.skel = xdp_smtp__open_and_load();
	if (!fx.skel)
		return -errno;
	fx.prog_fd = bpf_program__fd(fx.skel->progs.xdp_smtp_redirect);
	fx.xsks_fd = bpf_map__fd(fx.skel->maps.smtp_xsks);
	fx.src_fd = bpf_map__fd(fx.skel->maps.smtp_src_stats);
	fx.verdict_fd = bpf_map__fd(fx.skel->maps.smtp_verdicts);
	fx.ncpus = libbpf_num_possible_cpus();
	if (fx.ncpus <= 0 || fx.ncpus > MAX_CPUS)
		return -ERANGE;
	err = bind_xsk();
	if (err)
		fprintf(stderr, "cannot bind an AF_XDP socket on lo: %s\n", strerror(-err));
	return err;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xdp_smtp_frame_table),
		cmocka_unit_test(test_xdp_smtp_no_socket_passes_and_counts),
		cmocka_unit_test(test_xdp_smtp_configured_ports_replace_defaults),
		cmocka_unit_test(test_xdp_smtp_cost_per_packet),
		cmocka_unit_test(test_xdp_smtp_loader_counts_real_traffic_and_detaches),
		cmocka_unit_test(test_xdp_smtp_loader_names_a_missing_interface),
	};
	int err = setup();
	int rc;

	if (err == -EPERM || err == -EACCES) {
		fprintf(stderr, "SKIP: needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)\n");
		return SKIP;
	}
	if (err) {
		fprintf(stderr, "set-up failed: %s\n", strerror(-err));
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	xsk_socket__delete(fx.xsk);
	xsk_umem__delete(fx.umem);
	xdp_smtp__destroy(fx.skel);
	return rc;
}
