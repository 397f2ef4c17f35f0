// SPDX-License-Identifier: BSD-3-Clause
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "sensor/mime.h"

#define U8(s) ((const uint8_t *)(s))

static uint8_t out[8192];

/* Decodes text cut at a and b with a fresh decoder; returns the output length. */
static size_t b64_cut(const char *text, size_t n, size_t a, size_t b, uint64_t *invalid)
{
	struct mime_b64 st = {0};
	size_t o = 0;

	o += mime_b64_decode(&st, U8(text), a, out + o);
	o += mime_b64_decode(&st, U8(text) + a, b - a, out + o);
	o += mime_b64_decode(&st, U8(text) + b, n - b, out + o);
	*invalid = st.invalid;
	return o;
}

/* 1000 bytes of every value, encoded by OpenSSL and wrapped at 76 columns (CRLF). */
static size_t b64_fixture(uint8_t *raw, char *enc, size_t cap)
{
	char flat[1400];
	size_t n = 1000, fl, o = 0;

	for (size_t i = 0; i < n; i++)
		raw[i] = (uint8_t)(i * 7 + i / 256);
	fl = (size_t)EVP_EncodeBlock((unsigned char *)flat, raw, (int)n);
	for (size_t i = 0; i < fl && o + 3 < cap; i += 76) {
		size_t k = fl - i < 76 ? fl - i : 76;

		memcpy(enc + o, flat + i, k);
		o += k;
		enc[o++] = '\r';
		enc[o++] = '\n';
	}
	enc[o] = '\0';
	return o;
}

static void test_mime_b64_every_split(void **state)
{
	uint8_t raw[1000];
	char enc[1500];
	size_t n = b64_fixture(raw, enc, sizeof(enc));
	uint64_t invalid;

	(void)state;
	for (size_t a = 0; a <= n; a++) {
		assert_int_equal(b64_cut(enc, n, a, a, &invalid), sizeof(raw));
		assert_memory_equal(out, raw, sizeof(raw));
		assert_int_equal(invalid, 0);
	}
	for (size_t a = 0; a < 90; a++)
		for (size_t b = a; b < 90; b++) {
			assert_int_equal(b64_cut(enc, n, a, b, &invalid), sizeof(raw));
			assert_memory_equal(out, raw, sizeof(raw));
		}
}

static void test_mime_b64_tolerant(void **state)
{
	static const char spaced[] = " SGVs\tbG8s\r\n IHdv cmxk\nIQ==\r\n";
	static const char junk[] = "SGVs!bG8s\x80";
	static const char blocks[] = "QQ==QkM=";
	uint64_t invalid;
	size_t n;

	(void)state;
	n = b64_cut(spaced, strlen(spaced), 0, 0, &invalid);
	assert_int_equal(n, 13);
	assert_memory_equal(out, "Hello, world!", 13);
	assert_int_equal(invalid, 0);
	/* Characters outside the alphabet are skipped and counted. */
	n = b64_cut(junk, strlen(junk), 0, 0, &invalid);
	assert_int_equal(n, 6);
	assert_memory_equal(out, "Hello,", 6);
	assert_int_equal(invalid, 2);
	/* Padding ends a quantum; concatenated encoded blocks go on. */
	n = b64_cut(blocks, strlen(blocks), 0, 0, &invalid);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "ABC", 3);
}

static size_t qp_cut(const char *text, size_t a, size_t b, uint64_t *invalid)
{
	struct mime_qp st = {0};
	size_t n = strlen(text), o = 0;

	o += mime_qp_decode(&st, U8(text), a, out + o);
	o += mime_qp_decode(&st, U8(text) + a, b - a, out + o);
	o += mime_qp_decode(&st, U8(text) + b, n - b, out + o);
	o += mime_qp_finish(&st, out + o);
	*invalid = st.invalid;
	return o;
}

static void check_qp(const char *in, const char *want, uint64_t want_invalid)
{
	size_t n = strlen(in);
	uint64_t invalid;

	for (size_t a = 0; a <= n; a++)
		for (size_t b = a; b <= n; b++) {
			size_t o = qp_cut(in, a, b, &invalid);

			if (o != strlen(want) || memcmp(out, want, o))
				fail_msg("cut %zu/%zu: '%.*s' want '%s'", a, b, (int)o, out, want);
			assert_int_equal(invalid, want_invalid);
		}
}

