// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/rfc2047.h"

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "sensor/mime.h"

#define RFC2047_WORD_MAX    1024 /* longest encoded word accepted (RFC: 75; mailers exceed it) */
#define RFC2047_CHARSET_MAX 40
#define RFC2047_RUN_BUF	    256

/*
 * Converters are opened once per thread and per charset, then reset for
 * each run: iconv_open() loads gconv modules and allocates, far too slow
 * for every header. Mail charsets labelled loosely map to the superset
 * decoders mail clients use (Shift_JIS → CP932, GB2312 → GB18030,
 * EUC-KR → CP949).
 */
static const char *const slot_iconv[] = {
	"ISO-8859-1",  "ISO-8859-2",  "ISO-8859-3",  "ISO-8859-4",    "ISO-8859-5",  "ISO-8859-6",
	"ISO-8859-7",  "ISO-8859-8",  "ISO-8859-9",  "ISO-8859-10",   "ISO-8859-11", "ISO-8859-13",
	"ISO-8859-14", "ISO-8859-15", "ISO-8859-16", "CP1250",	      "CP1251",	     "CP1252",
	"CP1253",      "CP1254",      "CP1255",	     "CP1256",	      "CP1257",	     "CP1258",
	"KOI8-R",      "KOI8-U",      "ISO-2022-JP", "ISO-2022-JP-2", "CP932",	     "EUC-JP",
	"GB18030",     "BIG5",	      "BIG5-HKSCS",  "CP949",	      "ISO-2022-KR", "TIS-620",
	"CP874",       "CP866",	      "UTF-7",	     "UTF-16",	      "UTF-16BE",    "UTF-16LE",
};

#define N_SLOTS	 (sizeof(slot_iconv) / sizeof(slot_iconv[0]))
#define CS_UTF8	 ((int)N_SLOTS)	    /* copied as is */
#define CS_ASCII ((int)N_SLOTS + 1) /* copied as is: 8-bit bytes in "ASCII" words are common */
#define CS_NONE	 (-1)

static const struct {
	const char *name;
	int slot;
} cs_alias[] = {
	{"utf-8", CS_UTF8},	{"utf8", CS_UTF8},   {"us-ascii", CS_ASCII}, {"ascii", CS_ASCII},
	{"latin1", 0},		{"latin-1", 0},	     {"latin2", 1},	     {"latin9", 13},
	{"koi8-r", 24},		{"koi8-u", 25},	     {"iso-2022-jp", 26},    {"iso-2022-jp-2", 27},
	{"csiso2022jp", 26},	{"shift_jis", 28},   {"shift-jis", 28},	     {"sjis", 28},
	{"x-sjis", 28},		{"windows-31j", 28}, {"cp932", 28},	     {"ms_kanji", 28},
	{"euc-jp", 29},		{"x-euc-jp", 29},    {"gb2312", 30},	     {"gbk", 30},
	{"gb18030", 30},	{"cp936", 30},	     {"x-gbk", 30},	     {"euc-cn", 30},
	{"big5", 31},		{"x-big5", 31},	     {"big5-hkscs", 32},     {"euc-kr", 33},
	{"ks_c_5601-1987", 33}, {"cp949", 33},	     {"iso-2022-kr", 34},    {"tis-620", 35},
	{"windows-874", 36},	{"cp874", 36},	     {"cp866", 37},	     {"ibm866", 37},
	{"utf-7", 38},		{"utf-16", 39},	     {"utf-16be", 40},	     {"utf-16le", 41},
};

