// SPDX-License-Identifier: BSD-3-Clause
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "sensor/smtp_hdr.h"

#define U8(s) ((const uint8_t *)(s))

struct entries {
	unsigned int n;
	char e[16][128];
};

static void collect(void *arg, const uint8_t *p, size_t len)
{
	struct entries *es = arg;

	if (es->n < 16)
		snprintf(es->e[es->n], sizeof(es->e[0]), "%.*s", (int)len, (const char *)p);
	es->n++;
}

static void check_split(const char *value, const char *const *want)
{
	struct entries es = {0};
	unsigned int i;

	unsigned int n = smtp_hdr_split_addrs(U8(value), strlen(value), collect, &es);

	assert_int_equal(n, es.n);
	for (i = 0; want[i]; i++) {
		assert_true(i < es.n);
		assert_string_equal(es.e[i], want[i]);
	}
	assert_int_equal(es.n, i);
}

/*
 * Zeek's split_mime_email_addresses(): raw entries between commas,
 * trimmed, display names and angle brackets kept, group syntax left in the
 * entries. Commas inside a quoted display name do not split.
 */
static void test_smtp_hdr_split_addrs(void **state)
{
	/* Zeek's Traces/smtp-multi-addr.pcap To: (unfolded: the fold whitespace stays). */
	static const char multi[] =
		"\"Jan Grashoefer\" <jan.grashoefer@gmail.com>,\r\n"
		"        \"Test Group\":addr-spec@example.com, <angle-addr@example.com>,"
		"        \"Test Member\" <name-addr@example.com>;, jan.grashofer@cern.ch";
	static const char *const multi_want[] = {"\"Jan Grashoefer\" <jan.grashoefer@gmail.com>",
						 "\"Test Group\":addr-spec@example.com",
						 "<angle-addr@example.com>",
						 "\"Test Member\" <name-addr@example.com>;",
						 "jan.grashofer@cern.ch",
						 NULL};
	static const char *const comma_want[] = {"\"jam,abrakadabra.ch\" <mirjam@abrakadabra.ch>",
						 NULL};
	static const char *const second_want[] = {"a@example.com", "\"Doe, John\" <jd@example.com>",
						  "\"x\\\",y\" <q@example.com>", NULL};
	static const char *const group_want[] = {"undisclosed-recipients:;", NULL};
	static const char *const odd_want[] = {"\"unclosed", "x@example.com", NULL};
	static const char *const none[] = {NULL};

	(void)state;
	check_split(multi, multi_want);
	/* suricata-verify smtp-to-comma: the quoted comma stays inside the entry. */
	check_split("\"jam,abrakadabra.ch\" <mirjam@abrakadabra.ch>", comma_want);
	check_split("a@example.com, \"Doe, John\" <jd@example.com>,\t\"x\\\",y\" <q@example.com>",
		    second_want);
	check_split("undisclosed-recipients:;", group_want);
	check_split("\"unclosed, x@example.com", odd_want);
	check_split("", none);
	check_split(" , ,, ", none);
}

static const char *received_ip(const char *v)
{
	static char ip[SMTP_HDR_IP_STRLEN];

	if (!smtp_hdr_received_ip(U8(v), strlen(v), ip))
		return "";
	return ip;
}

/* Zeek's find_address_in_smtp_header() on Received: styles seen in the corpus captures. */
/* The byte-at-a-time split smtp_hdr_split_addrs() replaced: the reference. */
static unsigned int ref_split(const uint8_t *v, size_t n, struct entries *es)
{
	const uint8_t *p = v, *end = v + n, *start = v;
	unsigned int count = 0;

	for (; p <= end; p++) {
		const uint8_t *q = NULL;

		if (p < end && *p == '"') {
			for (q = p + 1; q < end && *q != '"'; q++)
				q += *q == '\\';
			if (q < end) {
				p = q;
				continue;
			}
		}
		if (p < end && *p != ',')
			continue;
		const uint8_t *e = start;
		size_t len = (size_t)(p - start);

		smtp_hdr_trim(&e, &len);
		if (len) {
			collect(es, e, len);
			count++;
		}
		start = p + 1;
	}
	return count;
}

