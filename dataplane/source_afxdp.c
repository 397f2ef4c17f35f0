// SPDX-License-Identifier: BSD-3-Clause
/*
 * AF_XDP source: the xdp_smtp pre-filter (ebpf/xdp_loader) redirects SMTP
 * segments to one AF_XDP socket per RX queue; the rest of the host's traffic
 * never leaves the kernel.
 *
 * One UMEM per queue, not one shared: frames never move between queues, so
 * sharing would save nothing, and private UMEMs keep each queue's fill ring,
 * frames and counters owned by the one thread that polls it (no locks, no
 * false sharing, NUMA-local when the worker is pinned near its queue).
 *
 * Frame life: every frame starts on the fill ring; the kernel writes a packet
 * into one and posts it on the RX ring; rx_burst() turns RX descriptors into
 * struct pkt views (opaque = the frame's UMEM address) and returns the ring
 * entries at once; release() puts the frames back on the fill ring. The fill
 * ring holds every frame, so release never finds it full, and nothing is
 * allocated after open. rx_burst() and release() for a queue must run on the
 * same thread (release_any_thread = false: steer.c returns frames through
 * its return rings to the thread that received them).
 *
 * Time stamps: AF_XDP gives no per-packet time stamp here, so every packet of
 * a burst gets the wall clock read once when the burst is taken (vDSO, no
 * syscall). Packets are at most one burst late, which is well below the
 * resolution anything in the pipeline cares about.
 *
 * The UMEM holds the packets themselves, SMTP AUTH lines with their
 * credentials among them: it is MADV_DONTDUMP memory (common/nodump.h),
 * marked once at open, so a core dump of the sensor carries no traffic.
 */
#include "dataplane/source_afxdp.h"

#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/nodump.h"

#define AFXDP_FRAME_SIZE     XSK_UMEM__DEFAULT_FRAME_SIZE /* 4096: any 1500-MTU frame */
#define AFXDP_DEFAULT_FRAMES 4096
#define AFXDP_RX_RING	     2048
#define AFXDP_COMP_RING	     64 /* required by the UMEM; we never transmit */
#define AFXDP_BUSY_POLL_US   20
#define AFXDP_BUSY_BUDGET    64
#define AFXDP_IDLE_SPINS     256 /* empty polls before sleeping in poll() */
#define AFXDP_IDLE_POLL_MS   1

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

_Static_assert(SOURCE_MAX_PORTS <= XDP_SMTP_MAX_PORTS, "the pre-filter takes every port");
_Static_assert(SOURCE_MAX_QUEUES <= XDP_SMTP_MAX_QUEUES, "smtp_xsks has a slot per queue");

struct afxdp_queue {
	struct xsk_ring_cons rx;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	uint8_t *area;
	size_t area_len;
	int fd;
	bool busy_poll;
	bool zerocopy;
	uint32_t empty_polls; /* consecutive empty rx_burst calls */
	/* written by the queue's thread only (relaxed load + store), read by stats() */
	_Atomic uint64_t pkts;
	_Atomic uint64_t bytes;
	_Atomic uint64_t fill_short; /* frames release() could not return: never expected */
} __attribute__((aligned(64)));

struct afxdp {
	struct source base;
	struct xdp_loader *ld;
	char ifname[IF_NAMESIZE];
	uint32_t frames;
	uint64_t nic_missed_base; /* the interface's own drop counters at open */
	struct afxdp_queue q[SOURCE_MAX_QUEUES];
	char desc[192];
};

extern const struct source_ops source_afxdp_ops;

static inline void ctr_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

/* ---- per-packet path (the queue's own thread) ---- */

/*
 * Nothing on the RX ring. Zero-copy drivers (and busy polling) need a kick to
 * run their RX. A queue that stayed empty for a while sleeps in poll() until
 * a frame arrives (or 1 ms passes, so the caller's housekeeping still runs):
 * an idle link then costs no CPU, which on a small machine is the CPU the
 * mail servers next to us need. Never with --busy-poll, which asks to spin.
 */