/* Quoted-printable at every pair of cut offsets: soft breaks, escapes, trailing whitespace. */
static void test_mime_qp_every_split(void **state)
{
	(void)state;
	check_qp("caf=C3=A9 =\r\nsoft break=20\r\ntrailing   \r\n=3D=3d\r\nend",
		 "caf\xc3\xa9 soft break \r\ntrailing\r\n==\r\nend", 0);
	/* Whitespace between "=" and the line end still makes a soft break. */
	check_qp("abc= \t\r\ndef", "abcdef", 0);
	/* LF-only line ends. */
	check_qp("a=\nb  \nc", "ab\nc", 0);
	/* Tabs and spaces inside a line stay. */
	check_qp("a \t b\r\n", "a \t b\r\n", 0);
	/* A soft break at the very end of the part. */
	check_qp("last=", "last", 0);
	/* Bare CR in the text is kept. */
	check_qp("a\rb", "a\rb", 0);
}

/* RFC 2045 6.7 note 1: a broken escape is kept as it came, and counted. */
static void test_mime_qp_invalid(void **state)
{
	(void)state;
	check_qp("=ZZ ok", "=ZZ ok", 1);
	check_qp("x=4", "x=4", 1);
	check_qp("=4Gx", "=4Gx", 1);
	check_qp("a= b", "a=b", 1);
	/* Over-long runs of spaces are not held back without bound. */
	char spaces[300];

	memset(spaces, ' ', sizeof(spaces) - 2);
	spaces[sizeof(spaces) - 2] = 'x';
	spaces[sizeof(spaces) - 1] = '\0';
	check_qp(spaces, spaces, 0);
}

/* ---- the walker on its own ---- */

struct seen {
	char body[4096];
	size_t len;
	unsigned int parts;
	struct mime_part last;
};

static void seen_body(void *arg, const struct mime_part *part, const uint8_t *p, size_t n)
{
	struct seen *s = arg;

	if (s->len + n < sizeof(s->body)) {
		memcpy(s->body + s->len, p, n);
		s->len += n;
	}
	s->last = *part;
}

static void seen_end(void *arg, const struct mime_part *part)
{
	struct seen *s = arg;

	s->parts++;
	s->last = *part;
	if (s->len + 1 < sizeof(s->body))
		s->body[s->len++] = '|';
}

static const struct mime_cb seen_cb = {.body = seen_body, .part_end = seen_end};
static const struct mime_cb text_cb = {.body = seen_body, .part_end = seen_end, .text_only = true};

static struct mime m;
static struct seen seen;
static const struct mime_cb *walk_with = &seen_cb;
static uint8_t stale_fill; /* what the walker's struct holds before mime_init */

static void walk_cut(const char *text, size_t a)
{
	size_t n = strlen(text);

	memset(&seen, 0, sizeof(seen));
	memset(&m, stale_fill, sizeof(m));
	mime_init(&m, walk_with, &seen, 0, true);
	mime_feed(&m, U8(text), a);
	mime_feed(&m, U8(text) + a, n - a);
	mime_end(&m);
	seen.body[seen.len] = '\0';
}

static void check_walk(const char *text, const char *want, unsigned int parts)
{
	for (size_t a = 0; a <= strlen(text); a++) {
		walk_cut(text, a);
		if (strcmp(seen.body, want))
			fail_msg("cut %zu: '%s' want '%s'", a, seen.body, want);
		assert_int_equal(seen.parts, parts);
	}
}

/* Lines that only look like a boundary are content; LF-only line ends; padding after one. */
static void test_mime_boundary_lookalikes(void **state)
{
	(void)state;
	check_walk("Content-Type: multipart/mixed; boundary=\"=_frontier\"\n"
		   "\n"
		   "--=_frontier\n"
		   "\n"
		   "--=_frontierX\n"
		   "--=_fronti\n"
		   "-- =_frontier\n"
		   "--=_frontier-\n"
		   "--=_frontier \t \n"
		   "\n"
		   "two\n"
		   "--=_frontier--\n",
		   "--=_frontierX\n--=_fronti\n-- =_frontier\n--=_frontier-|two|", 2);
}

