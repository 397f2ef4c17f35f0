// SPDX-License-Identifier: BSD-3-Clause
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/smtp_line.h"

#define U8(s) ((const uint8_t *)(s))

struct got {
	unsigned int n;
	char text[16][80];
	uint32_t len[16];
	bool truncated[16], bare_lf[16], nul[16], after_gap[16];
};

/* Feeds chunks, attaching buf (cap bytes) when the splitter asks, and records the lines. */
static void feed(struct smtp_line_buf *lb, uint8_t *buf, uint32_t cap, const uint8_t *p, size_t n,
		 struct got *g)
{
	const uint8_t *pos = p, *end = p + n;
	struct smtp_line l;

	for (;;) {
		enum smtp_line_status st = smtp_line_next(lb, buf, cap, &pos, end, &l);

		if (st == SMTP_LINE_NEED_BUF) {
			smtp_line_attach(lb, buf != NULL);
			continue;
		}
		if (st == SMTP_LINE_AGAIN)
			break;
		assert_true(g->n < 16);
		assert_true(l.len < sizeof(g->text[0]));
		memcpy(g->text[g->n], l.ptr, l.len);
		g->text[g->n][l.len] = '\0';
		g->len[g->n] = l.len;
		g->truncated[g->n] = l.truncated;
		g->bare_lf[g->n] = l.bare_lf;
		g->nul[g->n] = l.has_nul;
		g->after_gap[g->n] = l.after_gap;
		g->n++;
	}
	assert_ptr_equal(pos, end);
	/* Like the session: the buffer goes back whenever no partial line needs it. */
	smtp_line_detach(lb);
}

static const char conv[] = "EHLO client.example.org\r\n"
			   "MAIL FROM:<a@b.example>\r\n"
			   "\r\n"
			   "bare\n"
			   "NUL\0in\r\n"
			   "two CRs\r\r\n"
			   "RCPT TO:<c@d.example>\r\n";

static void check_conv(const struct got *g)
{
	assert_int_equal(g->n, 7);
	assert_string_equal(g->text[0], "EHLO client.example.org");
	assert_string_equal(g->text[1], "MAIL FROM:<a@b.example>");
	assert_int_equal(g->len[2], 0);
	assert_string_equal(g->text[3], "bare");
	assert_true(g->bare_lf[3]);
	assert_false(g->bare_lf[1]);
	assert_int_equal(g->len[4], 6);
	assert_memory_equal(g->text[4], "NUL\0in", 6);
	assert_true(g->nul[4]);
	assert_false(g->nul[3]);
	assert_string_equal(g->text[5], "two CRs");
	assert_string_equal(g->text[6], "RCPT TO:<c@d.example>");
	for (unsigned int i = 0; i < g->n; i++)
		assert_false(g->truncated[i]);
}

/* Wherever a segment boundary falls, the same lines come out. */
static void test_smtp_line_every_split(void **state)
{
	size_t n = sizeof(conv) - 1;

	(void)state;
	for (size_t k = 0; k <= n; k++) {
		uint8_t buf[64];
		struct smtp_line_buf lb;
		struct got g = {0};

		smtp_line_init(&lb);
		feed(&lb, buf, sizeof(buf), U8(conv), k, &g);
		feed(&lb, buf, sizeof(buf), U8(conv) + k, n - k, &g);
		check_conv(&g);
		assert_false(smtp_line_pending(&lb));
	}
}

/* Each line of in (cap 16) split at byte k, then in 1-byte chunks: all as unsplit. */
static void check_at_every_split(const char *in, const struct got *want)
{
	size_t n = strlen(in);

	for (size_t k = 0; k <= n + 1; k++) {
		uint8_t buf[16];
		struct smtp_line_buf lb;
		struct got g = {0};

		smtp_line_init(&lb);
		if (k <= n) {
			feed(&lb, buf, sizeof(buf), U8(in), k, &g);
			feed(&lb, buf, sizeof(buf), U8(in) + k, n - k, &g);
		} else {
			for (size_t i = 0; i < n; i++)
				feed(&lb, buf, sizeof(buf), U8(in) + i, 1, &g);
		}
		assert_int_equal(g.n, want->n);
		for (unsigned int i = 0; i < g.n; i++) {
			assert_string_equal(g.text[i], want->text[i]);
			assert_int_equal(g.truncated[i], want->truncated[i]);
			assert_int_equal(g.bare_lf[i], want->bare_lf[i]);
		}
		assert_false(smtp_line_pending(&lb));
	}
}