/*
 * Commas and quotes at every lane of a 16-byte vector and past it (filler of
 * every length in front), closed and unclosed quotes, escaped quotes, empty
 * entries, a list ending in a comma or inside a quote: the same entries as
 * the byte-at-a-time reference, for every length the list is cut to.
 */
static void test_smtp_hdr_split_addrs_every_lane(void **state)
{
	static const char *const tails[] = {
		"a@x.example, \"Doe, J\" <j@x.example>,, b@x.example",
		"\"esc \\\" , still\" <q@x.example> , c@x.example ,",
		"\"unclosed, d@x.example, e@x.example",
		"f@x.example,\"\",g@x.example\"",
	};
	char v[200];

	(void)state;
	for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++)
		for (int k = 0; k < 40; k++) {
			int n = snprintf(v, sizeof(v), "%.*s %s", k,
					 "Some Body Name With Many Words In It Here", tails[t]);

			for (int cut = 0; cut <= n; cut++) {
				struct entries got = {0}, want = {0};
				unsigned int gn, wn;

				gn = smtp_hdr_split_addrs(U8(v), (size_t)cut, collect, &got);
				wn = ref_split(U8(v), (size_t)cut, &want);
				assert_int_equal(gn, wn);
				assert_int_equal(got.n, want.n);
				for (unsigned int i = 0; i < got.n && i < 16; i++)
					assert_string_equal(got.e[i], want.e[i]);
			}
		}
}

static void test_smtp_hdr_received_styles(void **state)
{
	(void)state;
	/* Postfix (arkime smtp-decrypted.pcap). */
	assert_string_equal(received_ip("from INTRA-DMZ-MTA (unknown [60.20.0.15])\t"
					"by TRANSIT-MTA (Postfix) with ESMTPS id 4EFA8A00CB\t"
					"for <aponcelet@shewa.intradef.gouv.fr>; "
					"Thu,  5 Dec 2024 08:52:31 +0000 (UTC)"),
			    "60.20.0.15");
	/* Sendmail (arkime smtp-subject-8859-q.pcap): "(8.14.4/8.14.4)" is no address. */
	assert_string_equal(
		received_ip(
			"from xxxxxxxxxxxxx.xxx.com (localhost.localdomain [127.0.0.1])\t"
			"by xxxxxxxxxxxxx.xxx.com (8.14.4/8.14.4) with ESMTP id rBC38jeK000728\t"
			"for <xxxxxxxxx@xxxxxxx.com>; Wed, 11 Dec 2013 22:08:45 -0500"),
		"127.0.0.1");
	assert_string_equal(received_ip("(from xxxxx@localhost)\tby xxxxxxxxxxxxx.xxx.com "
					"(8.14.4/8.14.4/Submit) id rBC38jIS000725"),
			    "");
	/* qmail (suricata-verify smtp-file-data-01) and its usual relay form. */
	assert_string_equal(received_ip("qmail 1246 by uid 1741; Sun Sep 27 08:01:09 +0000 2015"),
			    "");
	assert_string_equal(received_ip("from unknown (HELO mail.example.com) (192.0.2.25)\r\n"
					"  by mx.example.net with SMTP; 1 Jan 2020 10:00:00 -0000"),
			    "192.0.2.25");
	/* Exim with leading-zero octets (arkime smtp-originating.pcap): two wrapped, the second
	 * wins. */
	assert_string_equal(
		received_ip("from [10.000.000.002] (helo=[10.000.00.03])\tby "
			    "xxxxxxxxxxxxxxxxxxxx.xxxxxxxxx.net with esmtpa (Exim 4.67)"),
		"10.0.0.3");
	/* Exchange: sender and receiver addresses in parentheses; Zeek takes the second. */
	assert_string_equal(
		received_ip("from EXCH01.corp.example.com (10.20.1.11) by "
			    "EXCH02.corp.example.com (10.20.1.12) with Microsoft SMTP Server "
			    "(version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id "
			    "15.1.2507.39; Tue, 5 Mar 2024 10:00:00 +0100"),
		"10.20.1.12");
	/* Not wrapped: ignored (the version-like "1.2.3.4x" and "id 1.2.3.4;" forms). */
	assert_string_equal(received_ip("from host1.2.3.4x by y id 1.2.3.4;"), "");
	/* IPv6 in brackets; Postfix's "[IPv6:...]" form is not wrapped by Zeek's rule. */
	assert_string_equal(received_ip("from a (a [2001:db8::25]) by b"), "2001:db8::25");
	assert_string_equal(received_ip("from a (a [IPv6:2001:db8::25]) by b"), "");
	/* An address alone is taken. */
	assert_string_equal(received_ip("192.0.2.1"), "192.0.2.1");
	/* Host names full of hex letters before the addresses (skipped as a run); octets
	 * of one, two and three digits written back. */
	assert_string_equal(received_ip("from deface.cafe (beef [100.0.10.255]) by b"),
			    "100.0.10.255");
	assert_string_equal(received_ip("from deface.cafe (deface.cafe [203.0.113.9]) by "
					"bad.cafe.feed [2001:db8:a::b0]"),
			    "2001:db8:a::b0");
}

