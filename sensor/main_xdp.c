// SPDX-License-Identifier: BSD-3-Clause
/*
 * The XDP pre-filter's counters, live AF_XDP only. The main thread reads the
 * BPF maps once a second (verdicts for /metrics, per-source records for the
 * detection engine) and queues the per-source records on a ring; the
 * detector thread drains that ring into the engine, which only it may touch.
 */
#include "sensor/main_int.h"

#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/msgring.h"
#include "exporters/metrics.h"
#include "sensor/detect.h"

#define XDP_POLL_NS (1000 * 1000 * 1000ull) /* XDP counter maps read once a second */
/* Per-source XDP records on their way to the detector thread: a full map
 * (65536 sources) of one read fits. */
#define XDP_SRC_RING_BYTES (8u << 20)
#define XDP_SRC_DRAIN_MAX  (1u << 17) /* records handled per detector tick */

/* The XDP pre-filter's per-source counters (main_poll_xdp, main thread) reach the
 * engine here, on the thread that owns it. */
void main_drain_xdp_sources(struct sensor *s)
{
	const struct xdp_loader_src *src;
	union pkt_addr addr;
	uint32_t len;

	for (uint32_t i = 0; i < XDP_SRC_DRAIN_MAX && s->xdp_ring; i++) {
		src = msgring_peek(s->xdp_ring, &len);
		if (!src)
			break;
		if (len == sizeof(*src)) {
			memcpy(addr.b, src->addr, sizeof(addr.b));
			detect_engine_src_counters(s->de, src->family, &addr, src->smtp_syns,
						   src->flows, src->pkts, src->bytes, src->last_ns);
		}
		msgring_release(s->xdp_ring);
	}
}

/* ---- XDP pre-filter counters (main thread, live AF_XDP only) ---- */

static void metrics_xdp_totals(struct sensor *s)
{
	const char *names[XDP_SMTP_R_COUNT];

	for (unsigned int r = 0; r < XDP_SMTP_R_COUNT; r++)
		names[r] = xdp_loader_reason_name(r);
	metrics_xdp(s->metrics, names, s->xdp.pkts, s->xdp.bytes, XDP_SMTP_R_COUNT);
}

/* One source address from the XDP map, queued for the detector thread
 * (main_drain_xdp_sources): the engine is not ours to touch from here. */
static void on_xdp_source(void *arg, const struct xdp_loader_src *src)
{
	struct sensor *s = arg;
	void *rec;

	s->xdp_sources++;
	if (!s->xdp_ring)
		return;
	rec = msgring_reserve(s->xdp_ring, sizeof(*src));
	if (!rec) {
		s->xdp_src_dropped++;
		s->xdp_ring_full = true;
		return;
	}
	memcpy(rec, src, sizeof(*src));
	msgring_commit(s->xdp_ring);
}

/* Cheap enough for once a second: one map syscall per reason, batched lookups
 * for the sources seen since the last read. Never touches a worker. */
void main_poll_xdp(struct sensor *s, bool force)
{
	uint64_t now = clock_mono_ns(), wall = clock_real_ns();
	int n;

	if (s->opts.mode != SOURCE_AFXDP || !s->raw_src || (!force && now < s->xdp_next_ns))
		return;
	s->xdp_next_ns = now + XDP_POLL_NS;
	if (source_afxdp_read_verdicts(s->raw_src, &s->xdp) != 0)
		log_warn_rl(60, "xdp: cannot read the verdict counters");
	if (s->metrics)
		metrics_xdp_totals(s);
	s->xdp_ring_full = false;
	n = source_afxdp_read_sources(s->raw_src, s->xdp_since_ns, on_xdp_source, s);
	if (n < 0)
		log_warn_rl(60, "xdp: cannot read the per-source counters: %s", strerror(-n));
	else if (s->xdp_ring_full)
		log_warn_rl(60, "xdp: detector behind: %llu per-source records deferred",
			    (unsigned long long)s->xdp_src_dropped);
	else
		s->xdp_since_ns = wall;
}

/* Live AF_XDP: the ring that carries the per-source counters to the detector. */
int main_setup_xdp_sources(struct sensor *s, struct errbuf *eb)
{
	int err;

	if (s->opts.mode != SOURCE_AFXDP)
		return 0;
	err = msgring_create(XDP_SRC_RING_BYTES, &s->xdp_ring);
	if (err)
		return errbuf_set(eb, err, "no memory for the XDP counter ring");
	return 0;
}
