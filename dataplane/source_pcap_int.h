/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * source_pcap internals shared by source_pcap.c (opening, the gzip cookie,
 * streaming, the ops) and source_pcap_preload.c (the whole file read into
 * memory at open). Not for other modules.
 */
#ifndef RELAYWATCH_DATAPLANE_SOURCE_PCAP_INT_H
#define RELAYWATCH_DATAPLANE_SOURCE_PCAP_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pcap/pcap.h>
#include <zlib.h>

#include "common/errbuf.h"
#include "dataplane/source.h"

#define PCAP_N_BLOCKS	   16
#define PCAP_BLOCK_MIN	   (4u << 20)
#define PCAP_PROGRESS_STEP 1024	       /* packets between file position reads */
#define PCAP_IO_BYTES	   (1u << 20)  /* stdio's buffer, and the cookie's input buffer */
#define PCAP_Z_ARENA	   (64u << 10) /* inflate's state (7 KiB) and window (32 KiB) */
#define PCAP_IO_SPACE	   (2 * (size_t)PCAP_IO_BYTES + PCAP_Z_ARENA)

struct pcap_block {
	_Atomic uint32_t refs; /* packets handed out and not yet released */
	uint32_t used;
	uint8_t *mem;
};

struct pcap_src {
	struct source base;
	pcap_t *pc;
	FILE *fp;
	uint16_t link;
	bool eof;
	bool held; /* hdr/data hold a packet that did not fit yet */
	struct pcap_pkthdr *hdr;
	const u_char *data;
	char gz_err[128]; /* why the cookie cut the stream short */
	char err[PCAP_ERRBUF_SIZE + 512 + 128];
	bool failed;
	char desc[512];

	/* counters read by other threads */
	_Atomic uint64_t pkts, bytes, snapped, file_read;
	uint64_t file_size; /* 0: a pipe or a device, no size known */
	uint64_t gz_out;    /* bytes the cookie gave libpcap (progress of a pipe) */
	uint64_t n_since_progress;

	/* input through the cookie (pipes, gzip); all of io is MADV_DONTDUMP */
	uint8_t *io; /* stdio buffer | input buffer | inflate arena */
	int fd;	     /* the cookie's, -1: none */
	bool cookie, gzip, z_live, z_member_end, z_done;
	uint32_t in_pos, in_len; /* plain: the head read to tell gzip apart */
	size_t z_used;
	uint64_t raw_read; /* bytes read from fd */
	z_stream zs;

	/* streaming */
	struct pcap_block blocks[PCAP_N_BLOCKS];
	uint32_t cur;
	uint32_t block_bytes;

	/* preload */
	bool preloaded;
	uint8_t *mem; /* MADV_DONTDUMP, mem_cap bytes mapped */
	size_t mem_len, mem_cap;
	struct pkt *pkts_all;
	size_t n_pkts;
	uint32_t *qlist[SOURCE_MAX_QUEUES];
	size_t qlen[SOURCE_MAX_QUEUES];
	size_t qpos[SOURCE_MAX_QUEUES];
	uint16_t spread; /* the queue the last frame of no flow went to */
};

/* ---- records (source_pcap.c) ---- */

void source_pcap_progress_update(struct pcap_src *ps);
/* Next record from libpcap: 1 packet, 0 end of file, -1 error (ps->err set). */
int source_pcap_next_record(struct pcap_src *ps);
void source_pcap_fill_pkt(struct pcap_src *ps, struct pkt *p, const uint8_t *data);
/* Clears the record just copied out of libpcap's buffer (no AUTH line lingers). */
void source_pcap_record_wipe(struct pcap_src *ps);

/* ---- preload (source_pcap_preload.c) ---- */

/* Reads the whole capture into memory, split into queues by flow hash. */
int source_pcap_preload_all(struct pcap_src *ps, struct errbuf *eb);
uint16_t source_pcap_preload_rx(struct pcap_src *ps, uint16_t q, struct pkt *pkts, uint16_t n);

#endif
