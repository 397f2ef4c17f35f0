// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/mime.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "sensor/rfc2047.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define MIME_SLICE 1024 /* encoded bytes decoded per step (stack output buffer) */

enum { MS_HDR = 0, MS_BODY, MS_SKIP, MS_DONE };

/* ---- base64 ---- */

#define X 0xff /* not in the alphabet */
#define W 0xfe /* whitespace */
#define P 0xfd /* padding */
static const uint8_t b64_tab[128] = {
	X,  X,	X,  X,	X,  X,	X,  X,	X,  W,	W,  W,	W,  W,	X,  X,	X,  X,	X,  X,	X,  X,
	X,  X,	X,  X,	X,  X,	X,  X,	X,  X,	W,  X,	X,  X,	X,  X,	X,  X,	X,  X,	X,  62,
	X,  X,	X,  63, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X,  X,	X,  P,	X,  X,	X,  0,
	1,  2,	3,  4,	5,  6,	7,  8,	9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
	23, 24, 25, X,	X,  X,	X,  X,	X,  26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38,
	39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X,	X,  X,	X,  X,
};
#undef X
#undef W
#undef P

static uint8_t b64_val(uint8_t c)
{
	return b64_tab[c & 0x7f] | (uint8_t)(0u - (c >> 7)); /* 8-bit: not in the alphabet */
}

/* Whole quanta of four alphabet characters, the bulk of any base64 body. */
static size_t b64_quads(const uint8_t *in, size_t n, size_t *i, uint8_t *out)
{
	size_t o = 0, k = *i;

	while (k + 4 <= n) {
		uint32_t a = b64_val(in[k]), b = b64_val(in[k + 1]), c = b64_val(in[k + 2]),
			 d = b64_val(in[k + 3]), w;

		if ((a | b | c | d) >= 64)
			break;
		w = a << 18 | b << 12 | c << 6 | d;
		out[o] = (uint8_t)(w >> 16);
		out[o + 1] = (uint8_t)(w >> 8);
		out[o + 2] = (uint8_t)w;
		o += 3;
		k += 4;
	}
	*i = k;
	return o;
}

size_t mime_b64_decode(struct mime_b64 *st, const uint8_t *in, size_t n, uint8_t *out)
{
	uint32_t acc = st->acc;
	unsigned int bits = st->bits;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t v;

		if (bits == 0) { /* on a quantum boundary (6 * 4 bits = 3 bytes) */
			o += b64_quads(in, n, &i, out + o);
			if (i == n)
				break;
		}
		v = b64_val(in[i]);
		if (v < 64) {
			acc = (acc << 6) | v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				out[o++] = (uint8_t)(acc >> bits);
				acc &= (1u << bits) - 1;
			}
		} else if (v == 0xfd) {
			/* Padding ends the quantum; a new one may follow (concatenated blocks). */
			acc = 0;
			bits = 0;
		} else if (v == 0xff) {
			st->invalid++;
		}
	}
	st->acc = acc;
	st->bits = (uint8_t)bits;
	return o;
}

/* ---- quoted-printable ---- */

enum { QP_TEXT = 0, QP_EQ, QP_EQ_HEX, QP_EQ_WS, QP_SOFT_CR, QP_CR };

static size_t qp_flush_ws(struct mime_qp *st, uint8_t *out)
{
	size_t n = st->ws_len;

	memcpy(out, st->ws, n);
	st->ws_len = 0;
	return n;
}

