// SPDX-License-Identifier: BSD-3-Clause
/*
 * Records -> protobuf Frames -> bytes -> protobuf-c's own unpack: every field
 * of an alert, a transaction, a host summary and the hello comes back; with
 * a key, no clear endpoint address is anywhere in the bytes;
 * bytes that are not UTF-8 arrive as the \xNN text smtp.json uses.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "exporters/pb_conv.h"
#include "exporters/relaywatch.pb-c.h"
#include "sensor/netset.h"

static const struct pb_conv_id frame_id = {
	.sensor_id = "tap-ams-1",
	.run_id = 0x1122334455667788ull,
	.seq = 42,
};

/* Builds with pc, packs, unpacks with protobuf-c; the caller frees. */
static Relaywatch__Frame *round_trip(struct pb_conv *pc, long n, uint8_t *buf, size_t cap)
{
	Relaywatch__Frame *f;

	assert_true(n > 0);
	assert_true((size_t)n <= cap);
	assert_int_equal(pb_conv_pack(pc, buf), (size_t)n);
	assert_false(pb_conv_truncated(pc));
	f = relaywatch__frame__unpack(NULL, (size_t)n, buf);
	assert_non_null(f);
	assert_string_equal(f->sensor_id, "tap-ams-1");
	assert_true(f->run_id == frame_id.run_id);
	assert_int_equal(f->seq, 42);
	return f;
}

static void make_alert(struct alert *a)
{
	uint8_t fam;

	memset(a, 0, sizeof(*a));
	a->ts_ns = 1700000000123456789ull;
	a->first_ns = 1699999000000000000ull;
	a->kind = ALERT_AUTH_SPRAY;
	a->severity = ALERT_SEV_HIGH;
	assert_true(netset_parse_addr("2001:db8::25", &a->host, &fam));
	a->family = fam;
	a->seq = 3;
	a->score = 7.5;
	snprintf(a->account, sizeof(a->account), "%s", "postmaster@example.net");
	snprintf(a->message, sizeof(a->message), "%s", "41 AUTH failures for 12 user names");
	alert_add_counter(a, "auth_failures", 41, 20, 600);
	alert_add_counter(a, "distinct_users", 12, 5, 600);
	alert_add_example(a, "user", "admin", 5);
	alert_add_uid(a, "CHhAvVGS1DHFjwGM9");
}

static void test_pb_conv_alert_round_trip(void **state)
{
	static uint8_t buf[PB_CONV_FRAME_MAX];
	struct pb_conv *pc;
	Relaywatch__Frame *f;
	Relaywatch__Alert *m;
	struct alert a;

	(void)state;
	make_alert(&a);
	assert_int_equal(pb_conv_create(NULL, &pc), 0);
	f = round_trip(pc, pb_conv_alert(pc, &frame_id, &a), buf, sizeof(buf));
	assert_int_equal(f->body_case, RELAYWATCH__FRAME__BODY_ALERT);
	m = f->alert;
	assert_true(m->ts_ns == a.ts_ns && m->first_ns == a.first_ns);
	assert_string_equal(m->kind, "auth_spray");
	assert_string_equal(m->severity, "high");
	assert_string_equal(m->host, "2001:db8::25");
	assert_string_equal(m->account, "postmaster@example.net");
	assert_string_equal(m->message, "41 AUTH failures for 12 user names");
	assert_int_equal(m->seq, 3);
	assert_true(m->score == 7.5);
	assert_int_equal(m->n_counters, 2);
	assert_string_equal(m->counters[1]->name, "distinct_users");
	assert_true(m->counters[1]->value == 12 && m->counters[1]->threshold == 5);
	assert_int_equal(m->counters[1]->window_s, 600);
	assert_int_equal(m->n_examples, 1);
	assert_string_equal(m->examples[0]->field, "user");
	assert_string_equal(m->examples[0]->value, "admin");
	assert_int_equal(m->n_uids, 1);
	assert_string_equal(m->uids[0], "CHhAvVGS1DHFjwGM9");
	relaywatch__frame__free_unpacked(f, NULL);
	pb_conv_destroy(pc);
}

