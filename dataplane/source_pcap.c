// SPDX-License-Identifier: BSD-3-Clause
/*
 * source_pcap: pcap and pcapng files through libpcap, gzip-compressed ones
 * through zlib. Two ways to read:
 *
 * - streaming (default): one queue; packets are copied from libpcap's buffer
 *   into a ring of blocks, each counting the packets still out, so frames
 *   may be released later and from another thread (steer.c).
 * - preload (source_pcap_preload.c): the whole file is read into memory at
 *   open; frames are views into it and release costs nothing. With several
 *   queues, packets are split by the symmetric flow hash at load time, so
 *   each worker walks its own list with no distribution cost (the
 *   benchmark's mode).
 *
 * Time stamps are kept at nanosecond precision. The input may be a FIFO or
 * stdin ("-"), e.g. `gzip -dc x.pcap.gz |` or `tcpdump -w - |`, plain or
 * gzip: what cannot be rewound, and gzip files, are read through our own
 * stdio cookie (read(2), inflate for gzip), which hands on whatever a pipe
 * has at once instead of waiting for a full buffer.
 *
 * Core dumps: every buffer here that holds capture bytes -- SMTP AUTH lines
 * with their credentials among them -- is memory of our own, mapped with
 * MADV_DONTDUMP (common/nodump.h): the read blocks, the preload buffer, the
 * stdio buffer, the cookie's input buffer and inflate's window. libpcap's
 * own record buffer cannot be: each record is wiped there once copied out.
 * madvise runs at open only, never per packet.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>
#include <zlib.h>

#include "common/nodump.h"
#include "dataplane/source.h"
#include "dataplane/source_pcap.h"
#include "dataplane/source_pcap_int.h"

extern const struct source_ops source_pcap_ops;

static int dlt_to_link(int dlt)
{
	switch (dlt) {
	case DLT_NULL:
		return PKT_LINK_NULL;
	case DLT_EN10MB:
		return PKT_LINK_ETHERNET;
	case DLT_RAW:
#ifdef DLT_RAW_101
	case 101:
#endif
		return PKT_LINK_RAW;
	case DLT_LOOP:
		return PKT_LINK_LOOP;
	case DLT_LINUX_SLL:
		return PKT_LINK_LINUX_SLL;
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
		return PKT_LINK_LINUX_SLL2;
#endif
#ifdef DLT_IPV4
	case DLT_IPV4:
		return PKT_LINK_IPV4;
#endif
#ifdef DLT_IPV6
	case DLT_IPV6:
		return PKT_LINK_IPV6;
#endif
	}
	return -1;
}

static ssize_t fd_read(struct pcap_src *ps, void *buf, size_t n)
{
	ssize_t r;

	do
		r = read(ps->fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		ps->raw_read += (uint64_t)r;
	return r;
}

static ssize_t cookie_fail(struct pcap_src *ps, const char *why)
{
	snprintf(ps->gz_err, sizeof(ps->gz_err), "%s", why);
	errno = EIO;
	return -1;
}

/* inflate's memory comes from the arena in ps->io: never in a core dump. */
static voidpf z_arena_alloc(voidpf opaque, uInt items, uInt size)
{
	struct pcap_src *ps = opaque;
	size_t n = ((size_t)items * size + 63) & ~(size_t)63;
	uint8_t *arena = ps->io + 2 * (size_t)PCAP_IO_BYTES;

	if (n > PCAP_Z_ARENA - ps->z_used)
		return Z_NULL;
	ps->z_used += n;
	return arena + ps->z_used - n;
}

static void z_arena_free(voidpf opaque, voidpf p)
{
	(void)opaque;
	(void)p; /* the arena goes with ps->io */
}

/* Input for inflate; false at end of input (or error, gz_err set). */
static bool z_refill(struct pcap_src *ps)
{
	ssize_t r;

	if (ps->zs.avail_in)
		return true;
	r = fd_read(ps, ps->io + PCAP_IO_BYTES, PCAP_IO_BYTES);
	if (r < 0) {
		cookie_fail(ps, strerror(errno));
		return false;
	}
	ps->zs.next_in = ps->io + PCAP_IO_BYTES;
	ps->zs.avail_in = (uInt)r;
	return r > 0;
}

