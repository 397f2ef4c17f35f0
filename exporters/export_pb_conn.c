// SPDX-License-Identifier: BSD-3-Clause
/*
 * The exporter thread's connection to the collector: resolve, non-blocking
 * connect over each address, TLS handshake (or plain TCP), then the session:
 * SensorHello, every unacknowledged frame in order, new ones as they come,
 * cumulative acks read back. Any failure closes the socket, rewinds the
 * spool (unacked frames go again on the next session) and schedules the
 * next attempt with back-off. Every failure gets a reason a person can act on.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/clock.h"
#include "common/log.h"
#include "exporters/export_pb_int.h"
#include "exporters/relaywatch.pb-c.h"

#define LOG_REPEAT_NS (60 * NS_PER_SEC) /* the same failure is logged once a minute */

static bool fail_is_tls(enum export_pb_fail why)
{
	return why == EXPORT_PB_FAIL_TLS_VERIFY || why == EXPORT_PB_FAIL_TLS_REJECTED ||
	       why == EXPORT_PB_FAIL_TLS_OTHER;
}

void export_pb_conn_close(struct export_pb *ex)
{
	if (ex->ssl) {
		SSL_shutdown(ex->ssl); /* one non-blocking try at close_notify */
		SSL_free(ex->ssl);
		ex->ssl = NULL;
	}
	if (ex->fd >= 0)
		close(ex->fd);
	ex->fd = -1;
	if (ex->ai)
		freeaddrinfo(ex->ai);
	ex->ai = ex->ai_cur = NULL;
	if (ex->sp)
		spool_rewind(ex->sp);
	ex->fr.have = ex->fr.need = ex->fr.consumed = 0;
	ex->out_len = ex->out_off = 0;
	ex->state = EXPORT_PB_IDLE;
	ex->xs.connected = 0;
}

static void __attribute__((format(printf, 4, 5)))
conn_fail(struct export_pb *ex, enum export_pb_fail why, uint64_t now, const char *fmt, ...)
{
	char msg[EXPORT_PB_ERR_MAX];
	uint32_t delay;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ex->xs.failures[why]++;
	if (fail_is_tls(why))
		ex->xs.tls_handshake_failures++;
	pthread_mutex_lock(&ex->err_lock);
	memcpy(ex->last_err, msg, sizeof(msg));
	pthread_mutex_unlock(&ex->err_lock);
	/* A session that lasted was a success: start the back-off over. */
	if (ex->state == EXPORT_PB_UP &&
	    now - ex->session_ns >= ex->cfg.backoff_max_ms * NS_PER_MSEC)
		ex->attempt = 0;
	delay = export_pb_backoff_ms(ex->attempt, export_pb_rng(ex), ex->cfg.backoff_min_ms,
				     ex->cfg.backoff_max_ms);
	if (ex->attempt < 32)
		ex->attempt++;
	if (strcmp(msg, ex->logged) != 0 || now - ex->logged_ns >= LOG_REPEAT_NS) {
		log_warn("collector %s: %s; retrying in %.*f s", ex->address, msg,
			 delay < 1000 ? 2 : 1, delay / 1000.0);
		memcpy(ex->logged, msg, sizeof(msg));
		ex->logged_ns = now;
	}
	export_pb_conn_close(ex);
	ex->next_attempt_ns = now + delay * NS_PER_MSEC;
}

/* ---- TLS ---- */

/* The root cause OpenSSL queued (the earliest entry); clears the queue. */
static const char *tls_reason(unsigned long *code, char *buf, size_t cap)
{
	unsigned long e = ERR_get_error();
	const char *r = NULL;

	if (e && ERR_SYSTEM_ERROR(e))
		r = strerror(ERR_GET_REASON(e));
	else if (e)
		r = ERR_reason_error_string(e);
	if (code)
		*code = e;
	snprintf(buf, cap, "%s", r ? r : e ? "unknown OpenSSL error" : "no reason given");
	ERR_clear_error();
	return buf;
}

