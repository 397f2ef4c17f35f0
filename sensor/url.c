// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/url.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define URL_CB void (*cb)(void *arg, const uint8_t *url, size_t len)

void url_init(struct url *u)
{
	u->in_url = false;
	u->cut = false;
	u->win_len = 0;
	u->len = 0;
	u->found = 0;
	u->cut_count = 0;
}

/* Characters a URL is made of (RFC 3986, plus '%'); anything else ends it. */
static bool url_char(uint8_t c)
{
	if (c <= ' ' || c >= 0x7f)
		return false;
	return !strchr("\"'<>`{}|\\^", c);
}

static uint8_t lower(int c)
{
	return (uint8_t)((c >= 'A' && c <= 'Z') ? c + 32 : c);
}

/* Byte k positions before p[i], looking into the previous chunk's tail; -1 if unknown. */
static int back(const struct url *u, const uint8_t *p, size_t i, size_t k)
{
	if (k <= i)
		return p[i - k];
	if (k - i <= u->win_len)
		return u->win[u->win_len - (k - i)];
	return -1;
}

static bool back_is(const struct url *u, const uint8_t *p, size_t i, size_t k, const char *s)
{
	size_t n = strlen(s);

	for (size_t j = 0; j < n; j++)
		if (lower(back(u, p, i, k + n - 1 - j)) != (uint8_t)s[j])
			return false;
	return true;
}

static bool word_char(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The prefix that makes p[i] the last byte of a URL start ("http://", "www."), or 0. */
static size_t url_start(const struct url *u, const uint8_t *p, size_t i)
{
	static const char *const schemes[] = {"https", "http", "ftp"};

	if (p[i] == '/') {
		if (back(u, p, i, 1) != '/' || back(u, p, i, 2) != ':')
			return 0;
		for (size_t s = 0; s < 3; s++) {
			size_t n = strlen(schemes[s]);

			if (back_is(u, p, i, 3, schemes[s]) && !word_char(back(u, p, i, 3 + n)))
				return n + 3;
		}
		return 0;
	}
	if (p[i] == '.' && back_is(u, p, i, 1, "www")) {
		int before = back(u, p, i, 4);

		if (!word_char(before) && before != '.' && before != '/' && before != '-')
			return 4;
	}
	return 0;
}

static void url_add(struct url *u, const uint8_t *p, size_t n)
{
	size_t room = URL_MAX - u->len;

	if (n > room) {
		u->cut = true;
		n = room;
	}
	memcpy(u->buf + u->len, p, n);
	u->len = (uint16_t)(u->len + n);
}

static void url_emit(struct url *u, URL_CB, void *arg)
{
	size_t n = u->len, min = u->buf[0] == 'w' || u->buf[0] == 'W' ? 5 : 9;

	/* Sentence punctuation after a URL is not part of it. */
	while (n > 0 && strchr(".,;:!?)]'", u->buf[n - 1]))
		n--;
	if (n >= min && n > 0) {
		u->found++;
		u->cut_count += u->cut;
		if (cb)
			cb(arg, u->buf, n);
	}
	u->in_url = false;
	u->cut = false;
	u->len = 0;
}

static void url_keep_tail(struct url *u, const uint8_t *p, size_t n)
{
	if (n >= URL_WIN) {
		memcpy(u->win, p + n - URL_WIN, URL_WIN);
		u->win_len = URL_WIN;
		return;
	}
	size_t keep = u->win_len + n > URL_WIN ? URL_WIN - n : u->win_len;

	memmove(u->win, u->win + u->win_len - keep, keep);
	memcpy(u->win + keep, p, n);
	u->win_len = (uint8_t)(keep + n);
}

#define URL_ONES  0x0101010101010101ull
#define URL_HIGHS 0x8080808080808080ull

/* Does any of the 8 bytes of w equal c? (exact: a zero byte of w ^ c borrows first) */
static bool url_word_has(uint64_t w, uint8_t c)
{
	uint64_t v = w ^ (URL_ONES * c);

	return ((v - URL_ONES) & ~v & URL_HIGHS) != 0;
}

/*
 * The next '/' or '.' from p[i], or n: only those can end a URL start, and
 * they are a few bytes in a hundred of text. Sixteen bytes at a time where
 * SSE2 is there (one compare per byte and mark instead of a word's borrow
 * arithmetic), then eight, then one.
 */
static size_t url_next_mark(const uint8_t *p, size_t i, size_t n)
{
#if defined(__SSE2__)
	const __m128i slash = _mm_set1_epi8('/'), dot = _mm_set1_epi8('.');

	for (; i + 16 <= n; i += 16) {
		__m128i w = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		unsigned int m = (unsigned int)_mm_movemask_epi8(
			_mm_or_si128(_mm_cmpeq_epi8(w, slash), _mm_cmpeq_epi8(w, dot)));

		if (m)
			return i + (size_t)__builtin_ctz(m);
	}
#endif
	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, sizeof(w));
		if (url_word_has(w, '/') || url_word_has(w, '.'))
			break;
	}
	for (; i < n; i++)
		if (p[i] == '/' || p[i] == '.')
			return i;
	return n;
}

void url_feed(struct url *u, const uint8_t *p, size_t n, URL_CB, void *arg)
{
	size_t i = 0, start = 0;

	while (i < n) {
		if (u->in_url) {
			for (start = i; i < n && url_char(p[i]); i++)
				;
			url_add(u, p + start, i - start);
			if (i < n)
				url_emit(u, cb, arg);
			continue;
		}
		for (; (i = url_next_mark(p, i, n)) < n; i++) {
			size_t pre = url_start(u, p, i);

			if (!pre)
				continue;
			/* The prefix may reach into the previous chunk: rebuild it. */
			for (size_t k = pre; k-- > 0;) {
				uint8_t c = (uint8_t)back(u, p, i, k);

				url_add(u, &c, 1);
			}
			u->in_url = true;
			i++;
			break;
		}
	}
	url_keep_tail(u, p, n);
}

void url_end(struct url *u, URL_CB, void *arg)
{
	if (u->in_url)
		url_emit(u, cb, arg);
	u->win_len = 0;
}
