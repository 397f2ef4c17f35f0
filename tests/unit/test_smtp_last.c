// SPDX-License-Identifier: BSD-3-Clause
/*
 * The last reply of the records (sensor/smtp_session_reply.c): a
 * transaction's is its own last reply; a session record's (no transaction
 * said, or the one smtp_tls_done() makes) is the session's last reply, its
 * text cut at 56 bytes. The session's text lives in the string arena or in
 * the transaction holding the same reply; these tests walk the paths where
 * it moves between them: STARTTLS, a transaction that leaves, a lost
 * segment, the close.
 */
#include "smtp_session_fx.h"
#include "sensor/smtp_cmd.h"
#include "sensor/smtp_session_int.h"

#define MAX_TX	 10
#define GAP_MARK "\x01gap"

/* The session's ring, context and flow are H's (smtp_session_fx.h). */
static struct {
	unsigned int n_tx;
	char last[MAX_TX][300]; /* SMTP_F_LAST_REPLY of each EV_TX, in order */
	bool session[MAX_TX];	/* SMTP_TX_F_SESSION */
} L;

static int setup_last(void **state)
{
	memset(&L, 0, sizeof(L));
	return setup(state);
}

/* The records so far, their last replies. */
static void drain_last(void)
{
	drain(&H, &H.ref);
	for (unsigned int i = 0; i < H.ref.n; i++) {
		const struct event_tx *e = (const void *)H.ref.r[i].b;
		const char *v;
		size_t n;

		if (e->h.type != EV_TX)
			continue;
		v = smtp_tx_get(&e->tx, SMTP_F_LAST_REPLY, &n);
		assert_true(L.n_tx < MAX_TX);
		snprintf(L.last[L.n_tx], sizeof(L.last[0]), "%.*s", (int)n, v);
		L.session[L.n_tx] = (e->tx.flags & SMTP_TX_F_SESSION) != 0;
		L.n_tx++;
	}
}

/* Client lines start "C", server lines "S"; GAP_MARK + 'C'/'S': a lost segment. */
static void feed_step(void *sess, const char *step)
{
	uint8_t dir = step[0] == 'C' ? FLOW_DIR_TO_SERVER : FLOW_DIR_TO_CLIENT;
	const char *text = step + 1;
	size_t n = strlen(text);

	if (!strncmp(step, GAP_MARK, 4)) {
		dir = step[4] == 'C' ? FLOW_DIR_TO_SERVER : FLOW_DIR_TO_CLIENT;
		smtp_l7_ops.gap(H.ctx, sess, &H.flow, dir, 100, TS0 + 1);
		return;
	}
	/* A ClientHello's first bytes: TLS starts for real. */
	if (!strcmp(text, "TLS"))
		text = "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00", n = 10;
	deliver(&H, sess, dir, (const uint8_t *)text, n, TS0 + 1);
}

/* One session, every step, then its close: the records it made. */
static void run_steps(const char *const *steps, size_t n)
{
	void *s = smtp_l7_ops.open(H.ctx, &H.flow, TS0);

	assert_non_null(s);
	H.flow.bytes_lo[0] = H.flow.bytes_lo[1] = 0;
	for (size_t i = 0; i < n; i++)
		feed_step(s, steps[i]);
	smtp_l7_ops.close(H.ctx, s, &H.flow, FLOW_END_FIN, TS0 + 2);
	smtp_l7_ops.housekeep(H.ctx, TS0 + 3);
	drain_last();
}

#define RUN(a) run_steps((a), sizeof(a) / sizeof((a)[0]))
#define HELLO  "S220 mx.example.net ESMTP\r\n", "CEHLO c.example.org\r\n"
#define LONG   "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* What a session record says of a reply: its code and 56 bytes of its text. */
static const char *cut56(const char *code, const char *text)
{
	static char buf[80];

	snprintf(buf, sizeof(buf), "%s %.56s", code, text);
	return buf;
}

/* A message accepted: a transaction record. */
#define MAIL_OK                                                                                    \
	"CMAIL FROM:<a@example.org>\r\n", "S250 2.1.0 Ok\r\n", "CRCPT TO:<b@example.net>\r\n",     \
		"S250 2.1.5 Ok\r\n", "CDATA\r\n", "S354 go\r\n", "Cx\r\n.\r\n",                    \
		"S250 2.0.0 queued\r\n"

/* No transaction: the session record says the last reply, from the arena. */
static void test_last_session_record_no_tx(void **state)
{
	const char *const st[] = {HELLO, "S250 mx\r\n", "CQUIT\r\n", "S221 2.0.0 Bye " LONG "\r\n"};
	const char *const multi[] = {HELLO, "S250-mx\r\n", "S250 8BITMIME\r\n"};

	(void)state;
	RUN(st);
	assert_int_equal(L.n_tx, 1);
	assert_true(L.session[0]);
	assert_string_equal(L.last[0], cut56("221", "2.0.0 Bye " LONG));
	/* A multi-line reply last: the text of its last line. */
	RUN(multi);
	assert_int_equal(L.n_tx, 2);
	assert_true(L.session[1]);
	assert_string_equal(L.last[1], "250 8BITMIME");
}