/* An outer boundary closes inner parts left open; content without any end still comes out. */
static void test_mime_unclosed_parts(void **state)
{
	(void)state;
	check_walk("Content-Type: multipart/mixed; boundary=o\r\n\r\n"
		   "--o\r\n"
		   "Content-Type: multipart/alternative; boundary=i\r\n\r\n"
		   "--i\r\n\r\n"
		   "inner\r\n"
		   "--o\r\n\r\n"
		   "second\r\n"
		   "--o\r\n\r\n"
		   "no closing boundary",
		   "inner|second|no closing boundary|", 3);
}

/* A part whose header runs straight into the next boundary, and a multipart without boundary. */
static void test_mime_odd_structures(void **state)
{
	(void)state;
	check_walk("Content-Type: multipart/mixed; boundary=b\r\n\r\n"
		   "--b\r\n"
		   "Content-Type: text/plain\r\n"
		   "--b\r\n\r\n"
		   "body\r\n"
		   "--b--\r\n",
		   "body|", 1);
	walk_cut("Content-Type: multipart/mixed\r\n\r\nopaque blob\r\n", 0);
	assert_string_equal(seen.body, "opaque blob\r\n|");
	assert_int_equal(seen.last.type, MIME_T_OTHER);
}

/* The last part's file name: filename_len bytes, not NUL-terminated. */
static void check_filename(const char *want)
{
	assert_int_equal(seen.last.filename_len, strlen(want));
	assert_memory_equal(seen.last.filename, want, strlen(want));
}

/* File names: filename over name, RFC 2231 sections with a charset, RFC 2047 in quotes. */
static void test_mime_filenames(void **state)
{
	(void)state;
	walk_cut("Content-Type: application/pdf; name=\"fallback.pdf\"\r\n"
		 "Content-Disposition: attachment;\r\n"
		 " filename*0*=utf-8''%E2%82%AC%20;\r\n"
		 " filename*1*=rates;\r\n"
		 " filename*2=\".pdf\"\r\n"
		 "\r\nx",
		 0);
	check_filename("\xe2\x82\xac rates.pdf");
	assert_true(seen.last.is_attachment);
	walk_cut("Content-Type: application/octet-stream;\r\n"
		 "\tname=\"=?UTF-8?B?6KuL5rGC5pu4LnppcA==?=\"\r\n"
		 "\r\nx",
		 0);
	check_filename("請求書.zip");
	assert_true(seen.last.is_attachment);
	walk_cut("Content-Type: text/html; charset=utf-8\r\n\r\n<p>", 0);
	assert_int_equal(seen.last.filename_len, 0);
	assert_false(seen.last.is_attachment);
	assert_true(seen.last.is_html);
}

/*
 * text_only: a base64 attachment is walked past, not decoded; its boundary
 * lookalikes (lines starting with '-') and a boundary right after a line
 * that ends a piece still end it where they should, whatever the cut.
 */
static void test_mime_text_only_skips_binary_parts(void **state)
{
	(void)state;
	walk_with = &text_cb;
	check_walk("Content-Type: multipart/mixed; boundary=b\r\n\r\n"
		   "--b\r\n"
		   "Content-Type: application/octet-stream; name=x.bin\r\n"
		   "Content-Transfer-Encoding: base64\r\n\r\n"
		   "SGVsbG8s\r\n"
		   "--bX\r\n"
		   "-- b\r\n"
		   "IHdvcmxk\r\n"
		   "--b\r\n"
		   "Content-Type: text/plain\r\n"
		   "Content-Transfer-Encoding: base64\r\n\r\n"
		   "dGV4dA==\r\n"
		   "--b\r\n"
		   "Content-Type: image/png\r\n\r\n"
		   "\x89PNG\r\n"
		   "--b--\r\n",
		   "|text||", 3);
	assert_int_equal(seen.last.type, MIME_T_OTHER);
	walk_with = &seen_cb;
	check_walk("Content-Type: multipart/mixed; boundary=b\r\n\r\n"
		   "--b\r\n"
		   "Content-Type: application/octet-stream\r\n"
		   "Content-Transfer-Encoding: base64\r\n\r\n"
		   "SGVsbG8s\r\n"
		   "--b--\r\n",
		   "Hello,|", 1);
}

/*
 * Lines that cannot be boundaries skip the lead; lines starting with '-',
 * empty lines and lone CRs take it, and a line end before a boundary still
 * vanishes, whatever the cut.
 */
