// SPDX-License-Identifier: BSD-3-Clause
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "sensor/smtp_msg.h"
#include "sensor/smtp_tx.h"

#define U8(s) ((const uint8_t *)(s))

/* What the sink saw. */
struct rec {
	unsigned int headers, headers_done, parts_ended;
	size_t body_len;
	char body[16384];
	struct smtp_msg_part last;
	char last_filename[256];
	unsigned int nurls;
	char urls[16][1100];
	char hdr_names[64][32];
};

static void rec_header(void *arg, const char *name, size_t nlen, const uint8_t *v, size_t vlen)
{
	struct rec *r = arg;

	(void)v;
	(void)vlen;
	if (r->headers < 64)
		snprintf(r->hdr_names[r->headers], 32, "%.*s", (int)nlen, name);
	r->headers++;
}

static void rec_headers_done(void *arg)
{
	((struct rec *)arg)->headers_done++;
}

static void rec_body(void *arg, const struct smtp_msg_part *part, const uint8_t *p, size_t n)
{
	struct rec *r = arg;

	if (r->body_len + n <= sizeof(r->body)) {
		memcpy(r->body + r->body_len, p, n);
		r->body_len += n;
	}
	r->last = *part;
}

static void rec_part_end(void *arg, const struct smtp_msg_part *part)
{
	struct rec *r = arg;

	r->parts_ended++;
	r->last = *part;
	snprintf(r->last_filename, sizeof(r->last_filename), "%.*s", (int)part->filename_len,
		 part->filename ? part->filename : "");
	/* Parts are separated by a marker so tests can tell them apart. */
	if (r->body_len < sizeof(r->body))
		r->body[r->body_len++] = '|';
}

static void rec_url(void *arg, const uint8_t *u, size_t n)
{
	struct rec *r = arg;

	if (r->nurls < 16)
		snprintf(r->urls[r->nurls], sizeof(r->urls[0]), "%.*s", (int)n, (const char *)u);
	r->nurls++;
}

static const struct smtp_msg_sink rec_sink = {
	.header = rec_header,
	.headers_done = rec_headers_done,
	.body = rec_body,
	.part_end = rec_part_end,
	.url = rec_url,
};

static struct smtp_tx tx;
static struct rec rec;
static struct smtp_msg *msg;

static const struct smtp_msg_cfg cfg_full = {
	.max_header_bytes = 65536,
	.decode_body = true,
	.keep_subject = true,
};

static void tx_start(void)
{
	smtp_tx_init(&tx, NULL, 0);
	tx.family = 4;
	inet_pton(AF_INET, "192.168.133.100", &tx.orig_h.b[12]);
	inet_pton(AF_INET, "192.168.133.102", &tx.resp_h.b[12]);
	memset(&rec, 0, sizeof(rec));
}

/* Feeds text in pieces: cut at offsets a and b (a ≤ b). */
static void run_cut(const struct smtp_msg_cfg *cfg, const char *text, size_t a, size_t b)
{
	size_t n = strlen(text);

	tx_start();
	smtp_msg_begin(msg, cfg, &tx, &rec_sink, &rec);
	smtp_msg_feed(msg, U8(text), a);
	smtp_msg_feed(msg, U8(text) + a, b - a);
	smtp_msg_feed(msg, U8(text) + b, n - b);
	smtp_msg_end(msg);
}

static void run(const struct smtp_msg_cfg *cfg, const char *text)
{
	run_cut(cfg, text, 0, 0);
}

static void run_bytewise(const struct smtp_msg_cfg *cfg, const char *text)
{
	tx_start();
	smtp_msg_begin(msg, cfg, &tx, &rec_sink, &rec);
	for (size_t i = 0; text[i]; i++)
		smtp_msg_feed(msg, U8(text) + i, 1);
	smtp_msg_end(msg);
}

static void assert_field(enum smtp_field f, const char *want)
{
	size_t len;
	const char *v = smtp_tx_get(&tx, f, &len);

	if (!want) {
		assert_int_equal(len, 0);
		return;
	}
	if (len != strlen(want) || memcmp(v, want, len))
		fail_msg("field %d: got '%.*s' want '%s'", (int)f, (int)len, v, want);
}

static void assert_list(const struct smtp_str *list, unsigned int n, const char *const *want)
{
	unsigned int i;

	for (i = 0; want[i]; i++) {
		assert_true(i < n);
		if (list[i].len != strlen(want[i]) ||
		    memcmp(smtp_tx_str(&tx, list[i]), want[i], list[i].len))
			fail_msg("entry %u: got '%.*s' want '%s'", i, (int)list[i].len,
				 smtp_tx_str(&tx, list[i]), want[i]);
	}
	assert_int_equal(n, i);
}

