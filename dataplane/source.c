// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/source.h"

#include <errno.h>
#include <stddef.h>

#include "rw_config.h"

extern const struct source_ops source_pcap_ops;
#if HAVE_AFXDP
extern const struct source_ops source_afxdp_ops;
#endif
#if HAVE_DPDK
extern const struct source_ops source_dpdk_ops;
#endif

const struct source_ops *source_ops_for(enum source_kind kind)
{
	switch (kind) {
	case SOURCE_PCAP:
		return &source_pcap_ops;
	case SOURCE_AFXDP:
#if HAVE_AFXDP
		return &source_afxdp_ops;
#else
		return NULL;
#endif
	case SOURCE_DPDK:
#if HAVE_DPDK
		return &source_dpdk_ops;
#else
		return NULL;
#endif
	}
	return NULL;
}

const char *source_kind_name(enum source_kind kind)
{
	switch (kind) {
	case SOURCE_PCAP:
		return "pcap";
	case SOURCE_AFXDP:
		return "afxdp";
	case SOURCE_DPDK:
		return "dpdk";
	}
	return "unknown";
}

int source_open(const struct source_cfg *cfg, struct source **out, struct errbuf *eb)
{
	const struct source_ops *ops = source_ops_for(cfg->kind);

	if (!ops)
		return errbuf_set(eb, -ENOTSUP, "%s capture was not built into this binary",
				  source_kind_name(cfg->kind));
	return ops->open(cfg, out, eb);
}

void source_close(struct source *s)
{
	if (s)
		s->ops->close(s);
}
