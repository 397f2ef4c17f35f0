// SPDX-License-Identifier: BSD-3-Clause
#include "exporters/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"
#include "exporters/spool_int.h"

const char *const spool_class_names[SPOOL_CLASS_COUNT] = {"alert", "tx", "summary"};

const char *spool_class_name(enum spool_class c)
{
	return (unsigned int)c < SPOOL_CLASS_COUNT ? spool_class_names[c] : "unknown";
}

/* ---- segment files ---- */

void spool_seg_name(const struct seg *s, char *buf, size_t cap)
{
	snprintf(buf, cap, "%016" PRIx64 "-%s.seg", s->segno, spool_class_names[s->cls]);
}

static void seg_unlink_list(struct spool *sp, struct seg *s)
{
	for (struct seg **pp = &sp->segs; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			return;
		}
	}
}

/* Every frame of the file is acked or dropped: the file goes. */
void spool_seg_release(struct spool *sp, struct seg *s)
{
	char name[64];

	spool_seg_name(s, name, sizeof(name));
	if (s->fd >= 0)
		close(s->fd);
	if (unlinkat(sp->dir_fd, name, 0) != 0 && errno != ENOENT)
		log_warn_rl(60, "spool: %s/%s: cannot remove: %s", sp->dir, name, strerror(errno));
	for (int c = 0; c < SPOOL_CLASS_COUNT; c++)
		if (sp->wseg[c] == s)
			sp->wseg[c] = NULL;
	seg_unlink_list(sp, s);
	sp->st.segments--;
	sp->dir_dirty = true;
	free(s->wbuf);
	free(s);
}

struct seg *spool_seg_new(struct spool *sp, uint64_t segno, uint64_t run_id, uint8_t cls)
{
	struct seg *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->segno = segno;
	s->run_id = run_id;
	s->rank = segno;
	s->cls = cls;
	s->fd = -1;
	s->next = sp->segs;
	sp->segs = s;
	sp->st.segments++;
	return s;
}

static void seg_header(uint8_t h[SPOOL_SEG_HDR], uint8_t cls, uint64_t run_id)
{
	memset(h, 0, SPOOL_SEG_HDR);
	memcpy(h, SPOOL_MAGIC, 8);
	put_le32(h + 8, SPOOL_VERSION);
	put_le32(h + 12, cls);
	put_le64(h + 16, run_id);
	put_le32(h + 28, (uint32_t)crc32(0L, h, 28));
}

/* A new file for this run and class; NULL (logged) when it cannot be made. */
static struct seg *seg_create(struct spool *sp, uint8_t cls)
{
	uint8_t h[SPOOL_SEG_HDR];
	char name[64];
	struct seg *s;