/* A relayed message as smtp_session would record it. */
static void make_tx(struct smtp_tx *tx)
{
	static const char reply[] = "550 5.1.1 <bob.smith@example.org>: Recipient address rejected";
	uint8_t fam;

	smtp_tx_init(tx, NULL, 1600000000000000000ull);
	memcpy(tx->uid, "C8sxvM2lbkw2SiMeNa", 19);
	assert_true(netset_parse_addr("192.0.2.10", &tx->orig_h, &fam));
	assert_true(netset_parse_addr("198.51.100.25", &tx->resp_h, &fam));
	tx->family = fam;
	tx->orig_p = 51234;
	tx->resp_p = 587;
	tx->trans_depth = 2;
	smtp_tx_set(tx, SMTP_F_HELO, "mail.example.com", 16);
	smtp_tx_set(tx, SMTP_F_MAILFROM, "alice.jones@example.com", 23);
	smtp_tx_add_rcpt(tx, "carol@example.net", 17);
	tx->rcpt[0].code = 250;
	smtp_tx_add_rcpt(tx, "bob.smith@example.org", 21);
	tx->rcpt[1].code = 550;
	tx->rcpt[1].enh_class = 5, tx->rcpt[1].enh_subject = 1, tx->rcpt[1].enh_detail = 1;
	smtp_tx_set(tx, SMTP_F_AUTH_MECH, "LOGIN", 5);
	smtp_tx_set(tx, SMTP_F_AUTH_USER, "alice.jones", 11);
	tx->auth_result = SMTP_AUTH_SUCCESS;
	smtp_tx_set(tx, SMTP_F_MSG_ID, "<20200913.1@example.com>", 24);
	smtp_tx_set(tx, SMTP_F_FROM, "\"Alice Jones\" <alice.jones@example.com>", 39);
	smtp_tx_set(tx, SMTP_F_SUBJECT, "Quarterly report", 16);
	smtp_tx_set(tx, SMTP_F_LAST_REPLY, reply, sizeof(reply) - 1);
	smtp_tx_set(tx, SMTP_F_USER_AGENT, "Thunderbird 78", 14);
	tx->n_to = 3;
	tx->n_cc = 1;
	tx->msg_size = 48213;
	tx->flags |= SMTP_TX_F_TLS;
}

static void test_pb_conv_tx_round_trip(void **state)
{
	static uint8_t buf[PB_CONV_FRAME_MAX];
	static struct smtp_tx tx;
	Relaywatch__Transaction *m;
	struct pb_conv *pc;
	Relaywatch__Frame *f;

	(void)state;
	make_tx(&tx);
	assert_int_equal(pb_conv_create(NULL, &pc), 0);
	f = round_trip(pc, pb_conv_tx(pc, &frame_id, &tx), buf, sizeof(buf));
	assert_int_equal(f->body_case, RELAYWATCH__FRAME__BODY_TX);
	m = f->tx;
	assert_true(m->ts_ns == 1600000000000000000ull);
	assert_string_equal(m->uid, "C8sxvM2lbkw2SiMeNa");
	assert_string_equal(m->client, "192.0.2.10");
	assert_int_equal(m->client_port, 51234);
	assert_string_equal(m->server, "198.51.100.25");
	assert_int_equal(m->server_port, 587);
	assert_int_equal(m->trans_depth, 2);
	assert_string_equal(m->helo, "mail.example.com");
	assert_string_equal(m->mailfrom, "alice.jones@example.com");
	assert_int_equal(m->n_rcpt, 2);
	assert_string_equal(m->rcpt[0]->addr, "carol@example.net");
	assert_int_equal(m->rcpt[0]->code, 250);
	assert_string_equal(m->rcpt[0]->status, "");
	assert_string_equal(m->rcpt[1]->status, "5.1.1");
	assert_string_equal(m->auth_mech, "LOGIN");
	assert_string_equal(m->auth_user, "alice.jones");
	assert_string_equal(m->auth_result, "success");
	assert_string_equal(m->msg_id, "<20200913.1@example.com>");
	assert_string_equal(m->from, "\"Alice Jones\" <alice.jones@example.com>");
	assert_string_equal(m->subject, "Quarterly report");
	assert_int_equal(m->to_count, 3);
	assert_int_equal(m->cc_count, 1);
	assert_int_equal(m->msg_size, 48213);
	assert_true(m->tls && !m->is_bounce);
	assert_string_equal(m->user_agent, "Thunderbird 78");
	relaywatch__frame__free_unpacked(f, NULL);
	pb_conv_destroy(pc);
}

