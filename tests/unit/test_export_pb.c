// SPDX-License-Identifier: BSD-3-Clause
/*
 * The exporter against a small acking collector written here with OpenSSL on
 * 127.0.0.1 (certificates made by the openssl CLI at test time). The
 * collector keeps what it stored across its own restarts and checks that,
 * per run_id, frames arrive in order with no gap; duplicates after a dropped
 * connection are counted (the real collector drops them by seq). Then the
 * failures a user must be told about: a CA we do not know, a name that does
 * not match, our certificate refused, garbage, Ack.error, nothing listening,
 * a name that does not resolve, a key that is not the certificate's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ack_collector.h"
#include "exporters/export_pb.h"
#include "exporters/relaywatch.pb-c.h"
#include "sensor/config.h"
#include "sensor/netset.h"

static char certs[64];

static int certs_setup(void **state)
{
	(void)state;
	if (ack_collector_make_certs(certs, sizeof(certs)) != 0) {
		fprintf(stderr, "cannot make test certificates with the openssl CLI\n");
		return -1;
	}
	return 0;
}

static int certs_teardown(void **state)
{
	(void)state;
	return ack_collector_rm_dir(certs);
}

static const char *cert(const char *name, const char *ext)
{
	static char buf[8][256];
	static int i;
	char *p = buf[i++ & 7];

	snprintf(p, 256, "%s/%s.%s", certs, name, ext);
	return p;
}

static SSL_CTX *srv_tls(const char *name, const char *client_ca)
{
	SSL_CTX *ctx = ack_collector_tls(certs, name, client_ca);

	assert_non_null(ctx);
	return ctx;
}

static void srv_start(struct ack_collector *s, struct ack_store *st, SSL_CTX *ctx, uint16_t port)
{
	assert_int_equal(ack_collector_start(s, st, ctx, port), 0);
}

static uint16_t free_port(void)
{
	uint16_t port = ack_collector_free_port();

	assert_int_not_equal(port, 0);
	return port;
}

/* ---- the sensor side ---- */

struct client {
	struct export_pb_cfg cfg;
	char address[64];
	char digest[65];
};

static void client_cfg(struct client *c, uint16_t port, const char *spool)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->address, sizeof(c->address), "127.0.0.1:%u", port);
	export_pb_digest("smtp_ports=25\n", 14, c->digest);
	c->cfg = (struct export_pb_cfg){
		.address = c->address,
		.tls_cert = cert("client", "crt"),
		.tls_key = cert("client", "key"),
		.tls_ca = cert("ca", "crt"),
		.sensor_id = "tap-1",
		.spool_dir = spool,
		.drain_timeout_s = 20,
		.config_digest = c->digest,
		.backoff_min_ms = 20,
		.backoff_max_ms = 200,
		.connect_timeout_ms = 2000,
		.ack_timeout_ms = 5000,
	};
}

static struct export_pb *client_start(struct client *c)
{
	struct errbuf eb = {""};
	struct export_pb *ex = NULL;

	if (export_pb_create(&c->cfg, &ex, &eb) != 0)
		fail_msg("export_pb_create: %s", eb.msg);
	return ex;
}

/* n frames: alerts, transactions and summaries in turn. */
static void send_frames(struct export_pb *ex, unsigned int n)
{
	static struct smtp_tx tx;
	struct detect_host_summary hs = {.family = 4, .msgs = 3};
	struct alert a = {.kind = ALERT_OPEN_RELAY, .family = 4};
	uint8_t fam;

	assert_true(netset_parse_addr("192.0.2.25", &a.host, &fam));
	hs.addr = a.host;
	smtp_tx_init(&tx, NULL, 1);
	smtp_tx_set(&tx, SMTP_F_MAILFROM, "spam@example.com", 16);
	for (unsigned int i = 0; i < n; i++) {
		a.ts_ns = tx.ts_ns = i;
		snprintf(a.message, sizeof(a.message), "alert %u", i);
		if (i % 3 == 0)
			export_pb_alert(ex, &a);
		else if (i % 3 == 1)
			export_pb_tx(ex, &tx);
		else
			export_pb_summary(ex, &hs, i, 60);
	}
}