static void test_mime_line_starts(void **state)
{
	static const char msg[] = "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
				  "--b\r\n\r\n"
				  "one\r\ntwo\r\n\r\nthree\rfour\r\n"
				  "-dash\r\n"
				  "--bee\r\n"
				  "\r\n"
				  "\rfive\nsix\r\n"
				  "--b\r\n\r\n"
				  "seven\r\n"
				  "--b--\r\n";

	(void)state;
	check_walk(msg, "one\r\ntwo\r\n\r\nthree\rfour\r\n-dash\r\n--bee\r\n\r\n\rfive\nsix|seven|",
		   2);
	/* A byte at a time: the same text. */
	memset(&seen, 0, sizeof(seen));
	mime_init(&m, walk_with, &seen, 0, true);
	for (size_t i = 0; i < sizeof(msg) - 1; i++)
		mime_feed(&m, U8(msg) + i, 1);
	mime_end(&m);
	seen.body[seen.len] = '\0';
	assert_string_equal(
		seen.body,
		"one\r\ntwo\r\n\r\nthree\rfour\r\n-dash\r\n--bee\r\n\r\n\rfive\nsix|seven|");
}

static unsigned int body_calls;

static void count_body(void *arg, const struct mime_part *part, const uint8_t *p, size_t n)
{
	body_calls++;
	seen_body(arg, part, p, n);
}

/*
 * Lines of a part that cannot be boundaries reach the body callback
 * together, not one call per line and one per line end: each call costs
 * the decoder, URL scanner and signatures their per-call work.
 */
static void test_mime_lines_in_one_piece(void **state)
{
	static const struct mime_cb count_cb = {.body = count_body, .part_end = seen_end};
	static const char msg[] = "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
				  "--b\r\n\r\n"
				  "one\r\ntwo\r\n\r\nthree\r\nfour\r\n"
				  "-dash\r\nfive\r\nsix\r\n"
				  "--b--\r\n";

	(void)state;
	walk_with = &count_cb;
	check_walk(msg, "one\r\ntwo\r\n\r\nthree\r\nfour\r\n-dash\r\nfive\r\nsix|", 1);
	body_calls = 0;
	walk_cut(msg, 0);
	walk_with = &seen_cb;
	/* "one..four", the held "\r\n", "-dash..six": a line starting with '-'
	 * is checked whole, not pushed through the lead byte by byte */
	assert_int_equal(body_calls, 3);
}

/* Boundary and dash lines longer than the lead: decided on the first bytes, whatever the cut. */
static void test_mime_long_dash_lines(void **state)
{
	char msg[2048], want[512], pad[101];

	(void)state;
	memset(pad, ' ', 100);
	pad[100] = '\0';
	snprintf(msg, sizeof(msg),
		 "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
		 "--b%s\r\n\r\n"
		 "-%s-\r\n"
		 "--b\t%sx\r\n\r\n"
		 "--%s\r\n"
		 "--b--%s",
		 pad, pad, pad, pad, pad);
	snprintf(want, sizeof(want), "-%s-|--%s|", pad, pad);
	check_walk(msg, want, 2);
}

/*
 * A closing boundary found before its line ends (whitespace after it) drops
 * the rest of that line in an epilogue nobody reads; the next line is the
 * outer boundary, whatever the cut: a piece that starts in the dropped rest
 * must not be skipped past it.
 */
static void test_mime_epilogue_after_closing_boundary(void **state)
{
	static const char msg[] = "Content-Type: multipart/mixed; boundary=o\r\n\r\n"
				  "--o\r\n"
				  "Content-Type: multipart/alternative; boundary=i\r\n\r\n"
				  "--i\r\n\r\n"
				  "inner\r\n"
				  "--i-- trailing words\r\n"
				  "--o\r\n\r\n"
				  "second\r\n"
				  "--o--\r\n";

	(void)state;
	check_walk(msg, "inner|second|", 2);
	walk_with = &text_cb;
	check_walk(msg, "inner|second|", 2);
	walk_with = &seen_cb;
}

/*
 * After a gap inside a part nobody reads, the rest of the damaged line is
 * dropped and the boundary on the next line still ends the part, wherever
 * the bytes after the gap are cut.
 */