/* The second message of Zeek's Traces/smtp.pcap (Apple Mail, folded Cc:). */
static const char apple_mail[] =
	"Content-Type: text/plain; charset=us-ascii\r\n"
	"Mime-Version: 1.0 (Mac OS X Mail 8.2 \\(2102\\))\r\n"
	"Subject: Re: Bro SMTP CC Header\r\n"
	"From: Albert Zaharovits <albert@example.com>\r\n"
	"In-Reply-To: <9ACEE03C-AB98-4046-AEC1-BF4910C61E96@example.com>\r\n"
	"Date: Sat, 25 Jul 2015 16:43:07 +0300\r\n"
	"Cc: felica4uu@hotmail.com,\r\n"
	" davis_mark1@outlook.com\r\n"
	"Content-Transfer-Encoding: 7bit\r\n"
	"Message-Id: <A6202DF2-8E58-4E41-BE0B-C8D3989A4AEE@example.com>\r\n"
	"References: <FA60128E-63CF-4C4E-8241-C5805EA0F66E@example.com> "
	"<9ACEE03C-AB98-4046-AEC1-BF4910C61E96@example.com>\r\n"
	"To: ericlim220@yahoo.com\r\n"
	"X-Mailer: Apple Mail (2.2102)\r\n"
	"\r\n"
	"\r\n"
	"> On 25 Jul 2015, at 16:38, Albert Zaharovits <albert@example.com> wrote:\r\n"
	"> \r\n"
	">> Bro SMTP CC Header\r\n";

static void check_apple_mail(void)
{
	static const char *const to[] = {"ericlim220@yahoo.com", NULL};
	static const char *const cc[] = {"felica4uu@hotmail.com", "davis_mark1@outlook.com", NULL};
	static const char *const path[] = {"192.168.133.102", "192.168.133.100", NULL};

	assert_field(SMTP_F_DATE, "Sat, 25 Jul 2015 16:43:07 +0300");
	assert_field(SMTP_F_FROM, "Albert Zaharovits <albert@example.com>");
	assert_field(SMTP_F_FROM_DISPLAY, "Albert Zaharovits");
	assert_field(SMTP_F_MSG_ID, "<A6202DF2-8E58-4E41-BE0B-C8D3989A4AEE@example.com>");
	assert_field(SMTP_F_IN_REPLY_TO, "<9ACEE03C-AB98-4046-AEC1-BF4910C61E96@example.com>");
	assert_field(SMTP_F_SUBJECT, "Re: Bro SMTP CC Header");
	assert_field(SMTP_F_USER_AGENT, "Apple Mail (2.2102)");
	assert_field(SMTP_F_FIRST_RECEIVED, NULL);
	assert_list(tx.to, tx.n_to_stored, to);
	assert_list(tx.cc, tx.n_cc_stored, cc);
	assert_list(tx.path, tx.n_path, path);
	assert_int_equal(tx.header_count, 12);
	assert_int_equal(rec.headers, 12);
	assert_int_equal(rec.headers_done, 1);
	assert_string_equal(rec.hdr_names[6], "Cc");
	assert_false(tx.flags & SMTP_TX_F_HDR_TRUNC);
	assert_int_equal(rec.body_len,
			 strlen(apple_mail) -
				 (size_t)(strstr(apple_mail, "\r\n\r\n") + 4 - apple_mail) + 1);
	assert_memory_equal(rec.body, "\r\n> On 25 Jul", 13);
	assert_true(rec.last.is_text);
}

/* Same record whatever the TCP segmentation: every single cut, every pair of cuts near the folds.
 */
static void test_smtp_msg_headers_every_split(void **state)
{
	size_t n = strlen(apple_mail);

	(void)state;
	for (size_t a = 0; a <= n; a++) {
		run_cut(&cfg_full, apple_mail, a, a);
		check_apple_mail();
	}
	for (size_t a = 250; a < 420; a++)
		for (size_t b = a; b < 420; b += 7) {
			run_cut(&cfg_full, apple_mail, a, b);
			check_apple_mail();
		}
	run_bytewise(&cfg_full, apple_mail);
	check_apple_mail();
}

