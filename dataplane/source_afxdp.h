/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * source_afxdp: what the composition root may ask of a live AF_XDP source
 * besides struct source_ops: the XDP pre-filter's counters. Control thread
 * only (they are map syscalls). Without AF_XDP in the build these are stubs
 * that return -ENOTSUP, so callers need no #if.
 */
#ifndef RELAYWATCH_DATAPLANE_SOURCE_AFXDP_H
#define RELAYWATCH_DATAPLANE_SOURCE_AFXDP_H

#include <errno.h>
#include <stdint.h>

#include "dataplane/source.h"
#include "ebpf/xdp_loader.h"
#include "rw_config.h"

#if HAVE_AFXDP
/* s must be the AF_XDP source itself (not a steer layer over it). */
int source_afxdp_read_verdicts(struct source *s, struct xdp_loader_totals *out);
int source_afxdp_read_sources(struct source *s, uint64_t since_ns, xdp_loader_src_fn *fn,
			      void *arg);
#else
static inline int source_afxdp_read_verdicts(struct source *s, struct xdp_loader_totals *out)
{
	return -ENOTSUP;
}

static inline int source_afxdp_read_sources(struct source *s, uint64_t since_ns,
					    xdp_loader_src_fn *fn, void *arg)
{
	return -ENOTSUP;
}
#endif

#endif /* RELAYWATCH_DATAPLANE_SOURCE_AFXDP_H */