/* The skips: IPv6 only where a ':' is in reach, IPv4 not inside digit runs no '.' ends. */
static void test_smtp_hdr_received_skips_keep_every_address(void **state)
{
	char ip[SMTP_HDR_IP_STRLEN];

	(void)state;
	/* A date's colons come after the address: the hex words before them are passed. */
	assert_string_equal(received_ip("from client.example ([198.18.54.139]) by mx.example.net "
					"with ESMTP id 1DE14C3E; Tue, 14 Nov 2023 22:13:20 +0000"),
			    "198.18.54.139");
	/* The first ':' is a time's, the address after it has its own. */
	assert_string_equal(received_ip("at 08:01:09 from bead (bead [fe80::1]) id 2023"),
			    "fe80::1");
	/* A run reaching the colon from a hex word: the address starts inside it. */
	assert_string_equal(received_ip("x [cafe::beef] y"), "cafe::beef");
	assert_string_equal(received_ip("x (::1) y"), "::1");
	assert_string_equal(received_ip("by x id 20231114; (20231114)"), "");
	/* Long digit runs: a '.' ends the last three digits, which start the address. */
	assert_true(smtp_hdr_first_ip(U8("id 20231114 1234.5.6.7"), 22, ip));
	assert_string_equal(ip, "234.5.6.7");
	assert_true(smtp_hdr_first_ip(U8("99910.0.0.1"), 11, ip));
	assert_string_equal(ip, "10.0.0.1");
}

/*
 * A digit at every lane of a 16-byte vector and past it, after digit-free
 * text of every length (no hex letter, no ':'): the vector skip to the next
 * digit finds the number that is no address and the address after it.
 */
static void test_smtp_hdr_ip_after_text_every_lane(void **state)
{
	char v[128], ip[SMTP_HDR_IP_STRLEN], want[SMTP_HDR_IP_STRLEN];

	(void)state;
	for (int k = 0; k < 48; k++) {
		int n = snprintf(v, sizeof(v), "%.*s 1234 by [10.1.2.%d] x", k,
				 "xyz-xyz.xyz_xyz xyz-xyz.xyz_xyz xyz-xyz.xyz_xyz xyz-xyz", k);

		snprintf(want, sizeof(want), "10.1.2.%d", k);
		assert_true(smtp_hdr_first_ip(U8(v), (size_t)n, ip));
		assert_string_equal(ip, want);
		assert_true(smtp_hdr_received_ip(U8(v), (size_t)n, ip));
		assert_string_equal(ip, want);
	}
}

static void test_smtp_hdr_first_ip(void **state)
{
	char ip[SMTP_HDR_IP_STRLEN];

	(void)state;
	assert_true(smtp_hdr_first_ip(U8("10.000.000.004"), 14, ip));
	assert_string_equal(ip, "10.0.0.4");
	assert_true(smtp_hdr_first_ip(U8("[198.51.100.7]"), 14, ip));
	assert_string_equal(ip, "198.51.100.7");
	assert_false(smtp_hdr_first_ip(U8("unknown"), 7, ip));
	/* The last octet takes what fits under 256, as Zeek's regex does. */
	assert_true(smtp_hdr_first_ip(U8("1.2.3.256"), 9, ip));
	assert_string_equal(ip, "1.2.3.25");
}