/* LF-only line ends (common from scripts) end the header block just as well. */
static void test_smtp_msg_lf_only(void **state)
{
	(void)state;
	run(&cfg_full, "From: a@b.example\nSubject: hi\n there\n\nbody line\n");
	assert_field(SMTP_F_FROM, "a@b.example");
	assert_field(SMTP_F_SUBJECT, "hi there");
	assert_int_equal(rec.headers_done, 1);
	assert_int_equal(rec.body_len, strlen("body line\n") + 1);
	assert_memory_equal(rec.body, "body line\n|", rec.body_len);
}

/* Zeek's unfolding keeps the whitespace of continuation lines; values are trimmed. */
static void test_smtp_msg_folded_values(void **state)
{
	(void)state;
	run(&cfg_full, "Subject: one\r\n\ttwo\r\n  three   \r\n"
		       "Message-ID:\r\n <x@y>\r\n"
		       "\r\n");
	assert_field(SMTP_F_SUBJECT, "one\ttwo  three");
	assert_field(SMTP_F_MSG_ID, "<x@y>");
}

/* Received: values and the path, Zeek style (first_received is the last field). */
static void test_smtp_msg_received_path(void **state)
{
	static const char m[] =
		"Received: from mx.example.net (mx.example.net [203.0.113.7])\r\n"
		"\tby mail.example.org (Postfix) with ESMTPS id 4F1;\r\n"
		"\tMon, 1 Jan 2024 10:00:00 +0000 (UTC)\r\n"
		"Received: from EXCH1.corp.example (10.1.1.1) by EXCH2.corp.example\r\n"
		" (10.1.1.2) with Microsoft SMTP Server (TLS) id 15.1.2;\r\n"
		" Mon, 1 Jan 2024 09:59:00 +0000\r\n"
		"Received: from [198.51.100.9] (helo=pc)\r\n"
		"\tby relay.example with esmtpa (Exim 4.86)\r\n"
		"Received: (qmail 1234 invoked by uid 0); 1 Jan 2024 09:58:00 -0000\r\n"
		"\r\n";
	static const char *const path[] = {"192.168.133.102", "192.168.133.100", "203.0.113.7",
					   "10.1.1.2",	      "198.51.100.9",	 NULL};

	(void)state;
	run(&cfg_full, m);
	assert_int_equal(tx.received_count, 4);
	assert_field(SMTP_F_FIRST_RECEIVED,
		     "(qmail 1234 invoked by uid 0); 1 Jan 2024 09:58:00 -0000");
	assert_field(SMTP_F_SECOND_RECEIVED,
		     "from [198.51.100.9] (helo=pc)\tby relay.example with esmtpa (Exim 4.86)");
	assert_list(tx.path, tx.n_path, path);
}

static void test_smtp_msg_header_limit(void **state)
{
	struct smtp_msg_cfg cfg = cfg_full;
	struct smtp_msg_stats st;

	(void)state;
	cfg.max_header_bytes = 60;
	run(&cfg, "From: a@b.example\r\n"
		  "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
		  "Subject: after the limit\r\n"
		  "Content-Type: text/plain\r\n"
		  "\r\n"
		  "still walked\r\n");
	assert_true(tx.flags & SMTP_TX_F_HDR_TRUNC);
	assert_field(SMTP_F_FROM, "a@b.example");
	assert_field(SMTP_F_SUBJECT, NULL);
	assert_int_equal(rec.headers, 1);
	assert_int_equal(rec.headers_done, 1);
	assert_memory_equal(rec.body, "still walked\r\n|", 15);
	smtp_msg_stats(msg, &st);
	assert_true(st.hdr_bytes_skipped > 0);
}

static const char nested[] =
	"From: \"Doe, John\" <jd@example.com>\r\n"
	"To: \"Smith, A\" <a@example.com>, b@example.com, \"Smith, A\" <a@example.com>\r\n"
	"Subject: =?ISO-2022-JP?B?GyRCJEskWyRzJDQbKEI=?=\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
	"\r\n"
	"preamble is not content\r\n"
	"--outer\r\n"
	"Content-Type: multipart/alternative;\r\n"
	"  boundary=\"inner\"\r\n"
	"\r\n"
	"--inner\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"caf=C3=A9 see http://example.com/a=\r\n"
	"b?c=3D1 now\r\n"
	"--inner\r\n"
	"Content-Type: text/html\r\n"
	"\r\n"
	"<a href=\"https://evil.example/x\">x</a>\r\n"
	"--inner--\r\n"
	"--outer\r\n"
	"Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
	"Content-Disposition: attachment;\r\n"
	" filename*=utf-8''%E2%82%AC%20rates.exe\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"SGVsbG8s\r\n"
	"IHdvcmxk\r\n"
	"IQ==\r\n"
	"--outer--\r\n"
	"epilogue\r\n";

