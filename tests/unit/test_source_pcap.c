// SPDX-License-Identifier: BSD-3-Clause
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/hash.h"
#include "dataplane/decode.h"
#include "dataplane/source.h"
#include "dataplane/source_pcap.h"
#include "pcap_no_flow.h"

#define SMTP_PCAP TEST_CORPUS_DIR "/zeek/testing/btest/Traces/smtp.pcap"
#define GZ_PCAP	  TEST_CORPUS_DIR "/zeek/testing/btest/Traces/smtp/smtp-many-addresses.pcap.gz"

static int open_pcap(const char *path, bool preload, uint16_t queues, struct source **s,
		     struct errbuf *eb)
{
	struct source_cfg cfg = {
		.kind = SOURCE_PCAP, .path = path, .preload = preload, .n_queues = queues};

	return source_open(&cfg, s, eb);
}

/* Reads every packet of queue q; returns the count and a digest of the bytes. */
static size_t drain(struct source *s, uint16_t q, uint64_t *digest)
{
	struct pkt pkts[32];
	size_t total = 0;

	*digest = 0;
	while (!s->ops->at_eof(s, q)) {
		uint16_t n = s->ops->rx_burst(s, q, pkts, 32);

		for (uint16_t i = 0; i < n; i++) {
			assert_true(pkts[i].len <= pkts[i].wire_len);
			*digest += hash_bytes(pkts[i].data, pkts[i].len, pkts[i].ts_ns);
		}
		s->ops->release(s, q, pkts, n);
		total += n;
	}
	return total;
}

/* Streaming and preloaded reads give the same frames with the same times. */
static void test_source_pcap_stream_equals_preload(void **state)
{
	struct errbuf eb = {""};
	struct source *a, *b;
	uint64_t da, db;
	size_t na, nb;

	(void)state;
	assert_int_equal(open_pcap(SMTP_PCAP, false, 1, &a, &eb), 0);
	assert_int_equal(open_pcap(SMTP_PCAP, true, 1, &b, &eb), 0);
	na = drain(a, 0, &da);
	nb = drain(b, 0, &db);
	assert_int_equal(na, 125); /* tshark -r smtp.pcap | wc -l */
	assert_int_equal(na, nb);
	assert_int_equal(da, db);
	assert_null(a->ops->last_error(a));
	source_close(a);
	source_close(b);
}

/* Preloaded over 3 queues: every packet once, and a flow never split. */
static void test_source_pcap_preload_queues_keep_flows_together(void **state)
{
	struct errbuf eb = {""};
	struct decode_cfg dc;
	struct source *s;
	size_t total = 0;
	struct {
		uint64_t h;
		uint16_t q;
	} seen[256];
	unsigned int n_seen = 0;

	(void)state;
	decode_cfg_default(&dc);
	assert_int_equal(open_pcap(SMTP_PCAP, true, 3, &s, &eb), 0);
	assert_int_equal(s->n_queues, 3);
	for (uint16_t q = 0; q < 3; q++) {
		struct pkt pkts[32];
		uint16_t n;

		while ((n = s->ops->rx_burst(s, q, pkts, 32))) {
			for (uint16_t i = 0; i < n; i++) {
				struct decode_stats st;
				struct pkt_meta m;
				uint64_t h;

				if (decode_pkt(&dc, &pkts[i], &m, &st) != DECODE_OK)
					continue;
				h = hash_sym_tuple(m.src.b, m.sport, m.dst.b, m.dport, 0);
				for (unsigned int k = 0; k < n_seen; k++)
					if (seen[k].h == h && seen[k].q != q)
						fail_msg("a flow was split across queues");
				if (n_seen < 256) {
					seen[n_seen].h = h;
					seen[n_seen++].q = q;
				}
			}
			total += n;
		}
		assert_true(s->ops->at_eof(s, q));
	}
	assert_int_equal(total, 125);
	source_close(s);
}

static void test_source_pcap_reads_gzip(void **state)
{
	struct errbuf eb = {""};
	struct source *s;
	uint64_t d;

	(void)state;
	assert_int_equal(open_pcap(GZ_PCAP, false, 1, &s, &eb), 0);
	assert_true(drain(s, 0, &d) > 1000);
	assert_null(s->ops->last_error(s));
	source_close(s);
}

static char *copy_prefix(const char *src, long keep, const char *tag)
{
	static char path[256];
	char buf[65536];
	FILE *in = fopen(src, "rb"), *out;
	size_t n;

	assert_non_null(in);
	snprintf(path, sizeof(path), "/tmp/rw-test-%s-%d.pcap", tag, (int)getpid());
	out = fopen(path, "wb");
	assert_non_null(out);
	while (keep > 0 &&
	       (n = fread(buf, 1, sizeof(buf) < (size_t)keep ? sizeof(buf) : (size_t)keep, in)) >
		       0) {
		fwrite(buf, 1, n, out);
		keep -= (long)n;
	}
	fclose(in);
	fclose(out);
	return path;
}