/* A transaction said, then QUIT: its record has its own last reply; no session record. */
static void test_last_tx_then_quit(void **state)
{
	const char *const st[] = {HELLO, "S250 mx\r\n", MAIL_OK, "CQUIT\r\n", "S221 Bye\r\n"};

	(void)state;
	RUN(st);
	assert_int_equal(L.n_tx, 1);
	assert_false(L.session[0]);
	assert_string_equal(L.last[0], "250 2.0.0 queued");
}

/* The session ends with a transaction open (no message): its record has the last reply. */
static void test_last_open_tx_at_close(void **state)
{
	const char *const st[] = {HELLO, "S250 mx\r\n", "CMAIL FROM:<a@example.org>\r\n",
				  "S250 2.1.0 Ok " LONG "\r\n"};

	(void)state;
	RUN(st);
	assert_int_equal(L.n_tx, 1);
	assert_false(L.session[0]);
	assert_string_equal(L.last[0], "250 2.1.0 Ok " LONG);
}

/* A transaction refused and reset (RSET is not a record), then the close:
 * no transaction said, so the session record has the session's last reply,
 * which the transaction held until it left. */
static void test_last_held_by_tx_then_session_record(void **state)
{
	const char *const st[] = {HELLO, "S250 mx\r\n", "CMAIL FROM:<a@example.org>\r\n",
				  "S550 5.7.1 no " LONG "\r\n"};

	(void)state;
	RUN(st);
	assert_true(L.n_tx >= 1);
	/* Whatever record the refused MAIL makes carries that reply, cut or not. */
	assert_memory_equal(L.last[L.n_tx - 1], "550 5.7.1 no ", 13);
}

/* STARTTLS after a transaction was said: the record TLS makes has the 220. */
static void test_last_starttls_after_tx(void **state)
{
	const char *const st[] = {
		HELLO, "S250 mx\r\n", MAIL_OK, "CSTARTTLS\r\n", "S220 2.0.0 Ready " LONG "\r\n",
		"CTLS"};

	(void)state;
	RUN(st);
	assert_int_equal(L.n_tx, 2);
	assert_string_equal(L.last[0], "250 2.0.0 queued");
	assert_string_equal(L.last[1], "220 2.0.0 Ready " LONG);
}

/* STARTTLS and QUIT pipelined after a transaction: the QUIT's reply sends
 * the STARTTLS record; TLS then makes a session record whose last reply is
 * the 221, kept in the arena when the record holding it left. */
static void test_last_starttls_quit_pipelined(void **state)
{
	const char *const st[] = {HELLO,
				  "S250 mx\r\n",
				  MAIL_OK,
				  "CSTARTTLS\r\nQUIT\r\n",
				  "S220 2.0.0 Ready\r\n",
				  "S221 2.0.0 Bye " LONG "\r\n",
				  "CTLS"};

	(void)state;
	RUN(st);
	assert_int_equal(L.n_tx, 3);
	assert_false(L.session[1]);
	assert_string_equal(L.last[1], "221 2.0.0 Bye " LONG);
	assert_true(L.session[2]);
	assert_string_equal(L.last[2], cut56("221", "2.0.0 Bye " LONG));
}

/* STARTTLS, then clear text (a decrypted capture): the record that stood
 * for the switch goes unsaid; the session record has the 220, which that
 * record held, cut at 56 bytes. */
static void test_last_starttls_clear_text(void **state)
{
	const char *const st[] = {HELLO, "S250 mx\r\n", "CSTARTTLS\r\n",
				  "S220 2.0.0 Ready " LONG "\r\n", "CNOOP\r\n"};

	(void)state;
	RUN(st);
	assert_int_equal(L.n_tx, 1);
	assert_true(L.session[0]);
	assert_string_equal(L.last[0], cut56("220", "2.0.0 Ready " LONG));
}

/* A lost segment after the last reply, then the close: the reply's text
 * was not in the line buffer the gap dropped. */
static void test_last_after_gap(void **state)
{
	const char *const st[] = {HELLO,	"S250 mx " LONG "\r\n", GAP_MARK "S",
				  GAP_MARK "C", "S250-half\r\n",	GAP_MARK "S"};

	(void)state;
	RUN(st);
	assert_int_equal(L.n_tx, 1);
	assert_true(L.session[0]);
	assert_string_equal(L.last[0], cut56("250", "mx " LONG));
}

/* A transaction open at a gap, refused after it: its last reply and the session's. */
static void test_last_tx_across_gap(void **state)
{
	const char *const st[] = {HELLO,
				  "S250 mx\r\n",
				  "CMAIL FROM:<a@example.org>\r\n",
				  GAP_MARK "S",
				  "S250 2.1.0 Ok\r\n",
				  "CRSET\r\n",
				  "S250 2.0.0 Reset\r\n"};

	(void)state;
	RUN(st);
	assert_int_equal(L.n_tx, 1);
	assert_false(L.session[0]);
	assert_string_equal(L.last[0], "250 2.0.0 Reset");
}

