/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ack_collector: a test-only stand-in for relaywatch-collector on 127.0.0.1,
 * for test_export_pb and bench_export. One thread accepts one connection at a
 * time (TLS with OpenSSL, or plain TCP), reads Frames, stores them the way
 * the collector does (once per run_id and seq, checking order: no gap, the
 * hello first) and acks cumulatively after each read. Modes make it drop the
 * connection mid-stream, answer garbage, or refuse the sensor with Ack.error.
 * The store outlives a server so that a restarted one remembers. Also makes
 * the certificates (openssl CLI) into a temporary directory.
 * Header-only; functions return 0 or -1, nothing here asserts.
 */
#ifndef RELAYWATCH_TESTS_ACK_COLLECTOR_H
#define RELAYWATCH_TESTS_ACK_COLLECTOR_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "common/frame.h"
#include "exporters/relaywatch.pb-c.h"

/* ---- certificates ---- */

/* ca, other: two CAs. server (127.0.0.1), client (tap-1): signed by ca.
 * stranger: a sensor signed by other; imposter: a collector signed by other;
 * elsewhere: signed by ca but for collector.example, not 127.0.0.1. */
static const char ack_collector_certs_script[] =
	"set -e; cd '%s'\n"
	"ca() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	"-keyout $1.key -out $1.crt -days 2 -subj /CN=$1; }\n"
	"leaf() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	"-keyout $1.key -out $1.csr -subj /CN=$1\n"
	"  printf 'subjectAltName=%%s\\nextendedKeyUsage=serverAuth,clientAuth\\n' \"$3\" > "
	"$1.ext\n"
	"  openssl x509 -req -in $1.csr -CA $2.crt -CAkey $2.key -CAcreateserial -days 2 "
	"-extfile $1.ext -out $1.crt; }\n"
	"ca ca; ca other\n"
	"leaf server ca IP:127.0.0.1,DNS:localhost\n"
	"leaf client ca DNS:tap-1\n"
	"leaf stranger other DNS:tap-x\n"
	"leaf imposter other IP:127.0.0.1\n"
	"leaf elsewhere ca DNS:collector.example\n";

