// SPDX-License-Identifier: BSD-3-Clause
/*
 * source_pcap's preload: the whole file is read into memory at open; frames
 * are views into it and release costs nothing. With several queues, packets
 * are split by the symmetric flow hash at load time, so each worker walks its
 * own list with no distribution cost (the benchmark's mode). The buffer is
 * MADV_DONTDUMP, as every buffer of capture bytes in source_pcap.
 */
#include "dataplane/source_pcap_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/nodump.h"
#include "dataplane/decode.h"

/* ---- preload ---- */

/* The preload buffer grows by mremap: it stays out of core dumps. */
static int grow_mem(struct pcap_src *ps, size_t need)
{
	size_t ncap = ps->mem_cap ? ps->mem_cap : PCAP_IO_BYTES;
	void *np;

	if (need <= ps->mem_cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = nodump_grow(ps->mem, ps->mem_cap, ncap);
	if (!np)
		return -ENOMEM;
	ps->mem = np;
	ps->mem_cap = ncap;
	return 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 1024;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* Which queue a preloaded packet goes to: the symmetric hash of its flow. */
static uint16_t preload_queue(struct pcap_src *ps, struct pkt *p)
{
	struct decode_stats st = {0};
	struct decode_cfg dc;
	struct pkt_meta m;

	if (ps->base.n_queues <= 1)
		return 0;
	decode_cfg_default(&dc);
	if (decode_pkt(&dc, p, &m, &st) != DECODE_OK) {
		/* Not a TCP segment: the worker only counts it, so queues take turns
		 * (a NIC's RSS spreads UDP too). All on queue 0, the 20% UDP of the
		 * small-64 profile split the queues 60/40. */
		ps->spread = (uint16_t)((ps->spread + 1) % ps->base.n_queues);
		return ps->spread;
	}
	p->hash = (uint32_t)hash_sym_tuple(m.src.b, m.sport, m.dst.b, m.dport, 0);
	return (uint16_t)(p->hash % ps->base.n_queues);
}

int source_pcap_preload_all(struct pcap_src *ps, struct errbuf *eb)
{
	size_t pkt_cap = 0, qcap[SOURCE_MAX_QUEUES] = {0};
	size_t *offs = NULL, offs_cap = 0;
	int rc;

	while ((rc = source_pcap_next_record(ps)) == 1) {
		size_t cl = ps->hdr->caplen, at = ps->mem_len;

		if (grow_mem(ps, at + cl + 64) ||
		    grow((void **)&ps->pkts_all, &pkt_cap, ps->n_pkts + 1, sizeof(struct pkt)) ||
		    grow((void **)&offs, &offs_cap, ps->n_pkts + 1, sizeof(size_t)))
			goto err_nomem;
		memcpy(ps->mem + at, ps->data, cl);
		source_pcap_record_wipe(ps);
		source_pcap_fill_pkt(ps, &ps->pkts_all[ps->n_pkts], NULL);
		offs[ps->n_pkts++] = at;
		ps->mem_len = at + ((cl + 63) & ~(size_t)63);
	}
	source_pcap_progress_update(ps);
	/* Pointers only now: the buffer moved while it grew. */
	for (size_t i = 0; i < ps->n_pkts; i++) {
		struct pkt *p = &ps->pkts_all[i];
		uint16_t q;

		p->data = ps->mem + offs[i];
		q = preload_queue(ps, p);
		if (grow((void **)&ps->qlist[q], &qcap[q], ps->qlen[q] + 1, sizeof(uint32_t)))
			goto err_nomem;
		ps->qlist[q][ps->qlen[q]++] = (uint32_t)i;
	}
	free(offs);
	ps->eof = true;
	ps->preloaded = true;
	return 0;

err_nomem:
	free(offs);
	return errbuf_set(eb, -ENOMEM, "%s: not enough memory to preload the capture",
			  ps->base.desc);
}

uint16_t source_pcap_preload_rx(struct pcap_src *ps, uint16_t q, struct pkt *pkts, uint16_t n)
{
	size_t left = ps->qlen[q] - ps->qpos[q];
	uint16_t got = (uint16_t)(left < n ? left : n);

	for (uint16_t i = 0; i < got; i++) {
		pkts[i] = ps->pkts_all[ps->qlist[q][ps->qpos[q] + i]];
		pkts[i].rxq = q;
	}
	ps->qpos[q] += got;
	return got;
}