static void afxdp_idle(struct afxdp_queue *q)
{
	struct pollfd pfd = {.fd = q->fd, .events = POLLIN};

	if (q->busy_poll) {
		recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		return;
	}
	if (++q->empty_polls < AFXDP_IDLE_SPINS) {
		if (xsk_ring_prod__needs_wakeup(&q->fq))
			recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		return;
	}
	/* poll() also does the need_wakeup kick. */
	poll(&pfd, 1, AFXDP_IDLE_POLL_MS);
}

static uint16_t afxdp_rx(struct source *s, uint16_t queue, struct pkt *pkts, uint16_t n)
{
	struct afxdp *a = (struct afxdp *)s;
	struct afxdp_queue *q = &a->q[queue];
	uint64_t now, bytes = 0;
	uint32_t idx, got;

	got = xsk_ring_cons__peek(&q->rx, n, &idx);
	if (!got) {
		afxdp_idle(q);
		return 0;
	}
	q->empty_polls = 0;
	now = clock_real_ns();
	for (uint32_t i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->rx, idx + i);

		pkts[i] = (struct pkt){
			.data = q->area + d->addr,
			.len = d->len,
			.wire_len = d->len,
			.ts_ns = now,
			.opaque = d->addr,
			.link = PKT_LINK_ETHERNET,
			.rxq = queue,
		};
		bytes += d->len;
	}
	/* The descriptors are copied into pkts; the frames stay ours until release(). */
	xsk_ring_cons__release(&q->rx, got);
	ctr_add(&q->pkts, got);
	ctr_add(&q->bytes, bytes);
	return (uint16_t)got;
}

static void afxdp_release(struct source *s, uint16_t queue, struct pkt *pkts, uint16_t n)
{
	struct afxdp *a = (struct afxdp *)s;
	struct afxdp_queue *q = &a->q[queue];
	uint32_t idx;

	if (xsk_ring_prod__reserve(&q->fq, n, &idx) != n) {
		ctr_add(&q->fill_short, n); /* the ring holds every frame: a bug if seen */
		return;
	}
	for (uint16_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&q->fq, idx + i) =
			pkts[i].opaque & ~(uint64_t)(AFXDP_FRAME_SIZE - 1);
	xsk_ring_prod__submit(&q->fq, n);
}

static bool afxdp_at_eof(struct source *s, uint16_t queue)
{
	return false;
}

/* ---- control ---- */

/*
 * Frames the NIC itself could not take (its RX ring was full: rx_missed_errors,
 * rx_fifo_errors) never reach XDP, so no socket counts them; the interface
 * does, for every queue together. sysfs is readable after the privilege drop.
 */
static uint64_t dev_missed(const char *ifname)
{
	static const char *const names[] = {"rx_missed_errors", "rx_fifo_errors"};
	uint64_t sum = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[128], buf[32];
		FILE *f;

		snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, names[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f))
			sum += strtoull(buf, NULL, 10);
		fclose(f);
	}
	return sum;
}

