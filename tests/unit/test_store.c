// SPDX-License-Identifier: BSD-3-Clause
/*
 * The store through its interface, on a real database: SQLite in a temp file
 * here, PostgreSQL when built as test_store_pg (a server started by the test
 * in a temp dir; exit 77 when PostgreSQL is not installed or will not start).
 * Same tests for both: the backends must agree.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "collector/store.h"

#define NS 1000000000ull

static char db_uri[512];
static char tmp_dir[256];

/* ---- the database under test ---- */

#ifdef STORE_TEST_PG
#define PG_BIN "/usr/lib/postgresql/15/bin"

static char as_user[64];
static int pg_port;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* initdb + pg_ctl in a temp dir, Unix socket only; as postgres when we are root. */
static int db_start(void)
{
	if (access(PG_BIN "/initdb", X_OK) != 0)
		return -ENOENT;
	pg_port = 20000 + getpid() % 20000; /* other builds may run this test at once */
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/rw-test-pg.XXXXXX");
	if (!mkdtemp(tmp_dir))
		return -errno;
	if (geteuid() == 0) {
		if (sh("id postgres >/dev/null 2>&1 && chown postgres %s", tmp_dir))
			return -ENOENT;
		snprintf(as_user, sizeof(as_user), "runuser -u postgres --");
	}
	if (sh("%s %s/initdb -D %s/data -A trust -U postgres >%s/initdb.log 2>&1", as_user, PG_BIN,
	       tmp_dir, tmp_dir) ||
	    sh("%s %s/pg_ctl -D %s/data -w -t 60 -l %s/server.log -o \"-k %s -p %d -c "
	       "listen_addresses='' -c fsync=off\" start >/dev/null 2>&1",
	       as_user, PG_BIN, tmp_dir, tmp_dir, tmp_dir, pg_port))
		return -EIO;
	snprintf(db_uri, sizeof(db_uri), "postgresql:///postgres?host=%s&port=%d&user=postgres",
		 tmp_dir, pg_port);
	return 0;
}

static void db_stop(void)
{
	if (tmp_dir[0]) {
		sh("%s %s/pg_ctl -D %s/data -m immediate stop >/dev/null 2>&1", as_user, PG_BIN,
		   tmp_dir);
		sh("rm -rf %s", tmp_dir);
	}
}

/* Every test starts from an empty schema. */
static int db_reset(void)
{
	return sh("%s %s/psql -q -h %s -p %d -U postgres -d postgres -c 'DROP SCHEMA public "
		  "CASCADE; CREATE SCHEMA public;' >/dev/null 2>&1",
		  as_user, PG_BIN, tmp_dir, pg_port);
}
#else
static int db_start(void)
{
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/rw-test-store.XXXXXX");
	if (!mkdtemp(tmp_dir))
		return -errno;
	snprintf(db_uri, sizeof(db_uri), "sqlite:%s/c.db", tmp_dir);
	return 0;
}

static void db_stop(void)
{
	char path[512];

	snprintf(path, sizeof(path), "rm -rf %s", tmp_dir);
	if (system(path) != 0)
		fprintf(stderr, "could not remove %s\n", tmp_dir);
}

static int db_reset(void)
{
	char path[512];

	for (unsigned int i = 0; i < 3; i++) {
		static const char *const sfx[] = {"", "-wal", "-shm"};

		snprintf(path, sizeof(path), "%s/c.db%s", tmp_dir, sfx[i]);
		unlink(path);
	}
	return 0;
}
#endif

static int setup(void **state)
{
	struct store *st;
	struct errbuf eb = {{0}};

	if (db_reset())
		return -1;
	if (store_open(db_uri, NULL, &st, &eb)) {
		fprintf(stderr, "store_open: %s\n", eb.msg);
		return -1;
	}
	*state = st;
	return 0;
}

static int teardown(void **state)
{
	store_close(*state);
	return 0;
}

/* ---- rows ---- */

static struct store_alert alert_row(const char *sensor, uint64_t run, uint64_t seq,
				    const char *host)
{
	return (struct store_alert){
		.key = {sensor, run, seq},
		.recv_ns = 1000 * NS,
		.ts_ns = 1700000000 * NS + seq,
		.first_ns = 1700000000 * NS - 60 * NS,
		.kind = "open_relay",
		.severity = "critical",
		.host = host,
		.account = "",
		.message = "relayed for \"foreign\" domains — ünïcode ok",
		.score = 16,
		.evidence_json = "{\"counters\":[],\"examples\":[],\"uids\":[]}",
		.evidence_text = "relayed_rcpts=3",
	};
}

