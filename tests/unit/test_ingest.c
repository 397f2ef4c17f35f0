// SPDX-License-Identifier: BSD-3-Clause
/*
 * ingest: real Frame bytes (packed by protobuf-c from the schema) through
 * decode, checks and normalisation, then into a SQLite store: idempotent on
 * (sensor_id, run_id, seq), evidence kept, recipients searchable by domain.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "collector/ingest.h"
#include "collector/store.h"
#include "store_tmp.h"

static uint8_t wire[65536];

static size_t pack(const Relaywatch__Frame *f)
{
	size_t n = relaywatch__frame__get_packed_size(f);

	assert_true(n <= sizeof(wire));
	return relaywatch__frame__pack(f, wire);
}

struct alert_msg {
	Relaywatch__Frame f;
	Relaywatch__Alert a;
	Relaywatch__Counter c;
	Relaywatch__Counter *cp[1];
	Relaywatch__Example e;
	Relaywatch__Example *ep[1];
	char *uids[1];
};

/* An open-relay alert as a sensor sends it; callers change fields before packing. */
static void alert_msg(struct alert_msg *m, uint64_t seq, const char *host)
{
	relaywatch__frame__init(&m->f);
	relaywatch__alert__init(&m->a);
	relaywatch__counter__init(&m->c);
	relaywatch__example__init(&m->e);
	m->f.sensor_id = "tap-a";
	m->f.run_id = 0x8000000000000001ull;
	m->f.seq = seq;
	m->f.body_case = RELAYWATCH__FRAME__BODY_ALERT;
	m->f.alert = &m->a;
	m->a.ts_ns = 1700000000000000000ull;
	m->a.first_ns = 1699999940000000000ull;
	m->a.kind = "open_relay";
	m->a.severity = "critical";
	m->a.host = (char *)host;
	m->a.message = "relayed 12 recipients for foreign domains";
	m->c.name = "relayed_rcpts";
	m->c.value = 12;
	m->c.threshold = 1;
	m->c.window_s = 300;
	m->cp[0] = &m->c;
	m->a.n_counters = 1;
	m->a.counters = m->cp;
	m->e.field = "rcpt_domain";
	m->e.value = "victim.example";
	m->ep[0] = &m->e;
	m->a.n_examples = 1;
	m->a.examples = m->ep;
	m->uids[0] = "CAbc1";
	m->a.n_uids = 1;
	m->a.uids = m->uids;
}

static enum ingest_status decode_alert(struct alert_msg *m, Relaywatch__Frame **out)
{
	return ingest_decode(wire, pack(&m->f), out);
}

/* ---- decoding ---- */

static void test_ingest_garbage_does_not_unpack(void **state)
{
	static const uint8_t junk[] = "GET / HTTP/1.0\r\n\r\n";
	static const uint8_t truncated[] = {0x0a, 0x40, 't', 'a', 'p'};
	Relaywatch__Frame *f = (Relaywatch__Frame *)1;

	(void)state;
	assert_int_equal(ingest_decode(junk, sizeof(junk) - 1, &f), INGEST_ERR_PROTOBUF);
	assert_null(f);
	assert_int_equal(ingest_decode(truncated, sizeof(truncated), &f), INGEST_ERR_PROTOBUF);
}

/* A Frame with ids but no body says nothing: a protocol error. */
static void test_ingest_frame_without_body(void **state)
{
	Relaywatch__Frame fr = RELAYWATCH__FRAME__INIT;
	Relaywatch__Frame *f;

	(void)state;
	fr.sensor_id = "tap-a";
	fr.seq = 3;
	assert_int_equal(ingest_decode(wire, pack(&fr), &f), INGEST_ERR_NO_BODY);
}