/* A line that fills the cap exactly is whole wherever it is split: the CRs
 * that end it are not line bytes, though the buffer has no room for them;
 * a byte past the cap after such a CR still cuts it. */
static void test_smtp_line_exactly_cap_at_every_split(void **state)
{
	static const struct got whole = {
		.n = 3,
		.text = {"0123456789abcdef", "0123456789abcdef", "0123456789abcdef"},
	};
	static const struct got cut = {
		.n = 3,
		.text = {"0123456789abcdef", "0123456789abcdef", "0123456789abcdef"},
		.truncated = {true, true, false},
		.bare_lf = {false, false, true},
	};

	(void)state;
	check_at_every_split("0123456789abcdef\r\n"
			     "0123456789abcdef\r\r\n"
			     "0123456789abcdef\r\n",
			     &whole);
	check_at_every_split("0123456789abcdef\rx\r\n"
			     "0123456789abcdefg\r\n"
			     "0123456789abcdef\n",
			     &cut);
}

static void test_smtp_line_one_byte_chunks(void **state)
{
	uint8_t buf[64];
	struct smtp_line_buf lb;
	struct got g = {0};

	(void)state;
	smtp_line_init(&lb);
	for (size_t i = 0; i < sizeof(conv) - 1; i++)
		feed(&lb, buf, sizeof(buf), U8(conv) + i, 1, &g);
	check_conv(&g);
}

/*
 * A NUL at every place in lines of every length up to three 16-byte blocks,
 * with the line that follows clean, in one chunk and cut at every byte: the
 * NUL is reported for its own line only, never for the next.
 */
static void test_smtp_line_nul_at_every_position(void **state)
{
	(void)state;
	for (size_t len = 1; len <= 48; len++)
		for (size_t k = 0; k <= len; k++) { /* k == len: no NUL */
			uint8_t text[64];
			size_t n = 0;

			memset(text, 'a', len);
			if (k < len)
				text[k] = 0;
			n = len;
			memcpy(text + n, "\r\nok\r\n", 6);
			n += 6;
			for (size_t cut = 0; cut <= n; cut++) {
				uint8_t buf[64];
				struct smtp_line_buf lb;
				struct got g = {0};

				smtp_line_init(&lb);
				feed(&lb, buf, sizeof(buf), text, cut, &g);
				feed(&lb, buf, sizeof(buf), text + cut, n - cut, &g);
				assert_int_equal(g.n, 2);
				assert_int_equal(g.len[0], len);
				assert_int_equal(g.nul[0], k < len);
				assert_false(g.nul[1]);
				assert_string_equal(g.text[1], "ok");
			}
		}
}

/* A NUL after the LF belongs to the next line, whatever comes first in the chunk. */
static void test_smtp_line_nul_in_next_line(void **state)
{
	static const char two[] = "first line\r\nse\0cond\r\nthird\n";
	uint8_t buf[64];
	struct smtp_line_buf lb;
	struct got g = {0};

	(void)state;
	smtp_line_init(&lb);
	feed(&lb, buf, sizeof(buf), U8(two), sizeof(two) - 1, &g);
	assert_int_equal(g.n, 3);
	assert_false(g.nul[0]);
	assert_true(g.nul[1]);
	assert_int_equal(g.len[1], 7);
	assert_false(g.nul[2]);
	assert_true(g.bare_lf[2]);
}

/* A 5000-byte line without LF: capped, flagged, and the next line is whole. */
static void test_smtp_line_overlong_assembled(void **state)
{
	static uint8_t junk[5000];
	uint8_t buf[64];
	struct smtp_line_buf lb;
	struct got g = {0};

	(void)state;
	memset(junk, 'A', sizeof(junk));
	smtp_line_init(&lb);
	feed(&lb, buf, sizeof(buf), junk, 100, &g);
	feed(&lb, buf, sizeof(buf), junk + 100, sizeof(junk) - 100, &g);
	assert_int_equal(g.n, 0);
	assert_true(smtp_line_pending(&lb));
	assert_int_equal(lb.len, sizeof(buf));
	feed(&lb, buf, sizeof(buf), U8("AAA\r\nQUIT\r\n"), 11, &g);
	assert_int_equal(g.n, 2);
	assert_true(g.truncated[0]);
	assert_int_equal(g.len[0], 64);
	assert_string_equal(g.text[1], "QUIT");
	assert_false(g.truncated[1]);
}

