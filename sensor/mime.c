// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/mime_int.h"

#include <stddef.h>
#include <string.h>

#include "sensor/rfc2047.h"

#define MIME_SLICE 1024 /* encoded bytes decoded per step (stack output buffer) */

enum { MS_HDR = 0, MS_BODY, MS_SKIP, MS_DONE };

/* ---- parts ---- */

static void deliver(struct mime *m, const uint8_t *p, size_t n)
{
	uint8_t out[MIME_SLICE + MIME_QP_SLACK];

	if (!m->cb->body || n == 0 || (m->cb->text_only && m->part.type != MIME_T_TEXT))
		return;
	if (m->part.encoding == MIME_ENC_NONE) {
		m->cb->body(m->arg, &m->part, p, n);
		return;
	}
	while (n) {
		size_t k = n < MIME_SLICE ? n : MIME_SLICE, o;

		if (m->part.encoding == MIME_ENC_BASE64)
			o = mime_b64_decode(&m->b64, p, k, out);
		else
			o = mime_qp_decode(&m->qp, p, k, out);
		if (o)
			m->cb->body(m->arg, &m->part, out, o);
		p += k;
		n -= k;
	}
}

/* Content of the open part; a line end held back is now known to be content. */
static void emit(struct mime *m, const uint8_t *p, size_t n)
{
	if (m->state != MS_BODY)
		return;
	if (m->eol_len) {
		deliver(m, (const uint8_t *)"\r\n" + (2 - m->eol_len), m->eol_len);
		m->eol_len = 0;
	}
	deliver(m, p, n);
}

static void part_open(struct mime *m)
{
	struct mime_ent *e = &m->ent;
	struct mime_part *pt = &m->part;

	pt->depth = m->depth;
	pt->index = m->next_index++;
	pt->type = e->type;
	pt->encoding = e->encoding;
	pt->is_html = e->is_html;
	pt->is_attachment = e->is_attachment || e->fn_len;
	if (e->fn_cs_len)
		pt->filename_len =
			(uint16_t)rfc2047_convert(e->fn_cs, e->fn_cs_len, (const uint8_t *)e->fn,
						  e->fn_len, pt->filename, sizeof(pt->filename));
	else if (e->fn_len) /* most parts have no name: nothing to decode */
		pt->filename_len = (uint16_t)rfc2047_decode((const uint8_t *)e->fn, e->fn_len,
							    pt->filename, sizeof(pt->filename));
	else
		pt->filename_len = 0;
	memset(&m->b64, 0, offsetof(struct mime_b64, invalid));
	m->b64.invalid = 0;
	m->qp.state = 0;
	m->qp.ws_len = 0;
	m->qp.invalid = 0;
	m->eol_len = 0;
	m->in_part = true;
	m->state = MS_BODY;
	m->stats.parts++;
}

static void part_close(struct mime *m)
{
	uint8_t out[4];
	size_t o;

	if (!m->in_part)
		return;
	m->in_part = false;
	if (m->part.encoding == MIME_ENC_QP) {
		o = mime_qp_finish(&m->qp, out);
		if (o && m->cb->body && (!m->cb->text_only || m->part.type == MIME_T_TEXT))
			m->cb->body(m->arg, &m->part, out, o);
	}
	m->stats.b64_invalid += m->b64.invalid;
	m->stats.qp_invalid += m->qp.invalid;
	if (m->cb->part_end)
		m->cb->part_end(m->arg, &m->part);
	m->eol_len = 0;
}

static void opaque(struct mime *m)
{
	m->stats.opaque++;
	m->state = MS_SKIP;
}

