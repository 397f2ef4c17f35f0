// SPDX-License-Identifier: BSD-3-Clause
#include "common/jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void put(struct jsonw *w, const char *s, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void putc_(struct jsonw *w, char c)
{
	put(w, &c, 1);
}

void jsonw_init(struct jsonw *w, char *buf, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	/* keep room for the final "\n\0" */
	w->cap = cap >= 2 ? cap - 2 : 0;
}

/* Called before every value: a comma unless it is the first one in its container. */
static void pre_value(struct jsonw *w)
{
	if (w->depth > 0 && w->need_comma[w->depth])
		putc_(w, ',');
	if (w->depth > 0)
		w->need_comma[w->depth] = true;
}

static void open_(struct jsonw *w, char c)
{
	pre_value(w);
	putc_(w, c);
	if (w->depth + 1 >= JSONW_MAX_DEPTH) {
		w->overflow = true;
		return;
	}
	w->depth++;
	w->need_comma[w->depth] = false;
}

static void close_(struct jsonw *w, char c)
{
	putc_(w, c);
	if (w->depth > 0)
		w->depth--;
}

void jsonw_obj_open(struct jsonw *w)
{
	open_(w, '{');
}

void jsonw_obj_close(struct jsonw *w)
{
	close_(w, '}');
}

void jsonw_arr_open(struct jsonw *w)
{
	open_(w, '[');
}

void jsonw_arr_close(struct jsonw *w)
{
	close_(w, ']');
}

size_t jsonw_utf8_seq_len(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void put_escaped(struct jsonw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, run = 0;
	char esc[8];

	putc_(w, '"');
	while (i < n) {
		uint8_t c = p[i];
		size_t sl;

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			run++;
			i++;
			continue;
		}
		put(w, (const char *)p + i - run, run);
		run = 0;
		if (c >= 0x80) {
			sl = jsonw_utf8_seq_len(p + i, n - i);
			if (sl) {
				put(w, (const char *)p + i, sl);
				i += sl;
				continue;
			}
			/* Zeek style: the raw byte as the four characters \xNN */
			esc[0] = '\\', esc[1] = '\\', esc[2] = 'x';
			esc[3] = hex[c >> 4], esc[4] = hex[c & 15];
			put(w, esc, 5);
		} else if (c == '"' || c == '\\') {
			esc[0] = '\\', esc[1] = (char)c;
			put(w, esc, 2);
		} else if (c == '\n') {
			put(w, "\\n", 2);
		} else if (c == '\r') {
			put(w, "\\r", 2);
		} else if (c == '\t') {
			put(w, "\\t", 2);
		} else {
			esc[0] = '\\', esc[1] = 'u', esc[2] = '0', esc[3] = '0';
			esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
			put(w, esc, 6);
		}
		i++;
	}
	put(w, (const char *)p + i - run, run);
	putc_(w, '"');
}

void jsonw_key(struct jsonw *w, const char *key)
{
	pre_value(w);
	put_escaped(w, key, strlen(key));
	putc_(w, ':');
	/* the value that follows must not add a comma */
	w->need_comma[w->depth] = false;
}

/* After a key the value re-arms the comma for the next member. */
static void value_done(struct jsonw *w)
{
	if (w->depth > 0)
		w->need_comma[w->depth] = true;
}

void jsonw_str(struct jsonw *w, const char *s, size_t n)
{
	pre_value(w);
	put_escaped(w, s ? s : "", s ? n : 0);
	value_done(w);
}

void jsonw_cstr(struct jsonw *w, const char *s)
{
	jsonw_str(w, s, s ? strlen(s) : 0);
}

void jsonw_raw(struct jsonw *w, const char *s, size_t n)
{
	pre_value(w);
	put(w, s, n);
	value_done(w);
}

void jsonw_u64(struct jsonw *w, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);

	jsonw_raw(w, tmp, (size_t)n);
}

void jsonw_i64(struct jsonw *w, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);

	jsonw_raw(w, tmp, (size_t)n);
}

void jsonw_double(struct jsonw *w, double v, int decimals)
{
	char tmp[64];
	int n;

	if (!isfinite(v)) {
		jsonw_null(w);
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "%.*f", decimals, v);
	/* %f of a huge value is hundreds of digits; JSON reads the exponent form too. */
	if (n < 0 || (size_t)n >= sizeof(tmp))
		n = snprintf(tmp, sizeof(tmp), "%.17g", v);
	jsonw_raw(w, tmp, (size_t)n);
}

void jsonw_bool(struct jsonw *w, bool v)
{
	jsonw_raw(w, v ? "true" : "false", v ? 4 : 5);
}

void jsonw_null(struct jsonw *w)
{
	jsonw_raw(w, "null", 4);
}

void jsonw_kv_str(struct jsonw *w, const char *key, const char *s, size_t n)
{
	jsonw_key(w, key);
	jsonw_str(w, s, n);
}

void jsonw_kv_cstr(struct jsonw *w, const char *key, const char *s)
{
	jsonw_key(w, key);
	jsonw_cstr(w, s);
}

void jsonw_kv_u64(struct jsonw *w, const char *key, uint64_t v)
{
	jsonw_key(w, key);
	jsonw_u64(w, v);
}

void jsonw_kv_i64(struct jsonw *w, const char *key, int64_t v)
{
	jsonw_key(w, key);
	jsonw_i64(w, v);
}

void jsonw_kv_double(struct jsonw *w, const char *key, double v, int decimals)
{
	jsonw_key(w, key);
	jsonw_double(w, v, decimals);
}

void jsonw_kv_bool(struct jsonw *w, const char *key, bool v)
{
	jsonw_key(w, key);
	jsonw_bool(w, v);
}

long jsonw_finish_line(struct jsonw *w)
{
	if (w->overflow)
		return -1;
	w->buf[w->len++] = '\n';
	w->buf[w->len] = '\0';
	return (long)w->len;
}