/* One byte in QP_TEXT or QP_CR; returns bytes written. */
static size_t qp_text(struct mime_qp *st, uint8_t c, uint8_t *out)
{
	size_t o = 0;

	if (st->state == QP_CR) {
		st->state = QP_TEXT;
		if (c == '\n') {
			st->ws_len = 0; /* trailing whitespace goes */
			out[0] = '\r';
			out[1] = '\n';
			return 2;
		}
		o = qp_flush_ws(st, out);
		out[o++] = '\r';
	}
	if (c == ' ' || c == '\t') {
		if (st->ws_len == MIME_QP_WS_MAX)
			o += qp_flush_ws(st, out + o);
		st->ws[st->ws_len++] = c;
	} else if (c == '\r') {
		st->state = QP_CR;
	} else if (c == '\n') {
		st->ws_len = 0;
		out[o++] = '\n';
	} else if (c == '=') {
		o += qp_flush_ws(st, out + o);
		st->state = QP_EQ;
	} else {
		o += qp_flush_ws(st, out + o);
		out[o++] = c;
	}
	return o;
}

int mime_hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* One byte after '='; returns bytes written, *again when c must be read as text. */
static size_t qp_escape(struct mime_qp *st, uint8_t c, uint8_t *out, bool *again)
{
	switch (st->state) {
	case QP_EQ:
		if (mime_hexval(c) >= 0) {
			st->hex = c;
			st->state = QP_EQ_HEX;
			return 0;
		}
		if (c == ' ' || c == '\t') {
			st->state = QP_EQ_WS;
			return 0;
		}
		if (c == '\r' || c == '\n') {
			st->state = c == '\r' ? QP_SOFT_CR : QP_TEXT; /* soft line break */
			return 0;
		}
		break;
	case QP_EQ_HEX:
		if (mime_hexval(c) >= 0) {
			out[0] = (uint8_t)(mime_hexval(st->hex) << 4 | mime_hexval(c));
			st->state = QP_TEXT;
			return 1;
		}
		st->invalid++;
		st->state = QP_TEXT;
		out[0] = '=';
		out[1] = st->hex;
		*again = true;
		return 2;
	case QP_EQ_WS:
		if (c == ' ' || c == '\t')
			return 0;
		if (c == '\r' || c == '\n') {
			st->state = c == '\r' ? QP_SOFT_CR : QP_TEXT;
			return 0;
		}
		break;
	case QP_SOFT_CR:
		st->state = QP_TEXT;
		*again = c != '\n'; /* "=\r" alone: a soft break all the same */
		return 0;
	}
	/* Robust decoding (RFC 2045 6.7 note 1): keep the '=' as it is. */
	st->invalid++;
	st->state = QP_TEXT;
	out[0] = '=';
	*again = true;
	return 1;
}

/* Printable bytes that decode to themselves (8-bit ones too: robust decoding). */
static bool qp_plain(uint8_t c)
{
	return c > ' ' && c != '=' && c != 0x7f;
}

/*
 * The common case, plain text: copies runs that cannot end a line. A space
 * or tab followed by a plain byte cannot be trailing whitespace.
 */
static size_t qp_run(const uint8_t *in, size_t n, size_t *i, uint8_t *out)
{
	size_t j = *i;

	while (j < n) {
		if (qp_plain(in[j]))
			j++;
		else if ((in[j] == ' ' || in[j] == '\t') && j + 1 < n && qp_plain(in[j + 1]))
			j += 2;
		else
			break;
	}
	memcpy(out, in + *i, j - *i);
	n = j - *i;
	*i = j;
	return n;
}

size_t mime_qp_decode(struct mime_qp *st, const uint8_t *in, size_t n, uint8_t *out)
{
	size_t o = 0, i = 0;

	while (i < n) {
		uint8_t c;

		if (st->state == QP_TEXT && st->ws_len == 0) {
			o += qp_run(in, n, &i, out + o);
			if (i == n)
				break;
		}
		c = in[i++];
		if (st->state == QP_TEXT || st->state == QP_CR) {
			o += qp_text(st, c, out + o);
		} else {
			bool again = false;

			o += qp_escape(st, c, out + o, &again);
			if (again)
				o += qp_text(st, c, out + o);
		}
	}
	return o;
}

size_t mime_qp_finish(struct mime_qp *st, uint8_t *out)
{
	size_t o = 0;

	if (st->state == QP_EQ_HEX) {
		st->invalid++;
		out[o++] = '=';
		out[o++] = st->hex;
	}
	/* Whitespace held and a lone CR are a line end's; "=" at the end is a soft break. */
	st->state = QP_TEXT;
	st->ws_len = 0;
	return o;
}