/* Every octet value in every position is written as inet_ntop writes it. */
static void test_smtp_hdr_ip_text_every_octet(void **state)
{
	char ip[SMTP_HDR_IP_STRLEN], want[INET_ADDRSTRLEN], text[64];

	(void)state;
	for (unsigned int v = 0; v < 256; v++)
		for (unsigned int pos = 0; pos < 4; pos++) {
			uint8_t a[4] = {7, 77, 177, 255};
			int n;

			a[pos] = (uint8_t)v;
			n = snprintf(text, sizeof(text), "via [%u.%u.%u.%u]", a[0], a[1], a[2],
				     a[3]);
			assert_non_null(inet_ntop(AF_INET, a, want, sizeof(want)));
			memset(ip, 'x', sizeof(ip));
			assert_true(smtp_hdr_first_ip(U8(text), (size_t)n, ip));
			assert_string_equal(ip, want);
		}
}

/* Trimming takes space, tab, CR, LF, VT and FF from both ends, no other byte. */
static void test_smtp_hdr_trim_every_byte(void **state)
{
	(void)state;
	for (unsigned int c = 0; c < 256; c++) {
		bool ws = c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
		uint8_t text[] = {(uint8_t)c, (uint8_t)c, 'a', (uint8_t)c, 'b', (uint8_t)c};
		const uint8_t *p = text;
		size_t n = sizeof(text);

		smtp_hdr_trim(&p, &n);
		assert_ptr_equal(p, ws ? text + 2 : text);
		assert_int_equal(n, ws ? 3 : 6);
	}
}

static const char *display(const char *v)
{
	static char out[256];
	size_t n = smtp_hdr_display_name(U8(v), strlen(v), out, sizeof(out) - 1);

	out[n] = '\0';
	return out;
}

static void test_smtp_hdr_display_name(void **state)
{
	(void)state;
	assert_string_equal(display("\"Gurpartap Singh\" <gurpartap@patriots.in>"),
			    "Gurpartap Singh");
	assert_string_equal(display("Sybille Ostermann <nhfjenna_neumann@lycos.com>"),
			    "Sybille Ostermann");
	assert_string_equal(display("jan.grashoefer@cern.ch (Jan Grashoefer)"), "Jan Grashoefer");
	assert_string_equal(display("<dgo.billing@dhl.com> (DHL)"), "DHL");
	assert_string_equal(display("\"Doe, \\\"JD\\\" John\" <jd@example.com>, b@example.com"),
			    "Doe, \"JD\" John");
	assert_string_equal(display("=?UTF-8?B?5bGx55Sw5aSq6YOO?= <taro@example.jp>"), "山田太郎");
	assert_string_equal(display("\"=?ISO-2022-JP?B?GyRCOzNFRBsoQg==?=\" <y@example.jp>"),
			    "山田");
	assert_string_equal(display("bob@example.com"), "");
}

