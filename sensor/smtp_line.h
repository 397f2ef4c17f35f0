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

struct smtp_line_buf {
	uint32_t len;  /* bytes of the partial line kept in the buffer */
	uint32_t seen; /* bytes of the partial line, kept or not */
	uint8_t flags; /* SMTP_LINE_F_* */
};

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
 * is the longest line kept, also for lines seen whole: the same on every
 * call. buf is the attached buffer of cap bytes, read only while one is
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
	return lb->seen != 0;
}

static inline bool smtp_line_attached(const struct smtp_line_buf *lb)
{
	return (lb->flags & SMTP_LINE_F_BUF) != 0;
}

#endif /* RELAYWATCH_SENSOR_SMTP_LINE_H */