/* ---- header fields of an entity ---- */

static void ent_reset(struct mime_ent *e)
{
	e->type = MIME_T_TEXT;
	e->encoding = MIME_ENC_NONE;
	e->is_html = false;
	e->is_attachment = false;
	e->blen = 0;
	e->fn_src = 0;
	e->fn_len = 0;
	e->fn_cs_len = 0;
}

/*
 * Bytes that end a token of a MIME field's value, by what they end: one
 * load and a test a byte where the loops compared each byte with four to
 * seven values (every Content-Type, -Transfer-Encoding and -Disposition).
 */
#define TOK_LWS	  1u /* space, tab, CR, LF */
#define TOK_SEMI  2u
#define TOK_EQ	  4u
#define TOK_SLASH 8u
#define TOK_PAREN 16u

static const uint8_t tok_end[256] = {
	[' '] = TOK_LWS,  ['\t'] = TOK_LWS, ['\r'] = TOK_LWS,  ['\n'] = TOK_LWS,
	[';'] = TOK_SEMI, ['='] = TOK_EQ,   ['/'] = TOK_SLASH, ['('] = TOK_PAREN,
};

/* The first byte at or after p of one of the classes in stop, or end. */
static const uint8_t *tok_stop(const uint8_t *p, const uint8_t *end, unsigned int stop)
{
	while (p < end && !(tok_end[*p] & stop))
		p++;
	return p;
}

static const uint8_t *skip_lws(const uint8_t *p, const uint8_t *end)
{
	while (p < end && (tok_end[*p] & TOK_LWS))
		p++;
	return p;
}

static bool token_is(const uint8_t *p, size_t n, const char *s)
{
	return strlen(s) == n && !strncasecmp((const char *)p, s, n);
}

struct mime_param {
	const uint8_t *name, *val;
	size_t nlen, vlen;
	bool quoted;
};

/* Next "; name=value" after *pp (value a token or a quoted string). */
static bool param_next(const uint8_t **pp, const uint8_t *end, struct mime_param *pa)
{
	const uint8_t *p = *pp;

	while (p < end && *p != ';') {
		if (*p == '"')
			for (p++; p < end && *p != '"'; p++)
				p += *p == '\\';
		p++;
	}
	if (p >= end)
		return false;
	p = skip_lws(p + 1, end);
	pa->name = p;
	pa->val = p;
	p = tok_stop(p, end, TOK_EQ | TOK_SEMI | TOK_LWS);
	pa->nlen = (size_t)(p - pa->name);
	p = skip_lws(p, end);
	pa->vlen = 0;
	pa->quoted = false;
	if (p < end && *p == '=') {
		p = skip_lws(p + 1, end);
		pa->quoted = p < end && *p == '"';
		pa->val = p + pa->quoted;
		if (pa->quoted)
			for (p = pa->val; p < end && *p != '"'; p++)
				p += *p == '\\' && p + 1 < end;
		else
			p = tok_stop(pa->val, end, TOK_SEMI | TOK_LWS);
		pa->vlen = (size_t)(p - pa->val);
		p += pa->quoted && p < end;
	}
	*pp = p;
	return true;
}

/* Copies a parameter value without its quoted-pair backslashes; returns the length. */
static size_t param_copy(const struct mime_param *pa, uint8_t *dst, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < pa->vlen && o < cap; i++) {
		if (pa->quoted && pa->val[i] == '\\' && i + 1 < pa->vlen)
			i++;
		dst[o++] = pa->val[i];
	}
	return o;
}

/*
 * name / filename, with RFC 2231 sections (filename*0*=utf-8''a%20b;
 * filename*1*=...). filename wins over name (Content-Type's older form).
 * Raw bytes are collected here and converted to UTF-8 when the part opens.
 */
