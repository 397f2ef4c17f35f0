// SPDX-License-Identifier: BSD-3-Clause
/*
 * spool start-up: what a previous run left in the directory. The state file
 * says where each class's unacknowledged frames start; the segment files are
 * read oldest first, a damaged tail skipped with a warning and counted, and
 * the recovered frames linked in the order they ran.
 */
#include "exporters/spool_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

/* ---- start-up: what a previous run left ---- */

struct spool_state {
	bool valid;
	uint64_t segno[SPOOL_CLASS_COUNT], off[SPOOL_CLASS_COUNT];
};

struct found {
	uint64_t segno;
	uint8_t cls;
};

struct recovery {
	struct spool_state state;
	struct ent **ents;
	size_t n_ents, cap_ents;
};

static void load_state(struct spool *sp, struct spool_state *st)
{
	uint8_t b[SPOOL_STATE_LEN];
	ssize_t n;
	int fd;

	memset(st, 0, sizeof(*st));
	fd = openat(sp->dir_fd, "spool.state", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* first run in this directory */
	n = read(fd, b, sizeof(b));
	close(fd);
	if (n != (ssize_t)sizeof(b) || memcmp(b, SPOOL_STATE_MAGIC, 8) != 0 ||
	    get_le32(b + SPOOL_STATE_LEN - 4) != (uint32_t)crc32(0L, b, SPOOL_STATE_LEN - 4)) {
		log_warn("spool: %s/spool.state is damaged: frames already acknowledged may be "
			 "sent again (the collector drops duplicates)",
			 sp->dir);
		return;
	}
	for (int c = 0; c < SPOOL_CLASS_COUNT; c++) {
		st->segno[c] = get_le64(b + 8 + c * 16);
		st->off[c] = get_le64(b + 16 + c * 16);
	}
	st->valid = true;
}

/* "<16 hex>-<class>.seg" */
static bool parse_name(const char *name, struct found *f)
{
	char *end;

	if (strlen(name) < 18 || name[16] != '-')
		return false;
	for (int i = 0; i < 16; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	f->segno = strtoull(name, &end, 16);
	for (uint8_t c = 0; c < SPOOL_CLASS_COUNT; c++) {
		size_t cl = strlen(spool_class_names[c]);

		if (strncmp(name + 17, spool_class_names[c], cl) == 0 &&
		    strcmp(name + 17 + cl, ".seg") == 0) {
			f->cls = c;
			return end == name + 16;
		}
	}
	return false;
}

static int cmp_found(const void *a, const void *b)
{
	const struct found *x = a, *y = b;

	return x->segno < y->segno ? -1 : x->segno > y->segno;
}

/* The segment files, oldest first; *n = 0 and NULL when there are none. */
static int list_segments(struct spool *sp, struct found **out, size_t *n)
{
	struct found *v = NULL, f;
	size_t cap = 0;
	struct dirent *de;
	int fd = dup(sp->dir_fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	*n = 0;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!parse_name(de->d_name, &f))
			continue;
		if (*n == cap) {
			struct found *nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));

			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[(*n)++] = f;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_found);
	*out = v;
	return 0;
}

static int read_all(int dir_fd, const char *name, uint8_t **buf, size_t *len)
{
	struct stat st;
	size_t got = 0;
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size > SPOOL_FILE_MAX) {
		close(fd);
		return -EFBIG;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, *buf + got, (size_t)st.st_size - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*len = got;
	return 0;
}

static bool header_ok(const uint8_t *b, size_t len, uint8_t cls)
{
	return len >= SPOOL_SEG_HDR && memcmp(b, SPOOL_MAGIC, 8) == 0 &&
	       get_le32(b + 8) == SPOOL_VERSION && get_le32(b + 12) == cls &&
	       get_le32(b + 28) == (uint32_t)crc32(0L, b, 28);
}

