// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/smtp_line.h"

#include <string.h>

#include "sensor/byte_scan.h"

void smtp_line_init(struct smtp_line_buf *lb)
{
	*lb = (struct smtp_line_buf){0};
}

/* Strips every CR before the LF: some clients end lines with CR CR LF. */
static uint32_t smtp_line_strip_cr(const uint8_t *p, uint32_t n, bool *bare_lf)
{
	*bare_lf = n == 0 || p[n - 1] != '\r';
	while (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

static void smtp_line_keep(struct smtp_line_buf *lb, uint8_t *buf, uint32_t cap, const uint8_t *p,
			   uint32_t n)
{
	uint32_t room = buf ? cap - lb->len : 0;
	uint32_t take = n < room ? n : room;

	if (take) {
		memcpy(buf + lb->len, p, take);
		lb->len += take;
	}
	if (memchr(p, 0, n))
		lb->flags |= SMTP_LINE_F_NUL;
	if (n > take) {
		/* CRs alone past the cap may be the line's end, not a part of it. */
		bool cr_only = !lb->cut || (lb->flags & SMTP_LINE_F_CUT_CR);

		for (uint32_t i = take; i < n && cr_only; i++)
			cr_only = p[i] == '\r';
		lb->flags = cr_only ? lb->flags | SMTP_LINE_F_CUT_CR
				    : lb->flags & (uint8_t)~SMTP_LINE_F_CUT_CR;
		lb->cut = n - take < SMTP_LINE_CUT_MAX - lb->cut ? lb->cut + (n - take)
								 : SMTP_LINE_CUT_MAX;
	}
}

/* A line wholly inside this chunk: a view, cut at cap. */
static void smtp_line_view(struct smtp_line_buf *lb, uint32_t cap, const uint8_t *p, uint32_t n,
			   struct smtp_line *out)
{
	bool bare_lf;
	uint32_t len = smtp_line_strip_cr(p, n, &bare_lf);

	*out = (struct smtp_line){
		.ptr = p,
		.len = len < cap ? len : cap,
		.truncated = len > cap,
		.bare_lf = bare_lf,
		.has_nul = byte_scan_has_zero(p, len),
		.after_gap = (lb->flags & SMTP_LINE_F_AFTER_GAP) != 0,
	};
	if (lb->flags & SMTP_LINE_F_AFTER_GAP) /* rare: spare the word a store */
		lb->flags &= (uint8_t)~SMTP_LINE_F_AFTER_GAP;
}

/* The partial line is complete: hand out the assembled bytes. */
static void smtp_line_finish(struct smtp_line_buf *lb, const uint8_t *buf, struct smtp_line *out)
{
	bool bare_lf;
	uint32_t kept = lb->len;
	/* Only CRs dropped: the line fit, and it ended with CR LF. */
	bool whole = !lb->cut || (lb->flags & SMTP_LINE_F_CUT_CR);
	/* CRs at the end of what was kept only count when no line byte was dropped. */
	uint32_t len = whole ? smtp_line_strip_cr(buf, kept, &bare_lf) : kept;

	if (lb->cut)
		bare_lf = false;
	*out = (struct smtp_line){
		.ptr = buf,
		.len = len,
		.truncated = !whole,
		.bare_lf = bare_lf,
		.has_nul = (lb->flags & SMTP_LINE_F_NUL) != 0,
		.after_gap = (lb->flags & SMTP_LINE_F_AFTER_GAP) != 0,
	};
	lb->len = 0;
	lb->cut = 0;
	lb->flags &= (uint8_t) ~(SMTP_LINE_F_AFTER_GAP | SMTP_LINE_F_NUL | SMTP_LINE_F_CUT_CR);
}

/*
 * A partial line to finish or keep, or no input: the assembly path, out of
 * line so the common one (a whole line in the chunk) saves few registers.
 * lf: the chunk's first LF, NULL if none.
 */
static __attribute__((noinline)) enum smtp_line_status
smtp_line_assemble(struct smtp_line_buf *lb, uint8_t *buf, uint32_t cap, const uint8_t **pos,
		   const uint8_t *end, const uint8_t *lf, struct smtp_line *out)
{
	const uint8_t *p = *pos;
	uint32_t n = lf ? (uint32_t)(lf - p) : (uint32_t)(end - p);

	if (!lf && n == 0)
		return SMTP_LINE_AGAIN;
	if (!(lb->flags & (SMTP_LINE_F_BUF | SMTP_LINE_F_NOBUF)))
		return SMTP_LINE_NEED_BUF;
	if (!(lb->flags & SMTP_LINE_F_BUF))
		buf = NULL;

	smtp_line_keep(lb, buf, cap, p, n);
	if (!lf) {
		*pos = end;
		return SMTP_LINE_AGAIN;
	}
	if (!buf) {
		/* Nothing of the line could be kept: report it lost, not empty. */
		lb->len = 0;
		*out = (struct smtp_line){.ptr = p, .len = 0, .truncated = true};
		lb->cut = 0;
		/* The next partial line asks for a buffer again: one may be free by then. */
		lb->flags &= (uint8_t) ~(SMTP_LINE_F_AFTER_GAP | SMTP_LINE_F_NUL |
					 SMTP_LINE_F_CUT_CR | SMTP_LINE_F_NOBUF);
		*pos = lf + 1;
		return SMTP_LINE_OK;
	}
	smtp_line_finish(lb, buf, out);
	*pos = lf + 1;
	return SMTP_LINE_OK;
}

enum smtp_line_status smtp_line_next(struct smtp_line_buf *lb, uint8_t *buf, uint32_t cap,
				     const uint8_t **pos, const uint8_t *end, struct smtp_line *out)
{
	const uint8_t *p = *pos;
	uint32_t avail = (uint32_t)(end - p);
	const uint8_t *lf = avail ? memchr(p, '\n', avail) : NULL;

	if (!lf || smtp_line_pending(lb))
		return smtp_line_assemble(lb, buf, cap, pos, end, lf, out);
	smtp_line_view(lb, cap, p, (uint32_t)(lf - p), out);
	*pos = lf + 1;
	return SMTP_LINE_OK;
}

void smtp_line_attach(struct smtp_line_buf *lb, bool have)
{
	if (have)
		lb->flags = (lb->flags & ~SMTP_LINE_F_NOBUF & 0x1fu) | SMTP_LINE_F_BUF;
	else
		lb->flags = (lb->flags & ~SMTP_LINE_F_BUF & 0x1fu) | SMTP_LINE_F_NOBUF;
}

bool smtp_line_detach(struct smtp_line_buf *lb)
{
	if (smtp_line_pending(lb))
		return false;
	lb->flags &= (uint8_t) ~(SMTP_LINE_F_BUF | SMTP_LINE_F_NOBUF);
	return true;
}

void smtp_line_gap(struct smtp_line_buf *lb)
{
	smtp_line_reset(lb);
	lb->flags |= SMTP_LINE_F_AFTER_GAP;
}

void smtp_line_reset(struct smtp_line_buf *lb)
{
	lb->len = 0;
	lb->cut = 0;
	lb->flags &= (uint8_t) ~(SMTP_LINE_F_NUL | SMTP_LINE_F_AFTER_GAP | SMTP_LINE_F_CUT_CR);
}

void smtp_line_wipe(struct smtp_line_buf *lb, uint8_t *buf, uint32_t cap)
{
	if (lb->flags & SMTP_LINE_F_BUF)
		explicit_bzero(buf, cap);
}