struct collect {
	unsigned int n;
	char host[8][64];
	uint64_t run[8], seq[8], ts[8], messages[8];
	char message[128];
};

static int collect_alert(const struct store_alert *a, void *arg)
{
	struct collect *c = arg;

	if (c->n < 8) {
		snprintf(c->host[c->n], sizeof(c->host[0]), "%s", a->host);
		c->run[c->n] = a->key.run_id;
		c->seq[c->n] = a->key.seq;
		c->ts[c->n] = a->ts_ns;
	}
	snprintf(c->message, sizeof(c->message), "%s", a->message);
	c->n++;
	return 0;
}

static uint64_t count(struct store *st, const char *table)
{
	uint64_t n = 0;

	assert_int_equal(store_count(st, table, &n), 0);
	return n;
}

/* ---- tests ---- */

/* A re-sent frame is stored once: the second insert reports a duplicate. */
static void test_store_alert_is_stored_once(void **state)
{
	struct store *st = *state;
	struct store_alert a = alert_row("tap-a", 7, 1, "192.0.2.1");

	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_put_alert(st, &a), 1);
	assert_int_equal(store_put_alert(st, &a), 0);
	assert_int_equal(store_commit(st), 0);
	/* Same seq, other run or other sensor: other frames. */
	a.key.run_id = 8;
	assert_int_equal(store_put_alert(st, &a), 1);
	a.key.sensor_id = "tap-b";
	assert_int_equal(store_put_alert(st, &a), 1);
	assert_int_equal(count(st, "alerts"), 3);
}

/* Run ids are random 64-bit numbers: the top bit survives a signed BIGINT column. */
static void test_store_run_id_keeps_all_64_bits(void **state)
{
	struct store *st = *state;
	struct store_alert a = alert_row("tap-a", 0xfedcba9876543210ull, 5, "192.0.2.2");
	struct collect c = {0};
	struct store_run r = {"tap-a", 0xfedcba9876543210ull, 5, 1, 1, 1};
	uint64_t seq = 0;

	assert_int_equal(store_put_alert(st, &a), 1);
	assert_int_equal(store_put_run(st, &r), 0);
	assert_int_equal(store_scan_alerts(st, NULL, collect_alert, &c), 0);
	assert_int_equal(c.n, 1);
	assert_true(c.run[0] == 0xfedcba9876543210ull);
	assert_int_equal(store_max_seq(st, "tap-a", 0xfedcba9876543210ull, &seq), 0);
	assert_int_equal(seq, 5);
	assert_string_equal(c.message, "relayed for \"foreign\" domains — ünïcode ok");
}

/* max_seq only goes up; frames add up; an unknown run has 0. */
static void test_store_runs_keep_the_highest_seq(void **state)
{
	struct store *st = *state;
	struct store_run r = {"tap-a", 1, 10, 10, 100, 100};
	uint64_t seq = 99;

	assert_int_equal(store_put_run(st, &r), 0);
	r.max_seq = 4;
	r.frames = 2;
	assert_int_equal(store_put_run(st, &r), 0);
	assert_int_equal(store_max_seq(st, "tap-a", 1, &seq), 0);
	assert_int_equal(seq, 10);
	r.max_seq = 12;
	assert_int_equal(store_put_run(st, &r), 0);
	assert_int_equal(store_max_seq(st, "tap-a", 1, &seq), 0);
	assert_int_equal(seq, 12);
	assert_int_equal(store_max_seq(st, "tap-a", 2, &seq), 0);
	assert_int_equal(seq, 0);
}

/* A rolled back batch leaves nothing behind. */
static void test_store_rollback_discards_the_batch(void **state)
{
	struct store *st = *state;
	struct store_alert a = alert_row("tap-a", 1, 1, "192.0.2.3");

	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_put_alert(st, &a), 1);
	assert_int_equal(store_rollback(st), 0);
	assert_int_equal(count(st, "alerts"), 0);
}