static void test_ingest_hello_names_the_sensor(void **state)
{
	Relaywatch__Frame fr = RELAYWATCH__FRAME__INIT, *f;
	Relaywatch__SensorHello h = RELAYWATCH__SENSOR_HELLO__INIT;
	char *nets[] = {"10.0.0.0/8", "2001:db8::/32"};

	(void)state;
	h.sensor_id = "tap-fra1";
	h.version = "0.1.0";
	h.home_net = nets;
	h.n_home_net = 2;
	fr.run_id = 7;
	fr.body_case = RELAYWATCH__FRAME__BODY_HELLO;
	fr.hello = &h;
	assert_int_equal(ingest_decode(wire, pack(&fr), &f), INGEST_OK);
	assert_int_equal(ingest_type_of(f), INGEST_HELLO);
	assert_string_equal(ingest_sensor_id(f), "tap-fra1");
	ingest_free(f);
	h.sensor_id = "tap\x01x"; /* a control byte in an identity */
	assert_int_equal(ingest_decode(wire, pack(&fr), &f), INGEST_ERR_SENSOR_ID);
}

/* Hosts in canonical form so one host is one row: IPv6 case, zeros, mapped IPv4. */
static void test_ingest_hosts_are_canonical(void **state)
{
	struct alert_msg m;
	Relaywatch__Frame *f;

	(void)state;
	alert_msg(&m, 1, "2001:DB8:0:0::0:1");
	assert_int_equal(decode_alert(&m, &f), INGEST_OK);
	assert_string_equal(f->alert->host, "2001:db8::1");
	ingest_free(f);
	alert_msg(&m, 1, "::FFFF:192.0.2.1");
	assert_int_equal(decode_alert(&m, &f), INGEST_OK);
	assert_string_equal(f->alert->host, "::ffff:192.0.2.1");
	ingest_free(f);
}

/* Unusable alerts are refused (and acked by the server), not stored. */
static void test_ingest_bad_fields_are_rejected(void **state)
{
	static const struct {
		const char *host, *kind, *severity;
		uint64_t seq;
	} bad[] = {
		{"", "open_relay", "high", 1},
		{"a b", "open_relay", "high", 1},
		{"192.0.2.1", "Open-Relay", "high", 1},
		{"192.0.2.1", "", "high", 1},
		{"192.0.2.1", "open_relay", "urgent", 1},
		{"192.0.2.1", "open_relay", "high", 0},
	};
	struct alert_msg m;
	Relaywatch__Frame *f;

	(void)state;
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		alert_msg(&m, bad[i].seq, bad[i].host);
		m.a.kind = (char *)bad[i].kind;
		m.a.severity = (char *)bad[i].severity;
		assert_int_equal(decode_alert(&m, &f), INGEST_REJECT_FIELD);
		assert_non_null(f); /* still handed back, to be acked in order */
		ingest_free(f);
	}
}

/*
 * A score that is not a number would be stored as NULL (the column refuses
 * it) and would poison every combined score: the frame is refused. Found by
 * the collector_frame fuzz target (a HostSummary with score NaN).
 */
static void test_ingest_non_finite_scores_are_rejected(void **state)
{
	const double bad[] = {NAN, INFINITY, -INFINITY};
	Relaywatch__HostSummary hs;
	struct alert_msg m;
	Relaywatch__Frame sf, *f;

	(void)state;
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		alert_msg(&m, 1, "192.0.2.1");
		m.a.score = bad[i];
		assert_int_equal(decode_alert(&m, &f), INGEST_REJECT_FIELD);
		ingest_free(f);

		relaywatch__frame__init(&sf);
		relaywatch__host_summary__init(&hs);
		sf.sensor_id = "tap-a";
		sf.seq = 2;
		sf.body_case = RELAYWATCH__FRAME__BODY_SUMMARY;
		sf.summary = &hs;
		hs.host = "2001:db8::1";
		hs.score = 3.5;
		assert_int_equal(ingest_decode(wire, pack(&sf), &f), INGEST_OK);
		ingest_free(f);
		hs.score = bad[i];
		assert_int_equal(ingest_decode(wire, pack(&sf), &f), INGEST_REJECT_FIELD);
		assert_non_null(f); /* still acked in order */
		ingest_free(f);
	}
}

