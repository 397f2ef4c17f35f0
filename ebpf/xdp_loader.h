/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_loader: puts the xdp_smtp pre-filter on an interface with libxdp (its
 * dispatcher, so other XDP programs keep running), hands out the map the
 * AF_XDP sockets register in, reads and merges the per-CPU counter maps, and
 * takes the program off again. Owns the skeleton, the libxdp program and the
 * detach guardian (a forked helper that detaches even if we die).
 * attach/destroy: the set-up thread; read_*: one control thread at a time,
 * never a worker (they are map syscalls).
 */
#ifndef RELAYWATCH_EBPF_XDP_LOADER_H
#define RELAYWATCH_EBPF_XDP_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/errbuf.h"
#include "ebpf/xdp_smtp_shared.h"

enum xdp_loader_mode {
	XDP_LOADER_AUTO = 0, /* native when the driver has it, else generic */
	XDP_LOADER_NATIVE = 1,
	XDP_LOADER_GENERIC = 2,
};

struct xdp_loader_cfg {
	const char *ifname;
	enum xdp_loader_mode mode;
	const uint16_t *ports; /* SMTP ports, host order; NULL: the program's defaults */
	uint16_t n_ports;      /* at most XDP_SMTP_MAX_PORTS */
	/* Fork a helper that keeps the privileges detaching needs and detaches
	 * when this process exits, however it exits (see xdp_loader.c). */
	bool guardian;
};

/* Per-verdict totals over all CPUs, indexed by enum xdp_smtp_reason. */
struct xdp_loader_totals {
	uint64_t pkts[XDP_SMTP_R_COUNT];
	uint64_t bytes[XDP_SMTP_R_COUNT];
};

/* One source address from smtp_src_stats, merged over CPUs, times in wall clock. */
struct xdp_loader_src {
	uint8_t family;	  /* 4 (IPv4 mapped) or 6 */
	uint8_t addr[16]; /* IPv4 mapped like union pkt_addr */
	uint64_t smtp_syns, flows, pkts, bytes;
	uint64_t first_ns, last_ns; /* Unix epoch ns */
};

typedef void xdp_loader_src_fn(void *arg, const struct xdp_loader_src *src);

struct xdp_loader;

/* 0 or -errno with the interface, the mode and libxdp's/the kernel's reason in eb. */
int xdp_loader_attach(const struct xdp_loader_cfg *cfg, struct xdp_loader **out, struct errbuf *eb);
/* Detaches (through the guardian when there is one) and frees. NULL is a no-op. */
void xdp_loader_destroy(struct xdp_loader *ld);

int xdp_loader_xsks_fd(const struct xdp_loader *ld);
int xdp_loader_ifindex(const struct xdp_loader *ld);
/* "native" or "generic": what the kernel accepted. */
const char *xdp_loader_mode_name(const struct xdp_loader *ld);
bool xdp_loader_has_guardian(const struct xdp_loader *ld);

/* Sums smtp_verdicts over CPUs. 0 or -errno. */
int xdp_loader_read_verdicts(struct xdp_loader *ld, struct xdp_loader_totals *out);
/* Walks smtp_src_stats and calls fn for every source seen at or after
 * since_ns (wall clock; 0: all). Returns the number reported or -errno. */
int xdp_loader_read_sources(struct xdp_loader *ld, uint64_t since_ns, xdp_loader_src_fn *fn,
			    void *arg);
/* Short snake_case name of a reason ("redirected", "no_socket", "err_ipv4"...). */
const char *xdp_loader_reason_name(unsigned int reason);

#endif /* RELAYWATCH_EBPF_XDP_LOADER_H */