/* "notAfter" of our certificate as text, "" when unknown. */
static void cert_not_after(SSL_CTX *ctx, char *buf, size_t cap)
{
	X509 *x = ctx ? SSL_CTX_get0_certificate(ctx) : NULL;
	BIO *b = x ? BIO_new(BIO_s_mem()) : NULL;
	int n = 0;

	if (b && ASN1_TIME_print(b, X509_get0_notAfter(x)))
		n = BIO_read(b, buf, (int)cap - 1);
	buf[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

/* Not fatal: the clock may be wrong, the collector decides. But say it now. */
static void warn_if_not_valid(SSL_CTX *ctx, const char *file)
{
	X509 *x = SSL_CTX_get0_certificate(ctx);
	char when[64];

	if (!x)
		return;
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
		cert_not_after(ctx, when, sizeof(when));
		log_warn("collector TLS certificate %s expired (valid until %s): the collector "
			 "will refuse it",
			 file, when);
	} else if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
		log_warn("collector TLS certificate %s is not valid yet: is the clock right?",
			 file);
	}
}

static int tls_load_identity(SSL_CTX *ctx, const struct export_pb_cfg *c, struct errbuf *eb)
{
	unsigned long code;
	char why[256];

	if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert) != 1)
		return errbuf_set(eb, -EINVAL, "collector TLS certificate %s: cannot load: %s",
				  c->tls_cert, tls_reason(NULL, why, sizeof(why)));
	if (SSL_CTX_use_PrivateKey_file(ctx, c->tls_key, SSL_FILETYPE_PEM) != 1) {
		tls_reason(&code, why, sizeof(why));
		if (ERR_GET_LIB(code) == ERR_LIB_X509 &&
		    ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH)
			return errbuf_set(eb, -EINVAL,
					  "collector TLS key %s does not match the "
					  "certificate %s (key values mismatch)",
					  c->tls_key, c->tls_cert);
		return errbuf_set(eb, -EINVAL, "collector TLS key %s: cannot load: %s", c->tls_key,
				  why);
	}
	if (SSL_CTX_check_private_key(ctx) != 1)
		return errbuf_set(eb, -EINVAL,
				  "collector TLS key %s does not match the "
				  "certificate %s (%s)",
				  c->tls_key, c->tls_cert, tls_reason(NULL, why, sizeof(why)));
	if (SSL_CTX_load_verify_locations(ctx, c->tls_ca, NULL) != 1)
		return errbuf_set(eb, -EINVAL, "collector TLS CA file %s: cannot load: %s",
				  c->tls_ca, tls_reason(NULL, why, sizeof(why)));
	warn_if_not_valid(ctx, c->tls_cert);
	return 0;
}