/* Whatever bytes a string carries, what leaves ingest is valid UTF-8 without controls. */
static void test_ingest_strings_are_made_clean(void **state)
{
	struct alert_msg m;
	Relaywatch__Frame *f;

	(void)state;
	alert_msg(&m, 1, "192.0.2.1");
	m.a.message = "bad \xff\xfe byte, tab\there, newline\nthere, ok \xc3\xa9";
	m.e.value = "\xe2\x82"; /* a cut sequence */
	assert_int_equal(decode_alert(&m, &f), INGEST_OK);
	assert_string_equal(f->alert->message, "bad ?? byte, tab here, newline there, ok \xc3\xa9");
	assert_string_equal(f->alert->examples[0]->value, "??");
	ingest_free(f);
}

/* ---- storing ---- */

#define store_setup    store_tmp_setup
#define store_teardown store_tmp_teardown

struct seen {
	unsigned int n;
	char evidence[1024], text[512], host[64];
	uint64_t run;
};

static int seen_alert(const struct store_alert *a, void *arg)
{
	struct seen *s = arg;

	s->n++;
	snprintf(s->evidence, sizeof(s->evidence), "%s", a->evidence_json);
	snprintf(s->text, sizeof(s->text), "%s", a->evidence_text);
	snprintf(s->host, sizeof(s->host), "%s", a->host);
	s->run = a->key.run_id;
	return 0;
}