/* dir: 64 bytes, filled with the new directory. */
static inline int ack_collector_make_certs(char *dir, size_t cap)
{
	char cmd[2048];

	snprintf(dir, cap, "%s", "/tmp/rw-export-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(cmd, sizeof(cmd), ack_collector_certs_script, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static inline int ack_collector_rm_dir(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- the collector ---- */

enum ack_collector_mode {
	ACK_COLLECTOR_ACK = 0,	   /* store and ack */
	ACK_COLLECTOR_DROP = 1,	   /* close without acking after drop_after frames, once */
	ACK_COLLECTOR_GARBAGE = 2, /* answer bytes that are no frame at all */
	ACK_COLLECTOR_REFUSE = 3,  /* Ack.error, then close cleanly */
};

/* What was stored; outlives server restarts. */
struct ack_store {
	pthread_mutex_t lock;
	struct {
		uint64_t run_id, max, count;
	} runs[8];
	unsigned int n_runs;
	uint64_t dups, gaps, hellos, not_hello_first, bad;
	uint64_t by_case[8];
};

struct ack_collector {
	struct ack_store *st;
	SSL_CTX *ctx; /* NULL: plain TCP */
	int lfd;
	uint16_t port;
	_Atomic int mode;
	unsigned int drop_after;
	bool dropped;
	pthread_t th;
	_Atomic bool stop;
};

static inline int64_t ack_collector_read(SSL *ssl, int fd, uint8_t *buf, size_t cap)
{
	ssize_t n;
	int e;

	if (!ssl) {
		n = recv(fd, buf, cap, 0);
		return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : (n == 0 ? -1 : n);
	}
	n = SSL_read(ssl, buf, (int)cap);
	if (n > 0)
		return n;
	e = SSL_get_error(ssl, (int)n);
	return e == SSL_ERROR_WANT_READ || (e == SSL_ERROR_SYSCALL && errno == EAGAIN) ? 0 : -1;
}

static inline void ack_collector_write(SSL *ssl, int fd, const void *buf, size_t len)
{
	if (ssl)
		SSL_write(ssl, buf, (int)len);
	else if (send(fd, buf, len, MSG_NOSIGNAL) < 0)
		(void)0;
}

static inline void ack_collector_ack(SSL *ssl, int fd, uint64_t run_id, uint64_t seq,
				     const char *error)
{
	Relaywatch__Ack a = RELAYWATCH__ACK__INIT;
	uint8_t buf[512];
	size_t n;

	a.run_id = run_id;
	a.seq = seq;
	if (error)
		a.error = (char *)error;
	n = relaywatch__ack__pack(&a, buf + FRAME_HDR);
	frame_put_header(buf, (uint32_t)n);
	ack_collector_write(ssl, fd, buf, FRAME_HDR + n);
}

/* Stores one frame; returns the run's index, -1 for the hello. */
static inline int ack_collector_store(struct ack_store *st, const Relaywatch__Frame *f, bool first)
{
	unsigned int r;

	if (first != (f->body_case == RELAYWATCH__FRAME__BODY_HELLO))
		st->not_hello_first++;
	if (f->body_case == RELAYWATCH__FRAME__BODY_HELLO) {
		st->hellos++;
		if (f->seq != 0 || strcmp(f->hello->sensor_id, "tap-1") != 0 ||
		    strlen(f->hello->config_digest) != 64)
			st->bad++;
		return -1;
	}
	for (r = 0; r < st->n_runs && st->runs[r].run_id != f->run_id; r++)
		;
	if (r == 8)
		return st->bad++, -1;
	if (r == st->n_runs)
		st->runs[st->n_runs++].run_id = f->run_id;
	if (f->seq <= st->runs[r].max) {
		st->dups++;
	} else if (f->seq != st->runs[r].max + 1) {
		st->gaps++;
	} else {
		st->runs[r].max = f->seq;
		st->runs[r].count++;
		st->by_case[f->body_case & 7]++;
	}
	return (int)r;
}

/* The frames of one read; false: close the connection now. */
static inline bool ack_collector_frames(struct ack_collector *s, SSL *ssl, int fd,
					struct frame_reader *fr, const uint8_t *p,
					const uint8_t *end, unsigned int *n_frames)
{
	bool touched[8] = {false};
	const uint8_t *msg;
	uint32_t len;

	pthread_mutex_lock(&s->st->lock);
	while (frame_reader_feed(fr, &p, end, &msg, &len) == FRAME_OK) {
		Relaywatch__Frame *f = relaywatch__frame__unpack(NULL, len, msg);
		int r;

		if (!f) {
			s->st->bad++;
			continue;
		}
		r = ack_collector_store(s->st, f, (*n_frames)++ == 0);
		relaywatch__frame__free_unpacked(f, NULL);
		if (r >= 0)
			touched[r] = true;
		if (atomic_load(&s->mode) == ACK_COLLECTOR_DROP && !s->dropped &&
		    *n_frames > s->drop_after) {
			s->dropped = true;
			pthread_mutex_unlock(&s->st->lock);
			return false; /* gone before acking what this read brought */
		}
	}
	for (unsigned int r = 0; r < s->st->n_runs; r++)
		if (touched[r])
			ack_collector_ack(ssl, fd, s->st->runs[r].run_id, s->st->runs[r].max, NULL);
	pthread_mutex_unlock(&s->st->lock);
	return true;
}

static inline void ack_collector_session(struct ack_collector *s, SSL *ssl, int fd)
{
	static _Thread_local uint8_t buf[65536];
	unsigned int n_frames = 0;
	struct frame_reader fr;

	if (atomic_load(&s->mode) == ACK_COLLECTOR_GARBAGE ||
	    atomic_load(&s->mode) == ACK_COLLECTOR_REFUSE) {
		if (atomic_load(&s->mode) == ACK_COLLECTOR_GARBAGE)
			ack_collector_write(ssl, fd, "\xff\xff\xff\xff not a frame", 16);
		else
			ack_collector_ack(ssl, fd, 0, 0, "sensor 'tap-1' is not registered here");
		/* As a collector should: our side closed, then wait for the sensor to
		 * close, so that no RST overtakes what we said. */
		if (ssl)
			SSL_shutdown(ssl);
		shutdown(fd, SHUT_WR);
		for (int i = 0; i < 100 && ack_collector_read(ssl, fd, buf, sizeof(buf)) >= 0; i++)
			;
		return;
	}
	if (frame_reader_init(&fr, 1u << 20) != 0)
		return;
	while (!atomic_load(&s->stop)) {
		int64_t n = ack_collector_read(ssl, fd, buf, sizeof(buf));

		if (n < 0 ||
		    (n > 0 && !ack_collector_frames(s, ssl, fd, &fr, buf, buf + n, &n_frames)))
			break;
	}
	frame_reader_fini(&fr);
}

/* The socket has a short receive timeout (to look at stop): retry on it. */
static inline int ack_collector_accept_tls(struct ack_collector *s, SSL *ssl)
{
	for (int i = 0; i < 250 && !atomic_load(&s->stop); i++) {
		int r = SSL_accept(ssl);

		if (r == 1 || SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ)
			return r;
	}
	return -1;
}

static inline void *ack_collector_main(void *arg)
{
	struct ack_collector *s = arg;
	struct timeval tv = {.tv_sec = 0, .tv_usec = 20000};

	while (!atomic_load(&s->stop)) {
		int fd = accept(s->lfd, NULL, NULL);
		SSL *ssl = NULL;

		if (fd < 0)
			continue; /* the listener's timeout: look at stop again */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (s->ctx) {
			ssl = SSL_new(s->ctx);
			SSL_set_fd(ssl, fd);
			if (ack_collector_accept_tls(s, ssl) != 1) {
				SSL_free(ssl);
				close(fd);
				continue;
			}
		}
		ack_collector_session(s, ssl, fd);
		if (ssl) {
			SSL_shutdown(ssl);
			SSL_free(ssl);
		}
		close(fd);
	}
	return NULL;
}

/* A TLS server context: certificate dir/name.crt, clients checked against dir/client_ca.crt. */
static inline SSL_CTX *ack_collector_tls(const char *dir, const char *name, const char *client_ca)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char crt[256], key[256], ca[256];

	snprintf(crt, sizeof(crt), "%s/%s.crt", dir, name);
	snprintf(key, sizeof(key), "%s/%s.key", dir, name);
	snprintf(ca, sizeof(ca), "%s/%s.crt", dir, client_ca);
	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, crt) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return ctx;
}

/* port 0: any free port (s->port says which). */
static inline int ack_collector_start(struct ack_collector *s, struct ack_store *st, SSL_CTX *ctx,
				      uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = 0, .tv_usec = 20000};
	socklen_t sl = sizeof(sin);
	int one = 1;

	s->st = st;
	s->ctx = ctx;
	atomic_store(&s->stop, false);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (s->lfd < 0)
		return -1;
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(s->lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(s->lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(s->lfd, 8) != 0 ||
	    getsockname(s->lfd, (struct sockaddr *)&sin, &sl) != 0 ||
	    pthread_create(&s->th, NULL, ack_collector_main, s) != 0) {
		close(s->lfd);
		return -1;
	}
	s->port = ntohs(sin.sin_port);
	return 0;
}

static inline void ack_collector_stop(struct ack_collector *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->th, NULL);
	close(s->lfd);
}

/* A port nothing listens on (bound, then given back); 0 on failure. */
static inline uint16_t ack_collector_free_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = 0;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

#endif /* RELAYWATCH_TESTS_ACK_COLLECTOR_H */