static void check_nested(void)
{
	static const char *const to[] = {"\"Smith, A\" <a@example.com>", "b@example.com", NULL};
	/* The application/octet-stream part is walked (name, index) but not decoded. */
	static const char body[] = "caf\xc3\xa9 see http://example.com/ab?c=1 now|"
				   "<a href=\"https://evil.example/x\">x</a>|"
				   "|";

	assert_field(SMTP_F_FROM_DISPLAY, "Doe, John");
	assert_field(SMTP_F_SUBJECT, "\xe3\x81\xab\xe3\x81\xbb\xe3\x82\x93\xe3\x81\x94");
	assert_list(tx.to, tx.n_to_stored, to);
	assert_int_equal(tx.n_to, 2);
	assert_int_equal(rec.parts_ended, 3);
	assert_int_equal(rec.body_len, strlen(body));
	assert_memory_equal(rec.body, body, strlen(body));
	assert_true(rec.last.is_attachment);
	assert_int_equal(rec.last.encoding, 1);
	assert_int_equal(rec.last.depth, 1);
	assert_int_equal(rec.last.index, 2);
	assert_string_equal(rec.last_filename, "\xe2\x82\xac rates.exe");
	assert_int_equal(rec.nurls, 2);
	assert_string_equal(rec.urls[0], "http://example.com/ab?c=1");
	assert_string_equal(rec.urls[1], "https://evil.example/x");
}

/* Nested multipart, QP text, HTML, base64 attachment with an RFC 2231 name; every cut. */
static void test_smtp_msg_nested_multipart(void **state)
{
	size_t n = strlen(nested);

	(void)state;
	for (size_t a = 0; a <= n; a++) {
		run_cut(&cfg_full, nested, a, a);
		check_nested();
	}
	run_bytewise(&cfg_full, nested);
	check_nested();
}

/* Multiparts nested deeper than the walker follows are skipped and counted, never decoded. */
static void test_smtp_msg_depth_cap(void **state)
{
	char m[8192];
	size_t o = 0;
	struct smtp_msg_stats st;

	(void)state;
	o += (size_t)snprintf(m + o, sizeof(m) - o, "Subject: deep\r\n");
	for (int d = 0; d < 12; d++)
		o += (size_t)snprintf(
			m + o, sizeof(m) - o,
			"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", d, d);
	o += (size_t)snprintf(m + o, sizeof(m) - o, "Content-Type: text/plain\r\n\r\nhidden\r\n");
	for (int d = 11; d >= 0; d--)
		o += (size_t)snprintf(m + o, sizeof(m) - o, "--b%d--\r\n", d);
	run(&cfg_full, m);
	smtp_msg_stats(msg, &st);
	assert_int_equal(st.opaque_parts, 1);
	assert_int_equal(st.parts, 0);
	assert_int_equal(rec.body_len, 0);
	assert_field(SMTP_F_SUBJECT, "deep");
}

/* decode_body off: headers only, the body walk is skipped entirely. */
static void test_smtp_msg_no_body_walk(void **state)
{
	struct smtp_msg_cfg cfg = cfg_full;

	(void)state;
	cfg.decode_body = false;
	cfg.keep_subject = false;
	run(&cfg, nested);
	assert_int_equal(rec.body_len, 0);
	assert_int_equal(rec.parts_ended, 0);
	assert_int_equal(rec.nurls, 0);
	assert_int_equal(rec.headers_done, 1);
	assert_field(SMTP_F_SUBJECT, NULL);
	assert_field(SMTP_F_FROM_DISPLAY, "Doe, John");
}

/* A forwarded message: the inner message's header is not the record's, its body is walked. */
static void test_smtp_msg_rfc822_part(void **state)
{
	(void)state;
	run(&cfg_full, "From: outer@example.com\r\n"
		       "Content-Type: multipart/mixed; boundary=X\r\n"
		       "\r\n"
		       "--X\r\n"
		       "Content-Type: message/rfc822\r\n"
		       "\r\n"
		       "From: inner@example.com\r\n"
		       "Subject: inner\r\n"
		       "Content-Transfer-Encoding: base64\r\n"
		       "\r\n"
		       "aW5uZXIgYm9keQ==\r\n"
		       "--X--\r\n");
	assert_field(SMTP_F_FROM, "outer@example.com");
	assert_field(SMTP_F_SUBJECT, NULL);
	assert_int_equal(rec.headers, 2);
	assert_int_equal(rec.parts_ended, 1);
	assert_memory_equal(rec.body, "inner body|", 11);
	assert_int_equal(rec.last.depth, 2);
}