/* The same frame twice (a re-send after a lost ack) is one row; evidence is kept. */
static void test_ingest_store_is_idempotent(void **state)
{
	static struct ingest_scratch sc;
	struct store *st = *state;
	struct seen seen = {0};
	struct alert_msg m;
	Relaywatch__Frame *f;

	alert_msg(&m, 41, "2001:DB8::7");
	assert_int_equal(decode_alert(&m, &f), INGEST_OK);
	assert_int_equal(ingest_store(st, f, 1, &sc), 1);
	assert_int_equal(ingest_store(st, f, 2, &sc), 0);
	ingest_free(f);
	assert_int_equal(decode_alert(&m, &f), INGEST_OK); /* bytes decoded anew */
	assert_int_equal(ingest_store(st, f, 3, &sc), 0);
	ingest_free(f);
	assert_int_equal(store_scan_alerts(st, NULL, seen_alert, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.host, "2001:db8::7");
	assert_true(seen.run == 0x8000000000000001ull);
	assert_string_equal(seen.evidence,
			    "{\"counters\":[{\"name\":\"relayed_rcpts\",\"value\":12.000,"
			    "\"threshold\":1.000,\"window\":300}],\"examples\":[{\"field\":"
			    "\"rcpt_domain\",\"value\":\"victim.example\"}],\"uids\":[\"CAbc1\"]}");
	assert_string_equal(seen.text, "relayed_rcpts=12 (threshold 1 in 300s); "
				       "rcpt_domain=victim.example");
}

/* A counter far beyond any real count still makes valid, bounded evidence JSON. */
static void test_ingest_huge_counter_values(void **state)
{
	static struct ingest_scratch sc;
	struct store *st = *state;
	struct seen seen = {0};
	struct alert_msg m;
	Relaywatch__Frame *f;

	alert_msg(&m, 7, "192.0.2.7");
	m.c.value = 1e300;
	m.c.threshold = -1e300;
	assert_int_equal(decode_alert(&m, &f), INGEST_OK);
	assert_int_equal(ingest_store(st, f, 1, &sc), 1);
	ingest_free(f);
	assert_int_equal(store_scan_alerts(st, NULL, seen_alert, &seen), 0);
	assert_non_null(strstr(seen.evidence, "\"value\":1.0000000000000001e+300,"));
	assert_non_null(strstr(seen.evidence, "\"threshold\":-1.0000000000000001e+300,"));
}

static int count_tx(const struct store_tx *t, void *arg)
{
	struct seen *s = arg;

	s->n++;
	snprintf(s->text, sizeof(s->text), "%s", t->rcpt_json);
	return 0;
}

/* A transaction's recipients: searchable by domain, whatever the case on the wire. */
static void test_ingest_transaction_recipients_by_domain(void **state)
{
	static struct ingest_scratch sc;
	struct store *st = *state;
	Relaywatch__Frame fr = RELAYWATCH__FRAME__INIT, *f;
	Relaywatch__Transaction t = RELAYWATCH__TRANSACTION__INIT;
	Relaywatch__Recipient r1 = RELAYWATCH__RECIPIENT__INIT, r2 = RELAYWATCH__RECIPIENT__INIT;
	Relaywatch__Recipient *rp[] = {&r1, &r2};
	struct store_search q = {.rcpt_domain = "victim.example"};
	struct seen seen = {0};
	uint64_t n = 0;

	r1.addr = "<Bob@Victim.EXAMPLE>";
	r1.code = 250;
	r2.addr = "eve@other.example";
	r2.code = 550;
	r2.status = "5.1.1";
	t.ts_ns = 1700000000000000000ull;
	t.client = "10.0.0.5";
	t.server = "198.51.100.7";
	t.auth_user = "alice";
	t.mailfrom = "alice@home.example";
	t.rcpt = rp;
	t.n_rcpt = 2;
	fr.sensor_id = "tap-a";
	fr.run_id = 9;
	fr.seq = 1;
	fr.body_case = RELAYWATCH__FRAME__BODY_TX;
	fr.tx = &t;
	assert_int_equal(ingest_decode(wire, pack(&fr), &f), INGEST_OK);
	assert_int_equal(ingest_type_of(f), INGEST_TX);
	assert_int_equal(ingest_store(st, f, 1, &sc), 1);
	assert_int_equal(ingest_store(st, f, 1, &sc), 0);
	ingest_free(f);
	assert_int_equal(store_count(st, "tx_rcpt", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_search_tx(st, &q, count_tx, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.text, "[{\"addr\":\"<Bob@Victim.EXAMPLE>\",\"code\":250,"
				       "\"status\":\"\"},{\"addr\":\"eve@other.example\","
				       "\"code\":550,\"status\":\"5.1.1\"}]");
}

/* The hello's sensor row: home networks joined, the peer recorded. */
static void test_ingest_hello_stores_the_sensor(void **state)
{
	static struct ingest_scratch sc;
	struct store *st = *state;
	Relaywatch__Frame fr = RELAYWATCH__FRAME__INIT, *f;
	Relaywatch__SensorHello h = RELAYWATCH__SENSOR_HELLO__INIT;
	char *nets[] = {"10.0.0.0/8", "192.0.2.0/24"};
	uint64_t n = 0;

	h.sensor_id = "tap-a";
	h.home_net = nets;
	h.n_home_net = 2;
	fr.body_case = RELAYWATCH__FRAME__BODY_HELLO;
	fr.hello = &h;
	assert_int_equal(ingest_decode(wire, pack(&fr), &f), INGEST_OK);
	assert_int_equal(ingest_store_hello(st, f, "CN=tap-a 127.0.0.1:4000", 5, &sc), 0);
	assert_int_equal(ingest_store(st, f, 5, &sc), -EINVAL); /* not a data frame */
	ingest_free(f);
	assert_int_equal(store_count(st, "sensors", &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(sc.home_net, "10.0.0.0/8,192.0.2.0/24");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ingest_garbage_does_not_unpack),
		cmocka_unit_test(test_ingest_frame_without_body),
		cmocka_unit_test(test_ingest_hello_names_the_sensor),
		cmocka_unit_test(test_ingest_hosts_are_canonical),
		cmocka_unit_test(test_ingest_bad_fields_are_rejected),
		cmocka_unit_test(test_ingest_strings_are_made_clean),
		cmocka_unit_test(test_ingest_non_finite_scores_are_rejected),
		cmocka_unit_test_setup_teardown(test_ingest_store_is_idempotent, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_ingest_transaction_recipients_by_domain,
						store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_ingest_huge_counter_values, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_ingest_hello_stores_the_sensor, store_setup,
						store_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
