// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/mime.h"

#include <stddef.h>
#include <string.h>

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