/*
 * A sink that holds body pieces back until fed, as the signature sink does:
 * every feed that called body ends with fed (nothing stays held), and a
 * feed that did not (header or attachment bytes) does not call it.
 */
static struct {
	char held[4096];
	size_t held_len;
	bool in_feed, body_since_fed;
	unsigned int feds_in_feed;
} hold;

static void hold_body(void *arg, const struct smtp_msg_part *part, const uint8_t *p, size_t n)
{
	(void)arg;
	(void)part;
	assert_true(hold.held_len + n <= sizeof(hold.held));
	memcpy(hold.held + hold.held_len, p, n);
	hold.held_len += n;
	hold.body_since_fed = true;
}

static void hold_fed(void *arg)
{
	struct rec *r = arg;

	if (hold.in_feed) {
		assert_true(hold.body_since_fed);
		hold.feds_in_feed++;
	}
	memcpy(r->body + r->body_len, hold.held, hold.held_len);
	r->body_len += hold.held_len;
	hold.held_len = 0;
	hold.body_since_fed = false;
}

static const struct smtp_msg_sink hold_sink = {.body = hold_body, .fed = hold_fed};

static void hold_feed(const uint8_t *p, size_t n)
{
	hold.in_feed = true;
	smtp_msg_feed(msg, p, n);
	hold.in_feed = false;
	assert_int_equal(hold.held_len, 0);
}

static void hold_start(void)
{
	tx_start();
	memset(&hold, 0, sizeof(hold));
	smtp_msg_begin(msg, &cfg_full, &tx, &hold_sink, &rec);
}

/* rec_sink's output without its part marks: what hold_sink gives. */
static void assert_body_unmarked(const char *want, size_t want_len)
{
	size_t j = 0;

	for (size_t i = 0; i < want_len; i++) {
		if (want[i] == '|')
			continue;
		assert_true(j < rec.body_len);
		assert_int_equal(want[i], rec.body[j++]);
	}
	assert_int_equal(j, rec.body_len);
}

static void test_smtp_msg_fed_after_body_only(void **state)
{
	static const char text[] = "Subject: f\r\n"
				   "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
				   "--b\r\n\r\n"
				   "text one\r\ntwo\r\n"
				   "--b\r\n"
				   "Content-Type: application/pdf\r\n"
				   "Content-Transfer-Encoding: base64\r\n\r\n"
				   "SGVsbG8sIHdvcmxk\r\nSGVsbG8sIHdvcmxk\r\n"
				   "--b\r\n\r\n"
				   "last\r\n"
				   "--b--\r\n";
	size_t n = strlen(text), want_len;
	char want[256];

	(void)state;
	run(&cfg_full, text);
	want_len = rec.body_len;
	memcpy(want, rec.body, want_len);
	for (size_t a = 0; a <= n; a++) {
		for (size_t b = a; b <= n; b += 7) {
			hold_start();
			hold_feed(U8(text), a);
			hold_feed(U8(text) + a, b - a);
			hold_feed(U8(text) + b, n - b);
			smtp_msg_end(msg);
			assert_body_unmarked(want, want_len);
		}
	}
	/* A byte at a time: header and attachment bytes call fed none of the times. */
	hold_start();
	for (size_t i = 0; i < n; i++)
		hold_feed(U8(text) + i, 1);
	smtp_msg_end(msg);
	assert_body_unmarked(want, want_len);
	assert_true(hold.feds_in_feed > 0);
	assert_true(hold.feds_in_feed <= strlen("text one\r\ntwo\r\nlast\r\n"));
}

/* A gap in the body drops the damaged line, then decoding resumes. */
static void test_smtp_msg_gap(void **state)
{
	static const char a[] = "Subject: g\r\n\r\nline one\r\nline t";
	static const char b[] = "wo\r\nline three\r\n";

	(void)state;
	tx_start();
	smtp_msg_begin(msg, &cfg_full, &tx, &rec_sink, &rec);
	smtp_msg_feed(msg, U8(a), strlen(a));
	smtp_msg_gap(msg, 100);
	smtp_msg_feed(msg, U8(b), strlen(b));
	smtp_msg_end(msg);
	assert_true(tx.flags & SMTP_TX_F_GAP);
	assert_memory_equal(rec.body, "line one\r\nline tline three\r\n|", 29);
	assert_false(smtp_msg_in_headers(msg));
}

