/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smtp_line: cuts one direction of an SMTP byte stream into lines, whatever
 * the segment boundaries. Lines inside one chunk come out as views (no
 * copy); a line split across chunks is assembled in a buffer the caller
 * attaches only when one is needed (SMTP_LINE_NEED_BUF), so an idle stream
 * costs no buffer. The buffer and the cap are the caller's, passed to every
 * call rather than kept here: a session holds one of these per direction and
 * knows both anyway. Lines end at LF, CRs before it are stripped; bare LF and
 * NUL are reported. Lines longer than the cap are cut and flagged, the rest
 * up to the LF is dropped: nothing grows. Owns nothing; any thread that owns
 * the struct.
 */
#ifndef RELAYWATCH_SENSOR_SMTP_LINE_H
#define RELAYWATCH_SENSOR_SMTP_LINE_H

#include <stdbool.h>
#include <stdint.h>

#define SMTP_LINE_F_NOBUF     0x01 /* no buffer to be had: partial lines are dropped */
#define SMTP_LINE_F_AFTER_GAP 0x02 /* bytes went missing: the next line may be a tail */
#define SMTP_LINE_F_NUL	      0x04 /* the partial line held a NUL */
#define SMTP_LINE_F_BUF	      0x08 /* a buffer is attached */
#define SMTP_LINE_F_CUT_CR    0x10 /* every byte cut so far is a CR: the line may end at the cap */

#define SMTP_LINE_CAP_MAX 65536u /* the longest cap: len holds it */
#define SMTP_LINE_CUT_MAX 1023u	 /* cut stops here: it only needs to say "some", or "many" */

/*
 * Every session holds two of these (one per direction), so they are packed
 * into one word: a capped line's length needs 17 bits, the bytes dropped
 * beyond the cap only whether there were any (truncated) and whether the
 * partial line passed a probing limit (smtp_line_seen()), and the flags 5.
 */
struct smtp_line_buf {
	uint32_t len : 17;  /* bytes of the partial line kept in the buffer (<= cap) */
	uint32_t cut : 10;  /* bytes of it not kept, saturating at SMTP_LINE_CUT_MAX */
	uint32_t flags : 5; /* SMTP_LINE_F_* */
};

_Static_assert(sizeof(struct smtp_line_buf) == 4, "two per session: keep it one word");
_Static_assert(SMTP_LINE_CAP_MAX < (1u << 17) && SMTP_LINE_CUT_MAX < (1u << 10),
	       "len and cut must hold their limits");

struct smtp_line {
	const uint8_t *ptr; /* valid until the next call on the same buffer */
	uint32_t len;	    /* without the line end, at most cap */
	bool truncated;	    /* longer than cap, or its start could not be kept */
	bool bare_lf;	    /* ended by LF without CR */
	bool has_nul;
	bool after_gap; /* first line after a gap: it may have lost its start */
};

enum smtp_line_status {
	SMTP_LINE_OK = 0,	/* *out holds a line */
	SMTP_LINE_AGAIN = 1,	/* all input taken, the line is not finished */
	SMTP_LINE_NEED_BUF = 2, /* attach a buffer (or mark none) and call again */
};

void smtp_line_init(struct smtp_line_buf *lb);

/*
 * Takes bytes from *pos up to end; advances *pos past what it consumed. cap
 * is the longest line kept (at most SMTP_LINE_CAP_MAX), also for lines seen
 * whole: the same on every call. buf is the attached buffer of cap bytes, read only while one is
 * attached (NULL will do before).
 */
enum smtp_line_status smtp_line_next(struct smtp_line_buf *lb, uint8_t *buf, uint32_t cap,
				     const uint8_t **pos, const uint8_t *end,
				     struct smtp_line *out);

/* have: the caller has a buffer for lb from now on (the buf of the next
 * calls); false means none can be had (partial lines are then dropped). */
void smtp_line_attach(struct smtp_line_buf *lb, bool have);
/* Gives the buffer up when no partial line needs it; false while one does. */
bool smtp_line_detach(struct smtp_line_buf *lb);

/* Bytes went missing: forget the partial line, flag the next one. */
void smtp_line_gap(struct smtp_line_buf *lb);
/* Forget the partial line (the stream changes mode). */
void smtp_line_reset(struct smtp_line_buf *lb);
/* Clear what the attached buffer (buf, cap bytes) held (AUTH lines). */
void smtp_line_wipe(struct smtp_line_buf *lb, uint8_t *buf, uint32_t cap);

static inline bool smtp_line_pending(const struct smtp_line_buf *lb)
{
	return lb->len != 0 || lb->cut != 0;
}

/* Bytes of the partial line, kept or not: exact up to its kept bytes +
 * SMTP_LINE_CUT_MAX, at least that beyond. */
static inline uint32_t smtp_line_seen(const struct smtp_line_buf *lb)
{
	return (uint32_t)lb->len + lb->cut;
}

static inline bool smtp_line_attached(const struct smtp_line_buf *lb)
{
	return (lb->flags & SMTP_LINE_F_BUF) != 0;
}

#endif /* RELAYWATCH_SENSOR_SMTP_LINE_H */