	s = spool_seg_new(sp, sp->next_segno++, sp->cfg.run_id, cls);
	if (!s)
		return NULL;
	spool_seg_name(s, name, sizeof(name));
	s->fd = openat(sp->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	seg_header(h, cls, sp->cfg.run_id);
	s->wbuf = malloc(SPOOL_WBUF);
	if (s->fd < 0 || !s->wbuf || write(s->fd, h, sizeof(h)) != (ssize_t)sizeof(h)) {
		log_warn_rl(60, "spool: %s/%s: cannot write: %s; frames stay in memory only",
			    sp->dir, name, strerror(errno ? errno : ENOSPC));
		sp->st.write_errors++;
		spool_seg_release(sp, s);
		return NULL;
	}
	s->size = SPOOL_SEG_HDR;
	s->dirty = true;
	sp->dir_dirty = true;
	return s;
}

/* The buffered records of s could not be written: they stay in memory only. */
static void seg_unbuffer(struct spool *sp, struct seg *s)
{
	for (struct ent *e = sp->ctail[s->cls]; e && e->seg == s && e->off >= s->size;
	     e = e->cprev) {
		e->seg = NULL;
		s->live--;
	}
	s->wlen = 0;
}

/* Writes what s buffered; on failure those frames stay memory-only. */
static int seg_flush(struct spool *sp, struct seg *s)
{
	ssize_t n;

	if (!s->wlen)
		return 0;
	n = pwrite(s->fd, s->wbuf, s->wlen, (off_t)s->size);
	if (n == (ssize_t)s->wlen) {
		s->size += s->wlen;
		s->wlen = 0;
		s->dirty = true;
		return 0;
	}
	log_warn_rl(60, "spool: %s: write failed: %s; frames stay in memory only", sp->dir,
		    n < 0 ? strerror(errno) : "disk full");
	sp->st.write_errors++;
	seg_unbuffer(sp, s);
	/* A cut record would hide every later one from the next run. */
	if (ftruncate(s->fd, (off_t)s->size) != 0)
		s->broken = true;
	return -EIO;
}

/* The write segment is full (or the spool closes): make it durable and stop
 * writing to it. */
static void seg_seal(struct spool *sp, struct seg *s)
{
	if (s->fd >= 0) {
		seg_flush(sp, s);
		fdatasync(s->fd);
		close(s->fd);
		s->fd = -1;
	}
	free(s->wbuf);
	s->wbuf = NULL;
	s->dirty = false;
	sp->wseg[s->cls] = NULL;
	if (s->live == 0)
		spool_seg_release(sp, s);
}

void spool_flush(struct spool *sp)
{
	for (int c = 0; c < SPOOL_CLASS_COUNT; c++) {
		struct seg *s = sp->wseg[c];

		if (s && (seg_flush(sp, s) != 0 || s->broken))
			seg_seal(sp, s);
	}
}

/* Buffers e's record for its class's file (a frame larger than the buffer
 * goes straight out); e stays memory-only if the file cannot be had. */
static void seg_append(struct spool *sp, struct ent *e)
{
	uint32_t rec = SPOOL_REC_HDR + e->len;
	struct seg *s = sp->wseg[e->cls];
	uint8_t *h;

	if (s && s->size + s->wlen + rec > sp->cfg.segment_bytes &&
	    s->size + s->wlen > SPOOL_SEG_HDR) {
		seg_seal(sp, s);
		s = NULL;
	}
	if (!s && !(s = sp->wseg[e->cls] = seg_create(sp, e->cls)))
		return;
	if ((s->wlen + rec > SPOOL_WBUF && seg_flush(sp, s) != 0) || s->broken) {
		seg_seal(sp, s);
		return;
	}
	e->seg = s;
	e->off = s->size + s->wlen;
	s->live++;
	if (rec > SPOOL_WBUF) {
		uint8_t hdr[SPOOL_REC_HDR];
		struct iovec iov[2] = {{hdr, sizeof(hdr)}, {e->data, e->len}};

		put_le32(hdr, e->len);
		put_le64(hdr + 8, e->seq);
		put_le32(hdr + 4, rec_crc(hdr + 8, e->data, e->len));
		if (pwritev(s->fd, iov, 2, (off_t)s->size) == (ssize_t)rec) {
			s->size += rec;
			s->dirty = true;
			return;
		}
		log_warn_rl(60, "spool: %s: write failed: %s; frames stay in memory only", sp->dir,
			    strerror(errno));
		sp->st.write_errors++;
		e->seg = NULL;
		s->live--;
		if (ftruncate(s->fd, (off_t)s->size) != 0)
			s->broken = true;
		return;
	}
	h = s->wbuf + s->wlen;
	put_le32(h, e->len);
	put_le64(h + 8, e->seq);
	memcpy(h + SPOOL_REC_HDR, e->data, e->len);
	put_le32(h + 4, rec_crc(h + 8, e->data, e->len));
	s->wlen += rec;
}

/* ---- lists ---- */

void spool_link_tail(struct spool *sp, struct ent *e)
{
	e->prev = sp->tail;
	e->next = NULL;
	*(sp->tail ? &sp->tail->next : &sp->head) = e;
	sp->tail = e;
	e->cprev = sp->ctail[e->cls];
	e->cnext = NULL;
	*(sp->ctail[e->cls] ? &sp->ctail[e->cls]->cnext : &sp->chead[e->cls]) = e;
	sp->ctail[e->cls] = e;
	if (!sp->cursor)
		sp->cursor = e;
	sp->st.bytes += e->len + SPOOL_REC_HDR;
	sp->st.frames++;
	sp->st.frames_by_class[e->cls]++;
}

/* Unlinks and frees e; a file none of whose frames are held any more goes too. */
static void drop_ent(struct spool *sp, struct ent *e)
{
	if (e == sp->cursor)
		sp->cursor = e->next;
	if (e->sent)
		sp->in_flight--;
	*(e->prev ? &e->prev->next : &sp->head) = e->next;
	*(e->next ? &e->next->prev : &sp->tail) = e->prev;
	*(e->cprev ? &e->cprev->cnext : &sp->chead[e->cls]) = e->cnext;
	*(e->cnext ? &e->cnext->cprev : &sp->ctail[e->cls]) = e->cprev;
	sp->st.bytes -= e->len + SPOOL_REC_HDR;
	sp->st.frames--;
	sp->st.frames_by_class[e->cls]--;
	sp->state_dirty = true;
	if (e->seg && --e->seg->live == 0 && e->seg != sp->wseg[e->cls])
		spool_seg_release(sp, e->seg);
	free(e);
}

/* Frees room for rec more bytes by dropping the oldest frames of the classes
 * that matter less than cls (then of cls itself); false when it cannot. */
bool spool_make_room(struct spool *sp, uint8_t cls, uint64_t rec)
{
	while (sp->st.bytes + rec > sp->cfg.max_bytes) {
		int victim = -1;

		for (int c = SPOOL_CLASS_COUNT - 1; c >= cls && victim < 0; c--)
			if (sp->chead[c])
				victim = c;
		if (victim < 0)
			return false;
		sp->st.evicted[victim]++;
		drop_ent(sp, sp->chead[victim]);
	}
	return true;
}

int spool_append(struct spool *sp, enum spool_class cls, uint64_t seq, const void *data,
		 uint32_t len)
{
	uint64_t rec = (uint64_t)len + SPOOL_REC_HDR;
	struct ent *e;

	if ((unsigned int)cls >= SPOOL_CLASS_COUNT)
		return -EINVAL;
	if (len > SPOOL_FRAME_MAX || !spool_make_room(sp, (uint8_t)cls, rec)) {
		sp->st.refused[cls]++;
		return -ENOSPC;
	}
	e = malloc(sizeof(*e) + len);
	if (!e) {
		sp->st.refused[cls]++;
		return -ENOMEM;
	}
	memset(e, 0, sizeof(*e));
	e->run_id = sp->cfg.run_id;
	e->seq = seq;
	e->len = len;
	e->cls = (uint8_t)cls;
	memcpy(e->data, data, len);
	if (sp->dir_fd >= 0)
		seg_append(sp, e);
	spool_link_tail(sp, e);
	sp->st.appended++;
	sp->state_dirty = true;
	return 0;
}

/* ---- sending ---- */

bool spool_next(struct spool *sp, uint32_t max_len, struct spool_frame *out)
{
	struct ent *e = sp->cursor;

	if (!e || e->len > max_len)
		return false;
	*out = (struct spool_frame){
		.run_id = e->run_id,
		.seq = e->seq,
		.data = e->data,
		.len = e->len,
		.cls = e->cls,
		.resend = e->ever_sent,
	};
	e->sent = e->ever_sent = true;
	sp->in_flight++;
	sp->cursor = e->next;
	return true;
}

void spool_rewind(struct spool *sp)
{
	/* Sent frames are exactly the ones before the cursor. */
	for (struct ent *e = sp->head; e && e != sp->cursor; e = e->next)
		e->sent = false;
	sp->cursor = sp->head;
	sp->in_flight = 0;
}

unsigned int spool_ack(struct spool *sp, uint64_t run_id, uint64_t seq)
{
	struct ent *e = sp->head, *next;
	unsigned int n = 0;

	/* Within a run frames go out in seq order; other runs may come between. */
	for (; e && e->sent; e = next) {
		next = e->next;
		if (e->run_id != run_id)
			continue;
		if (e->seq > seq)
			break;
		drop_ent(sp, e);
		n++;
	}
	sp->st.acked += n;
	return n;
}

bool spool_has_unsent(const struct spool *sp)
{
	return sp->cursor != NULL;
}

uint64_t spool_in_flight(const struct spool *sp)
{
	return sp->in_flight;
}

bool spool_is_empty(const struct spool *sp)
{
	return sp->head == NULL;
}

void spool_stats(const struct spool *sp, struct spool_stats *out)
{
	*out = sp->st;
}

/* ---- durability ---- */

/* Where the oldest held frame of a class starts; everything before it is done. */
static void class_position(const struct spool *sp, int c, uint64_t *segno, uint64_t *off)
{
	for (const struct ent *e = sp->chead[c]; e; e = e->cnext) {
		if (e->seg) {
			*segno = e->seg->segno;
			*off = e->off;
			return;
		}
	}
	if (sp->wseg[c]) {
		*segno = sp->wseg[c]->segno;
		*off = sp->wseg[c]->size;
		return;
	}
	*segno = sp->next_segno;
	*off = 0;
}

static int save_state(struct spool *sp)
{
	uint8_t b[SPOOL_STATE_LEN];
	int fd, err = 0;

	memcpy(b, SPOOL_STATE_MAGIC, 8);
	for (int c = 0; c < SPOOL_CLASS_COUNT; c++) {
		uint64_t segno, off;

		class_position(sp, c, &segno, &off);
		put_le64(b + 8 + c * 16, segno);
		put_le64(b + 16 + c * 16, off);
	}
	put_le32(b + SPOOL_STATE_LEN - 4, (uint32_t)crc32(0L, b, SPOOL_STATE_LEN - 4));
	fd = openat(sp->dir_fd, "spool.state.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, b, sizeof(b)) != (ssize_t)sizeof(b))
		err = -EIO;
	close(fd);
	if (!err && renameat(sp->dir_fd, "spool.state.tmp", sp->dir_fd, "spool.state") != 0)
		err = -errno;
	if (!err)
		sp->state_dirty = false;
	return err;
}

int spool_sync(struct spool *sp)
{
	int err = 0;

	if (sp->dir_fd < 0)
		return 0;
	spool_flush(sp);
	for (struct seg *s = sp->segs; s; s = s->next) {
		if (s->fd >= 0 && s->dirty && fdatasync(s->fd) != 0)
			err = -errno;
		s->dirty = false;
	}
	if (sp->dir_dirty && fsync(sp->dir_fd) != 0)
		err = -errno;
	sp->dir_dirty = false;
	if (sp->state_dirty && !err)
		err = save_state(sp);
	if (err) {
		sp->st.write_errors++;
		log_warn_rl(60, "spool: %s: cannot sync: %s", sp->dir, strerror(-err));
	}
	sp->st.syncs++;
	return err;
}

static int lock_dir(struct spool *sp, struct errbuf *eb)
{
	char pid[32] = "";
	int n;

	sp->lock_fd = openat(sp->dir_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sp->lock_fd < 0)
		return errbuf_set(eb, -errno, "spool %s: cannot create the lock file: %s", sp->dir,
				  strerror(errno));
	if (flock(sp->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		n = (int)read(sp->lock_fd, pid, sizeof(pid) - 1);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		return errbuf_set(eb, -EBUSY,
				  "spool %s: in use by another relaywatch process%s%s%s", sp->dir,
				  pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "");
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(sp->lock_fd, 0) != 0 || pwrite(sp->lock_fd, pid, (size_t)n, 0) != n)
		log_warn("spool %s: cannot write the lock file", sp->dir);
	return 0;
}

static int open_dir(struct spool *sp, struct errbuf *eb)
{
	if (snprintf(sp->dir, sizeof(sp->dir), "%s", sp->cfg.dir) >= (int)sizeof(sp->dir))
		return errbuf_set(eb, -ENAMETOOLONG, "spool %s: path too long", sp->cfg.dir);
	if (mkdir(sp->dir, 0700) != 0 && errno != EEXIST)
		return errbuf_set(eb, -errno, "spool %s: cannot create: %s", sp->dir,
				  strerror(errno));
	sp->dir_fd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dir_fd < 0)
		return errbuf_set(eb, -errno, "spool %s: cannot open: %s", sp->dir,
				  strerror(errno));
	if (faccessat(sp->dir_fd, ".", W_OK, AT_EACCESS) != 0)
		return errbuf_set(eb, -EACCES, "spool %s: not writable", sp->dir);
	return lock_dir(sp, eb);
}

int spool_open(const struct spool_cfg *cfg, struct spool **out, struct errbuf *eb)
{
	struct spool *sp;
	int err;

	if (cfg->max_bytes < SPOOL_SEG_MIN)
		return errbuf_set(eb, -EINVAL,
				  "spool: a bound of %" PRIu64 " bytes is too small "
				  "(at least 64 KiB)",
				  cfg->max_bytes);
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return errbuf_set(eb, -ENOMEM, "spool: out of memory");
	sp->cfg = *cfg;
	sp->dir_fd = sp->lock_fd = -1;
	if (!sp->cfg.segment_bytes)
		sp->cfg.segment_bytes = SPOOL_SEG_DEFAULT;
	if (sp->cfg.segment_bytes > cfg->max_bytes / 8)
		sp->cfg.segment_bytes = (uint32_t)(cfg->max_bytes / 8);
	if (sp->cfg.segment_bytes < SPOOL_SEG_MIN)
		sp->cfg.segment_bytes = SPOOL_SEG_MIN;
	if (cfg->dir && cfg->dir[0]) {
		err = open_dir(sp, eb);
		if (!err && (err = spool_recover(sp)) != 0)
			errbuf_set(eb, err, "spool %s: cannot read: %s", sp->dir, strerror(-err));
		if (err) {
			spool_close(sp);
			return err;
		}
	}
	sp->cfg.dir = NULL; /* the caller's string need not outlive us */
	*out = sp;
	return 0;
}

void spool_close(struct spool *sp)
{
	struct ent *e, *next;

	if (!sp)
		return;
	if (sp->dir_fd >= 0 && sp->lock_fd >= 0) {
		/* A write segment nothing is left in need not wait for the next run. */
		for (int c = 0; c < SPOOL_CLASS_COUNT; c++) {
			struct seg *s = sp->wseg[c];

			if (s)
				seg_seal(sp, s);
		}
		sp->state_dirty = true;
		spool_sync(sp);
	}
	for (e = sp->head; e; e = next) {
		next = e->next;
		free(e);
	}
	while (sp->segs) {
		struct seg *s = sp->segs;

		if (s->fd >= 0)
			close(s->fd);
		sp->segs = s->next;
		free(s->wbuf);
		free(s);
	}
	if (sp->dir_fd >= 0)
		close(sp->dir_fd);
	if (sp->lock_fd >= 0)
		close(sp->lock_fd);
	free(sp);
}
