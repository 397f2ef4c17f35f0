/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * spool internals shared by spool.c (appending, sending, acks, durability,
 * open and close) and spool_recover.c (start-up: what a previous run left).
 * Not for other modules. The on-disk format is described in spool.h.
 */
#ifndef RELAYWATCH_EXPORTERS_SPOOL_INT_H
#define RELAYWATCH_EXPORTERS_SPOOL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

#include "exporters/spool.h"

#define SPOOL_MAGIC	  "RWSPOOL1"
#define SPOOL_STATE_MAGIC "RWSTATE1"
#define SPOOL_VERSION	  1u
#define SPOOL_STATE_LEN	  (8 + SPOOL_CLASS_COUNT * 16 + 4)
#define SPOOL_FILE_MAX	  (1ull << 30) /* a segment is never near this: not ours */
#define SPOOL_SEG_MIN	  (64u * 1024)
#define SPOOL_WBUF	  (64u * 1024) /* records are written in batches of up to this */

/* A segment file: one run, one class. */
struct seg {
	struct seg *next;
	uint64_t segno;
	uint64_t run_id;
	uint64_t rank; /* order of its run: the lowest segno of that run */
	uint64_t size; /* bytes written */
	uint32_t live; /* frames held from this file */
	uint8_t cls;
	int fd;	       /* open while it is written to, else -1 */
	bool dirty;    /* written since the last sync */
	bool broken;   /* a failed write could not be undone: no more appends */
	uint8_t *wbuf; /* write segment: records not yet written */
	uint32_t wlen;
};

struct ent {
	struct ent *prev, *next;   /* send order, every class */
	struct ent *cprev, *cnext; /* same class, oldest first */
	struct seg *seg;	   /* NULL: memory only (no dir, or the write failed) */
	uint64_t off;		   /* of its record in seg */
	uint64_t run_id, seq;
	uint32_t len;
	uint8_t cls;
	bool sent; /* on the current connection */
	bool ever_sent;
	uint8_t data[];
};

struct spool {
	struct spool_cfg cfg;
	char dir[2048];
	int dir_fd, lock_fd;
	bool dir_dirty, state_dirty;
	struct ent *head, *tail; /* send order */
	struct ent *chead[SPOOL_CLASS_COUNT], *ctail[SPOOL_CLASS_COUNT];
	struct ent *cursor; /* next to send, NULL: all sent */
	uint64_t in_flight;
	struct seg *segs;		     /* every file, any order */
	struct seg *wseg[SPOOL_CLASS_COUNT]; /* being appended to */
	uint64_t next_segno;
	struct spool_stats st;
};

/* ---- little-endian fields ---- */

static inline void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static inline uint32_t rec_crc(const uint8_t seq_le[8], const uint8_t *data, uint32_t len)
{
	return (uint32_t)crc32(crc32(0L, seq_le, 8), data, len);
}

extern const char *const spool_class_names[SPOOL_CLASS_COUNT];

/* ---- segment files and lists (spool.c) ---- */

void spool_seg_name(const struct seg *s, char *buf, size_t cap);
/* Every frame of the file is acked or dropped: the file goes. */
void spool_seg_release(struct spool *sp, struct seg *s);
struct seg *spool_seg_new(struct spool *sp, uint64_t segno, uint64_t run_id, uint8_t cls);
void spool_link_tail(struct spool *sp, struct ent *e);
/* Frees room for rec more bytes by dropping the oldest frames of the classes
 * that matter less than cls (then of cls itself); false when it cannot. */
bool spool_make_room(struct spool *sp, uint8_t cls, uint64_t rec);

/* ---- start-up (spool_recover.c) ---- */

/* Reads what a previous run left in sp->dir: the state file and the segment
 * files, oldest first, into the send order. 0 or -errno. */
int spool_recover(struct spool *sp);

#endif