static void afxdp_stats(struct source *s, struct source_stats *out)
{
	struct afxdp *a = (struct afxdp *)s;
	struct xdp_loader_totals t;
	uint64_t dev;

	memset(out, 0, sizeof(*out));
	out->n_q = a->base.n_queues; /* queue i of the interface, one socket each */
	for (uint16_t i = 0; i < a->base.n_queues; i++) {
		struct afxdp_queue *q = &a->q[i];
		struct source_queue_stats *qs = &out->q[i];
		struct xdp_statistics xs;
		socklen_t len = sizeof(xs);

		qs->queue = i;
		qs->pkts = atomic_load_explicit(&q->pkts, memory_order_relaxed);
		qs->bytes = atomic_load_explicit(&q->bytes, memory_order_relaxed);
		qs->nic_errors = atomic_load_explicit(&q->fill_short, memory_order_relaxed);
		if (getsockopt(q->fd, SOL_XDP, XDP_STATISTICS, &xs, &len) == 0) {
			qs->nic_missed = xs.rx_dropped;
			qs->nic_errors += xs.rx_invalid_descs;
			qs->ring_full = xs.rx_ring_full;
			qs->fill_empty = xs.rx_fill_ring_empty_descs;
		}
		out->pkts += qs->pkts;
		out->bytes += qs->bytes;
		out->nic_errors += qs->nic_errors;
		out->nic_missed += qs->nic_missed;
		out->ring_full += qs->ring_full;
		out->fill_empty += qs->fill_empty;
	}
	if (xdp_loader_read_verdicts(a->ld, &t) == 0)
		out->no_socket = t.pkts[XDP_SMTP_R_NO_SOCKET];
	dev = dev_missed(a->ifname);
	out->nic_missed += dev > a->nic_missed_base ? dev - a->nic_missed_base : 0;
}

static const char *afxdp_last_error(struct source *s)
{
	return NULL;
}

static void queue_close(struct afxdp_queue *q)
{
	/* Closing the socket also takes it out of smtp_xsks. */
	xsk_socket__delete(q->xsk);
	q->xsk = NULL;
	xsk_umem__delete(q->umem);
	q->umem = NULL;
	nodump_free(q->area, q->area_len);
	q->area = NULL;
}

static void afxdp_close(struct source *s)
{
	struct afxdp *a = (struct afxdp *)s;

	if (!a)
		return;
	/* Program first: from here on SMTP goes to the kernel, not to sockets we close. */
	xdp_loader_destroy(a->ld);
	a->ld = NULL;
	for (uint16_t i = 0; i < SOURCE_MAX_QUEUES; i++)
		queue_close(&a->q[i]);
	free(a);
}

/* ---- set-up ---- */

static int queue_umem(struct afxdp *a, struct afxdp_queue *q)
{
	struct xsk_umem_config uc = {
		.fill_size = a->frames,
		.comp_size = AFXDP_COMP_RING,
		.frame_size = AFXDP_FRAME_SIZE,
		.frame_headroom = 0,
	};

	q->area_len = (size_t)a->frames * AFXDP_FRAME_SIZE;
	q->area = nodump_alloc(q->area_len);
	if (!q->area)
		return -errno;
	return xsk_umem__create(&q->umem, q->area, q->area_len, &q->fq, &q->cq, &uc);
}

static int queue_socket(struct afxdp *a, struct afxdp_queue *q, uint16_t queue, bool zerocopy)
{
	struct xsk_socket_config xc = {
		.rx_size = AFXDP_RX_RING,
		.tx_size = 0,
		/* Our own program is attached already: libxdp must not load its default one. */
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_USE_NEED_WAKEUP | (zerocopy ? XDP_ZEROCOPY : XDP_COPY),
	};
	int err;

	err = queue_umem(a, q);
	if (err)
		return err;
	err = xsk_socket__create(&q->xsk, a->ifname, queue, q->umem, &q->rx, NULL, &xc);
	if (err) {
		queue_close(q);
		return err;
	}
	q->fd = xsk_socket__fd(q->xsk);
	q->zerocopy = zerocopy;
	return 0;
}

static int queue_bind(struct afxdp *a, uint16_t queue, enum source_bind bind, struct errbuf *eb)
{
	struct afxdp_queue *q = &a->q[queue];
	int err;

	if (bind != SOURCE_BIND_COPY) {
		err = queue_socket(a, q, queue, true);
		if (!err || bind == SOURCE_BIND_ZEROCOPY) {
			if (err)
				return errbuf_set(
					eb, err,
					"afxdp: %s queue %u: zero-copy bind refused: %s "
					"(the driver may not support it; try --bind copy)",
					a->ifname, queue, strerror(-err));
			return 0;
		}
		log_info("afxdp: %s queue %u: zero-copy refused (%s), binding in copy mode",
			 a->ifname, queue, strerror(-err));
	}
	err = queue_socket(a, q, queue, false);
	if (err)
		return errbuf_set(eb, err, "afxdp: %s queue %u: cannot bind an AF_XDP socket: %s",
				  a->ifname, queue, strerror(-err));
	return 0;
}