/* All acked: 0, within the drain limit. */
static int drain(struct export_pb *ex, struct errbuf *eb)
{
	int err;

	while ((err = export_pb_wait(ex, 1000, eb)) == -EAGAIN)
		;
	return err;
}

static bool wait_stat(struct export_pb *ex, size_t field, uint64_t at_least)
{
	struct timespec ts = {0, 5 * 1000 * 1000};

	for (int i = 0; i < 2000; i++) {
		struct export_pb_stats st;

		export_pb_stats_read(ex, &st);
		if (((uint64_t *)&st)[field / sizeof(uint64_t)] >= at_least)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

#define WAIT_STAT(ex, field, n)                                                                    \
	assert_true(wait_stat(ex, offsetof(struct export_pb_stats, field), n))

static void expect_error(struct export_pb *ex, const char *needle)
{
	char err[512];

	export_pb_last_error(ex, err, sizeof(err));
	if (!strstr(err, needle))
		fail_msg("'%s' not in the last error '%s'", needle, err);
}

static void expect_stored(struct ack_store *st, unsigned int run, uint64_t count)
{
	pthread_mutex_lock(&st->lock);
	assert_true(run < st->n_runs);
	assert_int_equal(st->runs[run].count, count);
	assert_int_equal(st->runs[run].max, count);
	assert_int_equal(st->gaps, 0);
	assert_int_equal(st->not_hello_first, 0);
	assert_int_equal(st->bad, 0);
	pthread_mutex_unlock(&st->lock);
}

/* One case: a collector (ctx NULL: plain TCP) and a client with n frames sent. */
struct tcase {
	struct ack_store st;
	struct ack_collector srv;
	struct client c;
	struct export_pb *ex;
	struct export_pb_stats xs;
	struct errbuf eb;
};

static void begin_case(struct tcase *t, enum ack_collector_mode mode, SSL_CTX *ctx, unsigned int n)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->st.lock, NULL);
	atomic_store(&t->srv.mode, mode);
	t->srv.drop_after = 500;
	srv_start(&t->srv, &t->st, ctx, 0);
	client_cfg(&t->c, t->srv.port, NULL);
	if (!ctx) {
		t->c.cfg.plaintext = true;
		t->c.cfg.tls_cert = t->c.cfg.tls_key = t->c.cfg.tls_ca = NULL;
	}
	t->ex = client_start(&t->c);
	send_frames(t->ex, n);
}

/* Everything is acked; the client goes, then the collector, which must hold
 * count frames of its run'th run: 1..count, once each. */
static void end_case(struct tcase *t, unsigned int run, uint64_t count)
{
	assert_int_equal(drain(t->ex, &t->eb), 0);
	export_pb_stats_read(t->ex, &t->xs);
	export_pb_destroy(t->ex);
	ack_collector_stop(&t->srv);
	expect_stored(&t->st, run, count);
	SSL_CTX_free(t->srv.ctx);
}

/* ---- tests ---- */

static void test_export_pb_backoff_doubles_with_jitter(void **state)
{
	(void)state;
	for (uint64_t r = 0; r < 1000; r += 7) {
		uint32_t d0 = export_pb_backoff_ms(0, r, 500, 30000);
		uint32_t d3 = export_pb_backoff_ms(3, r, 500, 30000);
		uint32_t d9 = export_pb_backoff_ms(9, r, 500, 30000);

		assert_true(d0 >= 375 && d0 < 625);
		assert_true(d3 >= 3000 && d3 < 5000);
		assert_true(d9 >= 22500 && d9 <= 30000);
		assert_true(export_pb_backoff_ms(40, r, 500, 30000) <= 30000);
	}
	/* The jitter spreads sensors that fail together. */
	assert_int_not_equal(export_pb_backoff_ms(2, 1, 500, 30000),
			     export_pb_backoff_ms(2, 600, 500, 30000));
}