/* gzip members one after the other, as gzip -d reads them; trailing non-gzip bytes end it. */
static ssize_t z_read(struct pcap_src *ps, uint8_t *buf, size_t n)
{
	uInt want = (uInt)(n > (1u << 30) ? (1u << 30) : n);
	int rc;

	ps->zs.next_out = buf;
	ps->zs.avail_out = want;
	while (ps->zs.avail_out == want && !ps->z_done) {
		if (!z_refill(ps)) {
			if (ps->gz_err[0])
				return -1;
			if (!ps->z_member_end)
				return cookie_fail(ps, "unexpected end of file");
			ps->z_done = true;
			break;
		}
		if (ps->z_member_end) {
			if (ps->zs.next_in[0] != 0x1f) {
				ps->z_done = true;
				break;
			}
			inflateReset(&ps->zs);
			ps->z_member_end = false;
		}
		rc = inflate(&ps->zs, Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			ps->z_member_end = true;
		else if (rc != Z_OK && rc != Z_BUF_ERROR)
			return cookie_fail(ps, ps->zs.msg ? ps->zs.msg : "invalid compressed data");
	}
	return (ssize_t)(want - ps->zs.avail_out);
}

static ssize_t cookie_read(void *cookie, char *buf, size_t n)
{
	struct pcap_src *ps = cookie;
	ssize_t r;

	if (ps->gzip) {
		r = z_read(ps, (uint8_t *)buf, n);
	} else if (ps->in_pos < ps->in_len) {
		r = (ssize_t)(n < ps->in_len - ps->in_pos ? n : ps->in_len - ps->in_pos);
		memcpy(buf, ps->io + PCAP_IO_BYTES + ps->in_pos, (size_t)r);
		ps->in_pos += (uint32_t)r;
	} else {
		r = fd_read(ps, buf, n);
	}
	if (r > 0)
		ps->gz_out += (uint64_t)r;
	return r;
}

static int cookie_close(void *cookie)
{
	struct pcap_src *ps = cookie;

	if (ps->z_live)
		inflateEnd(&ps->zs);
	ps->z_live = false;
	close(ps->fd);
	ps->fd = -1;
	return 0;
}

static bool file_is_gzip(const char *path)
{
	unsigned char magic[2] = {0, 0};
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return false;
	n = fread(magic, 1, 2, f);
	fclose(f);
	return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

uint64_t source_pcap_size_hint(const char *path)
{
	unsigned char tail[4];
	uint64_t size, isize;
	struct stat sb;
	FILE *f;

	/* "-" is stdin, whatever a file of that name holds; a pipe has no size. */
	if (strcmp(path, "-") == 0 || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return 0;
	size = (uint64_t)sb.st_size;
	if (!file_is_gzip(path) || size < 18)
		return size;
	/* gzip's trailer holds the uncompressed length modulo 2^32 */
	f = fopen(path, "rb");
	if (!f)
		return size;
	if (fseek(f, -4, SEEK_END) != 0 || fread(tail, 1, 4, f) != 4) {
		fclose(f);
		return size;
	}
	fclose(f);
	isize = (uint64_t)tail[0] | (uint64_t)tail[1] << 8 | (uint64_t)tail[2] << 16 |
		(uint64_t)tail[3] << 24;
	/* compressed data never exceeds ~1032x; past 4 GiB the trailer wrapped */
	if (size > (UINT32_MAX / 1032))
		return size * 1032;
	return isize > size ? isize : size;
}

/* The first bytes of the stream say gzip or not; kept for the cookie to hand out. */
static int cookie_sniff(struct pcap_src *ps)
{
	uint8_t *in = ps->io + PCAP_IO_BYTES;

	while (ps->in_len < 2) {
		ssize_t r = fd_read(ps, in + ps->in_len, PCAP_IO_BYTES - ps->in_len);

		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		ps->in_len += (uint32_t)r;
	}
	ps->gzip = ps->in_len >= 2 && in[0] == 0x1f && in[1] == 0x8b;
	if (!ps->gzip)
		return 0;
	ps->zs = (z_stream){.zalloc = z_arena_alloc, .zfree = z_arena_free, .opaque = ps};
	if (inflateInit2(&ps->zs, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	ps->z_live = true;
	ps->zs.next_in = in;
	ps->zs.avail_in = ps->in_len;
	ps->in_len = 0;
	return 0;
}

/* Read fd through the cookie: a pipe (plain or gzip) or a gzip file. */
static int open_cookie(struct pcap_src *ps, int fd, const char *name, struct errbuf *eb)
{
	cookie_io_functions_t io = {.read = cookie_read, .close = cookie_close};
	int err;

	ps->fd = fd;
	ps->cookie = true;
	err = cookie_sniff(ps);
	if (err) {
		cookie_close(ps);
		return errbuf_set(eb, err, "%s: %s", name, strerror(-err));
	}
	ps->fp = fopencookie(ps, "r", io);
	if (!ps->fp) {
		cookie_close(ps);
		return errbuf_set(eb, -ENOMEM, "%s: fopencookie failed", name);
	}
	setvbuf(ps->fp, (char *)ps->io, _IOFBF, PCAP_IO_BYTES);
	return 0;
}

/* A regular file: its first bytes can be looked at without reading them. */
static bool fd_is_gzip(int fd)
{
	unsigned char magic[2] = {0, 0};
	off_t at = lseek(fd, 0, SEEK_CUR);

	return at >= 0 && pread(fd, magic, 2, at) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

/* fd (owned from here) as a stdio stream in ps->fp. */
static int open_stream(struct pcap_src *ps, int fd, const char *name, struct errbuf *eb)
{
	struct stat sb;

	if (fstat(fd, &sb) != 0) {
		int err = -errno;

		close(fd);
		return errbuf_set(eb, err, "%s: %s", name, strerror(-err));
	}
	if (S_ISDIR(sb.st_mode)) {
		close(fd);
		return errbuf_set(eb, -EISDIR, "%s: is a directory, not a capture file", name);
	}
	if (!S_ISREG(sb.st_mode) || fd_is_gzip(fd)) {
		ps->file_size = S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
		return open_cookie(ps, fd, name, eb);
	}
	ps->file_size = (uint64_t)sb.st_size;
	ps->fp = fdopen(fd, "rb");
	if (!ps->fp) {
		int err = -errno;

		close(fd);
		return errbuf_set(eb, err, "%s: %s", name, strerror(-err));
	}
	setvbuf(ps->fp, (char *)ps->io, _IOFBF, PCAP_IO_BYTES);
	return 0;
}

static int open_file(struct pcap_src *ps, const char *path, struct errbuf *eb)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	int fd, err;

	/* stdin is duplicated: closing the capture must not close it. */
	if (strcmp(path, "-") == 0)
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC); /* a FIFO waits for its writer */
	if (fd < 0)
		return errbuf_set(eb, -errno, "%s: %s", ps->desc, strerror(errno));
	err = open_stream(ps, fd, ps->desc, eb);
	if (err)
		return err;
	/* libpcap owns fp from here and closes it with pcap_close(). */
	ps->pc = pcap_fopen_offline_with_tstamp_precision(ps->fp, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!ps->pc) {
		fclose(ps->fp);
		ps->fp = NULL;
		if (ps->gz_err[0])
			return errbuf_set(eb, -EINVAL, "%s: compressed stream: %s", ps->desc,
					  ps->gz_err);
		return errbuf_set(eb, -EINVAL, "%s: not a readable pcap/pcapng capture: %s",
				  ps->desc, perr);
	}
	return 0;
}

void source_pcap_progress_update(struct pcap_src *ps)
{
	long pos;

	if (!ps->file_size)
		pos = (long)ps->gz_out; /* a pipe: what came through so far */
	else if (ps->cookie)
		pos = (long)(ps->raw_read - ps->zs.avail_in); /* gzip: compressed bytes used */
	else
		pos = ftell(ps->fp);
	if (pos >= 0)
		atomic_store_explicit(&ps->file_read, (uint64_t)pos, memory_order_relaxed);
}

/* Next record from libpcap: 1 packet, 0 end of file, -1 error (ps->err set). */
int source_pcap_next_record(struct pcap_src *ps)
{
	int rc = pcap_next_ex(ps->pc, &ps->hdr, &ps->data);

	if (rc == 1) {
		if (++ps->n_since_progress >= PCAP_PROGRESS_STEP) {
			ps->n_since_progress = 0;
			source_pcap_progress_update(ps);
		}
		return 1;
	}
	if (rc == PCAP_ERROR_BREAK || rc == 0)
		return 0;
	if (ps->gz_err[0])
		snprintf(ps->err, sizeof(ps->err), "%s: compressed stream: %s", ps->base.desc,
			 ps->gz_err);
	else
		snprintf(ps->err, sizeof(ps->err), "%s: %s", ps->base.desc, pcap_geterr(ps->pc));
	ps->failed = true;
	return -1;
}

void source_pcap_fill_pkt(struct pcap_src *ps, struct pkt *p, const uint8_t *data)
{
	p->data = data;
	p->len = ps->hdr->caplen;
	p->wire_len = ps->hdr->len > ps->hdr->caplen ? ps->hdr->len : ps->hdr->caplen;
	/* PCAP_TSTAMP_PRECISION_NANO: tv_usec holds nanoseconds */
	p->ts_ns = (uint64_t)ps->hdr->ts.tv_sec * 1000000000ull + (uint64_t)ps->hdr->ts.tv_usec;
	p->link = ps->link;
	p->port = 0;
	p->hash = 0;
	p->rxq = 0;
	if (ps->hdr->len > ps->hdr->caplen)
		atomic_fetch_add_explicit(&ps->snapped, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&ps->pkts, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&ps->bytes, p->wire_len, memory_order_relaxed);
}

/*
 * libpcap's record buffer is its own malloc'd memory, which no madvise can
 * reach: once the bytes are copied out they are cleared there, so no AUTH
 * line lingers in it. The buffer is libpcap's to write; the const is only
 * its promise not to.
 */
void source_pcap_record_wipe(struct pcap_src *ps)
{
	memset((void *)(uintptr_t)ps->data, 0, ps->hdr->caplen);
}

/* ---- streaming ---- */

static uint16_t stream_rx(struct pcap_src *ps, struct pkt *pkts, uint16_t n)
{
	uint16_t got = 0;

	while (got < n && !ps->eof) {
		struct pcap_block *b = &ps->blocks[ps->cur];
		uint32_t caplen;

		if (!ps->held) {
			int rc = source_pcap_next_record(ps);

			if (rc <= 0) {
				ps->eof = true;
				source_pcap_progress_update(ps);
				break;
			}
			ps->held = true;
		}
		caplen = ps->hdr->caplen;
		if (b->used + caplen > ps->block_bytes) {
			uint32_t nxt = (ps->cur + 1) % PCAP_N_BLOCKS;

			/* Frames in the next block are still out: come back later. */
			if (atomic_load_explicit(&ps->blocks[nxt].refs, memory_order_acquire))
				break;
			ps->cur = nxt;
			b = &ps->blocks[nxt];
			b->used = 0;
		}
		memcpy(b->mem + b->used, ps->data, caplen);
		source_pcap_record_wipe(ps);
		source_pcap_fill_pkt(ps, &pkts[got], b->mem + b->used);
		pkts[got].opaque = ps->cur;
		/* keep the next frame 64-byte aligned, as NIC buffers are */
		b->used += (caplen + 63u) & ~63u;
		atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
		ps->held = false;
		got++;
	}
	return got;
}

static void stream_release(struct pcap_src *ps, struct pkt *pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		atomic_fetch_sub_explicit(&ps->blocks[pkts[i].opaque].refs, 1,
					  memory_order_release);
}

static int stream_init(struct pcap_src *ps, struct errbuf *eb)
{
	int snap = pcap_snapshot(ps->pc);
	uint32_t bytes = PCAP_BLOCK_MIN;

	if (snap > 0 && (uint32_t)snap + 64 > bytes)
		bytes = (uint32_t)snap + 64;
	/* Block size must hold the largest frame libpcap will hand out. */
	if (bytes < 262144 + 64)
		bytes = 262144 + 64;
	ps->block_bytes = bytes;
	/* Out of core dumps: the blocks hold every packet read, AUTH lines with them. */
	for (unsigned int i = 0; i < PCAP_N_BLOCKS; i++) {
		ps->blocks[i].mem = nodump_alloc(bytes);
		if (!ps->blocks[i].mem)
			return errbuf_set(eb, -ENOMEM, "pcap: no memory for read blocks");
	}
	return 0;
}

/* ---- ops ---- */

static void pcap_src_close(struct source *s);

static int pcap_src_open(const struct source_cfg *cfg, struct source **out, struct errbuf *eb)
{
	struct pcap_src *ps;
	int link, err;

	if (!cfg->path)
		return errbuf_set(eb, -EINVAL, "pcap: no file given");
	if (cfg->n_queues > SOURCE_MAX_QUEUES)
		return errbuf_set(eb, -EINVAL, "pcap: at most %d queues", SOURCE_MAX_QUEUES);
	if (cfg->n_queues > 1 && !cfg->preload)
		return errbuf_set(eb, -EINVAL, "pcap: several queues need preload (or steer)");
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	ps->base.ops = &source_pcap_ops;
	ps->base.n_queues = cfg->n_queues ? cfg->n_queues : 1;
	ps->base.symmetric = true;
	ps->base.live = false;
	ps->base.release_any_thread = true;
	snprintf(ps->desc, sizeof(ps->desc), "%s",
		 strcmp(cfg->path, "-") == 0 ? "stdin" : cfg->path);
	ps->base.desc = ps->desc;
	ps->fd = -1;
	ps->io = nodump_alloc(PCAP_IO_SPACE);
	if (!ps->io) {
		free(ps);
		return errbuf_set(eb, -ENOMEM, "pcap: no memory for read buffers");
	}

	err = open_file(ps, cfg->path, eb);
	if (err)
		goto err_free;
	link = dlt_to_link(pcap_datalink(ps->pc));
	if (link < 0) {
		err = errbuf_set(eb, -EPROTONOSUPPORT,
				 "%s: link type %d (%s) is not supported; supported: Ethernet, "
				 "Linux cooked (SLL, SLL2), BSD loopback, raw IPv4/IPv6",
				 ps->desc, pcap_datalink(ps->pc),
				 pcap_datalink_val_to_name(pcap_datalink(ps->pc))
					 ? pcap_datalink_val_to_name(pcap_datalink(ps->pc))
					 : "unknown");
		goto err_close;
	}
	ps->link = (uint16_t)link;
	err = cfg->preload ? source_pcap_preload_all(ps, eb) : stream_init(ps, eb);
	if (err)
		goto err_close;
	*out = &ps->base;
	return 0;

err_close:
	pcap_src_close(&ps->base);
	return err;
err_free:
	nodump_free(ps->io, PCAP_IO_SPACE);
	free(ps);
	return err;
}

static uint16_t pcap_src_rx(struct source *s, uint16_t q, struct pkt *pkts, uint16_t n)
{
	struct pcap_src *ps = (struct pcap_src *)s;

	if (ps->preloaded)
		return source_pcap_preload_rx(ps, q, pkts, n);
	return stream_rx(ps, pkts, n);
}

static void pcap_src_release(struct source *s, uint16_t q, struct pkt *pkts, uint16_t n)
{
	struct pcap_src *ps = (struct pcap_src *)s;

	if (!ps->preloaded)
		stream_release(ps, pkts, n);
}

static bool pcap_src_at_eof(struct source *s, uint16_t q)
{
	struct pcap_src *ps = (struct pcap_src *)s;

	if (ps->preloaded)
		return ps->qpos[q] >= ps->qlen[q];
	return ps->eof && !ps->held;
}

static void pcap_src_stats(struct source *s, struct source_stats *out)
{
	struct pcap_src *ps = (struct pcap_src *)s;

	memset(out, 0, sizeof(*out));
	out->pkts = atomic_load_explicit(&ps->pkts, memory_order_relaxed);
	out->bytes = atomic_load_explicit(&ps->bytes, memory_order_relaxed);
	out->snapped = atomic_load_explicit(&ps->snapped, memory_order_relaxed);
	out->file_bytes_read = atomic_load_explicit(&ps->file_read, memory_order_relaxed);
	out->file_bytes_total = ps->file_size;
}

static const char *pcap_src_last_error(struct source *s)
{
	struct pcap_src *ps = (struct pcap_src *)s;

	return ps->failed ? ps->err : NULL;
}

static void pcap_src_close(struct source *s)
{
	struct pcap_src *ps = (struct pcap_src *)s;

	if (!ps)
		return;
	if (ps->pc)
		pcap_close(ps->pc); /* closes fp, and through the cookie fd */
	for (unsigned int i = 0; i < PCAP_N_BLOCKS; i++)
		nodump_free(ps->blocks[i].mem, ps->block_bytes);
	for (unsigned int q = 0; q < SOURCE_MAX_QUEUES; q++)
		free(ps->qlist[q]);
	free(ps->pkts_all);
	nodump_free(ps->mem, ps->mem_cap);
	nodump_free(ps->io, PCAP_IO_SPACE);
	free(ps);
}

const struct source_ops source_pcap_ops = {
	.name = "pcap",
	.open = pcap_src_open,
	.rx_burst = pcap_src_rx,
	.release = pcap_src_release,
	.at_eof = pcap_src_at_eof,
	.stats = pcap_src_stats,
	.last_error = pcap_src_last_error,
	.close = pcap_src_close,
};