/* Cut mid-record: the packets before the cut are read, then a clear error. */
static void test_source_pcap_truncated_file_reports_error(void **state)
{
	struct errbuf eb = {""};
	char *path = copy_prefix(SMTP_PCAP, 5000, "trunc");
	struct source *s;
	uint64_t d;
	size_t n;

	(void)state;
	assert_int_equal(open_pcap(path, false, 1, &s, &eb), 0);
	n = drain(s, 0, &d);
	assert_true(n > 3 && n < 125);
	assert_non_null(s->ops->last_error(s));
	assert_non_null(strstr(s->ops->last_error(s), "truncated"));
	source_close(s);
	unlink(path);
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void test_source_pcap_bad_files_are_refused_with_a_reason(void **state)
{
	/* pcap header: magic, 2.4, zone, sigfigs, snaplen, link type 9999 */
	static const uint8_t bad_link[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2,	   0,	4, 0,
					     0,	   0,	 0,    0,    0,	   0,	0, 0,
					     0xff, 0xff, 0,    0,    0x0f, 0x27};
	struct errbuf eb = {""};
	char path[128];
	struct source *s;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/rw-test-bad-%d.pcap", (int)getpid());
	write_file(path, "this is not a capture file at all", 33);
	assert_int_equal(open_pcap(path, false, 1, &s, &eb), -EINVAL);
	assert_non_null(strstr(eb.msg, "not a readable pcap"));

	write_file(path, bad_link, sizeof(bad_link));
	assert_int_equal(open_pcap(path, false, 1, &s, &eb), -EPROTONOSUPPORT);
	assert_non_null(strstr(eb.msg, "link type 9999"));
	unlink(path);

	assert_int_equal(open_pcap("/nonexistent/x.pcap", false, 1, &s, &eb), -ENOENT);
	assert_int_equal(open_pcap("/tmp", false, 1, &s, &eb), -EISDIR);
	assert_int_equal(open_pcap(SMTP_PCAP, false, 2, &s, &eb), -EINVAL);
}

/* ---- pipes and stdin ---- */

struct feeder {
	int fd; /* write end, closed when done */
	const uint8_t *p;
	size_t n;
};

/* Odd-sized writes: the reader sees short reads at arbitrary offsets. */
static void *feed(void *arg)
{
	struct feeder *fe = arg;

	for (size_t off = 0; off < fe->n;) {
		size_t k = fe->n - off < 1531 ? fe->n - off : 1531;
		ssize_t w = write(fe->fd, fe->p + off, k);

		if (w <= 0)
			break; /* the reader gave up: EPIPE */
		off += (size_t)w;
	}
	close(fe->fd);
	return NULL;
}

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long sz;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	assert_true(sz > 0);
	rewind(f);
	p = malloc((size_t)sz);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	*n = (size_t)sz;
	return p;
}

/* Open the source on a pipe that a thread fills with n bytes of p; path is
 * "-" (the pipe as stdin) or NULL (the pipe by its /proc name). */
static int open_piped(const uint8_t *p, size_t n, const char *path, bool preload, struct source **s,
		      struct errbuf *eb, pthread_t *th, struct feeder *fe)
{
	char name[64];
	int fds[2], saved = -1, err;

	assert_int_equal(pipe(fds), 0);
	*fe = (struct feeder){.fd = fds[1], .p = p, .n = n};
	assert_int_equal(pthread_create(th, NULL, feed, fe), 0);
	if (path) {
		saved = dup(STDIN_FILENO);
		assert_true(saved >= 0 && dup2(fds[0], STDIN_FILENO) == STDIN_FILENO);
	} else {
		snprintf(name, sizeof(name), "/proc/self/fd/%d", fds[0]);
		path = name;
	}
	assert_int_equal(source_pcap_size_hint(path), 0); /* no size: tables unbounded */
	err = open_pcap(path, preload, 1, s, eb);
	close(fds[0]);
	if (saved >= 0) {
		assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
		close(saved);
	}
	return err;
}

/* Read through a pipe: the frames and times of the file itself. */
static void piped_equals_file(const char *file, const char *how, bool preload)
{
	struct errbuf eb = {""};
	uint64_t dfile, dpipe;
	size_t n, nfile, npipe;
	struct source *s;
	struct feeder fe;
	uint8_t *bytes;
	pthread_t th;

	assert_int_equal(open_pcap(file, false, 1, &s, &eb), 0);
	nfile = drain(s, 0, &dfile);
	source_close(s);
	bytes = slurp(file, &n);
	assert_int_equal(open_piped(bytes, n, how, preload, &s, &eb, &th, &fe), 0);
	npipe = drain(s, 0, &dpipe);
	assert_null(s->ops->last_error(s));
	source_close(s);
	pthread_join(th, NULL);
	free(bytes);
	assert_true(nfile > 100);
	assert_int_equal(npipe, nfile);
	assert_int_equal(dpipe, dfile);
}

static void test_source_pcap_reads_a_pipe_like_the_file(void **state)
{
	(void)state;
	piped_equals_file(SMTP_PCAP, NULL, false);
	piped_equals_file(GZ_PCAP, NULL, false);
	piped_equals_file(SMTP_PCAP, "-", false);
	piped_equals_file(GZ_PCAP, "-", true);
	piped_equals_file(SMTP_PCAP, NULL, true);
}

