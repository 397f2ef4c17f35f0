// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/mime_int.h"

#include <stddef.h>
#include <string.h>

#include "sensor/byte_scan.h"
#include "sensor/rfc2047.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ---- header fields of an entity ---- */

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

/*
 * Is p[0..n) the lower-case literal lit (four or more letters, digits and
 * '-'), any case? A macro so that the length test is against a constant
 * and a token of another length costs one compare, with no call.
 */
#define TOKEN_IS(p, n, lit) ((n) == sizeof(lit) - 1 && byte_scan_lower_eq((p), (lit), (n)))

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
	uint8_t src = TOKEN_IS(pa->name, base, "filename") ? 2 : TOKEN_IS(pa->name, base, "name");
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
		if (ctype && TOKEN_IS(pa.name, pa.nlen, "boundary")) {
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
	if (TOKEN_IS(t, (size_t)(slash - t), "multipart"))
		e->type = MIME_T_MULTIPART;
	else if (TOKEN_IS(t, (size_t)(slash - t), "message") &&
		 (TOKEN_IS(sub, (size_t)(s - sub), "rfc822") ||
		  TOKEN_IS(sub, (size_t)(s - sub), "global")))
		e->type = MIME_T_MESSAGE;
	else if (TOKEN_IS(t, (size_t)(slash - t), "text"))
		e->type = MIME_T_TEXT;
	else
		e->type = MIME_T_OTHER;
	e->is_html = e->type == MIME_T_TEXT && TOKEN_IS(sub, (size_t)(s - sub), "html");
	parse_params(m, s, end, true);
}

static void parse_cte(struct mime *m, const uint8_t *v, const uint8_t *end)
{
	const uint8_t *t = skip_lws(v, end), *s = tok_stop(t, end, TOK_SEMI | TOK_LWS | TOK_PAREN);

	if (TOKEN_IS(t, (size_t)(s - t), "base64"))
		m->ent.encoding = MIME_ENC_BASE64;
	else if (TOKEN_IS(t, (size_t)(s - t), "quoted-printable"))
		m->ent.encoding = MIME_ENC_QP;
	else
		m->ent.encoding = MIME_ENC_NONE;
}

static void parse_cdisp(struct mime *m, const uint8_t *v, const uint8_t *end)
{
	const uint8_t *t = skip_lws(v, end), *s = tok_stop(t, end, TOK_SEMI | TOK_LWS);

	if (TOKEN_IS(t, (size_t)(s - t), "attachment"))
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

/*
 * Out of line so that the common field (not Content-*) does not pay for
 * the parsers' frame: their locals (a filename buffer) put a stack guard
 * and a 0x58-byte frame on every field when inlined.
 */
static __attribute__((noinline)) void field_content(struct mime *m, const uint8_t *name,
						    size_t nlen, const uint8_t *v,
						    const uint8_t *end)
{
	if (TOKEN_IS(name, nlen, "content-type"))
		parse_ctype(m, v, end);
	else if (TOKEN_IS(name, nlen, "content-transfer-encoding"))
		parse_cte(m, v, end);
	else if (TOKEN_IS(name, nlen, "content-disposition"))
		parse_cdisp(m, v, end);
}

/* The completed field in m->field: MIME fields for the walk, top-level ones for the caller. */
void mime_field_finish(struct mime *m)
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
	if (nlen >= 12 && (name[0] | 0x20) == 'c')
		field_content(m, name, nlen, v, end);
}