static void test_export_pb_digest_is_sha256(void **state)
{
	char d[65];

	(void)state;
	export_pb_digest("abc", 3, d);
	assert_string_equal(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* Everything enqueued is stored once, in order, over TLS; the hello first. */
static void test_export_pb_delivers_in_order(void **state)
{
	static struct tcase t;

	(void)state;
	begin_case(&t, ACK_COLLECTOR_ACK, srv_tls("server", "ca"), 3000);
	end_case(&t, 0, 3000);
	assert_int_equal(t.xs.frames_acked, 3000);
	assert_int_equal(t.xs.enqueued[SPOOL_ALERT] + t.xs.enqueued[SPOOL_TX] +
				 t.xs.enqueued[SPOOL_SUMMARY],
			 3000);
	assert_int_equal(t.xs.spool_frames, 0);
	assert_int_equal(t.xs.sessions, 1);
	assert_int_equal(t.xs.frames_resent, 0);
	assert_int_equal(t.st.dups, 0);
	assert_int_equal(t.st.hellos, 1);
	assert_int_equal(t.st.by_case[RELAYWATCH__FRAME__BODY_ALERT], 1000);
	assert_int_equal(t.st.by_case[RELAYWATCH__FRAME__BODY_TX], 1000);
	assert_int_equal(t.st.by_case[RELAYWATCH__FRAME__BODY_SUMMARY], 1000);
}

/* The collector goes away mid-stream without acking: the client reconnects,
 * says hello again and re-sends from the oldest unacknowledged frame. */
static void test_export_pb_connection_dropped_mid_stream(void **state)
{
	static struct tcase t;

	(void)state;
	begin_case(&t, ACK_COLLECTOR_DROP, srv_tls("server", "ca"), 2000);
	end_case(&t, 0, 2000);
	assert_true(t.xs.reconnects >= 1);
	assert_true(t.xs.frames_resent >= 1);
	assert_true(t.xs.failures[EXPORT_PB_FAIL_CLOSED] + t.xs.failures[EXPORT_PB_FAIL_NETWORK] >=
		    1);
	assert_true(t.st.dups >= 1); /* the unacked tail came twice; stored once */
	assert_int_equal(t.st.hellos, t.xs.sessions);
}

/* The collector restarts: the client sees "nothing listens", backs off,
 * and delivers the rest when it is back on the same port. */
static void test_export_pb_collector_restart(void **state)
{
	static struct tcase t;
	uint16_t port;

	(void)state;
	begin_case(&t, ACK_COLLECTOR_ACK, srv_tls("server", "ca"), 300);
	port = t.srv.port;
	assert_int_equal(drain(t.ex, &t.eb), 0);
	ack_collector_stop(&t.srv);
	send_frames(t.ex, 300);
	WAIT_STAT(t.ex, failures[EXPORT_PB_FAIL_REFUSED], 2);
	expect_error(t.ex, "connection refused: nothing listens on 127.0.0.1:");
	srv_start(&t.srv, &t.st, t.srv.ctx, port);
	end_case(&t, 0, 600);
	assert_true(t.xs.reconnects >= 1);
	assert_int_equal(t.xs.frames_acked, 600);
}

/* The sensor restarts with frames unacknowledged in its spool: the next run
 * sends them with their own run_id and seq, then its own. */
static void test_export_pb_sensor_restart_resends_spool(void **state)
{
	static struct tcase t;
	struct export_pb *ex;
	struct client c;
	uint64_t run1;
	char spool[64];

	(void)state;
	snprintf(spool, sizeof(spool), "%s", "/tmp/rw-export-spool-XXXXXX");
	assert_non_null(mkdtemp(spool));
	client_cfg(&c, free_port(), spool);
	ex = client_start(&c);
	run1 = export_pb_run_id(ex);
	send_frames(ex, 150);
	WAIT_STAT(ex, spool_frames, 150);
	export_pb_destroy(ex);

	memset(&t, 0, sizeof(t));
	pthread_mutex_init(&t.st.lock, NULL);
	srv_start(&t.srv, &t.st, srv_tls("server", "ca"), 0);
	client_cfg(&t.c, t.srv.port, spool);
	t.ex = client_start(&t.c);
	assert_true(export_pb_run_id(t.ex) != run1);
	send_frames(t.ex, 20);
	end_case(&t, 1, 20);
	assert_int_equal(t.xs.spool_recovered, 150);
	assert_int_equal(t.xs.frames_acked, 170);
	assert_true(t.st.runs[0].run_id == run1);
	expect_stored(&t.st, 0, 150);
	assert_int_equal(t.st.dups, 0);
	assert_int_equal(ack_collector_rm_dir(spool), 0);
}

/* Connects until the given failure has been counted twice, then checks the
 * words. ctx NULL: no collector at all, address says where to fail. */
static void expect_failure(SSL_CTX *ctx, enum ack_collector_mode mode, const char *address,
			   enum export_pb_fail why, const char *needle)
{
	struct ack_store st = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct ack_collector s = {0};
	struct export_pb_stats xs;
	struct export_pb *ex;
	struct client c;

	atomic_store(&s.mode, mode);
	if (ctx)
		srv_start(&s, &st, ctx, 0);
	client_cfg(&c, s.port, NULL);
	if (address)
		c.cfg.address = address;
	ex = client_start(&c);
	send_frames(ex, 10);
	assert_true(wait_stat(ex, offsetof(struct export_pb_stats, failures) + why * 8, 2));
	expect_error(ex, needle);
	export_pb_stats_read(ex, &xs);
	assert_int_equal(xs.frames_acked, 0);
	if (why == EXPORT_PB_FAIL_TLS_VERIFY || why == EXPORT_PB_FAIL_TLS_REJECTED)
		assert_true(xs.tls_handshake_failures >= 2);
	export_pb_destroy(ex);
	if (ctx)
		ack_collector_stop(&s);
	assert_int_equal(st.n_runs, 0);
	SSL_CTX_free(ctx);
}

static void test_export_pb_unknown_ca(void **state)
{
	(void)state;
	expect_failure(srv_tls("imposter", "ca"), ACK_COLLECTOR_ACK, NULL,
		       EXPORT_PB_FAIL_TLS_VERIFY,
		       "the collector's certificate is not trusted: unable to get local issuer "
		       "certificate (checked against the CA file");
}

static void test_export_pb_wrong_name(void **state)
{
	(void)state;
	expect_failure(srv_tls("elsewhere", "ca"), ACK_COLLECTOR_ACK, NULL,
		       EXPORT_PB_FAIL_TLS_VERIFY,
		       "the collector's certificate is not for 127.0.0.1 (IP address mismatch)");
}

/* The collector trusts another CA: it refuses our certificate with an alert. */
static void test_export_pb_our_certificate_refused(void **state)
{
	(void)state;
	expect_failure(srv_tls("server", "other"), ACK_COLLECTOR_ACK, NULL,
		       EXPORT_PB_FAIL_TLS_REJECTED, "the collector refused our certificate");
}

static void test_export_pb_collector_error_text(void **state)
{
	(void)state;
	expect_failure(srv_tls("server", "ca"), ACK_COLLECTOR_REFUSE, NULL,
		       EXPORT_PB_FAIL_COLLECTOR,
		       "the collector refused this sensor: sensor 'tap-1' is not registered here");
}

static void test_export_pb_nothing_listening_and_dns(void **state)
{
	char addr[64];

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", free_port());
	expect_failure(NULL, ACK_COLLECTOR_ACK, addr, EXPORT_PB_FAIL_REFUSED,
		       "connection refused: nothing listens on 127.0.0.1:");
	expect_failure(NULL, ACK_COLLECTOR_ACK, "no-such-collector.invalid:4000",
		       EXPORT_PB_FAIL_DNS, "cannot resolve no-such-collector.invalid: ");
}

/* Garbage from the "collector" is a protocol error, not a crash; once it
 * speaks properly again everything goes through. */
static void test_export_pb_garbage_then_recovers(void **state)
{
	static struct tcase t;

	(void)state;
	begin_case(&t, ACK_COLLECTOR_GARBAGE, srv_tls("server", "ca"), 100);
	WAIT_STAT(t.ex, failures[EXPORT_PB_FAIL_PROTOCOL], 2);
	expect_error(t.ex, "not a relaywatch collector?");
	atomic_store(&t.srv.mode, ACK_COLLECTOR_ACK);
	end_case(&t, 0, 100);
}

static void test_export_pb_plaintext_when_told(void **state)
{
	static struct tcase t;

	(void)state;
	begin_case(&t, ACK_COLLECTOR_ACK, NULL, 50);
	end_case(&t, 0, 50);
	assert_int_equal(t.xs.tls_handshake_failures, 0);
}

static void expect_create_error(struct client *c, const char *needle)
{
	struct errbuf eb = {""};
	struct export_pb *ex = NULL;

	assert_true(export_pb_create(&c->cfg, &ex, &eb) < 0);
	assert_null(ex);
	if (!strstr(eb.msg, needle))
		fail_msg("'%s' not in '%s'", needle, eb.msg);
}

/* Set-up errors name the file and the cause. */
static void test_export_pb_setup_errors(void **state)
{
	struct client c;

	(void)state;
	client_cfg(&c, 4000, NULL);
	c.cfg.tls_key = cert("server", "key");
	expect_create_error(&c, "does not match the certificate");
	client_cfg(&c, 4000, NULL);
	c.cfg.tls_ca = cert("missing", "crt");
	expect_create_error(&c, "missing.crt: cannot load: No such file or directory");
	client_cfg(&c, 4000, NULL);
	c.cfg.tls_cert = cert("ca", "key");
	expect_create_error(&c, "ca.key: cannot load: ");
	client_cfg(&c, 4000, NULL);
	c.cfg.address = "2001:db8::1:4000";
	expect_create_error(&c, "is not HOST:PORT (IPv6: [ADDR]:PORT)");
	client_cfg(&c, 4000, "/proc/no-spool-here");
	expect_create_error(&c, "spool /proc/no-spool-here: cannot create");
}

/* -r with the collector away: a clear error after the drain limit, saying
 * where the frames are (or that they are lost). */
static void test_export_pb_unreachable_run_gives_up(void **state)
{
	char spool[64];
	struct errbuf eb = {""};
	struct export_pb *ex;
	struct client c;

	(void)state;
	snprintf(spool, sizeof(spool), "%s", "/tmp/rw-export-spool-XXXXXX");
	assert_non_null(mkdtemp(spool));
	client_cfg(&c, free_port(), spool);
	c.cfg.drain_timeout_s = 1;
	ex = client_start(&c);
	send_frames(ex, 30);
	assert_int_equal(drain(ex, &eb), -ETIMEDOUT);
	assert_non_null(strstr(eb.msg, "nothing acknowledged for 1 s (connection refused: "
				       "nothing listens on 127.0.0.1:"));
	assert_non_null(
		strstr(eb.msg, "the 30 frames not delivered stay in /tmp/rw-export-spool-"));
	export_pb_destroy(ex);

	client_cfg(&c, free_port(), NULL);
	c.cfg.drain_timeout_s = 1;
	ex = client_start(&c);
	send_frames(ex, 5);
	assert_int_equal(drain(ex, &eb), -ETIMEDOUT);
	assert_non_null(strstr(eb.msg, "5 frames not delivered are lost (--spool DIR"));
	export_pb_destroy(ex);
	assert_int_equal(ack_collector_rm_dir(spool), 0);
}

static void digest_of(const char *yaml, char out[65], struct export_pb_setup *st)
{
	struct errbuf eb = {""};
	struct export_pb_cfg ec;
	struct config c;

	assert_int_equal(config_init(&c), 0);
	if (config_load_buffer(&c, "test.yaml", yaml, strlen(yaml), &eb) != 0)
		fail_msg("%s", eb.msg);
	export_pb_cfg_from_config(&c, st, &ec);
	assert_string_equal(ec.config_digest, st->digest);
	memcpy(out, st->digest, 65);
	config_fini(&c);
}

/* privacy: the key goes to the exporter for pseudonymize_ips only (the
 * workers already pseudonymised the mailboxes), and the subject goes unless kept. */
static void test_export_pb_privacy_from_config(void **state)
{
	static const char key_only_ips[] =
		"privacy: {pseudonymize_ips: true, key_file: /k, keep_subject: false}\n";
	static const char mailboxes[] = "privacy: {pseudonymize: true, key_file: /k}\n";
	static struct export_pb_setup st;
	struct errbuf eb = {""};
	struct export_pb_cfg ec;
	struct config c;

	(void)state;
	assert_int_equal(config_init(&c), 0);
	export_pb_cfg_from_config(&c, &st, &ec);
	assert_true(!ec.privacy_key_file || !ec.privacy_key_file[0]);
	assert_false(ec.pseudonymize_ips);
	assert_int_equal(config_load_buffer(&c, "t.yaml", key_only_ips, strlen(key_only_ips), &eb),
			 0);
	export_pb_cfg_from_config(&c, &st, &ec);
	assert_string_equal(ec.privacy_key_file, "/k");
	assert_true(ec.pseudonymize_ips && ec.drop_subject);
	config_fini(&c);
	assert_int_equal(config_init(&c), 0);
	assert_int_equal(config_load_buffer(&c, "t.yaml", mailboxes, strlen(mailboxes), &eb), 0);
	export_pb_cfg_from_config(&c, &st, &ec);
	assert_true(!ec.privacy_key_file || !ec.privacy_key_file[0]);
	assert_false(ec.pseudonymize_ips);
	config_fini(&c);
}

/* The digest follows what the sensor judges by, not how it was written: the
 * same prefixes and ports in another form give the same digest; identity and
 * transport do not count; a detector parameter does. The hello's home_net is
 * the merged prefixes. */
static void test_export_pb_config_digest_is_canonical(void **state)
{
	static struct export_pb_setup st;
	char a[65], b[65], c[65], d[65];

	(void)state;
	digest_of("home_net: [10.0.0.0/8, 11.0.0.0/8, 12.0.0.0/8, \"2001:db8::/32\"]\n"
		  "smtp_ports: [587, 25]\n",
		  a, &st);
	assert_int_equal(strlen(a), 64);
	assert_string_equal(st.home[0], "10.0.0.0/7");
	assert_string_equal(st.home[1], "12.0.0.0/8");
	assert_string_equal(st.home[2], "2001:db8::/32");
	digest_of("home_net: [\"2001:db8::/33\", \"2001:db8:8000::/33\", 12.0.0.0/8, 10.0.0.0/7]\n"
		  "smtp_ports: [25, 587]\n"
		  "collector: {sensor_id: tap-other, spool_dir: /var/spool/x}\n",
		  b, &st);
	assert_string_equal(a, b);
	digest_of("home_net: [10.0.0.0/7, 12.0.0.0/8, \"2001:db8::/32\"]\n"
		  "smtp_ports: [25, 587]\n"
		  "detectors: {auth_bruteforce: {min_failures: 21}}\n",
		  c, &st);
	assert_string_not_equal(a, c);
	digest_of("home_net: [10.0.0.0/7, 12.0.0.0/8, \"2001:db8::/32\"]\n"
		  "smtp_ports: [25]\n",
		  d, &st);
	assert_string_not_equal(a, d);
}

/* The longest prefixes in each family reach the hello whole. */
static void test_export_pb_longest_home_net_is_not_cut(void **state)
{
	static struct export_pb_setup st;
	char a[65];

	(void)state;
	digest_of("home_net: [\"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127\", "
		  "255.255.255.254/31, \"::ffff:203.0.113.7/128\"]\n",
		  a, &st);
	assert_string_equal(st.home[0], "203.0.113.7/32");
	assert_string_equal(st.home[1], "255.255.255.254/31");
	assert_string_equal(st.home[2], "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_pb_backoff_doubles_with_jitter),
		cmocka_unit_test(test_export_pb_digest_is_sha256),
		cmocka_unit_test(test_export_pb_config_digest_is_canonical),
		cmocka_unit_test(test_export_pb_longest_home_net_is_not_cut),
		cmocka_unit_test(test_export_pb_privacy_from_config),
		cmocka_unit_test(test_export_pb_delivers_in_order),
		cmocka_unit_test(test_export_pb_connection_dropped_mid_stream),
		cmocka_unit_test(test_export_pb_collector_restart),
		cmocka_unit_test(test_export_pb_sensor_restart_resends_spool),
		cmocka_unit_test(test_export_pb_unknown_ca),
		cmocka_unit_test(test_export_pb_wrong_name),
		cmocka_unit_test(test_export_pb_our_certificate_refused),
		cmocka_unit_test(test_export_pb_collector_error_text),
		cmocka_unit_test(test_export_pb_nothing_listening_and_dns),
		cmocka_unit_test(test_export_pb_garbage_then_recovers),
		cmocka_unit_test(test_export_pb_plaintext_when_told),
		cmocka_unit_test(test_export_pb_setup_errors),
		cmocka_unit_test(test_export_pb_unreachable_run_gives_up),
	};

	signal(SIGPIPE, SIG_IGN); /* the test collector writes to sockets the client closed */
	return cmocka_run_group_tests(tests, certs_setup, certs_teardown);
}