static void param_filename(struct mime_ent *e, const struct mime_param *pa)
{
	const uint8_t *star = memchr(pa->name, '*', pa->nlen);
	size_t base = star ? (size_t)(star - pa->name) : pa->nlen;
	uint8_t src = token_is(pa->name, base, "filename") ? 2 : token_is(pa->name, base, "name");
	bool ext = pa->nlen && pa->name[pa->nlen - 1] == '*';
	bool cont = star && star + 1 < pa->name + pa->nlen && star[1] > '0' && star[1] <= '9';
	uint8_t raw[MIME_FILENAME_MAX];
	const uint8_t *v = raw;
	size_t n;

	/* Before the copy: most parameters that get here are charset=. */
	if (!src || src < e->fn_src || (cont && src != e->fn_src))
		return;
	n = param_copy(pa, raw, sizeof(raw));
	if (!cont) {
		e->fn_len = 0;
		e->fn_cs_len = 0;
	}
	e->fn_src = src;
	if (ext && !cont) {
		/* charset'language'text */
		const uint8_t *q1 = memchr(raw, '\'', n),
			      *q2 = q1 ? memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - raw)) : NULL;

		if (q1 && q2 && (size_t)(q1 - raw) < sizeof(e->fn_cs)) {
			e->fn_cs_len = (uint8_t)(q1 - raw);
			memcpy(e->fn_cs, raw, e->fn_cs_len);
			v = q2 + 1;
			n -= (size_t)(v - raw);
		}
	}
	if (ext)
		e->fn_len += (uint16_t)rfc2047_pct_decode(v, n, (uint8_t *)e->fn + e->fn_len,
							  sizeof(e->fn) - e->fn_len);
	else {
		n = n < sizeof(e->fn) - e->fn_len ? n : sizeof(e->fn) - e->fn_len;
		memcpy(e->fn + e->fn_len, v, n);
		e->fn_len += (uint16_t)n;
	}
}

static void parse_params(struct mime *m, const uint8_t *p, const uint8_t *end, bool ctype)
{
	struct mime_ent *e = &m->ent;
	struct mime_param pa;
	unsigned int guard = 0;

	/* Each parameter consumes at least its ';': bounded by the field size. */
	while (guard++ < MIME_FIELD_MAX && param_next(&p, end, &pa)) {
		if (ctype && token_is(pa.name, pa.nlen, "boundary")) {
			size_t n = param_copy(&pa, (uint8_t *)e->boundary, sizeof(e->boundary));

			e->blen = (uint8_t)n;
			if (n == sizeof(e->boundary) && pa.vlen > n) {
				m->stats.boundary_too_long++;
				e->blen = 0xff; /* cannot be followed: the entity is opaque */
			}
		} else if (pa.nlen >= 4) {
			param_filename(e, &pa);
		}
	}
}

static void parse_ctype(struct mime *m, const uint8_t *v, const uint8_t *end)
{
	struct mime_ent *e = &m->ent;
	const uint8_t *t = skip_lws(v, end), *slash, *sub, *s;

	slash = tok_stop(t, end, TOK_SLASH | TOK_SEMI | TOK_LWS);
	if (slash >= end || *slash != '/')
		return; /* no type/subtype: stays text/plain, as in Zeek */
	sub = skip_lws(slash + 1, end);
	s = tok_stop(sub, end, TOK_SEMI | TOK_LWS);
	if (token_is(t, (size_t)(slash - t), "multipart"))
		e->type = MIME_T_MULTIPART;
	else if (token_is(t, (size_t)(slash - t), "message") &&
		 (token_is(sub, (size_t)(s - sub), "rfc822") ||
		  token_is(sub, (size_t)(s - sub), "global")))
		e->type = MIME_T_MESSAGE;
	else if (token_is(t, (size_t)(slash - t), "text"))
		e->type = MIME_T_TEXT;
	else
		e->type = MIME_T_OTHER;
	e->is_html = e->type == MIME_T_TEXT && token_is(sub, (size_t)(s - sub), "html");
	parse_params(m, s, end, true);
}