static int tls_init(struct export_pb *ex, struct errbuf *eb)
{
	const struct export_pb_cfg *c = &ex->cfg;

	if (!c->tls_cert || !c->tls_cert[0] || !c->tls_key || !c->tls_key[0] || !c->tls_ca ||
	    !c->tls_ca[0])
		return errbuf_set(eb, -EINVAL,
				  "collector %s: TLS needs a certificate, its key and "
				  "the collector's CA (or plaintext, explicitly)",
				  ex->address);
	ERR_clear_error();
	ex->ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (!ex->ssl_ctx)
		return errbuf_set(eb, -ENOMEM, "collector: cannot create a TLS context");
	SSL_CTX_set_min_proto_version(ex->ssl_ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ex->ssl_ctx,
			 SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(ex->ssl_ctx, SSL_VERIFY_PEER, NULL);
	return tls_load_identity(ex->ssl_ctx, c, eb);
}

/* Alerts the collector sends us: the only way to learn it refused our certificate. */
static void tls_info(const SSL *ssl, int where, int ret)
{
	struct export_pb *ex = SSL_get_app_data(ssl);

	if ((where & SSL_CB_READ_ALERT) && ex)
		ex->alert = ret;
}

static bool alert_is_about_our_cert(int desc)
{
	switch (desc) {
	case SSL3_AD_BAD_CERTIFICATE:
	case SSL3_AD_UNSUPPORTED_CERTIFICATE:
	case SSL3_AD_CERTIFICATE_REVOKED:
	case SSL3_AD_CERTIFICATE_EXPIRED:
	case SSL3_AD_CERTIFICATE_UNKNOWN:
	case TLS1_AD_UNKNOWN_CA:
	case TLS1_AD_ACCESS_DENIED:
	case TLS13_AD_CERTIFICATE_REQUIRED:
		return true;
	default:
		return false;
	}
}

/* What to do about the collector refusing our certificate. */
static const char *refusal_hint(struct export_pb *ex, int desc, char *buf, size_t cap)
{
	char when[64];

	switch (desc) {
	case SSL3_AD_CERTIFICATE_EXPIRED:
		cert_not_after(ex->ssl_ctx, when, sizeof(when));
		snprintf(buf, cap, "it is not valid now (valid until %s): renew it",
			 when[0] ? when : "?");
		return buf;
	case TLS13_AD_CERTIFICATE_REQUIRED:
		return "the collector wants a client certificate (--tls-cert)";
	case SSL3_AD_CERTIFICATE_REVOKED:
		return "it was revoked: get a new one";
	default:
		return "is it signed by a CA the collector trusts?";
	}
}

/* A TLS error (handshake or later: TLS 1.3 learns of a refused client
 * certificate only on the first read) in words. Returns true if handled. */
static bool tls_fail_known(struct export_pb *ex, uint64_t now)
{
	long vr = SSL_get_verify_result(ex->ssl);

	if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH) {
		conn_fail(ex, EXPORT_PB_FAIL_TLS_VERIFY, now,
			  "the collector's certificate is not for %s (%s)", ex->host,
			  X509_verify_cert_error_string(vr));
		return true;
	}
	if (vr != X509_V_OK) {
		conn_fail(ex, EXPORT_PB_FAIL_TLS_VERIFY, now,
			  "the collector's certificate is not trusted: %s (checked against the "
			  "CA file %s)",
			  X509_verify_cert_error_string(vr), ex->cfg.tls_ca);
		return true;
	}
	if (ex->alert >= 0 && (ex->alert & 0xff) != SSL3_AD_CLOSE_NOTIFY) {
		char hint[160];

		if (alert_is_about_our_cert(ex->alert & 0xff))
			conn_fail(ex, EXPORT_PB_FAIL_TLS_REJECTED, now,
				  "the collector refused our certificate %s (TLS alert '%s'): %s",
				  ex->cfg.tls_cert, SSL_alert_desc_string_long(ex->alert),
				  refusal_hint(ex, ex->alert & 0xff, hint, sizeof(hint)));
		else
			conn_fail(ex, EXPORT_PB_FAIL_TLS_OTHER, now,
				  "the collector ended the TLS session (alert '%s')",
				  SSL_alert_desc_string_long(ex->alert));
		return true;
	}
	return false;
}

/* ssl_err: SSL_get_error() of the failed call. */
static void tls_fail(struct export_pb *ex, int ssl_err, uint64_t now)
{
	char why[256];
	int e = errno;

	if (tls_fail_known(ex, now))
		return;
	if (ssl_err == SSL_ERROR_ZERO_RETURN || (ssl_err == SSL_ERROR_SYSCALL && e == 0) ||
	    (ssl_err == SSL_ERROR_SSL &&
	     ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
		conn_fail(ex, EXPORT_PB_FAIL_CLOSED, now, "%s",
			  ex->state == EXPORT_PB_TLS ? "the collector closed the connection during "
						       "the TLS handshake"
						     : "the collector closed the connection");
		return;
	}
	if (ssl_err == SSL_ERROR_SYSCALL) {
		conn_fail(ex, EXPORT_PB_FAIL_NETWORK, now, "%s", strerror(e));
		return;
	}
	tls_reason(NULL, why, sizeof(why));
	if (ex->state == EXPORT_PB_TLS)
		conn_fail(ex, EXPORT_PB_FAIL_TLS_OTHER, now,
			  "TLS handshake failed: %s (is it a "
			  "relaywatch collector speaking TLS?)",
			  why);
	else
		conn_fail(ex, EXPORT_PB_FAIL_TLS_OTHER, now, "TLS error: %s", why);
}

static int tls_start(struct export_pb *ex)
{
	ERR_clear_error();
	ex->ssl = SSL_new(ex->ssl_ctx);
	if (!ex->ssl || SSL_set_fd(ex->ssl, ex->fd) != 1)
		return -ENOMEM;
	SSL_set_app_data(ex->ssl, ex);
	SSL_set_info_callback(ex->ssl, tls_info);
	ex->alert = -1;
	if (ex->host_is_ip) {
		/* SNI carries names only (RFC 6066); an address is checked against IP SANs. */
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ex->ssl), ex->host) != 1)
			return -EINVAL;
	} else if (SSL_set1_host(ex->ssl, ex->host) != 1 ||
		   SSL_set_tlsext_host_name(ex->ssl, ex->host) != 1) {
		return -EINVAL;
	}
	SSL_set_connect_state(ex->ssl);
	ex->want = POLLOUT;
	ex->state = EXPORT_PB_TLS;
	return 0;
}