static struct privacy *make_privacy(char *dir, size_t cap)
{
	static const char key[] = "relaywatch-test-key-0123456789abcdef";
	struct privacy *p = NULL;
	struct errbuf eb = {""};
	char path[128];
	int fd;

	snprintf(dir, cap, "%s", "/tmp/rw-pbconv-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, key, sizeof(key) - 1), (ssize_t)sizeof(key) - 1);
	close(fd);
	assert_int_equal(privacy_create(path, &p, &eb), 0);
	unlink(path);
	rmdir(dir);
	return p;
}

/* make_tx() through a pb_conv with a test key in cfg->privacy; the packed
 * bytes in buf (n of them) and the frame unpacked from them. */
static Relaywatch__Frame *private_tx(struct pb_conv_cfg *cfg, struct pb_conv **pc, uint8_t *buf,
				     long *n)
{
	static struct smtp_tx tx;
	char dir[64];

	cfg->privacy = make_privacy(dir, sizeof(dir));
	make_tx(&tx);
	assert_int_equal(pb_conv_create(cfg, pc), 0);
	*n = pb_conv_tx(*pc, &frame_id, &tx);
	return round_trip(*pc, *n, buf, PB_CONV_FRAME_MAX);
}

/* Archive records with a key: the endpoints in 240/4 and the subject gone,
 * but mailboxes and the user as recorded: with privacy.pseudonymize the
 * worker already made them pseudonyms (sensor/privacy.h), and hashing them
 * again would name other accounts than the alerts do. */
static void test_pb_conv_tx_no_second_pseudonym(void **state)
{
	static uint8_t buf[PB_CONV_FRAME_MAX];
	Relaywatch__Transaction *m;
	struct pb_conv_cfg cfg = {.pseudonymize_ips = true, .drop_subject = true};
	struct pb_conv *pc;
	Relaywatch__Frame *f;
	long n;

	(void)state;
	f = private_tx(&cfg, &pc, buf, &n);
	assert_null(memmem(buf, (size_t)n, "Quarterly", 9));
	assert_null(memmem(buf, (size_t)n, "192.0.2.10", 10));
	m = f->tx;
	assert_string_equal(m->mailfrom, "alice.jones@example.com");
	assert_string_equal(m->rcpt[0]->addr, "carol@example.net");
	assert_string_equal(m->auth_user, "alice.jones");
	assert_null(strstr(m->last_reply, "<u-"));
	assert_string_equal(m->subject, "");
	assert_true(strtoul(m->client, NULL, 10) >= 240); /* 240.0.0.0/4 */
	assert_string_equal(m->helo, "mail.example.com");
	relaywatch__frame__free_unpacked(f, NULL);
	pb_conv_destroy(pc);
	privacy_destroy((struct privacy *)cfg.privacy);
}

/* privacy.pseudonymize_ips alone: the endpoints become pseudonyms, the
 * mailboxes and the user stay as recorded (they are not asked for). */
static void test_pb_conv_tx_only_ips_pseudonymised(void **state)
{
	static uint8_t buf[PB_CONV_FRAME_MAX];
	struct pb_conv_cfg cfg = {.pseudonymize_ips = true};
	struct pb_conv *pc;
	Relaywatch__Frame *f;
	long n;

	(void)state;
	f = private_tx(&cfg, &pc, buf, &n);
	assert_null(memmem(buf, (size_t)n, "192.0.2.10", 10));
	assert_true(strtoul(f->tx->client, NULL, 10) >= 240);
	assert_true(strtoul(f->tx->server, NULL, 10) >= 240);
	assert_string_equal(f->tx->mailfrom, "alice.jones@example.com");
	assert_string_equal(f->tx->auth_user, "alice.jones");
	relaywatch__frame__free_unpacked(f, NULL);
	pb_conv_destroy(pc);
	privacy_destroy((struct privacy *)cfg.privacy);
}

/* proto3 strings must be UTF-8: other bytes (NUL included) become \xNN text. */
static void test_pb_conv_bytes_not_utf8_are_escaped(void **state)
{
	static uint8_t buf[PB_CONV_FRAME_MAX];
	static struct smtp_tx tx;
	struct pb_conv *pc;
	Relaywatch__Frame *f;

	(void)state;
	make_tx(&tx);
	smtp_tx_set(&tx, SMTP_F_HELO, "h\xff\x00o\xc3\xa9", 6);
	assert_int_equal(pb_conv_create(NULL, &pc), 0);
	f = round_trip(pc, pb_conv_tx(pc, &frame_id, &tx), buf, sizeof(buf));
	assert_string_equal(f->tx->helo, "h\\xff\\x00o\xc3\xa9");
	relaywatch__frame__free_unpacked(f, NULL);
	pb_conv_destroy(pc);
}

static void test_pb_conv_summary_and_hello(void **state)
{
	static const char *const nets[] = {"192.0.2.0/24", "2001:db8::/32"};
	struct pb_conv_hello h = {
		.version = "0.1.0",
		.config_digest = "ab12",
		.started_ns = 1700000000000000000ull,
		.home_net = nets,
		.n_home_net = 2,
	};
	struct detect_host_summary hs = {
		.family = 4,
		.home = true,
		.mail_server = false,
		.first_ns = 10,
		.last_ns = 20,
		.score = 2.25,
		.sessions_out = 7,
		.sessions_in = 1,
		.msgs = 5,
		.rcpts = 90,
		.rcpts_rejected = 40,
		.auth_ok = 2,
		.auth_fail = 3,
		.distinct_servers = 11,
		.distinct_rcpt_domains = 13,
		.bounces = 17,
		.blocklist_replies = 19,
		.sig_hits = 23,
	};
	static uint8_t buf[PB_CONV_FRAME_MAX];
	struct pb_conv *pc;
	Relaywatch__Frame *f;
	uint8_t fam;

	(void)state;
	assert_true(netset_parse_addr("192.0.2.77", &hs.addr, &fam));
	assert_int_equal(pb_conv_create(NULL, &pc), 0);
	f = round_trip(pc, pb_conv_summary(pc, &frame_id, &hs, 99, 60), buf, sizeof(buf));
	assert_int_equal(f->body_case, RELAYWATCH__FRAME__BODY_SUMMARY);
	assert_string_equal(f->summary->host, "192.0.2.77");
	assert_true(f->summary->home && !f->summary->mail_server);
	assert_int_equal(f->summary->ts_ns, 99);
	assert_int_equal(f->summary->period_s, 60);
	assert_int_equal(f->summary->sessions, 7);
	assert_int_equal(f->summary->sessions_served, 1);
	assert_int_equal(f->summary->messages, 5);
	assert_int_equal(f->summary->recipients, 90);
	assert_int_equal(f->summary->rcpt_rejected, 40);
	assert_int_equal(f->summary->auth_success, 2);
	assert_int_equal(f->summary->auth_failure, 3);
	assert_int_equal(f->summary->distinct_servers, 11);
	assert_int_equal(f->summary->distinct_rcpt_domains, 13);
	assert_int_equal(f->summary->bounces_received, 17);
	assert_int_equal(f->summary->blocklist_replies, 19);
	assert_int_equal(f->summary->signature_hits, 23);
	assert_true(f->summary->score == 2.25);
	assert_true(f->summary->first_seen_ns == 10 && f->summary->last_seen_ns == 20);
	relaywatch__frame__free_unpacked(f, NULL);

	f = round_trip(pc, pb_conv_hello(pc, &frame_id, &h), buf, sizeof(buf));
	assert_int_equal(f->body_case, RELAYWATCH__FRAME__BODY_HELLO);
	assert_string_equal(f->hello->sensor_id, "tap-ams-1");
	assert_string_equal(f->hello->version, "0.1.0");
	assert_string_equal(f->hello->config_digest, "ab12");
	assert_true(f->hello->started_ns == h.started_ns);
	assert_int_equal(f->hello->n_home_net, 2);
	assert_string_equal(f->hello->home_net[1], "2001:db8::/32");
	relaywatch__frame__free_unpacked(f, NULL);
	pb_conv_destroy(pc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pb_conv_alert_round_trip),
		cmocka_unit_test(test_pb_conv_tx_round_trip),
		cmocka_unit_test(test_pb_conv_tx_no_second_pseudonym),
		cmocka_unit_test(test_pb_conv_tx_only_ips_pseudonymised),
		cmocka_unit_test(test_pb_conv_bytes_not_utf8_are_escaped),
		cmocka_unit_test(test_pb_conv_summary_and_hello),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