/* The blank line after an entity's header: what follows depends on its type. */
static void begin_body(struct mime *m)
{
	struct mime_ent *e = &m->ent;

	if (e->type == MIME_T_MULTIPART && e->blen) {
		struct mime_level *l;

		if (e->blen == 0xff || m->nb == MIME_MAX_DEPTH || m->depth >= MIME_MAX_DEPTH) {
			opaque(m);
			return;
		}
		l = &m->bnd[m->nb++];
		l->len = e->blen;
		l->depth = m->depth;
		memcpy(l->b, e->boundary, e->blen);
		m->state = MS_SKIP; /* preamble */
		return;
	}
	if (e->type == MIME_T_MULTIPART)
		e->type = MIME_T_OTHER; /* no boundary: one opaque blob, as Zeek treats it */
	if (e->type == MIME_T_MESSAGE) {
		if (m->depth >= MIME_MAX_DEPTH) {
			opaque(m);
			return;
		}
		m->depth++;
		ent_reset(e);
		m->state = MS_HDR;
		return;
	}
	part_open(m);
}

static void hdr_end(struct mime *m)
{
	mime_field_finish(m);
	if (!m->top_done) {
		m->top_done = true;
		if (m->cb->headers_done)
			m->cb->headers_done(m->arg);
		if (!m->walk_body) {
			m->state = MS_DONE;
			return;
		}
	}
	begin_body(m);
}

static void boundary_hit(struct mime *m, unsigned int lvl, bool closing)
{
	part_close(m);
	m->field_open = false;
	m->field_len = 0;
	m->eol_len = 0;
	m->nb = (uint8_t)(lvl + 1);
	if (closing) {
		/* Epilogue of that multipart: skipped until an outer boundary. */
		m->nb = (uint8_t)lvl;
		m->depth = m->bnd[lvl].depth;
		m->state = MS_SKIP;
		return;
	}
	m->depth = (uint8_t)(m->bnd[lvl].depth + 1);
	ent_reset(&m->ent);
	m->state = MS_HDR;
}

enum { B_NONE = 0, B_MORE, B_MATCH };

/* Is s[0..len) "--boundary" of one level, then "--" (closing), whitespace or the line end? */
static int bcheck_level(const struct mime_level *l, const uint8_t *s, size_t len, bool complete,
			bool *closing)
{
	size_t need = 2 + (size_t)l->len, i = len < need ? len : need;

	/* The "--" and the boundary's bytes the line holds: one memcmp, not a
	 * byte loop choosing between '-' and the boundary at every byte. */
	if ((i > 0 && s[0] != '-') || (i > 1 && s[1] != '-') ||
	    (i > 2 && memcmp(s + 2, l->b, i - 2) != 0))
		return B_NONE;
	if (len < need)
		return complete ? B_NONE : B_MORE;
	*closing = false;
	if (len > i && s[i] == '-') {
		if (len == i + 1)
			return complete ? B_NONE : B_MORE;
		if (s[i + 1] != '-')
			return B_NONE;
		*closing = true;
		i += 2;
	}
	if (len == i)
		return complete ? B_MATCH : B_MORE;
	return (s[i] == ' ' || s[i] == '\t' || s[i] == '\r') ? B_MATCH : B_NONE;
}

static int bcheck(struct mime *m, const uint8_t *s, size_t len, bool complete, unsigned int *lvl,
		  bool *closing)
{
	/* Innermost first: an inner part must not be ended by an outer prefix. */
	for (unsigned int i = m->nb; i-- > 0;) {
		int r = bcheck_level(&m->bnd[i], s, len, complete, closing);

		if (r == B_NONE)
			continue;
		*lvl = i;
		return r;
	}
	return B_NONE;
}

/* ---- bytes ---- */

static void hdr_count(struct mime *m, size_t n)
{
	uint64_t before = m->hdr_bytes, after = before + n;

	if (m->top_done)
		return;
	m->hdr_bytes = after;
	if (m->max_header_bytes && after > m->max_header_bytes) {
		m->hdr_cut = true;
		m->stats.hdr_bytes_skipped +=
			after - (before > m->max_header_bytes ? before : m->max_header_bytes);
	}
}

static void field_append(struct mime *m, const uint8_t *p, size_t n)
{
	size_t room = MIME_FIELD_MAX - m->field_len;

	if (n > room) {
		if (!m->field_cut)
			m->stats.fields_cut++;
		m->field_cut = true;
		n = room;
	}
	memcpy(m->field + m->field_len, p, n);
	m->field_len = (uint16_t)(m->field_len + n);
}