static void parse_cte(struct mime *m, const uint8_t *v, const uint8_t *end)
{
	const uint8_t *t = skip_lws(v, end), *s = tok_stop(t, end, TOK_SEMI | TOK_LWS | TOK_PAREN);

	if (token_is(t, (size_t)(s - t), "base64"))
		m->ent.encoding = MIME_ENC_BASE64;
	else if (token_is(t, (size_t)(s - t), "quoted-printable"))
		m->ent.encoding = MIME_ENC_QP;
	else
		m->ent.encoding = MIME_ENC_NONE;
}

static void parse_cdisp(struct mime *m, const uint8_t *v, const uint8_t *end)
{
	const uint8_t *t = skip_lws(v, end), *s = tok_stop(t, end, TOK_SEMI | TOK_LWS);

	if (token_is(t, (size_t)(s - t), "attachment"))
		m->ent.is_attachment = true;
	parse_params(m, s, end, false);
}

/* RFC 5322 ftext: printable ASCII but ':'. One load a byte, not four compares. */
static const bool field_name_char[256] = {
	[0x21 ... 0x39] = true,
	[0x3b ... 0x7e] = true,
};

/*
 * The end of the field name at p: the first byte that is no ftext. Sixteen
 * bytes a step while sixteen are left (the value follows the name, so they
 * mostly are), the table for the rest: a name of ten bytes took fifty
 * instructions a byte at a time.
 */
static const uint8_t *field_name_end(const uint8_t *p, const uint8_t *end)
{
#if defined(__SSE2__)
	const __m128i lo = _mm_set1_epi8(0x20), hi = _mm_set1_epi8(0x7f),
		      colon = _mm_set1_epi8(':');

	for (; end - p >= 16; p += 16) {
		__m128i w = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* Signed compares: 8-bit bytes are negative, so not above 0x20. */
		__m128i ok = _mm_andnot_si128(
			_mm_cmpeq_epi8(w, colon),
			_mm_and_si128(_mm_cmpgt_epi8(w, lo), _mm_cmplt_epi8(w, hi)));
		unsigned int m = ~(unsigned int)_mm_movemask_epi8(ok) & 0xffffu;

		if (m)
			return p + __builtin_ctz(m);
	}
#endif
	while (p < end && field_name_char[*p])
		p++;
	return p;
}

/* The completed field in m->field: MIME fields for the walk, top-level ones for the caller. */
static void field_finish(struct mime *m)
{
	const uint8_t *p = m->field, *end = m->field + m->field_len, *name, *v;
	size_t nlen;

	if (!m->field_open)
		return;
	m->field_open = false;
	p = skip_lws(p, end);
	name = p;
	p = field_name_end(p, end);
	nlen = (size_t)(p - name);
	p = skip_lws(p, end);
	if (nlen == 0 || p >= end || *p != ':')
		return; /* not a field: ignored, as Zeek does */
	v = skip_lws(p + 1, end);
	if (m->depth == 0 && !m->hdr_cut && m->cb->header)
		m->cb->header(m->arg, (const char *)name, nlen, v, (size_t)(end - v));
	if (nlen < 12 || (name[0] | 0x20) != 'c')
		return;
	if (token_is(name, nlen, "content-type"))
		parse_ctype(m, v, end);
	else if (token_is(name, nlen, "content-transfer-encoding"))
		parse_cte(m, v, end);
	else if (token_is(name, nlen, "content-disposition"))
		parse_cdisp(m, v, end);
}

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
	field_finish(m);
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
	size_t need = 2 + (size_t)l->len, i;

	for (i = 0; i < len && i < need; i++)
		if (s[i] != (i < 2 ? '-' : (uint8_t)l->b[i - 2]))
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
		field_finish(m);
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

void mime_feed(struct mime *m, const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n;

	/* Every step consumes a byte or leaves the line-start state: bounded by 2n. */
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
		field_finish(m);
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