/* Filters: by host, by account, since; newest first with a limit. */
static void test_store_alert_scans_filter_and_order(void **state)
{
	struct store *st = *state;
	struct store_filter f = {.host = "192.0.2.5"};
	struct collect c = {0};

	for (uint64_t s = 1; s <= 6; s++) {
		struct store_alert a = alert_row("tap-a", 1, s, s % 2 ? "192.0.2.5" : "192.0.2.6");

		a.account = s == 6 ? "alice@example.org" : "";
		assert_int_equal(store_put_alert(st, &a), 1);
	}
	assert_int_equal(store_scan_alerts(st, &f, collect_alert, &c), 0);
	assert_int_equal(c.n, 3);
	assert_true(c.seq[0] == 1 && c.seq[1] == 3 && c.seq[2] == 5);
	memset(&c, 0, sizeof(c));
	f = (struct store_filter){.account = "alice@example.org"};
	assert_int_equal(store_scan_alerts(st, &f, collect_alert, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.seq[0], 6);
	memset(&c, 0, sizeof(c));
	f = (struct store_filter){.newest_first = true, .limit = 2};
	assert_int_equal(store_scan_alerts(st, &f, collect_alert, &c), 0);
	assert_int_equal(c.n, 2);
	assert_true(c.seq[0] == 6 && c.seq[1] == 5);
	memset(&c, 0, sizeof(c));
	f = (struct store_filter){.since_ns = 1700000000 * NS + 5};
	assert_int_equal(store_scan_alerts(st, &f, collect_alert, &c), 0);
	assert_int_equal(c.n, 2);
}

static int collect_summary(const struct store_summary *s, void *arg)
{
	struct collect *c = arg;

	if (c->n < 8) {
		c->seq[c->n] = s->key.seq;
		c->messages[c->n] = s->c[STORE_SUM_messages];
		snprintf(c->host[c->n], sizeof(c->host[0]), "%s", s->host);
	}
	c->n++;
	return 0;
}

static struct store_summary summary_row(const char *sensor, uint64_t run, uint64_t seq,
					const char *host, uint64_t ts, uint64_t messages)
{
	struct store_summary s = {
		.key = {sensor, run, seq},
		.recv_ns = 1000 * NS,
		.ts_ns = ts,
		.period_s = 60,
		.host = host,
		.home = true,
		.first_seen_ns = 1 * NS,
		.last_seen_ns = ts,
		.score = 1.5,
	};

	s.c[STORE_SUM_messages] = messages;
	s.c[STORE_SUM_blocklist_replies] = 2;
	return s;
}

/* Running totals: the newest row of each (sensor, run, host, first_seen) only. */
static void test_store_summaries_latest_per_run(void **state)
{
	struct store *st = *state;
	struct store_filter f = {.latest_only = true};
	struct collect c = {0};
	struct store_summary rows[] = {
		summary_row("tap-a", 1, 1, "192.0.2.9", 100 * NS, 10),
		summary_row("tap-a", 1, 2, "192.0.2.9", 160 * NS, 25),
		summary_row("tap-a", 2, 1, "192.0.2.9", 200 * NS, 3),
		summary_row("tap-b", 1, 1, "192.0.2.9", 150 * NS, 7),
	};

	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(store_put_summary(st, &rows[i]), 1);
	assert_int_equal(store_put_summary(st, &rows[1]), 0);
	assert_int_equal(store_scan_summaries(st, &f, collect_summary, &c), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.messages[0] + c.messages[1] + c.messages[2], 25 + 3 + 7);
	memset(&c, 0, sizeof(c));
	f = (struct store_filter){.host = "192.0.2.9"};
	assert_int_equal(store_scan_summaries(st, &f, collect_summary, &c), 0);
	assert_int_equal(c.n, 4);
}

static struct store_tx tx_row(uint64_t seq, const char *client, const char *user, uint64_t ts,
			      uint64_t recv)
{
	static const struct store_rcpt rcpt[] = {
		{"bob@victim.example", "victim.example", 250, "2.1.5"},
		{"eve@other.example", "other.example", 550, "5.1.1"},
	};

	return (struct store_tx){
		.key = {"tap-a", 3, seq},
		.recv_ns = recv,
		.ts_ns = ts,
		.uid = "CTx",
		.client = client,
		.server = "198.51.100.7",
		.helo = "pc",
		.mailfrom = "sales@home.example",
		.auth_mech = "PLAIN",
		.auth_user = user,
		.auth_result = "success",
		.msg_id = "<m@x>",
		.from = "",
		.subject = "invoice",
		.last_reply = "250 ok",
		.user_agent = "",
		.client_port = 40000,
		.server_port = 587,
		.rcpt_json = "[]",
		.rcpt_text = "bob@victim.example 250 2.1.5",
		.rcpt = rcpt,
		.n_rcpt = 2,
	};
}

static int count_tx(const struct store_tx *t, void *arg)
{
	(*(unsigned int *)arg)++;
	return 0;
}

static unsigned int search(struct store *st, struct store_search q)
{
	unsigned int n = 0;

	assert_int_equal(store_search_tx(st, &q, count_tx, &n), 0);
	return n;
}

/* Who sent what to whom, from where, when: each filter alone and together. */
static void test_store_archive_search(void **state)
{
	struct store *st = *state;
	struct store_tx t;

	t = tx_row(1, "10.0.0.5", "alice", 100 * NS, 1000 * NS);
	assert_int_equal(store_put_tx(st, &t), 1);
	assert_int_equal(store_put_tx(st, &t), 0); /* recipients not doubled either */
	t = tx_row(2, "10.0.0.6", "bob", 200 * NS, 1000 * NS);
	t.n_rcpt = 1;
	assert_int_equal(store_put_tx(st, &t), 1);
	assert_int_equal(count(st, "tx_rcpt"), 3);
	assert_int_equal(search(st, (struct store_search){.account = "alice"}), 1);
	assert_int_equal(search(st, (struct store_search){.account = "sales@home.example"}), 2);
	assert_int_equal(search(st, (struct store_search){.host = "10.0.0.6"}), 1);
	assert_int_equal(search(st, (struct store_search){.host = "198.51.100.7"}), 2);
	assert_int_equal(search(st, (struct store_search){.rcpt_domain = "other.example"}), 1);
	assert_int_equal(search(st, (struct store_search){.rcpt_domain = "victim.example"}), 2);
	assert_int_equal(search(st, (struct store_search){.since_ns = 150 * NS}), 1);
	assert_int_equal(search(st, (struct store_search){.until_ns = 150 * NS}), 1);
	assert_int_equal(
		search(st, (struct store_search){.account = "bob", .rcpt_domain = "other.example"}),
		0);
	assert_int_equal(search(st, (struct store_search){.limit = 1}), 1);
}

/* Expiry goes by arrival time and spares alerts. */
static void test_store_expire_by_arrival(void **state)
{
	struct store *st = *state;
	struct store_tx old = tx_row(1, "10.0.0.5", "alice", 5 * NS, 100 * NS);
	struct store_tx recent = tx_row(2, "10.0.0.5", "alice", 1 * NS, 900 * NS);
	struct store_summary s = summary_row("tap-a", 1, 1, "192.0.2.9", 1 * NS, 1);
	struct store_alert a = alert_row("tap-a", 1, 9, "192.0.2.1");
	uint64_t deleted = 0;

	a.recv_ns = 1;
	assert_int_equal(store_put_tx(st, &old), 1);
	assert_int_equal(store_put_tx(st, &recent), 1);
	assert_int_equal(store_put_summary(st, &s), 1); /* recv 1000 s */
	assert_int_equal(store_put_alert(st, &a), 1);
	assert_int_equal(store_expire(st, 500 * NS, &deleted), 0);
	assert_int_equal(deleted, 1);
	assert_int_equal(count(st, "transactions"), 1);
	assert_int_equal(count(st, "tx_rcpt"), 2);
	assert_int_equal(count(st, "summaries"), 1);
	assert_int_equal(count(st, "alerts"), 1);
}

static int collect_sensor(const struct store_sensor *s, void *arg)
{
	struct collect *c = arg;

	snprintf(c->message, sizeof(c->message), "%s %s %s", s->sensor_id, s->version, s->peer);
	c->run[0] = s->run_id;
	c->n++;
	return 0;
}

/* A sensor's hello updates its row: one row per sensor, the latest run. */
static void test_store_sensor_upsert(void **state)
{
	struct store *st = *state;
	struct store_sensor s = {"tap-a", "0.1", "d", "10.0.0.0/8", "CN=tap-a", 1, 5, 10};
	struct collect c = {0};

	assert_int_equal(store_put_sensor(st, &s), 0);
	s.version = "0.2";
	s.run_id = 2;
	assert_int_equal(store_put_sensor(st, &s), 0);
	assert_int_equal(store_scan_sensors(st, collect_sensor, &c), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.message, "tap-a 0.2 CN=tap-a");
	assert_int_equal(c.run[0], 2);
}

/* Opening again runs no migration twice and keeps the data. */
static void test_store_reopen_keeps_schema_and_rows(void **state)
{
	struct store *st = *state, *again;
	struct store_alert a = alert_row("tap-a", 1, 1, "192.0.2.1");
	struct store_opts ro = {.readonly = true};
	struct errbuf eb = {{0}};
	uint64_t n = 0;

	assert_int_equal(store_put_alert(st, &a), 1);
	assert_int_equal(store_schema_version(st), 1);
	assert_int_equal(store_open(db_uri, NULL, &again, &eb), 0);
	assert_int_equal(store_schema_version(again), 1);
	store_close(again);
	assert_int_equal(store_open(db_uri, &ro, &again, &eb), 0);
	assert_int_equal(store_count(again, "alerts", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_count(again, "no_such_table", &n), -EINVAL);
	store_close(again);
}

/* report/search on a database that is not there: an error, not a new empty file. */
static void test_store_readonly_needs_an_existing_database(void **state)
{
	struct store_opts ro = {.readonly = true};
	struct errbuf eb = {{0}};
	struct store *st;
	char uri[600];

	(void)state;
#ifdef STORE_TEST_PG
	snprintf(uri, sizeof(uri), "postgresql:///nosuchdb?host=%s&port=%d&user=postgres", tmp_dir,
		 pg_port);
#else
	snprintf(uri, sizeof(uri), "sqlite:%s/missing.db", tmp_dir);
#endif
	assert_true(store_open(uri, &ro, &st, &eb) < 0);
	assert_true(eb.msg[0] != '\0');
#ifndef STORE_TEST_PG
	snprintf(uri, sizeof(uri), "%s/missing.db", tmp_dir);
	assert_int_equal(access(uri, F_OK), -1);
#endif
}

/*
 * Batch mode: on PostgreSQL a whole batch in one round trip with each call's
 * answer at the end, and a failing statement failing the batch (rolled back,
 * nothing kept); SQLite says it does not pipeline.
 */
static void test_store_batch_mode(void **state)
{
	struct store *st = *state;
	struct store_alert a = alert_row("tap-a", 1, 1, "192.0.2.1");
	struct store_run r = {"tap-a", 1, 1, 1, 1, 1};
	int res[4] = {-1, -1, -1, -1};

#ifndef STORE_TEST_PG
	assert_int_equal(store_batch_begin(st), -EOPNOTSUPP);
	(void)a;
	(void)r;
	(void)res;
#else
	assert_int_equal(store_batch_begin(st), 0);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_put_alert(st, &a), 0); /* queued */
	assert_int_equal(store_put_alert(st, &a), 0);
	a.key.seq = 2;
	assert_int_equal(store_put_alert(st, &a), 0);
	assert_int_equal(store_put_run(st, &r), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_batch_end(st, res, 4), 0);
	assert_int_equal(res[0], 1);
	assert_int_equal(res[1], 0); /* the re-send */
	assert_int_equal(res[2], 1);
	assert_int_equal(count(st, "alerts"), 2);

	/* Bytes PostgreSQL refuses in a text column fail the whole batch. */
	assert_int_equal(store_batch_begin(st), 0);
	assert_int_equal(store_begin(st), 0);
	a.key.seq = 3;
	assert_int_equal(store_put_alert(st, &a), 0);
	a.key.seq = 4;
	a.message = "bad \xff byte";
	assert_int_equal(store_put_alert(st, &a), 0);
	assert_int_equal(store_commit(st), 0);
	assert_true(store_batch_end(st, res, 2) < 0);
	store_rollback(st);
	assert_int_equal(count(st, "alerts"), 2);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_alert_is_stored_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_run_id_keeps_all_64_bits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_store_runs_keep_the_highest_seq, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_store_rollback_discards_the_batch, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_store_alert_scans_filter_and_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_store_summaries_latest_per_run, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_store_archive_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_expire_by_arrival, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_sensor_upsert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_reopen_keeps_schema_and_rows, setup,
						teardown),
		cmocka_unit_test(test_store_readonly_needs_an_existing_database),
		cmocka_unit_test_setup_teardown(test_store_batch_mode, setup, teardown),
	};
	int ret;

	if (db_start() != 0) {
		fprintf(stderr, "no database server for this test: skipped\n");
		db_stop();
		return 77;
	}
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	db_stop();
	return ret;
}