/* Start of a header line: blank line, continuation, or a new field. */
static const uint8_t *hdr_line_start(struct mime *m, const uint8_t *p)
{
	if (*p == '\r' && !m->cr_pending) {
		m->cr_pending = true;
		hdr_count(m, 1);
		return p + 1;
	}
	m->cr_pending = false;
	if (*p == '\n') {
		hdr_count(m, 1);
		hdr_end(m);
		return p + 1;
	}
	m->line_start = false;
	if ((*p == ' ' || *p == '\t') && m->field_open) {
		m->line_off = m->field_len;
	} else {
		mime_field_finish(m);
		m->field_len = 0;
		m->line_off = 0;
		m->field_cut = false;
	}
	m->field_open = true;
	return p;
}

static const uint8_t *hdr_step(struct mime *m, const uint8_t *p, const uint8_t *end)
{
	const uint8_t *lf;
	unsigned int lvl;
	bool closing;
	size_t n;

	if (m->line_start) {
		const uint8_t *q = hdr_line_start(m, p);

		if (q != p || m->line_start)
			return q;
	}
	lf = memchr(p, '\n', (size_t)(end - p));
	n = (size_t)((lf ? lf : end) - p);
	field_append(m, p, n);
	hdr_count(m, n + (lf != NULL));
	if (!lf)
		return end;
	if (m->field_len > m->line_off && m->field[m->field_len - 1] == '\r')
		m->field_len--;
	m->line_start = true;
	if (m->nb && m->line_off == 0 && m->field_len > 2 && m->field[0] == '-' &&
	    bcheck(m, m->field, m->field_len, true, &lvl, &closing) == B_MATCH)
		boundary_hit(m, lvl, closing);
	return lf + 1;
}

/* The whole line sits in lead (without its end): boundary or content. */
static const uint8_t *lead_line_end(struct mime *m, const uint8_t *p, uint8_t eol)
{
	unsigned int lvl = 0;
	bool closing = false;

	m->line_start = true;
	if (bcheck(m, m->lead, m->lead_len, true, &lvl, &closing) == B_MATCH) {
		m->lead_len = 0;
		boundary_hit(m, lvl, closing);
		return p;
	}
	emit(m, m->lead, m->lead_len);
	m->lead_len = 0;
	m->eol_len = eol;
	return p;
}

/* One more byte of a line's beginning; true once it is known whether it is a boundary. */
static bool lead_push(struct mime *m, uint8_t c)
{
	unsigned int lvl = 0;
	bool closing = false;
	int r;

	m->lead[m->lead_len++] = c;
	r = bcheck(m, m->lead, m->lead_len, false, &lvl, &closing);
	if (r == B_MORE && m->lead_len < sizeof(m->lead))
		return false;
	if (r == B_MATCH) {
		m->lead_len = 0;
		boundary_hit(m, lvl, closing);
		m->skip_line = true;
		return true;
	}
	emit(m, m->lead, m->lead_len);
	m->lead_len = 0;
	m->line_start = false;
	return true;
}

static const uint8_t *line_step(struct mime *m, const uint8_t *p, const uint8_t *end);

/*
 * A line starting with '-' that the piece holds far enough to tell: one
 * boundary check on it, not one per byte pushed through the lead (each of
 * which compared the whole lead again). The answer is the same: a prefix
 * that is no boundary stays none, one followed by whitespace stays one.
 * NULL when the piece ends too soon; the lead takes the line then.
 */