static int keep_ent(struct recovery *rc, struct ent *e)
{
	if (rc->n_ents == rc->cap_ents) {
		size_t cap = rc->cap_ents ? rc->cap_ents * 2 : 1024;
		struct ent **v = realloc(rc->ents, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rc->ents = v;
		rc->cap_ents = cap;
	}
	rc->ents[rc->n_ents++] = e;
	return 0;
}

/* One record at b[pos]; NULL with *why set when it is cut short or damaged. */
static struct ent *read_record(const uint8_t *b, size_t len, size_t pos, const char **why)
{
	uint32_t n;
	struct ent *e;

	if (len - pos < SPOOL_REC_HDR) {
		*why = "record header cut short";
		return NULL;
	}
	n = get_le32(b + pos);
	if (n > SPOOL_FRAME_MAX) {
		*why = "impossible record length";
		return NULL;
	}
	if (len - pos - SPOOL_REC_HDR < n) {
		*why = "record cut short";
		return NULL;
	}
	if (rec_crc(b + pos + 8, b + pos + SPOOL_REC_HDR, n) != get_le32(b + pos + 4)) {
		*why = "CRC mismatch";
		return NULL;
	}
	e = malloc(sizeof(*e) + n);
	if (!e) {
		*why = "out of memory";
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	e->seq = get_le64(b + pos + 8);
	e->len = n;
	memcpy(e->data, b + pos + SPOOL_REC_HDR, n);
	return e;
}

/* The records of one file, from where the state says its unacked part starts. */
static void recover_records(struct spool *sp, struct recovery *rc, struct seg *s, const uint8_t *b,
			    size_t len, const char *name)
{
	const struct spool_state *st = &rc->state;
	size_t pos = SPOOL_SEG_HDR;
	const char *why = NULL;

	if (st->valid && st->segno[s->cls] == s->segno && st->off[s->cls] >= SPOOL_SEG_HDR &&
	    st->off[s->cls] <= len)
		pos = (size_t)st->off[s->cls];
	while (pos < len) {
		struct ent *e = read_record(b, len, pos, &why);

		if (!e || keep_ent(rc, e) != 0) {
			free(e);
			break;
		}
		e->seg = s;
		e->off = pos;
		e->run_id = s->run_id;
		e->cls = s->cls;
		e->ever_sent = true;
		s->live++;
		sp->st.recovered++;
		sp->st.recovered_bytes += e->len + SPOOL_REC_HDR;
		pos += SPOOL_REC_HDR + e->len;
	}
	if (pos < len) {
		log_warn("spool: %s/%s: %s at offset %zu (a crash mid-write?): skipping the "
			 "last %zu bytes",
			 sp->dir, name, why ? why : "read error", pos, len - pos);
		sp->st.damaged_files++;
		sp->st.damaged_bytes += len - pos;
	}
}

static void recover_file(struct spool *sp, struct recovery *rc, const struct found *f)
{
	struct seg tmp = {.segno = f->segno, .cls = f->cls};
	char name[64], bad[80];
	uint8_t *b = NULL;
	size_t len = 0;
	struct seg *s;

	spool_seg_name(&tmp, name, sizeof(name));
	if (rc->state.valid && f->segno < rc->state.segno[f->cls]) {
		unlinkat(sp->dir_fd, name, 0); /* acknowledged before the last state save */
		return;
	}
	if (read_all(sp->dir_fd, name, &b, &len) != 0 || !header_ok(b, len, f->cls)) {
		snprintf(bad, sizeof(bad), "%s.damaged", name);
		log_warn("spool: %s/%s: not a readable spool segment; renamed to %s", sp->dir, name,
			 bad);
		renameat(sp->dir_fd, name, sp->dir_fd, bad);
		sp->st.damaged_files++;
		sp->st.damaged_bytes += len;
		free(b);
		return;
	}
	s = spool_seg_new(sp, f->segno, get_le64(b + 16), f->cls);
	if (s) {
		s->size = len;
		recover_records(sp, rc, s, b, len, name);
		if (s->live == 0)
			spool_seg_release(sp, s);
	}
	free(b);
}

static int cmp_ent(const void *a, const void *b)
{
	const struct ent *x = *(const struct ent *const *)a, *y = *(const struct ent *const *)b;

	if (x->seg->rank != y->seg->rank)
		return x->seg->rank < y->seg->rank ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Runs in the order they ran (a run's lowest segno), seq order within a run. */
static void link_recovered(struct spool *sp, struct recovery *rc)
{
	for (struct seg *s = sp->segs; s; s = s->next)
		for (struct seg *t = sp->segs; t; t = t->next)
			if (t->run_id == s->run_id && t->segno < s->rank)
				s->rank = t->segno;
	if (rc->n_ents)
		qsort(rc->ents, rc->n_ents, sizeof(*rc->ents), cmp_ent);
	for (size_t i = 0; i < rc->n_ents; i++)
		spool_link_tail(sp, rc->ents[i]);
	/* The bound may have shrunk since: the usual order of sacrifice applies. */
	spool_make_room(sp, SPOOL_ALERT, 0);
}

int spool_recover(struct spool *sp)
{
	struct recovery rc = {0};
	struct found *files = NULL;
	size_t n = 0;
	int err;

	load_state(sp, &rc.state);
	err = list_segments(sp, &files, &n);
	if (err)
		return err;
	sp->next_segno = 1;
	for (int c = 0; c < SPOOL_CLASS_COUNT; c++)
		if (rc.state.valid && rc.state.segno[c] + 1 > sp->next_segno)
			sp->next_segno = rc.state.segno[c] + 1;
	for (size_t i = 0; i < n; i++) {
		recover_file(sp, &rc, &files[i]);
		if (files[i].segno + 1 > sp->next_segno)
			sp->next_segno = files[i].segno + 1;
	}
	link_recovered(sp, &rc);
	if (sp->st.recovered)
		log_info("spool: %s: %" PRIu64 " frames (%" PRIu64
			 " bytes) of earlier runs to send",
			 sp->dir, sp->st.frames, sp->st.bytes);
	free(rc.ents);
	free(files);
	sp->state_dirty = true;
	return 0;
}