static void test_mime_gap_in_skipped_part(void **state)
{
	static const char head[] = "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
				   "--b\r\n"
				   "Content-Type: application/pdf\r\n"
				   "Content-Transfer-Encoding: base64\r\n\r\n"
				   "SGVsbG8s";
	static const char tail[] = "IHdvcmxk\r\nSGVs\r\n"
				   "--b\r\n\r\n"
				   "text\r\n"
				   "--b--\r\n";

	(void)state;
	for (size_t a = 0; a <= strlen(tail); a++) {
		memset(&seen, 0, sizeof(seen));
		mime_init(&m, &text_cb, &seen, 0, true);
		mime_feed(&m, U8(head), strlen(head));
		mime_gap(&m, 100);
		mime_feed(&m, U8(tail), a);
		mime_feed(&m, U8(tail) + a, strlen(tail) - a);
		mime_end(&m);
		seen.body[seen.len] = '\0';
		if (strcmp(seen.body, "|text|"))
			fail_msg("cut %zu: '%s'", a, seen.body);
	}
}

/* A boundary longer than the walker follows: the multipart is opaque, nothing leaks. */
static void test_mime_long_boundary(void **state)
{
	char msg[512];

	(void)state;
	snprintf(msg, sizeof(msg),
		 "Content-Type: multipart/mixed; boundary=%0100d\r\n\r\n--%0100d\r\n\r\nx\r\n", 0,
		 0);
	walk_cut(msg, 0);
	assert_int_equal(seen.len, 0);
	assert_int_equal(m.stats.boundary_too_long, 1);
	assert_int_equal(m.stats.opaque, 1);
}

struct field_seen {
	unsigned int n;
	size_t nlen;
	char name[8];
};

static void field_seen_header(void *arg, const char *name, size_t nlen, const uint8_t *v,
			      size_t vlen)
{
	struct field_seen *fs = arg;

	(void)v;
	(void)vlen;
	fs->n++;
	fs->nlen = nlen;
	memcpy(fs->name, name, nlen < sizeof(fs->name) ? nlen : sizeof(fs->name));
}

/*
 * Every byte value inside a field name: printable ASCII but ':' (RFC 5322
 * ftext) belongs to the name; anything else ends it, and the line is a field
 * only if a ':' follows after optional whitespace (else ignored, as Zeek does).
 */
static void test_mime_field_name_every_byte(void **state)
{
	static const struct mime_cb cb = {.header = field_seen_header};

	(void)state;
	for (int c = 0; c < 256; c++) {
		uint8_t msg[] = "XcY: v\r\n\r\n";
		struct field_seen fs = {0};
		bool ftext = c > ' ' && c < 0x7f && c != ':';

		if (c == '\n')
			continue; /* a line end, not a byte of the name */
		msg[1] = (uint8_t)c;
		mime_init(&m, &cb, &fs, 0, false);
		mime_feed(&m, msg, sizeof(msg) - 1);
		mime_end(&m);
		if (ftext) {
			assert_int_equal(fs.n, 1);
			assert_int_equal(fs.nlen, 3);
			assert_int_equal((uint8_t)fs.name[1], c);
		} else if (c == ':') {
			assert_int_equal(fs.n, 1);
			assert_int_equal(fs.nlen, 1);
		} else {
			assert_int_equal(fs.n, 0); /* "X" then no ':' after the whitespace */
		}
	}
}

static bool sep_byte(int c, const char *seps)
{
	return c && strchr(seps, c);
}

/* Walks header + body in one piece; NUL bytes of the header are given by length. */
static void walk_bytes(const uint8_t *text, size_t n)
{
	memset(&seen, 0, sizeof(seen));
	mime_init(&m, &seen_cb, &seen, 0, true);
	mime_feed(&m, text, n);
	mime_end(&m);
}

/* hdr with its '#' replaced by c, then body; returns the length. */
static size_t with_byte(uint8_t *buf, const char *hdr, int c, const char *body)
{
	size_t h = strlen(hdr), b = strlen(body);

	memcpy(buf, hdr, h);
	*(uint8_t *)memchr(buf, '#', h) = (uint8_t)c;
	memcpy(buf + h, body, b);
	return h + b;
}

/*
 * Every byte value after a token of a MIME field: whitespace and ';' end a
 * subtype, a disposition or a parameter value, '(' also ends an encoding,
 * whitespace and '=' a parameter name; any other byte is the token's.
 */