/* Slot of iso-8859-N / windows-125N, or CS_NONE. */
static int cs_numbered(const char *cs)
{
	static const uint8_t iso_slot[17] = {
		[1] = 0,   [2] = 1,   [3] = 2,	 [4] = 3,   [5] = 4,   [6] = 5,
		[7] = 6,   [8] = 7,   [9] = 8,	 [10] = 9,  [11] = 10, [13] = 11,
		[14] = 12, [15] = 13, [16] = 14, [0] = 255, [12] = 255};
	const char *num = NULL;
	unsigned long v = 0;

	if (!strncmp(cs, "iso-8859-", 9) || !strncmp(cs, "iso_8859-", 9) ||
	    !strncmp(cs, "iso8859-", 8) || !strncmp(cs, "iso8859_", 8)) {
		num = cs + (cs[3] == '8' ? 8 : 9);
		for (; *num >= '0' && *num <= '9' && v < 100; num++)
			v = v * 10 + (unsigned long)(*num - '0');
		if (*num != '\0' && *num != ':')
			return CS_NONE;
		return (v <= 16 && iso_slot[v] != 255) ? iso_slot[v] : CS_NONE;
	}
	if (!strncmp(cs, "windows-125", 11))
		num = cs + 11;
	else if (!strncmp(cs, "cp125", 5))
		num = cs + 5;
	else if (!strncmp(cs, "x-cp125", 7))
		num = cs + 7;
	if (num && num[0] >= '0' && num[0] <= '8' && num[1] == '\0')
		return 15 + (num[0] - '0');
	return CS_NONE;
}

/* Charset name (may carry an RFC 2231 "*lang" suffix) → slot. */
static int cs_lookup(const char *name, size_t n)
{
	char cs[RFC2047_CHARSET_MAX + 1];
	size_t i;

	for (i = 0; i < n && i < RFC2047_CHARSET_MAX && name[i] != '*'; i++)
		cs[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
	if (i == 0 || (i == RFC2047_CHARSET_MAX && i < n))
		return CS_NONE;
	cs[i] = '\0';
	for (size_t k = 0; k < sizeof(cs_alias) / sizeof(cs_alias[0]); k++)
		if (!strcmp(cs, cs_alias[k].name))
			return cs_alias[k].slot;
	return cs_numbered(cs);
}

enum { SLOT_UNTRIED = 0, SLOT_OPEN, SLOT_FAILED };

static __thread struct {
	iconv_t cd[N_SLOTS];
	uint8_t state[N_SLOTS];
} tc;

static iconv_t slot_cd(int slot)
{
	if (tc.state[slot] == SLOT_UNTRIED) {
		tc.cd[slot] = iconv_open("UTF-8", slot_iconv[slot]);
		tc.state[slot] = tc.cd[slot] == (iconv_t)-1 ? SLOT_FAILED : SLOT_OPEN;
	}
	return tc.state[slot] == SLOT_OPEN ? tc.cd[slot] : (iconv_t)-1;
}

int rfc2047_thread_init(void)
{
	int missing = 0;

	for (size_t s = 0; s < N_SLOTS; s++)
		missing += slot_cd((int)s) == (iconv_t)-1;
	/* A glibc without some gconv module still decodes the others. */
	return missing == (int)N_SLOTS ? -ENOENT : 0;
}

void rfc2047_thread_fini(void)
{
	for (size_t s = 0; s < N_SLOTS; s++) {
		if (tc.state[s] == SLOT_OPEN)
			iconv_close(tc.cd[s]);
		tc.state[s] = SLOT_UNTRIED;
	}
}

/* Output with a pending run of decoded bytes in one charset. */
struct dec {
	char *out;
	size_t cap, len;
	int slot; /* charset of the run, CS_NONE: no run */
	size_t blen;
	uint8_t buf[RFC2047_RUN_BUF];
};

/* The run buffer is not cleared: only its first blen bytes are ever read, and a
 * zeroed 256-byte buffer cost more than the decoding of most display names. */
static void dec_init(struct dec *d, char *out, size_t cap)
{
	d->out = out;
	d->cap = cap;
	d->len = 0;
	d->slot = CS_NONE;
	d->blen = 0;
}

static void put(struct dec *d, const void *p, size_t n)
{
	size_t room = d->cap - d->len;

	if (n > room)
		n = room;
	memcpy(d->out + d->len, p, n);
	d->len += n;
}

static void put_replacement(struct dec *d)
{
	if (d->cap - d->len >= 3)
		put(d, "\xef\xbf\xbd", 3);
	else
		d->len = d->cap; /* full: nothing more fits anyway */
}

/*
 * Converts the run buffer. Not final: an incomplete multibyte sequence at
 * the end stays in the buffer for the next word (words may split a
 * character). Every pass consumes a byte or stops, so the loop is bounded
 * by the buffer size.
 */
static void run_convert(struct dec *d, bool final)
{
	iconv_t cd = d->slot < CS_UTF8 ? slot_cd(d->slot) : (iconv_t)-1;
	char *inp = (char *)d->buf;
	size_t inleft = d->blen;

	if (cd == (iconv_t)-1) {
		put(d, d->buf, d->blen);
		d->blen = 0;
		return;
	}
	while (inleft > 0 && d->len < d->cap) {
		char *outp = d->out + d->len;
		size_t outleft = d->cap - d->len;
		size_t r = iconv(cd, &inp, &inleft, &outp, &outleft);

		d->len = (size_t)(outp - d->out);
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG) {
			d->len = d->cap;
			break;
		}
		if (errno == EINVAL && !final)
			break;
		put_replacement(d); /* EILSEQ, or a sequence cut by the end */
		inp++;
		inleft--;
		if (errno == EINVAL) {
			inleft = 0;
			break;
		}
	}
	if (d->len >= d->cap)
		inleft = 0;
	memmove(d->buf, inp, inleft);
	d->blen = inleft;
}