/* Busy polling: must be set while we still have CAP_NET_ADMIN, i.e. at open. */
static int queue_busy_poll(struct afxdp *a, uint16_t queue, struct errbuf *eb)
{
	struct afxdp_queue *q = &a->q[queue];
	int one = 1, us = AFXDP_BUSY_POLL_US, budget = AFXDP_BUSY_BUDGET;

	if (setsockopt(q->fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) != 0 ||
	    setsockopt(q->fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof(us)) != 0 ||
	    setsockopt(q->fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget)) != 0)
		return errbuf_set(eb, -errno, "afxdp: %s queue %u: busy polling: %s", a->ifname,
				  queue, strerror(errno));
	q->busy_poll = true;
	return 0;
}

/* Every frame on the fill ring, then the socket into the map: ready when found. */
static int queue_start(struct afxdp *a, uint16_t queue, struct errbuf *eb)
{
	struct afxdp_queue *q = &a->q[queue];
	uint32_t idx;
	int err;

	if (xsk_ring_prod__reserve(&q->fq, a->frames, &idx) != a->frames)
		return errbuf_set(eb, -ENOSPC, "afxdp: fill ring smaller than the UMEM");
	for (uint32_t i = 0; i < a->frames; i++)
		*xsk_ring_prod__fill_addr(&q->fq, idx + i) = (uint64_t)i * AFXDP_FRAME_SIZE;
	xsk_ring_prod__submit(&q->fq, a->frames);
	err = xsk_socket__update_xskmap(q->xsk, xdp_loader_xsks_fd(a->ld));
	if (err)
		return errbuf_set(eb, err, "afxdp: %s queue %u: cannot register in smtp_xsks: %s",
				  a->ifname, queue, strerror(-err));
	return 0;
}

/* RX queues the device has, from sysfs; 0 when unknown. */
static unsigned int dev_rx_queues(const char *ifname)
{
	char path[128];
	struct dirent *e;
	unsigned int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return 0;
	for (int i = 0; i < 4096 && (e = readdir(d)); i++)
		n += strncmp(e->d_name, "rx-", 3) == 0;
	closedir(d);
	return n;
}

static int afxdp_check_cfg(const struct source_cfg *cfg, struct errbuf *eb)
{
	unsigned int have;

	if (!cfg->iface || !cfg->iface[0] || strlen(cfg->iface) >= IF_NAMESIZE)
		return errbuf_set(
			eb, -EINVAL,
			"afxdp: interface name '%s' is empty or longer than %d characters",
			cfg->iface ? cfg->iface : "", IF_NAMESIZE - 1);
	if (cfg->n_queues == 0 || cfg->n_queues > SOURCE_MAX_QUEUES ||
	    cfg->n_queues > XDP_SMTP_MAX_QUEUES)
		return errbuf_set(eb, -EINVAL, "afxdp: %u queues: 1..%u", cfg->n_queues,
				  SOURCE_MAX_QUEUES);
	if (cfg->frames_per_queue & (cfg->frames_per_queue - 1))
		return errbuf_set(eb, -EINVAL, "afxdp: frames per queue must be a power of two");
	if (cfg->n_ports > XDP_SMTP_MAX_PORTS)
		return errbuf_set(eb, -E2BIG, "afxdp: the XDP pre-filter takes at most %u ports",
				  XDP_SMTP_MAX_PORTS);
	have = dev_rx_queues(cfg->iface);
	if (have && cfg->n_queues > have)
		return errbuf_set(eb, -EINVAL, "afxdp: %s has %u RX queues, %u asked", cfg->iface,
				  have, cfg->n_queues);
	if (have > cfg->n_queues)
		log_warn("afxdp: %s has %u RX queues and we bind %u: SMTP arriving on the others "
			 "is passed to the kernel and counted as no_socket (use --queues %u)",
			 cfg->iface, have, cfg->n_queues, have);
	return 0;
}