/* Cut short on a pipe: the packets before the cut, then the reason. */
static void piped_cut(const char *file, size_t keep, const char *want)
{
	struct errbuf eb = {""};
	struct source *s;
	struct feeder fe;
	uint8_t *bytes;
	pthread_t th;
	uint64_t d;
	size_t n, got;

	bytes = slurp(file, &n);
	assert_true(keep < n);
	assert_int_equal(open_piped(bytes, keep, NULL, false, &s, &eb, &th, &fe), 0);
	got = drain(s, 0, &d);
	assert_true(got > 3);
	assert_non_null(s->ops->last_error(s));
	if (!strstr(s->ops->last_error(s), want))
		fail_msg("error \"%s\", want \"%s\"", s->ops->last_error(s), want);
	source_close(s);
	pthread_join(th, NULL);
	free(bytes);
}

static void test_source_pcap_truncated_pipe_reports_error(void **state)
{
	struct errbuf eb = {""};
	struct source *s;
	struct feeder fe;
	pthread_t th;

	(void)state;
	piped_cut(SMTP_PCAP, 5000, "truncated dump file");
	/* a gzip stream that ends early is not a whole capture */
	piped_cut(GZ_PCAP, 20000, "compressed stream: unexpected end of file");
	/* nothing at all, and half a file header */
	assert_int_equal(open_piped((const uint8_t *)"", 0, NULL, false, &s, &eb, &th, &fe),
			 -EINVAL);
	pthread_join(th, NULL);
	assert_non_null(strstr(eb.msg, "not a readable pcap"));
	assert_int_equal(open_piped((const uint8_t *)"\xd4\xc3\xb2\xa1\x02", 5, "-", false, &s, &eb,
				    &th, &fe),
			 -EINVAL);
	pthread_join(th, NULL);
	assert_non_null(strstr(eb.msg, "stdin: not a readable pcap"));
}

/* A named pipe waits for its writer; a regular file gives its size. */
struct fifo_feeder {
	const char *path;
	struct feeder fe;
};

static void *feed_fifo(void *arg)
{
	struct fifo_feeder *ff = arg;

	ff->fe.fd = open(ff->path, O_WRONLY | O_CLOEXEC);
	return ff->fe.fd >= 0 ? feed(&ff->fe) : NULL;
}

static void test_source_pcap_named_pipe_and_size_hint(void **state)
{
	struct errbuf eb = {""};
	struct fifo_feeder ff;
	char path[128];
	struct source *s;
	pthread_t th;
	uint64_t d;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/rw-test-fifo-%d", (int)getpid());
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(source_pcap_size_hint(path), 0);
	ff.path = path;
	ff.fe.p = slurp(SMTP_PCAP, &ff.fe.n);
	assert_int_equal(pthread_create(&th, NULL, feed_fifo, &ff), 0);
	assert_int_equal(open_pcap(path, false, 1, &s, &eb), 0);
	assert_int_equal(drain(s, 0, &d), 125);
	assert_null(s->ops->last_error(s));
	source_close(s);
	pthread_join(th, NULL);
	free((void *)ff.fe.p);
	unlink(path);
	assert_int_equal(source_pcap_size_hint(SMTP_PCAP), 40943);
	/* gzip: the length in its trailer (gzip -l), not the compressed size */
	assert_int_equal(source_pcap_size_hint(GZ_PCAP), 318256);
}

/* Frames of no flow take turns over the queues instead of all going to queue 0. */
static void test_source_pcap_preload_spreads_frames_of_no_flow(void **state)
{
	char path[] = "/tmp/rw-test-udp.XXXXXX";
	struct errbuf eb = {""};
	size_t got[2] = {0, 0};
	struct source *s;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pcap_no_flow_write(path, 301), 0);
	assert_int_equal(open_pcap(path, true, 2, &s, &eb), 0);
	for (uint16_t q = 0; q < 2; q++) {
		struct pkt pkts[32];
		uint16_t n;

		while ((n = s->ops->rx_burst(s, q, pkts, 32)))
			got[q] += n;
	}
	assert_int_equal(got[0] + got[1], 301);
	assert_true(got[0] == 150 || got[0] == 151);
	source_close(s);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_pcap_stream_equals_preload),
		cmocka_unit_test(test_source_pcap_preload_queues_keep_flows_together),
		cmocka_unit_test(test_source_pcap_preload_spreads_frames_of_no_flow),
		cmocka_unit_test(test_source_pcap_reads_gzip),
		cmocka_unit_test(test_source_pcap_truncated_file_reports_error),
		cmocka_unit_test(test_source_pcap_bad_files_are_refused_with_a_reason),
		cmocka_unit_test(test_source_pcap_reads_a_pipe_like_the_file),
		cmocka_unit_test(test_source_pcap_truncated_pipe_reports_error),
		cmocka_unit_test(test_source_pcap_named_pipe_and_size_hint),
	};

	/* A writer whose reader gave up gets EPIPE, not a fatal signal. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