static void test_smtp_msg_in_headers(void **state)
{
	(void)state;
	tx_start();
	smtp_msg_begin(msg, &cfg_full, &tx, &rec_sink, &rec);
	assert_true(smtp_msg_in_headers(msg));
	smtp_msg_feed(msg, U8("Subject: x\r\n"), 12);
	assert_true(smtp_msg_in_headers(msg));
	smtp_msg_feed(msg, U8("\r\nbody"), 6);
	assert_false(smtp_msg_in_headers(msg));
	smtp_msg_end(msg);
	/* A message cut before its blank line still finishes the record. */
	run(&cfg_full, "Received: from a (a [192.0.2.1]) by b\r\nSubject: cut");
	assert_field(SMTP_F_SUBJECT, "cut");
	assert_field(SMTP_F_FIRST_RECEIVED, "from a (a [192.0.2.1]) by b");
	assert_int_equal(rec.headers_done, 1);
}

/* An HTML attachment is text: its decoded links are URLs too. */
static void test_smtp_msg_html_attachment_urls(void **state)
{
	(void)state;
	run(&cfg_full, "Content-Type: multipart/mixed; boundary=\"b\"\r\n"
		       "\r\n"
		       "--b\r\n"
		       "Content-Type: text/html; name=\"invoice.html\"\r\n"
		       "Content-Disposition: attachment; filename=\"invoice.html\"\r\n"
		       "Content-Transfer-Encoding: base64\r\n"
		       "\r\n"
		       "PGZvcm0gYWN0aW9uPSJodHRwczovL3BoaXNo\r\n"
		       "LmV4YW1wbGUvbG9naW4iPg==\r\n"
		       "--b--\r\n");
	assert_int_equal(rec.nurls, 1);
	assert_string_equal(rec.urls[0], "https://phish.example/login");
	assert_true(rec.last.is_attachment && rec.last.is_html && rec.last.is_text);
	assert_string_equal(rec.last_filename, "invoice.html");
}

/* A field longer than the field buffer is cut, and the record says so. */
static void test_smtp_msg_long_field_flagged(void **state)
{
	static char m[8192];
	size_t o;

	(void)state;
	o = (size_t)snprintf(m, sizeof(m), "Subject: ");
	memset(m + o, 's', 5000);
	o += 5000;
	snprintf(m + o, sizeof(m) - o, "\r\nFrom: a@b.example\r\n\r\nbody\r\n");
	run(&cfg_full, m);
	assert_true(tx.flags & SMTP_TX_F_TRUNCATED);
	assert_field(SMTP_F_FROM, "a@b.example");
	assert_true(tx.f[SMTP_F_SUBJECT].len > 900 && tx.f[SMTP_F_SUBJECT].len <= 1024);
	assert_memory_equal(rec.body, "body\r\n|", 7);
}

static void test_smtp_msg_size_reported(void **state)
{
	(void)state;
	print_message("smtp_msg_size() = %zu\n", smtp_msg_size());
	assert_true(smtp_msg_size() < 16384);
}

static int setup(void **state)
{
	(void)state;
	msg = calloc(1, smtp_msg_size());
	return msg ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(msg);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_msg_headers_every_split),
		cmocka_unit_test(test_smtp_msg_lf_only),
		cmocka_unit_test(test_smtp_msg_folded_values),
		cmocka_unit_test(test_smtp_msg_received_path),
		cmocka_unit_test(test_smtp_msg_header_limit),
		cmocka_unit_test(test_smtp_msg_nested_multipart),
		cmocka_unit_test(test_smtp_msg_depth_cap),
		cmocka_unit_test(test_smtp_msg_no_body_walk),
		cmocka_unit_test(test_smtp_msg_rfc822_part),
		cmocka_unit_test(test_smtp_msg_gap),
		cmocka_unit_test(test_smtp_msg_fed_after_body_only),
		cmocka_unit_test(test_smtp_msg_in_headers),
		cmocka_unit_test(test_smtp_msg_html_attachment_urls),
		cmocka_unit_test(test_smtp_msg_long_field_flagged),
		cmocka_unit_test(test_smtp_msg_size_reported),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