static void run_end(struct dec *d)
{
	if (d->slot == CS_NONE)
		return;
	run_convert(d, true);
	if (d->slot < CS_UTF8 && slot_cd(d->slot) != (iconv_t)-1) {
		char *outp = d->out + d->len;
		size_t outleft = d->cap - d->len;

		/* Back to the initial shift state (ISO-2022-JP) for the next run. */
		iconv(slot_cd(d->slot), NULL, NULL, &outp, &outleft);
		d->len = (size_t)(outp - d->out);
		iconv(slot_cd(d->slot), NULL, NULL, NULL, NULL);
	}
	d->slot = CS_NONE;
	d->blen = 0;
}

static void run_put(struct dec *d, int slot, const uint8_t *p, size_t n)
{
	if (d->slot != slot) {
		run_end(d);
		d->slot = slot;
	}
	for (size_t i = 0; i < n; i++) {
		if (d->blen == sizeof(d->buf))
			run_convert(d, false);
		if (d->blen == sizeof(d->buf))
			d->blen = 0; /* a "sequence" longer than the buffer: garbage */
		d->buf[d->blen++] = p[i];
	}
}

struct word {
	size_t len; /* whole "=?cs?e?text?=" */
	int slot;
	uint8_t enc; /* 'B' or 'Q' */
	const uint8_t *text;
	size_t text_len;
};

/* Recognises one encoded word at p; false when it is not a valid one. */
static bool word_parse(const uint8_t *p, size_t n, struct word *w)
{
	size_t i = 2, cs_end, lim = n < RFC2047_WORD_MAX ? n : RFC2047_WORD_MAX;

	if (n < 8 || p[0] != '=' || p[1] != '?')
		return false;
	while (i < lim && p[i] != '?' && p[i] > ' ' && p[i] < 0x7f && i - 2 <= RFC2047_CHARSET_MAX)
		i++;
	if (i >= lim || p[i] != '?' || i == 2)
		return false;
	cs_end = i;
	if (i + 2 >= lim || p[i + 2] != '?')
		return false;
	w->enc = p[i + 1] & 0xdf;
	if (w->enc != 'B' && w->enc != 'Q')
		return false;
	i += 3;
	w->text = p + i;
	while (i < lim && p[i] != '?' && p[i] > ' ' && p[i] < 0x7f)
		i++;
	if (i + 1 >= lim || p[i] != '?' || p[i + 1] != '=')
		return false;
	w->text_len = (size_t)(p + i - w->text);
	w->len = i + 2;
	w->slot = cs_lookup((const char *)p + 2, cs_end - 2);
	if (w->slot == CS_NONE)
		return false;
	return true;
}