/* Field semantics through smtp_hdr_field: what lands in the record. */
static void test_smtp_hdr_fields(void **state)
{
	static struct smtp_tx tx;
	struct smtp_hdr h;
	size_t len;
	const char *v;

	(void)state;
	smtp_tx_init(&tx, NULL, 0);
	tx.family = 4;
	inet_pton(AF_INET, "10.0.0.1", &tx.orig_h.b[12]);
	inet_pton(AF_INET, "10.0.0.2", &tx.resp_h.b[12]);
	smtp_hdr_init(&h, &tx, false);
	smtp_hdr_field(&h, "SUBJECT", 7, U8("secret"), 6);
	smtp_hdr_field(&h, "user-agent", 10, U8("  Mutt/1.5.20 (2009-12-10)  "), 28);
	smtp_hdr_field(&h, "X-Originating-IP", 16, U8("[10.000.000.004]"), 16);
	smtp_hdr_field(&h, "DKIM-Signature", 14, U8("v=1; a=rsa-sha256"), 17);
	smtp_hdr_field(&h, "Authentication-Results", 22, U8("mx.example; spf=pass"), 20);
	smtp_hdr_field(&h, "Authentication-Results", 22, U8("older; spf=fail"), 15);
	smtp_hdr_field(&h, "Received", 8, U8("from a (a [192.0.2.9]) by b"), 27);
	smtp_hdr_field(&h, "Received", 8, U8("from c (c [192.0.2.9]) by d"), 27);
	smtp_hdr_field(&h, "CC", 2, U8("x@example.com, y@example.com"), 28);
	smtp_hdr_field(&h, "Cc", 2, U8("y@example.com"), 13);
	smtp_hdr_finish(&h);

	assert_int_equal(smtp_tx_has(&tx, SMTP_F_SUBJECT), 0); /* keep_subject off */
	v = smtp_tx_get(&tx, SMTP_F_USER_AGENT, &len);
	assert_memory_equal(v, "Mutt/1.5.20 (2009-12-10)", len);
	v = smtp_tx_get(&tx, SMTP_F_X_ORIGINATING_IP, &len);
	assert_memory_equal(v, "10.0.0.4", len);
	assert_true(tx.flags & SMTP_TX_F_DKIM);
	v = smtp_tx_get(&tx, SMTP_F_AUTH_RESULTS, &len);
	assert_memory_equal(v, "mx.example; spf=pass", len);
	assert_int_equal(tx.received_count, 2);
	v = smtp_tx_get(&tx, SMTP_F_FIRST_RECEIVED, &len);
	assert_memory_equal(v, "from c (c [192.0.2.9]) by d", len);
	v = smtp_tx_get(&tx, SMTP_F_SECOND_RECEIVED, &len);
	assert_memory_equal(v, "from a (a [192.0.2.9]) by b", len);
	/* The same address twice in a row is added once (Zeek compares with the last). */
	assert_int_equal(tx.n_path, 3);
	assert_memory_equal(smtp_tx_str(&tx, tx.path[0]), "10.0.0.2", tx.path[0].len);
	assert_memory_equal(smtp_tx_str(&tx, tx.path[1]), "10.0.0.1", tx.path[1].len);
	assert_memory_equal(smtp_tx_str(&tx, tx.path[2]), "192.0.2.9", tx.path[2].len);
	/* Cc: is a set across fields. */
	assert_int_equal(tx.n_cc_stored, 2);
	assert_int_equal(tx.n_cc, 2);
	assert_int_equal(tx.header_count, 10);
}

/* The stored list of a To: or Cc: set, kept the plain way: compared with every entry. */
struct ref_set {
	unsigned int given, stored;
	char e[SMTP_TX_MAX_HDR_ADDRS][48];
};

static void ref_add(struct ref_set *r, const char *a)
{
	for (unsigned int i = 0; i < r->stored; i++)
		if (!strcmp(r->e[i], a))
			return;
	r->given++;
	if (r->stored < SMTP_TX_MAX_HDR_ADDRS)
		snprintf(r->e[r->stored++], sizeof(r->e[0]), "%s", a);
}

static void check_set(const struct smtp_tx *tx, const struct smtp_str *list, uint16_t stored,
		      uint32_t given, const struct ref_set *r)
{
	assert_int_equal(given, r->given);
	assert_int_equal(stored, r->stored);
	for (unsigned int i = 0; i < stored; i++) {
		assert_int_equal(list[i].len, strlen(r->e[i]));
		assert_memory_equal(smtp_tx_str(tx, list[i]), r->e[i], list[i].len);
	}
}

/*
 * To: and Cc: stay sets however long and however split over fields: from a
 * pool of addresses that differ in one byte at the start, middle or end
 * (and short ones, under a word; of eight and nine bytes that differ in
 * the eighth and the ninth), with repeats, the stored entries and the
 * counts are those of a plain compare with every stored entry, past the
 * list's cap too.
 */