/* ---- session ---- */

static void session_start(struct export_pb *ex, uint64_t now)
{
	if (ex->ai)
		freeaddrinfo(ex->ai);
	ex->ai = ex->ai_cur = NULL;
	spool_rewind(ex->sp);
	/* The hello goes first on every connection. */
	memcpy(ex->out, ex->hello, ex->hello_len);
	ex->out_len = ex->hello_len;
	ex->out_off = 0;
	ex->state = EXPORT_PB_UP;
	ex->session_ns = ex->ack_wait_ns = now;
	ex->session_acks = ex->xs.acks;
	ex->xs.sessions++;
	if (ex->xs.sessions > 1)
		ex->xs.reconnects++;
	ex->xs.connected = 1;
	log_debug("collector %s: connected%s%s", ex->address, ex->ssl ? " with " : "",
		  ex->ssl ? SSL_get_version(ex->ssl) : "");
}

/* What SSL_read/SSL_write returned: bytes, 0 would block, -1 failed (closed). */
static long tls_io_result(struct export_pb *ex, int n, uint64_t now)
{
	int e;

	if (n > 0)
		return n;
	e = SSL_get_error(ex->ssl, n);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	tls_fail(ex, e, now);
	return -1;
}

/* Plain TCP cut before the first ack: a TLS collector drops our hello as garbage. */
static const char *plain_hint(const struct export_pb *ex)
{
	if (ex->ssl_ctx || ex->xs.acks != ex->session_acks)
		return "";
	return " before acknowledging anything (this sensor speaks plain TCP, "
	       "--collector-plaintext: does the collector expect TLS?)";
}

/* >0 bytes, 0 would block, -1 failed (the connection is closed). */
static long conn_read(struct export_pb *ex, uint8_t *buf, size_t cap, uint64_t now)
{
	long n;

	if (!ex->ssl) {
		n = recv(ex->fd, buf, cap, 0);
		if (n > 0)
			return n;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n == 0)
			conn_fail(ex, EXPORT_PB_FAIL_CLOSED, now,
				  "the collector closed the connection%s", plain_hint(ex));
		else
			conn_fail(ex, EXPORT_PB_FAIL_NETWORK, now, "%s%s", strerror(errno),
				  plain_hint(ex));
		return -1;
	}
	ERR_clear_error();
	errno = 0;
	return tls_io_result(ex, SSL_read(ex->ssl, buf, (int)(cap > INT32_MAX ? INT32_MAX : cap)),
			     now);
}

