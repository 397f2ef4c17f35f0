// SPDX-License-Identifier: BSD-3-Clause
/*
 * bench_export: frames per second from export_pb's enqueue to the
 * collector's ack, on 127.0.0.1, against the test collector of
 * tests/unit/ack_collector.h (it parses and acks every frame, stores
 * nothing), over TLS and plain TCP, with and without a spool directory.
 * Also the detector thread's cost per enqueue. Prints its figures.
 *
 *   bench_export [FRAMES]        (default 500000 per case)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ack_collector.h"
#include "common/clock.h"
#include "exporters/export_pb.h"
#include "sensor/netset.h"

struct bench_case {
	const char *name;
	bool tls, spool, tx;
};

static void make_alert(struct alert *a)
{
	uint8_t fam;

	memset(a, 0, sizeof(*a));
	a->kind = ALERT_AUTH_BRUTEFORCE;
	a->severity = ALERT_SEV_HIGH;
	netset_parse_addr("203.0.113.77", &a->host, &fam);
	a->family = fam;
	snprintf(a->message, sizeof(a->message), "%s", "512 AUTH failures in 10 minutes");
	alert_add_counter(a, "auth_failures", 512, 50, 600);
	alert_add_example(a, "user", "info@example.net", 16);
	alert_add_uid(a, "CHhAvVGS1DHFjwGM9");
}

static void make_tx(struct smtp_tx *tx)
{
	uint8_t fam;

	smtp_tx_init(tx, NULL, 1700000000000000000ull);
	memcpy(tx->uid, "C8sxvM2lbkw2SiMeNa", 19);
	netset_parse_addr("192.0.2.10", &tx->orig_h, &fam);
	netset_parse_addr("198.51.100.25", &tx->resp_h, &fam);
	tx->family = fam;
	smtp_tx_set(tx, SMTP_F_HELO, "mail.example.com", 16);
	smtp_tx_set(tx, SMTP_F_MAILFROM, "newsletter@example.com", 22);
	for (int i = 0; i < 5; i++)
		smtp_tx_add_rcpt(tx, "someone@example.org", 19);
	smtp_tx_set(tx, SMTP_F_SUBJECT, "Your weekly digest", 18);
	smtp_tx_set(tx, SMTP_F_LAST_REPLY, "250 2.0.0 Ok: queued as 4F3B21C0A2", 34);
}

static void wait_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Enqueues n frames, keeping at most 8k in flight so the hand-off ring
 * never overflows (that would measure drops, not delivery). */
static uint64_t produce(struct export_pb *ex, uint64_t n, bool tx_frames, uint64_t *enq_ns)
{
	static struct smtp_tx tx;
	struct export_pb_stats st;
	struct alert a;
	uint64_t t;

	make_alert(&a);
	make_tx(&tx);
	*enq_ns = 0;
	for (uint64_t i = 0; i < n; i += 256) {
		export_pb_stats_read(ex, &st);
		while (i - st.frames_acked > 8192) {
			wait_ms(1);
			export_pb_stats_read(ex, &st);
		}
		/* Timed per 256: the clock costs ~100 ns on a VM. */
		t = clock_mono_ns();
		for (uint64_t j = i; j < i + 256 && j < n; j++) {
			if (tx_frames)
				export_pb_tx(ex, &tx);
			else
				export_pb_alert(ex, &a);
		}
		*enq_ns += clock_mono_ns() - t;
	}
	export_pb_stats_read(ex, &st);
	return st.handoff_full[SPOOL_ALERT] + st.handoff_full[SPOOL_TX];
}

static int run_case(const struct bench_case *bc, const char *certs, uint64_t n)
{
	struct ack_store store = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct ack_collector srv = {0};
	char addr[64], spool[64] = "", crt[256], key[256], ca[256];
	struct export_pb_stats st;
	struct errbuf eb = {""};
	struct export_pb_cfg cfg;
	struct export_pb *ex;
	uint64_t t0, t1, enq_ns, dropped;
	int err;

	if (ack_collector_start(&srv, &store,
				bc->tls ? ack_collector_tls(certs, "server", "ca") : NULL, 0) != 0)
		return -1;
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", srv.port);
	snprintf(crt, sizeof(crt), "%s/client.crt", certs);
	snprintf(key, sizeof(key), "%s/client.key", certs);
	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	if (bc->spool && !mkdtemp(memcpy(spool, "/tmp/rw-bench-spool-XXXXXX", 27)))
		return -1;
	cfg = (struct export_pb_cfg){
		.address = addr,
		.plaintext = !bc->tls,
		.sensor_id = "tap-1",
		.tls_cert = bc->tls ? crt : NULL,
		.tls_key = bc->tls ? key : NULL,
		.tls_ca = bc->tls ? ca : NULL,
		.spool_dir = spool,
		.config_digest = "0000000000000000000000000000000000000000000000000000000000000000",
	};
	if (export_pb_create(&cfg, &ex, &eb) != 0) {
		fprintf(stderr, "%s\n", eb.msg);
		return -1;
	}
	t0 = clock_mono_ns();
	dropped = produce(ex, n, bc->tx, &enq_ns);
	while ((err = export_pb_wait(ex, 1000, &eb)) == -EAGAIN)
		;
	t1 = clock_mono_ns();
	export_pb_stats_read(ex, &st);
	printf("%-28s %9.0f frames/s  %7.1f MiB/s  enqueue %5.0f ns/frame  acked %" PRIu64
	       "/%" PRIu64 "%s\n",
	       bc->name, (double)n * 1e9 / (double)(t1 - t0),
	       (double)st.bytes_sent / (1 << 20) * 1e9 / (double)(t1 - t0),
	       (double)enq_ns / (double)n, st.frames_acked, n,
	       dropped || err ? "  (DROPS OR ERROR)" : "");
	export_pb_destroy(ex);
	ack_collector_stop(&srv);
	SSL_CTX_free(srv.ctx);
	if (spool[0])
		ack_collector_rm_dir(spool);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct bench_case cases[] = {
		{"TLS, alerts, memory spool", true, false, false},
		{"TLS, alerts, disk spool", true, true, false},
		{"TLS, transactions, disk", true, true, true},
		{"plain TCP, alerts, memory", false, false, false},
	};
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 500000;
	char certs[64];

	if (n == 0 || ack_collector_make_certs(certs, sizeof(certs)) != 0) {
		fprintf(stderr, "usage: %s [FRAMES]; needs the openssl CLI\n", argv[0]);
		return 1;
	}
	printf("bench_export: %" PRIu64 " frames per case, enqueue -> ack on 127.0.0.1\n", n);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (run_case(&cases[i], certs, n) != 0)
			fprintf(stderr, "%s: could not run\n", cases[i].name);
	ack_collector_rm_dir(certs);
	return 0;
}