static void test_smtp_hdr_addr_sets_match_plain_compare(void **state)
{
	static struct smtp_tx tx;
	uint32_t seed = 12345;

	(void)state;
	for (unsigned int round = 0; round < 300; round++) {
		struct ref_set to = {0}, cc = {0};
		struct smtp_hdr h;
		unsigned int fields = 1 + round % 4, pool = 4 + round % 90;

		smtp_tx_init(&tx, NULL, 0);
		smtp_hdr_init(&h, &tx, false);
		for (unsigned int f = 0; f < fields; f++) {
			char v[4096];
			size_t n = 0;
			bool is_cc = (f + round) & 1;
			unsigned int count = 1 + (round * 7 + f * 13) % 70;

			for (unsigned int k = 0; k < count; k++) {
				char a[48];
				unsigned int x;

				seed = seed * 1103515245u + 12345u;
				x = (seed >> 8) % pool;
				if (x % 7 == 5) /* eight bytes, the last differs */
					snprintf(a, sizeof(a), "<user-%u", x % 10);
				else if (x % 7 == 6) /* nine: the byte past the first word */
					snprintf(a, sizeof(a), "<user-@%u", x % 10);
				else if (x % 5 == 0)
					snprintf(a, sizeof(a), "u%u", x); /* under 8 bytes */
				else if (x % 5 == 1)
					snprintf(a, sizeof(a), "<%02u-user@example.com>", x);
				else if (x % 5 == 2)
					snprintf(a, sizeof(a), "<user-%02u@example.com>", x);
				else
					snprintf(a, sizeof(a), "<user@example.com-%02u>", x);
				n += (size_t)snprintf(v + n, sizeof(v) - n, "%s%s", k ? ", " : "",
						      a);
				ref_add(is_cc ? &cc : &to, a);
			}
			smtp_hdr_field(&h, is_cc ? "Cc" : "To", 2, U8(v), n);
		}
		check_set(&tx, tx.to, tx.n_to_stored, tx.n_to, &to);
		check_set(&tx, tx.cc, tx.n_cc_stored, tx.n_cc, &cc);
	}
}

/*
 * Field names match in any case and only at their exact length; a byte that
 * merely folds onto a name's byte with | 0x20 ('\r' onto '-') is no match.
 */
static void test_smtp_hdr_field_names_any_case_exact_length(void **state)
{
	static const struct {
		const char *name;
		enum smtp_field f;
	} raw[] = {
		{"DATE", SMTP_F_DATE},
		{"rEPLY-tO", SMTP_F_REPLY_TO},
		{"Message-ID", SMTP_F_MSG_ID},
		{"IN-REPLY-TO", SMTP_F_IN_REPLY_TO},
		{"X-Mailer", SMTP_F_USER_AGENT},
		{"USER-AGENT", SMTP_F_USER_AGENT},
		{"x-user-AGENT", SMTP_F_USER_AGENT},
	};
	static const char *const none[] = {
		"dat",	     "dates",	   "reply\rto", "reply-t",  "message-idx",
		"x-mailerx", "user_agent", "x-user-a",	"t",	    "tox",
		"ccc",	     "fro",	   "recieved",	"subjects", "d\x80te",
		"dkim-sig",  "",
	};
	static struct smtp_tx tx;
	struct smtp_hdr h;
	size_t len;
	const char *v;

	(void)state;
	for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		smtp_tx_init(&tx, NULL, 0);
		smtp_hdr_init(&h, &tx, true);
		smtp_hdr_field(&h, raw[i].name, strlen(raw[i].name), U8(" value "), 7);
		v = smtp_tx_get(&tx, raw[i].f, &len);
		assert_non_null(v);
		assert_int_equal(len, 5);
		assert_memory_equal(v, "value", 5);
	}
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		smtp_tx_init(&tx, NULL, 0);
		smtp_hdr_init(&h, &tx, true);
		smtp_hdr_field(&h, none[i], strlen(none[i]), U8("a@b.example (x) [192.0.2.1]"), 27);
		smtp_hdr_finish(&h);
		for (int f = 0; f < SMTP_F_COUNT; f++)
			assert_false(smtp_tx_has(&tx, (enum smtp_field)f));
		assert_int_equal(tx.n_to + tx.n_cc + tx.received_count, 0);
		assert_false(tx.flags & SMTP_TX_F_DKIM);
		assert_int_equal(tx.header_count, 1);
	}
	/* Upper case reaches the others too (test_smtp_hdr_fields has the rest in mixed case). */
	smtp_tx_init(&tx, NULL, 0);
	smtp_hdr_init(&h, &tx, true);
	smtp_hdr_field(&h, "TO", 2, U8("a@example.com"), 13);
	smtp_hdr_field(&h, "FROM", 4, U8("\"Al\" <al@example.com>"), 21);
	smtp_hdr_field(&h, "RECEIVED", 8, U8("from x ([192.0.2.7]) by y"), 25);
	assert_int_equal(tx.n_to, 1);
	v = smtp_tx_get(&tx, SMTP_F_FROM_DISPLAY, &len);
	assert_memory_equal(v, "Al", len);
	assert_int_equal(tx.received_count, 1);
}