static long conn_write(struct export_pb *ex, const uint8_t *buf, size_t len, uint64_t now)
{
	long n;

	if (!ex->ssl) {
		n = send(ex->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		conn_fail(ex, EXPORT_PB_FAIL_NETWORK, now, "%s%s", strerror(errno), plain_hint(ex));
		return -1;
	}
	ERR_clear_error();
	errno = 0;
	return tls_io_result(ex, SSL_write(ex->ssl, buf, (int)(len > INT32_MAX ? INT32_MAX : len)),
			     now);
}

/* Packs the next unsent frames into the empty send buffer. */
static bool fill_out(struct export_pb *ex, uint64_t now)
{
	struct spool_frame f;

	ex->out_len = ex->out_off = 0;
	while (ex->out_len < EXPORT_PB_OUT_BATCH && spool_in_flight(ex->sp) < EXPORT_PB_WINDOW) {
		if (!spool_next(ex->sp, EXPORT_PB_OUT_CAP - ex->out_len - FRAME_HDR, &f))
			break;
		if (spool_in_flight(ex->sp) == 1)
			ex->ack_wait_ns = now;
		frame_put_header(ex->out + ex->out_len, f.len);
		memcpy(ex->out + ex->out_len + FRAME_HDR, f.data, f.len);
		ex->out_len += FRAME_HDR + f.len;
		ex->xs.frames_sent++;
		ex->xs.frames_resent += f.resend;
	}
	return ex->out_len > 0;
}

/* Writes until the socket is full or nothing is left; -1 when it failed. */
static int write_out(struct export_pb *ex, uint64_t now)
{
	for (int i = 0; i < 64; i++) {
		long n;

		if (ex->out_off == ex->out_len && !fill_out(ex, now))
			return 0;
		n = conn_write(ex, ex->out + ex->out_off, ex->out_len - ex->out_off, now);
		if (n <= 0)
			return (int)n;
		ex->out_off += (uint32_t)n;
		ex->xs.bytes_sent += (uint64_t)n;
	}
	return 0;
}

/* Printable and short: the collector's words go into our log. */
static void clean_text(const char *s, char *out, size_t cap)
{
	size_t o = 0;

	for (; *s && o + 1 < cap; s++)
		out[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	out[o] = '\0';
}

static int handle_ack(struct export_pb *ex, const uint8_t *msg, uint32_t len, uint64_t now)
{
	Relaywatch__Ack *a = relaywatch__ack__unpack(NULL, len, msg);
	char text[256];
	unsigned int n;

	if (!a) {
		conn_fail(ex, EXPORT_PB_FAIL_PROTOCOL, now,
			  "the collector sent %u bytes that are not an Ack (not a relaywatch "
			  "collector?)",
			  len);
		return -1;
	}
	if (a->error && a->error[0]) {
		clean_text(a->error, text, sizeof(text));
		relaywatch__ack__free_unpacked(a, NULL);
		conn_fail(ex, EXPORT_PB_FAIL_COLLECTOR, now,
			  "the collector refused this sensor: %s", text);
		return -1;
	}
	ex->xs.acks++;
	n = a->seq ? spool_ack(ex->sp, a->run_id, a->seq) : 0;
	relaywatch__ack__free_unpacked(a, NULL);
	if (n) {
		ex->xs.frames_acked += n;
		ex->ack_wait_ns = now;
		ex->attempt = 0;
		if (ex->logged[0]) {
			log_info("collector %s: delivering again", ex->address);
			ex->logged[0] = '\0';
		}
		pthread_mutex_lock(&ex->err_lock);
		ex->last_err[0] = '\0';
		pthread_mutex_unlock(&ex->err_lock);
	}
	return 0;
}

/* Reads what the collector sent; -1 when the connection failed. */
static int read_acks(struct export_pb *ex, uint64_t now)
{
	uint8_t buf[16384];

	for (int i = 0; i < 64; i++) {
		long n = conn_read(ex, buf, sizeof(buf), now);
		const uint8_t *p = buf, *msg;
		uint32_t len;

		if (n <= 0)
			return (int)n;
		while (p < buf + n) {
			enum frame_status fs = frame_reader_feed(&ex->fr, &p, buf + n, &msg, &len);

			if (fs == FRAME_AGAIN)
				break;
			if (fs != FRAME_OK) {
				conn_fail(
					ex, EXPORT_PB_FAIL_PROTOCOL, now,
					"the collector sent a frame of %s bytes (not a relaywatch "
					"collector?)",
					fs == FRAME_EMPTY ? "0" : "too many");
				return -1;
			}
			if (handle_ack(ex, msg, len, now) < 0)
				return -1;
		}
	}
	return 0;
}

static void up_step(struct export_pb *ex, short rev, uint64_t now)
{
	if ((rev & (POLLIN | POLLHUP | POLLERR)) && read_acks(ex, now) < 0)
		return;
	if (write_out(ex, now) < 0)
		return;
	if (spool_in_flight(ex->sp) &&
	    now - ex->ack_wait_ns >= ex->cfg.ack_timeout_ms * NS_PER_MSEC)
		conn_fail(ex, EXPORT_PB_FAIL_ACK_TIMEOUT, now,
			  "no acknowledgement for %u s with %" PRIu64 " frames sent",
			  ex->cfg.ack_timeout_ms / 1000, spool_in_flight(ex->sp));
}

/* ---- connecting ---- */

static void connected(struct export_pb *ex, uint64_t now)
{
	int one = 1;

	setsockopt(ex->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(ex->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (!ex->ssl_ctx) {
		session_start(ex, now);
		return;
	}
	if (tls_start(ex) != 0) {
		conn_fail(ex, EXPORT_PB_FAIL_TLS_OTHER, now, "cannot set up TLS for %s", ex->host);
		return;
	}
}

static void connect_failed(struct export_pb *ex, uint64_t now)
{
	int e = ex->conn_errno;

	if (e == ECONNREFUSED)
		conn_fail(ex, EXPORT_PB_FAIL_REFUSED, now,
			  "connection refused: nothing listens on %s", ex->address);
	else if (e == ETIMEDOUT)
		conn_fail(ex, EXPORT_PB_FAIL_TIMEOUT, now, "connection timed out");
	else
		conn_fail(ex, EXPORT_PB_FAIL_NETWORK, now, "cannot connect: %s", strerror(e));
}

/* Starts connect() on the current address or the next ones. */
static void try_addresses(struct export_pb *ex, uint64_t now)
{
	for (; ex->ai_cur; ex->ai_cur = ex->ai_cur->ai_next) {
		struct addrinfo *a = ex->ai_cur;

		ex->fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				a->ai_protocol);
		if (ex->fd < 0) {
			ex->conn_errno = errno;
			continue;
		}
		ex->deadline_ns = now + ex->cfg.connect_timeout_ms * NS_PER_MSEC;
		if (connect(ex->fd, a->ai_addr, a->ai_addrlen) == 0) {
			connected(ex, now);
			return;
		}
		if (errno == EINPROGRESS) {
			ex->state = EXPORT_PB_CONNECTING;
			return;
		}
		ex->conn_errno = errno;
		close(ex->fd);
		ex->fd = -1;
	}
	connect_failed(ex, now);
}

static void conn_start(struct export_pb *ex, uint64_t now)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	int rc;

	ex->xs.connect_attempts++;
	ex->conn_errno = ECONNREFUSED;
	/* Every attempt resolves again: the collector may have moved. Blocking,
	 * but only this thread waits; the hand-off ring absorbs the meantime. */
	rc = getaddrinfo(ex->host, ex->port, &hints, &ex->ai);
	if (rc != 0) {
		ex->ai = NULL;
		conn_fail(ex, EXPORT_PB_FAIL_DNS, now, "cannot resolve %s: %s", ex->host,
			  rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return;
	}
	ex->ai_cur = ex->ai;
	try_addresses(ex, now);
}

/* The non-blocking connect finished, or its time ran out. */
static void connect_done(struct export_pb *ex, uint64_t now, bool timed_out)
{
	socklen_t sl = sizeof(int);
	int err = 0;

	if (timed_out)
		err = ETIMEDOUT;
	else if (getsockopt(ex->fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0)
		err = errno;
	if (err == 0) {
		connected(ex, now);
		return;
	}
	ex->conn_errno = err;
	close(ex->fd);
	ex->fd = -1;
	ex->ai_cur = ex->ai_cur->ai_next;
	try_addresses(ex, now);
}

static void tls_step(struct export_pb *ex, uint64_t now)
{
	int r, e;

	if (now >= ex->deadline_ns) {
		conn_fail(ex, EXPORT_PB_FAIL_TIMEOUT, now, "TLS handshake timed out after %u s",
			  ex->cfg.connect_timeout_ms / 1000);
		return;
	}
	ERR_clear_error();
	errno = 0;
	r = SSL_connect(ex->ssl);
	if (r == 1) {
		session_start(ex, now);
		return;
	}
	e = SSL_get_error(ex->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		ex->want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		return;
	}
	tls_fail(ex, e, now);
}

void export_pb_conn_step(struct export_pb *ex, uint64_t now)
{
	short rev = ex->revents;

	ex->revents = 0;
	switch (ex->state) {
	case EXPORT_PB_IDLE:
		if (now >= ex->next_attempt_ns)
			conn_start(ex, now);
		break;
	case EXPORT_PB_CONNECTING:
		if (rev || now >= ex->deadline_ns)
			connect_done(ex, now, rev == 0);
		break;
	case EXPORT_PB_TLS:
		tls_step(ex, now);
		break;
	case EXPORT_PB_UP:
		up_step(ex, rev, now);
		break;
	}
}

static int ms_until(uint64_t now, uint64_t t)
{
	return t <= now ? 0 : (int)((t - now + NS_PER_MSEC - 1) / NS_PER_MSEC);
}

int export_pb_conn_poll(struct export_pb *ex, uint64_t now, struct pollfd *pfd)
{
	int t = 1000; /* the spool is synced once a second */

	pfd->fd = ex->fd;
	pfd->events = 0;
	switch (ex->state) {
	case EXPORT_PB_IDLE:
		pfd->fd = -1;
		t = ms_until(now, ex->next_attempt_ns);
		break;
	case EXPORT_PB_CONNECTING:
		pfd->events = POLLOUT;
		t = ms_until(now, ex->deadline_ns);
		break;
	case EXPORT_PB_TLS:
		pfd->events = ex->want;
		t = ms_until(now, ex->deadline_ns);
		break;
	case EXPORT_PB_UP:
		pfd->events = POLLIN;
		if (ex->out_off < ex->out_len ||
		    (spool_has_unsent(ex->sp) && spool_in_flight(ex->sp) < EXPORT_PB_WINDOW))
			pfd->events |= POLLOUT;
		if (spool_in_flight(ex->sp))
			t = ms_until(now, ex->ack_wait_ns + ex->cfg.ack_timeout_ms * NS_PER_MSEC);
		break;
	}
	return t < 1000 ? t : 1000;
}

/* ---- set-up ---- */

/* "host:port" or "[v6]:port"; the host may be a name or an address. */
static int parse_address(struct export_pb *ex, struct errbuf *eb)
{
	const char *a = ex->address, *colon = strrchr(a, ':');
	size_t hl;
	char *end;
	unsigned long port;
	uint8_t tmp[16];

	if (!colon || colon == a)
		goto err_bad;
	hl = (size_t)(colon - a);
	if (a[0] == '[') {
		if (hl < 3 || a[hl - 1] != ']')
			goto err_bad;
		a++, hl -= 2;
	} else if (memchr(a, ':', hl)) {
		goto err_bad; /* a bare IPv6 address needs brackets */
	}
	port = strtoul(colon + 1, &end, 10);
	if (hl >= sizeof(ex->host) || *end || colon[1] < '0' || colon[1] > '9' || port == 0 ||
	    port > 65535)
		goto err_bad;
	memcpy(ex->host, a, hl);
	ex->host[hl] = '\0';
	snprintf(ex->port, sizeof(ex->port), "%lu", port);
	ex->host_is_ip =
		inet_pton(AF_INET, ex->host, tmp) == 1 || inet_pton(AF_INET6, ex->host, tmp) == 1;
	return 0;

err_bad:
	return errbuf_set(eb, -EINVAL,
			  "collector address '%s' is not HOST:PORT "
			  "(IPv6: [ADDR]:PORT)",
			  ex->address);
}

int export_pb_conn_init(struct export_pb *ex, struct errbuf *eb)
{
	int err = parse_address(ex, eb);

	if (err)
		return err;
	ex->out = malloc(EXPORT_PB_OUT_CAP);
	if (!ex->out)
		return errbuf_set(eb, -ENOMEM, "collector: out of memory");
	return ex->cfg.plaintext ? 0 : tls_init(ex, eb);
}

void export_pb_conn_fini(struct export_pb *ex)
{
	export_pb_conn_close(ex);
	SSL_CTX_free(ex->ssl_ctx);
	ex->ssl_ctx = NULL;
	free(ex->out);
	ex->out = NULL;
}