static void test_mime_token_ends_every_byte(void **state)
{
	uint8_t buf[256];
	size_t n;

	(void)state;
	for (int c = 0; c < 256; c++) {
		if (c == '\r' || c == '\n')
			continue; /* line ends: the field's own structure */
		n = with_byte(buf, "Content-Type: text/html#x\r\n\r\n", c, "b");
		walk_bytes(buf, n);
		assert_int_equal(seen.last.is_html, sep_byte(c, " \t;"));
		n = with_byte(buf, "Content-Transfer-Encoding: base64#x\r\n\r\n", c, "aGk=");
		walk_bytes(buf, n);
		assert_string_equal(seen.body, sep_byte(c, " \t;(") ? "hi|" : "aGk=|");
		n = with_byte(buf, "Content-Disposition: attachment#x\r\n\r\n", c, "b");
		walk_bytes(buf, n);
		assert_int_equal(seen.last.is_attachment, sep_byte(c, " \t;"));
		n = with_byte(buf, "Content-Type: multipart/mixed; boundary=b#x\r\n\r\n", c,
			      "--b\r\n\r\none\r\n--b--\r\n");
		walk_bytes(buf, n);
		assert_int_equal(seen.parts, sep_byte(c, " \t;") ? 1 : 0);
		n = with_byte(buf, "Content-Type: multipart/mixed; boundary#=b\r\n\r\n", c,
			      "--b\r\n\r\none\r\n--b--\r\n");
		walk_bytes(buf, n);
		/* Whitespace before '=' is skipped; "==b" sets the boundary "=b", which no
		 * line matches; otherwise no boundary: one opaque part, all its text. */
		assert_string_equal(seen.body, sep_byte(c, " \t") ? "one|"
					       : c == '='	  ? ""
								  : "--b\r\n\r\none\r\n--b--\r\n|");
	}
}

/*
 * mime_init leaves the buffers as they were (boundaries, file names, the
 * lead, the field): a struct full of stale bytes walks every message of the
 * tests above as a zeroed one does.
 */
static void test_mime_init_over_stale_bytes(void **state)
{
	static const uint8_t fills[] = {0xa5, 0xff, '-'};

	for (size_t i = 0; i < sizeof(fills); i++) {
		stale_fill = fills[i];
		test_mime_boundary_lookalikes(state);
		test_mime_unclosed_parts(state);
		test_mime_odd_structures(state);
		test_mime_filenames(state);
		test_mime_long_boundary(state);
		test_mime_line_starts(state);
		test_mime_long_dash_lines(state);
	}
	stale_fill = 0;
}

/*
 * The name's end found sixteen bytes a step: every byte value at every
 * offset of a 40-byte name, with values long enough that the name is read
 * by vectors and short enough that its end is read byte by byte.
 */
static void test_mime_field_name_every_byte_every_offset(void **state)
{
	static const struct mime_cb cb = {.header = field_seen_header};

	(void)state;
	for (size_t vlen = 0; vlen < 40; vlen += 13)
		for (size_t k = 0; k < 40; k++)
			for (int c = 0; c < 256; c++) {
				uint8_t msg[128];
				struct field_seen fs = {0};
				bool ftext = c > ' ' && c < 0x7f && c != ':';
				size_t o = 0;

				if (c == '\n' || c == '\r')
					continue; /* line ends, not bytes of the name */
				memset(msg, 'N', 40);
				msg[k] = (uint8_t)c;
				o = 40;
				msg[o++] = ':';
				memset(msg + o, 'v', vlen);
				o += vlen;
				memcpy(msg + o, "\r\n\r\n", 4);
				o += 4;
				mime_init(&m, &cb, &fs, 0, false);
				mime_feed(&m, msg, o);
				mime_end(&m);
				if (ftext) {
					assert_int_equal(fs.n, 1);
					assert_int_equal(fs.nlen, 40);
				} else if (c == ':' && k > 0) {
					assert_int_equal(fs.n, 1);
					assert_int_equal(fs.nlen, k);
				} else if ((k == 0 || k == 39) && (c == ' ' || c == '\t')) {
					/* whitespace before the name or the ':' is skipped */
					assert_int_equal(fs.n, 1);
					assert_int_equal(fs.nlen, 39);
				} else {
					assert_int_equal(fs.n,
							 0); /* the name ends and no ':' follows */
				}
			}
}

/*
 * The Content-* dispatch (a cheap name test, then the parsers out of line):
 * each name with every byte's case flipped is still parsed, with a byte
 * changed, a byte dropped or one added it is not; whatever the cut.
 */
