// SPDX-License-Identifier: BSD-3-Clause
/*
 * The capture sources', the spool's, the collector client's and the collector's
 * TLS errors that the command line cannot reach (it refuses those values first):
 * each call returns its -errno and says the exact words an operator would read.
 * tests/stress/messages_io.sh has the rest, through the binaries.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "collector/tls.h"
#include "dataplane/source.h"
#include "dataplane/steer.h"
#include "exporters/export_pb.h"
#include "exporters/spool.h"
#include "rw_config.h"

#define CAPTURE TEST_CAPTURES_DIR "/pipelining.pcap"
/* after the address; one literal, as messages_coverage.py looks for it */
#define TLS_NEEDS                                                                                  \
	": TLS needs a certificate, its key and the collector's CA (or plaintext, explicitly)"

static void assert_msg(const struct errbuf *eb, const char *want)
{
	if (strcmp(eb->msg, want) != 0)
		fail_msg("got '%s', want '%s'", eb->msg, want);
}

/* A path of n characters under /tmp that nothing will create. */
static char *long_path(size_t n)
{
	char *p = malloc(n + 1);

	assert_non_null(p);
	memset(p, 'd', n);
	memcpy(p, "/tmp/", 5);
	p[n] = '\0';
	return p;
}

static void open_fails(const struct source_cfg *cfg, int err, const char *want)
{
	struct errbuf eb = {""};
	struct source *src = NULL;

	assert_int_equal(source_open(cfg, &src, &eb), err);
	assert_null(src);
	assert_msg(&eb, want);
}

static void test_source_kind_not_built(void **state)
{
	struct source_cfg cfg = {.kind = (enum source_kind)42, .path = CAPTURE};

	(void)state;
	open_fails(&cfg, -ENOTSUP, "unknown capture was not built into this binary");
}

static void test_pcap_args(void **state)
{
	struct source_cfg cfg = {.kind = SOURCE_PCAP};

	(void)state;
	open_fails(&cfg, -EINVAL, "pcap: no file given");
	cfg.path = CAPTURE;
	cfg.n_queues = SOURCE_MAX_QUEUES + 1;
	open_fails(&cfg, -EINVAL, "pcap: at most 64 queues");
	cfg.n_queues = 2;
	open_fails(&cfg, -EINVAL, "pcap: several queues need preload (or steer)");
}

static void test_steer_no_output(void **state)
{
	struct source_cfg cfg = {.kind = SOURCE_PCAP, .path = CAPTURE};
	struct errbuf eb = {""};
	struct source *src, *st = NULL;

	(void)state;
	assert_int_equal(source_open(&cfg, &src, &eb), 0);
	assert_int_equal(steer_open(src, 0, &st, &eb), -EINVAL);
	assert_null(st);
	assert_msg(&eb, "steer: 0 output queues asked, 1..64");
	assert_int_equal(steer_open(src, SOURCE_MAX_QUEUES + 1, &st, &eb), -EINVAL);
	assert_msg(&eb, "steer: 65 output queues asked, 1..64");
	source_close(src);
}

#if HAVE_AFXDP
/* Refused before any interface or BPF is touched. */
static void test_afxdp_cfg(void **state)
{
	static const uint16_t ports[17] = {25};
	struct source_cfg cfg = {.kind = SOURCE_AFXDP, .iface = "lo", .n_queues = 0};

	(void)state;
	open_fails(&cfg, -EINVAL, "afxdp: 0 queues: 1..64");
	cfg.n_queues = 1;
	cfg.frames_per_queue = 3000;
	open_fails(&cfg, -EINVAL, "afxdp: frames per queue must be a power of two");
	cfg.frames_per_queue = 0;
	cfg.ports = ports;
	cfg.n_ports = 17;
	open_fails(&cfg, -E2BIG, "afxdp: the XDP pre-filter takes at most 16 ports");
	cfg.n_ports = 0;
	cfg.iface = "";
	open_fails(&cfg, -EINVAL, "afxdp: interface name '' is empty or longer than 15 characters");
}
#endif

static void test_spool_args(void **state)
{
	char *dir = long_path(3000), want[3100];
	struct spool_cfg cfg = {.max_bytes = 1000};
	struct errbuf eb = {""};
	struct spool *sp = NULL;

	(void)state;
	assert_int_equal(spool_open(&cfg, &sp, &eb), -EINVAL);
	assert_msg(&eb, "spool: a bound of 1000 bytes is too small (at least 64 KiB)");
	cfg.max_bytes = 1 << 20;
	cfg.dir = dir;
	assert_int_equal(spool_open(&cfg, &sp, &eb), -ENAMETOOLONG);
	assert_null(sp);
	snprintf(want, sizeof(want), "spool %.*s: path too long", (int)sizeof(eb.msg), dir);
	want[sizeof(eb.msg) - 1] = '\0'; /* errbuf keeps what fits */
	assert_msg(&eb, want);
	free(dir);
}

static void pb_fails(const struct export_pb_cfg *cfg, int err, const char *want)
{
	struct errbuf eb = {""};
	struct export_pb *ex = NULL;

	assert_int_equal(export_pb_create(cfg, &ex, &eb), err);
	assert_null(ex);
	assert_msg(&eb, want);
}

static void test_export_pb_args(void **state)
{
	char *path = long_path(1100);
	struct export_pb_cfg cfg = {.address = "nowhere", .plaintext = true};

	(void)state;
	pb_fails(&cfg, -EINVAL, "collector address 'nowhere' is not HOST:PORT (IPv6: [ADDR]:PORT)");
	cfg.address = "2001:db8::1:25";
	pb_fails(&cfg, -EINVAL,
		 "collector address '2001:db8::1:25' is not HOST:PORT (IPv6: [ADDR]:PORT)");
	cfg.address = "127.0.0.1:9";
	cfg.plaintext = false;
	cfg.tls_ca = CAPTURE;
	pb_fails(&cfg, -EINVAL, "collector 127.0.0.1:9" TLS_NEEDS);
	cfg.spool_dir = path;
	pb_fails(&cfg, -ENAMETOOLONG, "collector: address, sensor id or spool directory too long");
	cfg.spool_dir = NULL;
	cfg.tls_cert = path;
	pb_fails(&cfg, -ENAMETOOLONG, "collector: TLS file name too long");
	free(path);
}

static void test_collector_tls_partial(void **state)
{
	struct errbuf eb = {""};
	SSL_CTX *ctx = NULL;

	(void)state;
	assert_int_equal(tls_ctx_create(CAPTURE, NULL, CAPTURE, &ctx, &eb), -EINVAL);
	assert_null(ctx);
	assert_msg(&eb, "tls: --tls-cert, --tls-key and --tls-ca go together");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_kind_not_built),
		cmocka_unit_test(test_pcap_args),
		cmocka_unit_test(test_steer_no_output),
#if HAVE_AFXDP
		cmocka_unit_test(test_afxdp_cfg),
#endif
		cmocka_unit_test(test_spool_args),
		cmocka_unit_test(test_export_pb_args),
		cmocka_unit_test(test_collector_tls_partial),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