/* The word's bytes before charset conversion; false when its base64 is broken. */
static bool word_bytes(const struct word *w, uint8_t *out, size_t *len)
{
	struct mime_b64 b64 = {0};
	size_t o = 0;

	if (w->enc == 'B') {
		*len = mime_b64_decode(&b64, w->text, w->text_len, out);
		return b64.invalid == 0;
	}
	for (size_t k = 0; k < w->text_len; k++) {
		uint8_t c = w->text[k];

		if (c == '_') {
			c = ' ';
		} else if (c == '=' && k + 2 < w->text_len && mime_hexval(w->text[k + 1]) >= 0 &&
			   mime_hexval(w->text[k + 2]) >= 0) {
			c = (uint8_t)(mime_hexval(w->text[k + 1]) << 4 |
				      mime_hexval(w->text[k + 2]));
			k += 2;
		}
		out[o++] = c;
	}
	*len = o;
	return true;
}

static bool is_fws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

size_t rfc2047_decode(const uint8_t *in, size_t n, char *out, size_t cap)
{
	struct dec d;
	bool after_word = false;
	size_t i = 0, held = 0;

	dec_init(&d, out, cap);
	while (i < n && d.len < cap) {
		uint8_t wb[RFC2047_WORD_MAX];
		struct word w;
		size_t wn;

		if (in[i] == '=' && word_parse(in + i, n - i, &w) && word_bytes(&w, wb, &wn)) {
			held = 0; /* whitespace between adjacent words is dropped */
			run_put(&d, w.slot, wb, wn);
			i += w.len;
			after_word = true;
			continue;
		}
		if (after_word && is_fws(in[i])) {
			held++;
			i++;
			continue;
		}
		if (after_word) {
			run_end(&d);
			put(&d, in + i - held, held);
			held = 0;
			after_word = false;
		}
		const uint8_t *eq = memchr(in + i + 1, '=', n - i - 1);
		size_t k = (size_t)((eq ? eq : in + n) - (in + i));

		put(&d, in + i, k);
		i += k;
	}
	run_end(&d);
	put(&d, in + i - held, held);
	return d.len;
}

size_t rfc2047_convert(const char *charset, size_t cslen, const uint8_t *in, size_t n, char *out,
		       size_t cap)
{
	struct dec d;
	int slot = cs_lookup(charset, cslen);

	dec_init(&d, out, cap);
	if (slot == CS_NONE)
		slot = CS_ASCII;
	run_put(&d, slot, in, n);
	run_end(&d);
	return d.len;
}

size_t rfc2047_pct_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o < cap; i++) {
		if (in[i] == '%' && i + 2 < n && mime_hexval(in[i + 1]) >= 0 &&
		    mime_hexval(in[i + 2]) >= 0) {
			out[o++] = (uint8_t)(mime_hexval(in[i + 1]) << 4 | mime_hexval(in[i + 2]));
			i += 2;
		} else {
			out[o++] = in[i];
		}
	}
	return o;
}

size_t rfc2047_param_decode(const uint8_t *in, size_t n, char *out, size_t cap)
{
	const uint8_t *q1 = memchr(in, '\'', n), *q2;
	uint8_t raw[512];
	size_t rn;

	if (!q1)
		return rfc2047_convert("us-ascii", 8, raw,
				       rfc2047_pct_decode(in, n, raw, sizeof(raw)), out, cap);
	q2 = memchr(q1 + 1, '\'', (size_t)(in + n - q1 - 1));
	if (!q2)
		q2 = q1; /* "charset'text": no language part */
	rn = rfc2047_pct_decode(q2 + 1, (size_t)(in + n - q2 - 1), raw, sizeof(raw));
	return rfc2047_convert((const char *)in, (size_t)(q1 - in), raw, rn, out, cap);
}