static void check_content_field(const char *name, const char *value, bool want)
{
	char text[160];

	snprintf(text, sizeof(text), "%s: %s\r\n\r\nx", name, value);
	for (size_t a = 0; a <= strlen(text); a++) {
		walk_cut(text, a);
		if (!strcmp(value, "text/html"))
			assert_int_equal(seen.last.is_html, want);
		else if (!strcmp(value, "base64"))
			assert_int_equal(seen.last.encoding,
					 want ? MIME_ENC_BASE64 : MIME_ENC_NONE);
		else
			assert_int_equal(seen.last.is_attachment, want);
	}
}

static void test_mime_content_field_names(void **state)
{
	static const char *const field[][2] = {
		{"Content-Type", "text/html"},
		{"Content-Transfer-Encoding", "base64"},
		{"Content-Disposition", "attachment"},
	};

	(void)state;
	for (size_t f = 0; f < 3; f++) {
		const char *name = field[f][0], *value = field[f][1];
		size_t n = strlen(name);
		char v[40];

		check_content_field(name, value, true);
		for (size_t k = 0; k < n; k++) {
			memcpy(v, name, n + 1);
			v[k] = (char)(v[k] ^ (isalpha((unsigned char)v[k]) ? 0x20 : 0));
			check_content_field(v, value, true);
			v[k] = 'q';
			check_content_field(v, value, false);
			memcpy(v, name, k);
			memcpy(v + k, name + k + 1, n - k); /* byte k dropped */
			check_content_field(v, value, false);
		}
		snprintf(v, sizeof(v), "%ss", name);
		check_content_field(v, value, false);
	}
}

/*
 * The boundary line with each of its bytes changed to every other value, and
 * every prefix of it: content, not a boundary (the compare is exact, case
 * included); only the line itself ends the part. Cut at every offset.
 */
static void test_mime_boundary_every_byte_changed(void **state)
{
	static const char full[] = "--b0-Xy_z9";
	char line[sizeof(full)], msg[256], want[256];
	size_t n = strlen(full);

	(void)state;
	for (size_t k = 0; k <= n; k++)
		for (int c = 1; c < 256; c++) {
			bool prefix = c == 1;

			if (c == '\r' || c == '\n' || (!prefix && (k == n || c == full[k])))
				continue;
			memcpy(line, full, n + 1);
			if (prefix)
				line[k] = '\0';
			else
				line[k] = (char)c;
			snprintf(msg, sizeof(msg),
				 "Content-Type: multipart/mixed; boundary=\"b0-Xy_z9\"\r\n\r\n"
				 "--b0-Xy_z9\r\n\r\none\r\n%s\r\n\r\ntwo\r\n--b0-Xy_z9--\r\n",
				 line);
			if (prefix && k == n) {
				check_walk(msg, "one|two|", 2);
				continue;
			}
			snprintf(want, sizeof(want), "one\r\n%s\r\n\r\ntwo|", line);
			check_walk(msg, want, 1);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mime_field_name_every_byte),
		cmocka_unit_test(test_mime_field_name_every_byte_every_offset),
		cmocka_unit_test(test_mime_init_over_stale_bytes),
		cmocka_unit_test(test_mime_token_ends_every_byte),
		cmocka_unit_test(test_mime_b64_every_split),
		cmocka_unit_test(test_mime_b64_tolerant),
		cmocka_unit_test(test_mime_qp_every_split),
		cmocka_unit_test(test_mime_qp_invalid),
		cmocka_unit_test(test_mime_boundary_lookalikes),
		cmocka_unit_test(test_mime_boundary_every_byte_changed),
		cmocka_unit_test(test_mime_unclosed_parts),
		cmocka_unit_test(test_mime_odd_structures),
		cmocka_unit_test(test_mime_filenames),
		cmocka_unit_test(test_mime_content_field_names),
		cmocka_unit_test(test_mime_long_boundary),
		cmocka_unit_test(test_mime_epilogue_after_closing_boundary),
		cmocka_unit_test(test_mime_gap_in_skipped_part),
		cmocka_unit_test(test_mime_line_starts),
		cmocka_unit_test(test_mime_lines_in_one_piece),
		cmocka_unit_test(test_mime_long_dash_lines),
		cmocka_unit_test(test_mime_text_only_skips_binary_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