/*
 * The greeting as the session's last reply: named by the banner string when
 * that holds its text (up to 48 bytes, the banner's cap), else kept in the
 * arena; either way the record says the same, cut at 56 bytes.
 */
static void test_last_banner(void **state)
{
	static const char b48[] = "mx.example.net ESMTP Postfix (Debian/GNU) ready.";
	static const char b49[] = "mx.example.net ESMTP Postfix (Debian/GNU) ready..";
	const char *const only[] = {"S220 mx.example.net ESMTP\r\n"};
	const char *const at48[] = {"S220 mx.example.net ESMTP Postfix (Debian/GNU) ready.\r\n"};
	const char *const at49[] = {"S220 mx.example.net ESMTP Postfix (Debian/GNU) ready..\r\n"};
	const char *const lng[] = {"S220 " LONG "\r\n"};
	const char *const multi[] = {"S220-mx.example.net\r\n", "S220 ESMTP\r\n"};
	const char *const same[] = {"S220-mx.example.net\r\n", "S220 mx.example.net\r\n"};
	const char *const then[] = {HELLO, "S250 mx\r\n"};
	const char *const tls[] = {"S220 mx.example.net ESMTP\r\n", "CSTARTTLS\r\n",
				   "S220 2.0.0 Ready\r\n", "CTLS"};

	(void)state;
	assert_int_equal(strlen(b48), 48);
	assert_int_equal(strlen(b49), 49);
	RUN(only);
	RUN(at48);
	RUN(at49);
	RUN(lng);
	RUN(multi);
	RUN(same);
	RUN(then);
	RUN(tls);
	assert_int_equal(L.n_tx, 8);
	/* TLS makes the last one: a record that stands for the switch. */
	for (unsigned int i = 0; i + 1 < L.n_tx; i++)
		assert_true(L.session[i]);
	assert_string_equal(L.last[0], "220 mx.example.net ESMTP");
	assert_string_equal(L.last[1], cut56("220", b48));
	assert_string_equal(L.last[2], cut56("220", b49));
	assert_string_equal(L.last[3], cut56("220", LONG));
	assert_string_equal(L.last[4], "220 ESMTP");
	assert_string_equal(L.last[5], "220 mx.example.net");
	assert_string_equal(L.last[6], "250 mx");
	assert_string_equal(L.last[7], "220 2.0.0 Ready");
}

/* The simple form of a last reply: the code printed, a blank, the text, cut at cap. */
static size_t ref_fmt_reply(char *dst, size_t cap, uint16_t code, const uint8_t *text, size_t n)
{
	char buf[600];
	int k;

	if (cap < 5)
		return 0;
	k = snprintf(buf, sizeof(buf), "%u %.*s", code, (int)n, (const char *)text);
	k = (size_t)k < cap ? k : (int)cap;
	memcpy(dst, buf, (size_t)k);
	return (size_t)k;
}

/* "NNN text" from the parsed line's head (or a code's) as printed from the code. */
static void test_last_fmt_as_printed(void **state)
{
	static const char *const tails[] = {
		"", " ", "-", " ok", "-2.1.5 ok", " \t x", "  5.7.1 <a@b> rejected by policy"};
	char line[64], a[80], b[80], head[4];

	(void)state;
	for (unsigned int c = 100; c <= 999; c++) {
		smtp_code_head((uint16_t)c, head);
		snprintf(a, sizeof(a), "%03u ", c);
		assert_memory_equal(head, a, 4);
	}
	for (unsigned int c = 100; c <= 599; c++) {
		for (size_t f = 0; f < sizeof(tails) / sizeof(tails[0]); f++) {
			struct smtp_reply r;
			int n = snprintf(line, sizeof(line), "%03u%s", c, tails[f]);

			assert_true(smtp_reply_parse((const uint8_t *)line, (uint32_t)n, &r));
			for (size_t cap = 0; cap <= 24; cap++) {
				size_t ka = smtp_fmt_reply(a, cap, r.head, r.text, r.text_len);
				size_t kb = ref_fmt_reply(b, cap, r.code, r.text, r.text_len);

				assert_int_equal(ka, kb);
				assert_memory_equal(a, b, ka);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_last_session_record_no_tx, setup_last,
						teardown),
		cmocka_unit_test_setup_teardown(test_last_tx_then_quit, setup_last, teardown),
		cmocka_unit_test_setup_teardown(test_last_open_tx_at_close, setup_last, teardown),
		cmocka_unit_test_setup_teardown(test_last_held_by_tx_then_session_record, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_last_starttls_after_tx, setup_last, teardown),
		cmocka_unit_test_setup_teardown(test_last_starttls_quit_pipelined, setup_last,
						teardown),
		cmocka_unit_test_setup_teardown(test_last_starttls_clear_text, setup_last,
						teardown),
		cmocka_unit_test_setup_teardown(test_last_after_gap, setup_last, teardown),
		cmocka_unit_test_setup_teardown(test_last_tx_across_gap, setup_last, teardown),
		cmocka_unit_test_setup_teardown(test_last_banner, setup_last, teardown),
		cmocka_unit_test(test_last_fmt_as_printed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