static const uint8_t *lead_whole(struct mime *m, const uint8_t *p, const uint8_t *end)
{
	size_t avail = (size_t)(end - p), win = avail < sizeof(m->lead) ? avail : sizeof(m->lead);
	const uint8_t *lf = memchr(p, '\n', win);
	size_t len = lf ? (size_t)(lf - p) : win;
	unsigned int lvl = 0;
	bool closing = false;
	int r;

	if (!lf && win < sizeof(m->lead))
		return NULL;
	if (lf && len && p[len - 1] == '\r')
		len--;
	/* Longer than any boundary with its "--" and one byte after: decided. */
	r = bcheck(m, p, len, lf != NULL, &lvl, &closing);
	if (r == B_MORE)
		return NULL;
	if (r == B_NONE) {
		m->line_start = false;
		return line_step(m, p, end);
	}
	boundary_hit(m, lvl, closing);
	if (!lf) {
		m->skip_line = true; /* the rest of the line, as after a pushed match */
		return p + win;
	}
	m->line_start = true;
	return lf + 1;
}

/* Beginning of a body line inside a multipart: held until it cannot be a boundary. */
static const uint8_t *lead_step(struct mime *m, const uint8_t *p, const uint8_t *end)
{
	/* Only a line that starts with '-' can be a boundary: the others are content
	 * outright, read with the lines after them. */
	if (!m->cr_pending && !m->lead_len && *p != '-' && *p != '\r' && *p != '\n') {
		m->line_start = false;
		return line_step(m, p, end);
	}
	if (!m->cr_pending && !m->lead_len && *p == '-') {
		const uint8_t *q = lead_whole(m, p, end);

		if (q)
			return q;
	}
	while (p < end) {
		uint8_t c = *p;

		if (m->cr_pending) {
			m->cr_pending = false;
			if (c == '\n')
				return lead_line_end(m, p + 1, 2);
			if (lead_push(m, '\r'))
				return p;
			continue;
		}
		if (c == '\n')
			return lead_line_end(m, p + 1, 1);
		p++;
		if (c == '\r')
			m->cr_pending = true;
		else if (lead_push(m, c))
			return p;
	}
	return p;
}

/*
 * The first line start after p that begins with '-', or end. memchr for the
 * rarer byte: base64 has no '-', and text has fewer dashes than line ends.
 */
static const uint8_t *next_dash_line(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *q = p + 1;

	while (q < end && (q = memchr(q, '-', (size_t)(end - q)))) {
		if (q[-1] == '\n')
			return q;
		q++;
	}
	return end;
}

/* Nobody reads the bytes of this part (preamble, epilogue, a binary part). */
static bool discards(const struct mime *m)
{
	return m->state != MS_BODY || !m->cb->body ||
	       (m->cb->text_only && m->part.type != MIME_T_TEXT);
}

/*
 * Rest of a line nobody reads, and the lines after it up to one that starts
 * with '-' (only such a line can be a boundary): LF to LF, without taking
 * every line through the lead. Bounded by the piece.
 */
static const uint8_t *skip_lines(struct mime *m, const uint8_t *p, const uint8_t *end)
{
	const uint8_t *next = next_dash_line(p, end);

	m->cr_pending = false;
	m->eol_len = 0;
	if (next < end || end[-1] == '\n')
		m->line_start = true;
	return next;
}

/*
 * Rest of a body line inside a multipart, and the lines after it up to one
 * that starts with '-' (only such a line can be a boundary): one piece to
 * the decoder, URL scanner and signatures instead of two per line (the line
 * and its end). The last line end is held back: it may belong to a boundary.
 */
static const uint8_t *line_step(struct mime *m, const uint8_t *p, const uint8_t *end)
{
	const uint8_t *next, *stop;
	uint8_t eol = 1;

	if (discards(m))
		return skip_lines(m, p, end);
	if (m->cr_pending) {
		m->cr_pending = false;
		if (*p == '\n') {
			emit(m, p, 0);
			m->eol_len = 2;
			m->line_start = true;
			return p + 1;
		}
		emit(m, (const uint8_t *)"\r", 1);
	}
	next = next_dash_line(p, end);
	stop = next;
	if (stop[-1] != '\n') {
		/* The piece ends inside a line: a CR last may start its end. */
		if (stop[-1] == '\r') {
			stop--;
			m->cr_pending = true;
		}
		emit(m, p, (size_t)(stop - p));
		return end;
	}
	stop--;
	if (stop > p && stop[-1] == '\r') {
		stop--;
		eol = 2;
	}
	emit(m, p, (size_t)(stop - p));
	m->eol_len = eol;
	m->line_start = true;
	return next;
}