/* One line of n bytes and its CRLF in two chunks, at cap SMTP_LINE_CAP_MAX. */
static struct smtp_line at_max_cap(struct smtp_line_buf *lb, uint8_t *buf, uint8_t *in, size_t n)
{
	const uint8_t *pos = in, *end = in + n / 2;
	struct smtp_line l = {0};

	memset(in, 'x', n);
	memcpy(in + n, "\r\n", 2);
	smtp_line_init(lb);
	assert_int_equal(smtp_line_next(lb, buf, SMTP_LINE_CAP_MAX, &pos, end, &l),
			 SMTP_LINE_NEED_BUF);
	smtp_line_attach(lb, true);
	assert_int_equal(smtp_line_next(lb, buf, SMTP_LINE_CAP_MAX, &pos, end, &l),
			 SMTP_LINE_AGAIN);
	assert_int_equal(smtp_line_seen(lb), n / 2);
	end = in + n + 2;
	assert_int_equal(smtp_line_next(lb, buf, SMTP_LINE_CAP_MAX, &pos, end, &l), SMTP_LINE_OK);
	assert_false(smtp_line_pending(lb));
	return l;
}

/* The packed state holds the largest cap: a line that fills it is whole, one more byte is
 * cut; bytes cut past SMTP_LINE_CUT_MAX still say "cut" and "seen that many". */
static void test_smtp_line_state_at_caps(void **state)
{
	static uint8_t buf[SMTP_LINE_CAP_MAX], in[SMTP_LINE_CAP_MAX + 8000];
	struct smtp_line_buf lb;
	struct smtp_line l;
	const uint8_t *pos;

	(void)state;
	/* Assembled, the CR takes a byte of the buffer too: cap - 1 bytes and CR fill it;
	 * cap bytes leave the CR no room, and the line is still whole. */
	l = at_max_cap(&lb, buf, in, SMTP_LINE_CAP_MAX - 1);
	assert_int_equal(l.len, SMTP_LINE_CAP_MAX - 1);
	assert_false(l.truncated);
	l = at_max_cap(&lb, buf, in, SMTP_LINE_CAP_MAX);
	assert_int_equal(l.len, SMTP_LINE_CAP_MAX);
	assert_false(l.truncated);
	assert_false(l.bare_lf);
	l = at_max_cap(&lb, buf, in, SMTP_LINE_CAP_MAX + 1);
	assert_int_equal(l.len, SMTP_LINE_CAP_MAX);
	assert_true(l.truncated);
	/* 7000 bytes past the cap, no LF yet: the cut count saturates, still pending. */
	smtp_line_init(&lb);
	smtp_line_attach(&lb, true);
	memset(in, 'y', sizeof(in));
	pos = in;
	assert_int_equal(smtp_line_next(&lb, buf, SMTP_LINE_CAP_MAX, &pos,
					in + SMTP_LINE_CAP_MAX + 7000, &l),
			 SMTP_LINE_AGAIN);
	assert_int_equal(lb.cut, SMTP_LINE_CUT_MAX);
	assert_true(smtp_line_seen(&lb) > SMTP_LINE_CAP_MAX);
	assert_true(smtp_line_pending(&lb));
	pos = U8("\n");
	assert_int_equal(smtp_line_next(&lb, buf, SMTP_LINE_CAP_MAX, &pos, pos + 1, &l),
			 SMTP_LINE_OK);
	assert_true(l.truncated);
	assert_int_equal(l.len, SMTP_LINE_CAP_MAX);
	assert_false(smtp_line_pending(&lb));
}

/* A long line inside one chunk is cut to the cap as well. */
static void test_smtp_line_overlong_view(void **state)
{
	char line[300];
	uint8_t buf[32];
	struct smtp_line_buf lb;
	struct smtp_line l;
	const uint8_t *pos = U8(line);

	(void)state;
	memset(line, 'x', 200);
	memcpy(line + 200, "\r\n", 2);
	smtp_line_init(&lb);
	assert_int_equal(smtp_line_next(&lb, buf, sizeof(buf), &pos, U8(line) + 202, &l),
			 SMTP_LINE_OK);
	assert_true(l.truncated);
	assert_int_equal(l.len, 32);
	assert_ptr_equal(pos, U8(line) + 202);
}