static int afxdp_attach(struct afxdp *a, const struct source_cfg *cfg, struct errbuf *eb)
{
	struct xdp_loader_cfg lc = {
		.ifname = cfg->iface,
		.mode = cfg->xdp_mode == SOURCE_XDP_NATIVE    ? XDP_LOADER_NATIVE
			: cfg->xdp_mode == SOURCE_XDP_GENERIC ? XDP_LOADER_GENERIC
							      : XDP_LOADER_AUTO,
		.ports = cfg->n_ports ? cfg->ports : NULL,
		.n_ports = cfg->n_ports,
		.guardian = true,
	};

	return xdp_loader_attach(&lc, &a->ld, eb);
}

static int afxdp_open(const struct source_cfg *cfg, struct source **out, struct errbuf *eb)
{
	struct afxdp *a;
	int err;

	err = afxdp_check_cfg(cfg, eb);
	if (err)
		return err;
	a = calloc(1, sizeof(*a));
	if (!a)
		return errbuf_set(eb, -ENOMEM, "afxdp: no memory");
	snprintf(a->ifname, sizeof(a->ifname), "%s", cfg->iface);
	a->frames = cfg->frames_per_queue ? cfg->frames_per_queue : AFXDP_DEFAULT_FRAMES;
	a->base.ops = &source_afxdp_ops;
	a->base.n_queues = cfg->n_queues;
	/* RSS on most NICs (and veth's queue choice) is not symmetric: steer unless one queue. */
	a->base.symmetric = cfg->n_queues == 1;
	a->base.live = true;
	a->base.release_any_thread = false;

	/* Program before sockets: libxdp must not put its own program in our place. */
	err = afxdp_attach(a, cfg, eb);
	if (err)
		goto err_close;
	for (uint16_t i = 0; i < cfg->n_queues; i++) {
		err = queue_bind(a, i, cfg->bind, eb);
		if (!err && cfg->busy_poll)
			err = queue_busy_poll(a, i, eb);
		if (!err)
			err = queue_start(a, i, eb);
		if (err)
			goto err_close;
	}
	a->nic_missed_base = dev_missed(a->ifname);
	snprintf(a->desc, sizeof(a->desc), "afxdp %s: %u queue%s, %s XDP, %s bind%s", a->ifname,
		 cfg->n_queues, cfg->n_queues == 1 ? "" : "s", xdp_loader_mode_name(a->ld),
		 a->q[0].zerocopy ? "zero-copy" : "copy", cfg->busy_poll ? ", busy polling" : "");
	a->base.desc = a->desc;
	log_info("%s", a->desc);
	*out = &a->base;
	return 0;

err_close:
	afxdp_close(&a->base);
	return err;
}

int source_afxdp_read_verdicts(struct source *s, struct xdp_loader_totals *out)
{
	if (s->ops != &source_afxdp_ops)
		return -EINVAL;
	return xdp_loader_read_verdicts(((struct afxdp *)s)->ld, out);
}

int source_afxdp_read_sources(struct source *s, uint64_t since_ns, xdp_loader_src_fn *fn, void *arg)
{
	if (s->ops != &source_afxdp_ops)
		return -EINVAL;
	return xdp_loader_read_sources(((struct afxdp *)s)->ld, since_ns, fn, arg);
}

const struct source_ops source_afxdp_ops = {
	.name = "afxdp",
	.open = afxdp_open,
	.thread_init = NULL,
	.rx_burst = afxdp_rx,
	.release = afxdp_release,
	.at_eof = afxdp_at_eof,
	.stats = afxdp_stats,
	.last_error = afxdp_last_error,
	.close = afxdp_close,
};