static const uint8_t *skip_to_eol(struct mime *m, const uint8_t *p, const uint8_t *end)
{
	const uint8_t *lf = memchr(p, '\n', (size_t)(end - p));

	if (m->state == MS_HDR)
		hdr_count(m, (size_t)((lf ? lf + 1 : end) - p));
	if (!lf)
		return end;
	m->skip_line = false;
	m->line_start = true;
	m->cr_pending = false;
	return lf + 1;
}

void mime_init(struct mime *m, const struct mime_cb *cb, void *arg, uint32_t max_header_bytes,
	       bool walk_body)
{
	/* The buffers (lead, boundaries, the entity's strings, the part's name,
	 * the field) are read only up to their lengths: 1.5 KiB of zeroes a
	 * message was most of the start of a message. */
	memset(m, 0, offsetof(struct mime, lead));
	memset(&m->part, 0, offsetof(struct mime_part, filename));
	m->cb = cb;
	m->arg = arg;
	m->max_header_bytes = max_header_bytes;
	m->walk_body = walk_body;
	m->state = MS_HDR;
	m->line_start = true;
	ent_reset(&m->ent);
}

/* Every step consumes a byte or leaves the line-start state: bounded by 2n. */
static __attribute__((noinline)) void mime_walk(struct mime *m, const uint8_t *p,
						const uint8_t *end)
{
	while (p < end && m->state != MS_DONE) {
		if (m->skip_line)
			p = skip_to_eol(m, p, end);
		else if (m->state == MS_HDR)
			p = hdr_step(m, p, end);
		else if (m->nb == 0) {
			/* No boundary can end this part: everything is content. */
			if (m->cr_pending)
				emit(m, (const uint8_t *)"\r", 1);
			m->cr_pending = false;
			emit(m, p, (size_t)(end - p));
			p = end;
		} else if (m->line_start)
			p = lead_step(m, p, end);
		else
			p = line_step(m, p, end);
	}
}

/*
 * Most pieces of a long message lie inside an attachment nobody reads, in
 * the middle of a line: they go to the next dash line here, and the walker
 * (with the frame all its steps need) sees only what follows one.
 */
void mime_feed(struct mime *m, const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n;

	if (n && m->nb && !m->line_start && !m->skip_line &&
	    (m->state == MS_SKIP || (m->state == MS_BODY && discards(m)))) {
		p = skip_lines(m, p, end);
		if (p == end)
			return;
	}
	mime_walk(m, p, end);
}

void mime_gap(struct mime *m, size_t n)
{
	m->stats.gaps++;
	if (m->state == MS_DONE)
		return;
	if (m->state == MS_HDR) {
		hdr_count(m, n);
		if (!m->line_start) {
			m->field_len = m->line_off;
			m->field_open = m->line_off != 0;
		}
	} else {
		/* Decoding resyncs at the next line: encoded lines are self-contained. */
		m->b64.acc = 0;
		m->b64.bits = 0;
		m->qp.state = 0;
		m->qp.ws_len = 0;
		m->eol_len = 0;
	}
	m->lead_len = 0;
	m->cr_pending = false;
	m->skip_line = true;
	m->line_start = false;
}

void mime_end(struct mime *m)
{
	if (m->state == MS_HDR) {
		mime_field_finish(m);
		if (!m->top_done) {
			m->top_done = true;
			if (m->cb->headers_done)
				m->cb->headers_done(m->arg);
		}
	} else if (m->state == MS_BODY && m->lead_len) {
		emit(m, m->lead, m->lead_len); /* a last line without its end */
	}
	m->lead_len = 0;
	part_close(m);
	m->state = MS_DONE;
}

bool mime_in_headers(const struct mime *m)
{
	return !m->top_done && m->state == MS_HDR;
}