/* No buffer to be had: the split line is reported lost, the next one is fine. */
static void test_smtp_line_no_buffer(void **state)
{
	struct smtp_line_buf lb;
	struct smtp_line l;
	const uint8_t *a = U8("RCPT TO:<x@"), *b = U8("y>\r\nDATA\r\n");
	const uint8_t *pos = a;

	(void)state;
	smtp_line_init(&lb);
	assert_int_equal(smtp_line_next(&lb, NULL, 64, &pos, a + 11, &l), SMTP_LINE_NEED_BUF);
	assert_ptr_equal(pos, a);
	smtp_line_attach(&lb, false);
	assert_int_equal(smtp_line_next(&lb, NULL, 64, &pos, a + 11, &l), SMTP_LINE_AGAIN);
	pos = b;
	assert_int_equal(smtp_line_next(&lb, NULL, 64, &pos, b + 10, &l), SMTP_LINE_OK);
	assert_true(l.truncated);
	assert_int_equal(l.len, 0);
	assert_int_equal(smtp_line_next(&lb, NULL, 64, &pos, b + 10, &l), SMTP_LINE_OK);
	assert_int_equal(l.len, 4);
	assert_memory_equal(l.ptr, "DATA", 4);
	assert_false(l.truncated);
}

/* After a gap the partial line is forgotten and the next line is flagged. */
static void test_smtp_line_gap(void **state)
{
	uint8_t buf[64];
	struct smtp_line_buf lb;
	struct got g = {0};

	(void)state;
	smtp_line_init(&lb);
	feed(&lb, buf, sizeof(buf), U8("MAIL FR"), 7, &g);
	smtp_line_attach(&lb, true); /* still attached while pending */
	smtp_line_gap(&lb);
	assert_false(smtp_line_pending(&lb));
	feed(&lb, buf, sizeof(buf), U8("ple>\r\nQUIT\r\n"), 12, &g);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.text[0], "ple>");
	assert_true(g.after_gap[0]);
	assert_false(g.after_gap[1]);
}

/* The buffer is only handed back when no partial line lives in it. */
static void test_smtp_line_detach_only_when_idle(void **state)
{
	uint8_t buf[64];
	struct smtp_line_buf lb;
	struct smtp_line l;
	const uint8_t *p = U8("HEL");

	(void)state;
	smtp_line_init(&lb);
	assert_int_equal(smtp_line_next(&lb, NULL, sizeof(buf), &p, p + 3, &l), SMTP_LINE_NEED_BUF);
	smtp_line_attach(&lb, true);
	assert_int_equal(smtp_line_next(&lb, buf, sizeof(buf), &p, p + 3, &l), SMTP_LINE_AGAIN);
	assert_false(smtp_line_detach(&lb));
	assert_true(smtp_line_attached(&lb));
	p = U8("O\r\n");
	assert_int_equal(smtp_line_next(&lb, buf, sizeof(buf), &p, p + 3, &l), SMTP_LINE_OK);
	assert_memory_equal(l.ptr, "HELO", 4);
	assert_ptr_equal(l.ptr, buf);
	assert_true(smtp_line_detach(&lb));
	assert_false(smtp_line_attached(&lb));
	smtp_line_wipe(&lb, buf, sizeof(buf)); /* nothing attached: no-op */
	assert_memory_equal(buf, "HELO", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_line_every_split),
		cmocka_unit_test(test_smtp_line_one_byte_chunks),
		cmocka_unit_test(test_smtp_line_exactly_cap_at_every_split),
		cmocka_unit_test(test_smtp_line_nul_at_every_position),
		cmocka_unit_test(test_smtp_line_nul_in_next_line),
		cmocka_unit_test(test_smtp_line_overlong_assembled),
		cmocka_unit_test(test_smtp_line_overlong_view),
		cmocka_unit_test(test_smtp_line_no_buffer),
		cmocka_unit_test(test_smtp_line_gap),
		cmocka_unit_test(test_smtp_line_detach_only_when_idle),
		cmocka_unit_test(test_smtp_line_state_at_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