/* Long Received: chains: only the last two values are kept, the arena is not eaten. */
static void test_smtp_hdr_many_received(void **state)
{
	static struct smtp_tx tx;
	struct smtp_hdr h;
	char v[300];

	(void)state;
	smtp_tx_init(&tx, NULL, 0);
	smtp_hdr_init(&h, &tx, true);
	for (int i = 0; i < 200; i++) {
		int n = snprintf(v, sizeof(v),
				 "from h%d (h%d [192.0.2.%d]) by relay%d.example.net "
				 "(Postfix) with ESMTP id %08X; Mon, 1 Jan 2024 10:00:00 +0000",
				 i, i, i % 250, i, (unsigned int)i);

		smtp_hdr_field(&h, "Received", 8, U8(v), (size_t)n);
	}
	smtp_hdr_finish(&h);
	assert_int_equal(tx.received_count, 200);
	assert_int_equal(tx.n_path, SMTP_TX_MAX_PATH);
	assert_true(tx.arena_used < 1024);
	assert_true(smtp_tx_has(&tx, SMTP_F_FIRST_RECEIVED));
	assert_memory_equal(smtp_tx_str(&tx, tx.f[SMTP_F_FIRST_RECEIVED]), "from h199 ", 10);
	assert_memory_equal(smtp_tx_str(&tx, tx.f[SMTP_F_SECOND_RECEIVED]), "from h198 ", 10);
}

/* The path starts with the server, then the client (Zeek's order), for both families. */
static void test_smtp_hdr_path_start(void **state)
{
	static struct smtp_tx tx;

	(void)state;
	smtp_tx_init(&tx, NULL, 0);
	tx.family = 6;
	inet_pton(AF_INET6, "2001:db8::1", tx.orig_h.b);
	inet_pton(AF_INET6, "2001:db8::25", tx.resp_h.b);
	smtp_hdr_path_start(&tx);
	smtp_hdr_path_start(&tx); /* once only */
	assert_int_equal(tx.n_path, 2);
	assert_memory_equal(smtp_tx_str(&tx, tx.path[0]), "2001:db8::25", tx.path[0].len);
	assert_memory_equal(smtp_tx_str(&tx, tx.path[1]), "2001:db8::1", tx.path[1].len);
	smtp_tx_init(&tx, NULL, 0); /* no connection identity: no path */
	smtp_hdr_path_start(&tx);
	assert_int_equal(tx.n_path, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_hdr_split_addrs),
		cmocka_unit_test(test_smtp_hdr_split_addrs_every_lane),
		cmocka_unit_test(test_smtp_hdr_received_styles),
		cmocka_unit_test(test_smtp_hdr_received_skips_keep_every_address),
		cmocka_unit_test(test_smtp_hdr_first_ip),
		cmocka_unit_test(test_smtp_hdr_ip_text_every_octet),
		cmocka_unit_test(test_smtp_hdr_trim_every_byte),
		cmocka_unit_test(test_smtp_hdr_ip_after_text_every_lane),
		cmocka_unit_test(test_smtp_hdr_display_name),
		cmocka_unit_test(test_smtp_hdr_fields),
		cmocka_unit_test(test_smtp_hdr_addr_sets_match_plain_compare),
		cmocka_unit_test(test_smtp_hdr_field_names_any_case_exact_length),
		cmocka_unit_test(test_smtp_hdr_many_received),
		cmocka_unit_test(test_smtp_hdr_path_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
