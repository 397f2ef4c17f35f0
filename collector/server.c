// SPDX-License-Identifier: BSD-3-Clause
#include "collector/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "collector/tls.h"
#include "common/clock.h"
#include "common/frame.h"
#include "common/httpd.h"
#include "common/log.h"

#define SERVER_READ_HIGH  (256u * 1024) /* input buffered per connection */
#define SERVER_OUT_MAX	  (256u * 1024) /* unread acks before "slow_reader" */
#define SERVER_ACK_RUNS	  8		/* runs remembered per connection for acks */
#define SERVER_DONE_CHUNK 1024
#define SLOT_BITS	  20

enum conn_state {
	CONN_HANDSHAKE = 0, /* TLS handshake, or TCP accepted and no hello yet */
	CONN_ACTIVE = 1,    /* hello accepted */
	CONN_CLOSING = 2,   /* flushing a refusal, then closed */
};

struct inflight {
	uint64_t run_id;
	uint64_t seq;
	bool hello;
};

struct ack_run {
	uint64_t run_id;
	uint64_t acked;	  /* last seq acked */
	uint64_t pending; /* highest seq done and not yet acked */
	bool has_pending;
	uint64_t used; /* for replacing the least recently used */
};

struct conn {
	struct server *srv;
	struct bufferevent *bev;
	uint64_t id;
	unsigned int slot;
	enum conn_state state;
	enum metrics_close closing_reason;
	bool paused, tls, touched;
	struct frame_reader fr;
	uint64_t opened_ns, last_rx_ns, frame_start_ns, closing_ns;
	char peer[WRITER_PEER_MAX];
	char sensor_id[INGEST_SENSOR_ID_MAX + 1];
	struct inflight *fifo;
	unsigned int fifo_head, fifo_len;
	struct ack_run runs[SERVER_ACK_RUNS];
	uint64_t ack_clock;
	struct conn *next_touched;
};

struct server {
	struct server_cfg cfg;
	struct event_base *base;
	struct evconnlistener *lst;
	SSL_CTX *ssl_ctx;
	struct event *wake_ev, *sweep_ev;
	struct conn **conns; /* by slot */
	unsigned int n_conns;
	uint64_t next_id;
	uint16_t port;
	bool listener_off;
	struct writer_done done[SERVER_DONE_CHUNK];
};

static void conn_close(struct conn *c, enum metrics_close reason);
static void conn_read(struct conn *c);

static struct metrics *M(const struct conn *c)
{
	return c->srv->cfg.metrics;
}

/* ---- connection life ---- */

static void conn_free(struct conn *c)
{
	struct server *s = c->srv;

	if (c->bev)
		bufferevent_free(c->bev);
	frame_reader_fini(&c->fr);
	free(c->fifo);
	s->conns[c->slot] = NULL;
	s->n_conns--;
	free(c);
}

static void conn_close(struct conn *c, enum metrics_close reason)
{
	struct metrics *m = M(c);

	metrics_inc(&m->closes[reason]);
	if (c->state == CONN_ACTIVE || c->state == CONN_CLOSING)
		metrics_sub(&m->conns_active, 1);
	else
		metrics_sub(&m->conns_handshaking, 1);
	if (c->paused)
		metrics_sub(&m->conns_paused, 1);
	if (reason == METRICS_CLOSE_PEER_CLOSED || reason == METRICS_CLOSE_SHUTDOWN)
		log_info("sensor %s (%s): connection closed: %s",
			 c->sensor_id[0] ? c->sensor_id : "-", c->peer, metrics_close_name(reason));
	else
		log_warn_rl(5, "sensor %s (%s): connection closed: %s",
			    c->sensor_id[0] ? c->sensor_id : "-", c->peer,
			    metrics_close_name(reason));
	conn_free(c);
}

static void closing_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_close(c, c->closing_reason);
}

/* Send what is queued (a refusal), then close; the sweep bounds the wait. */
static void conn_close_after_flush(struct conn *c, enum metrics_close reason)
{
	if (c->state == CONN_HANDSHAKE) {
		metrics_sub(&M(c)->conns_handshaking, 1);
		metrics_inc(&M(c)->conns_active);
	}
	c->state = CONN_CLOSING;
	c->closing_reason = reason;
	c->closing_ns = clock_mono_ns();
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, closing_write_cb, NULL, c);
	closing_write_cb(c->bev, c);
}

/* ---- acks ---- */

static void send_ack(struct conn *c, uint64_t run_id, uint64_t seq, const char *error)
{
	Relaywatch__Ack ack = RELAYWATCH__ACK__INIT;
	uint8_t buf[FRAME_HDR + 64 + 256];
	size_t n;

	ack.run_id = run_id;
	ack.seq = seq;
	if (error)
		ack.error = (char *)error;
	n = relaywatch__ack__get_packed_size(&ack);
	if (n > sizeof(buf) - FRAME_HDR)
		return;
	relaywatch__ack__pack(&ack, buf + FRAME_HDR);
	frame_put_header(buf, (uint32_t)n);
	bufferevent_write(c->bev, buf, n + FRAME_HDR);
	metrics_inc(&M(c)->acks);
}

static struct ack_run *ack_run_get(struct conn *c, uint64_t run_id)
{
	struct ack_run *lru = &c->runs[0];

	for (unsigned int i = 0; i < SERVER_ACK_RUNS; i++) {
		if (c->runs[i].used && c->runs[i].run_id == run_id) {
			c->runs[i].used = ++c->ack_clock;
			return &c->runs[i];
		}
		if (c->runs[i].used < lru->used)
			lru = &c->runs[i];
	}
	*lru = (struct ack_run){.run_id = run_id, .used = ++c->ack_clock};
	return lru;
}

/*
 * The ack for a run covers every frame done so far, but stops below any
 * frame of that run still in flight: a sensor that re-sends an old frame
 * after newer ones must not have it dropped before it is stored.
 */
static void conn_send_acks(struct conn *c)
{
	for (unsigned int i = 0; i < SERVER_ACK_RUNS; i++) {
		struct ack_run *r = &c->runs[i];
		uint64_t seq;

		if (!r->used || !r->has_pending)
			continue;
		seq = r->pending;
		for (unsigned int k = 0; k < c->fifo_len; k++) {
			const struct inflight *f =
				&c->fifo[(c->fifo_head + k) % c->srv->cfg.max_inflight];

			if (f->run_id == r->run_id && !f->hello && f->seq && f->seq <= seq)
				seq = f->seq - 1;
		}
		if (seq > r->acked || (seq == 0 && r->acked == 0)) {
			send_ack(c, r->run_id, seq, NULL);
			r->acked = seq;
		}
		if (seq == r->pending)
			r->has_pending = false;
	}
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > SERVER_OUT_MAX)
		conn_close(c, METRICS_CLOSE_SLOW_READER);
}

static struct conn *conn_by_id(struct server *s, uint64_t id)
{
	struct conn *c = s->conns[id & ((1u << SLOT_BITS) - 1)];

	return c && c->id == id ? c : NULL;
}

static void note_done(struct conn *c, const struct writer_done *d)
{
	struct ack_run *r;
	uint64_t v = d->hello ? d->hello_max_seq : d->seq;

	if (c->fifo_len == 0)
		return;
	c->fifo_head = (c->fifo_head + 1) % c->srv->cfg.max_inflight;
	c->fifo_len--;
	r = ack_run_get(c, d->run_id);
	if (!r->has_pending || v > r->pending)
		r->pending = v > r->acked ? v : r->acked;
	r->has_pending = true;
	prom_hist_observe(&M(c)->ack_latency, (double)(clock_mono_ns() - d->recv_mono_ns) / 1e9);
}

static bool conn_has_room(struct conn *c)
{
	return c->fifo_len < c->srv->cfg.max_inflight && writer_has_room(c->srv->cfg.writer);
}

static void conn_pause(struct conn *c)
{
	if (c->paused)
		return;
	c->paused = true;
	metrics_inc(&M(c)->conns_paused);
	bufferevent_disable(c->bev, EV_READ);
}

static void resume_paused(struct server *s)
{
	for (unsigned int i = 0; i < s->cfg.max_conns; i++) {
		struct conn *c = s->conns[i];

		if (!c || !c->paused || !conn_has_room(c))
			continue;
		c->paused = false;
		metrics_sub(&M(c)->conns_paused, 1);
		c->last_rx_ns = clock_mono_ns();
		bufferevent_enable(c->bev, EV_READ);
		/* Bytes already buffered raise no new read event. */
		conn_read(c);
	}
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	struct conn *touched = NULL, *c, *next;
	unsigned int n;

	while ((n = writer_take_done(s->cfg.writer, s->done, SERVER_DONE_CHUNK)) > 0) {
		for (unsigned int i = 0; i < n; i++) {
			c = conn_by_id(s, s->done[i].conn_id);
			if (!c || c->state == CONN_CLOSING)
				continue; /* gone: the sensor re-sends, the store dedups */
			note_done(c, &s->done[i]);
			if (!c->touched) {
				c->touched = true;
				c->next_touched = touched;
				touched = c;
			}
		}
	}
	for (c = touched; c; c = next) {
		next = c->next_touched;
		c->touched = false;
		conn_send_acks(c);
	}
	resume_paused(s);
}

void server_wake(void *server)
{
	struct server *s = server;

	event_active(s->wake_ev, EV_READ, 0);
}

/* ---- frames ---- */

static enum metrics_close close_reason(enum ingest_status st)
{
	switch (st) {
	case INGEST_ERR_NO_BODY:
		return METRICS_CLOSE_NO_BODY;
	case INGEST_ERR_SENSOR_ID:
		return METRICS_CLOSE_BAD_SENSOR_ID;
	default:
		return METRICS_CLOSE_BAD_PROTOBUF;
	}
}

/* false: the connection was closed (c is gone) or is closing. */
static bool accept_hello(struct conn *c, const Relaywatch__Frame *f)
{
	const char *id = ingest_sensor_id(f);

	if (!id[0]) {
		conn_close(c, METRICS_CLOSE_BAD_SENSOR_ID);
		return false;
	}
	if ((f->sensor_id[0] && strcmp(f->sensor_id, id) != 0) ||
	    (c->state == CONN_ACTIVE && strcmp(c->sensor_id, id) != 0)) {
		conn_close(c, METRICS_CLOSE_SENSOR_MISMATCH);
		return false;
	}
	if (c->srv->ssl_ctx && !tls_peer_is(bufferevent_openssl_get_ssl(c->bev), id)) {
		log_warn("sensor %s (%s): sensor_id does not match the client certificate", id,
			 c->peer);
		send_ack(c, f->run_id, 0, "sensor_id does not match the client certificate");
		conn_close_after_flush(c, METRICS_CLOSE_CERT_MISMATCH);
		return false;
	}
	if (c->state != CONN_ACTIVE) {
		snprintf(c->sensor_id, sizeof(c->sensor_id), "%s", id);
		c->state = CONN_ACTIVE;
		metrics_sub(&M(c)->conns_handshaking, 1);
		metrics_inc(&M(c)->conns_active);
		log_info("sensor %s connected from %s (version %s, run %016llx)", id, c->peer,
			 f->hello->version, (unsigned long long)f->run_id);
	}
	return true;
}

static bool submit(struct conn *c, Relaywatch__Frame *f, enum ingest_status st, uint32_t len)
{
	struct writer_item *it = writer_item_new();
	struct inflight *slot;

	if (!it) {
		ingest_free(f);
		conn_close(c, METRICS_CLOSE_IO_ERROR);
		return false;
	}
	it->conn_id = c->id;
	it->recv_mono_ns = clock_mono_ns();
	it->recv_real_ns = clock_real_ns();
	it->bytes = len;
	it->status = st;
	it->frame = f;
	if (f->body_case == RELAYWATCH__FRAME__BODY_HELLO)
		snprintf(it->peer, sizeof(it->peer), "%s", c->peer);
	slot = &c->fifo[(c->fifo_head + c->fifo_len) % c->srv->cfg.max_inflight];
	*slot = (struct inflight){f->run_id, f->seq, f->body_case == RELAYWATCH__FRAME__BODY_HELLO};
	if (writer_submit(c->srv->cfg.writer, it) != 0) {
		/* Cannot happen: room was checked and only this thread submits. */
		writer_item_free(it);
		conn_close(c, METRICS_CLOSE_IO_ERROR);
		return false;
	}
	c->fifo_len++;
	return true;
}

static bool handle_frame(struct conn *c, const uint8_t *buf, uint32_t len)
{
	struct metrics *m = M(c);
	Relaywatch__Frame *f;
	enum ingest_status st;

	metrics_add(&m->bytes, len + FRAME_HDR);
	st = ingest_decode(buf, len, &f);
	if (st < 0) {
		conn_close(c, close_reason(st));
		return false;
	}
	metrics_inc(&m->frames[ingest_type_of(f)]);
	if (st == INGEST_REJECT_FIELD)
		metrics_inc(&m->rejected);
	if (f->body_case == RELAYWATCH__FRAME__BODY_HELLO) {
		if (!accept_hello(c, f)) {
			ingest_free(f);
			return false;
		}
	} else if (c->state != CONN_ACTIVE || strcmp(f->sensor_id, c->sensor_id) != 0) {
		enum metrics_close r = c->state != CONN_ACTIVE ? METRICS_CLOSE_NO_HELLO
							       : METRICS_CLOSE_SENSOR_MISMATCH;

		ingest_free(f);
		conn_close(c, r);
		return false;
	}
	return submit(c, f, st, len);
}

static void conn_read(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (c->state != CONN_CLOSING && !c->paused) {
		size_t avail = evbuffer_get_contiguous_space(in);
		const uint8_t *p, *q, *out;
		enum frame_status st;
		uint32_t len;

		if (avail == 0)
			break;
		if (!conn_has_room(c)) {
			conn_pause(c);
			break;
		}
		p = evbuffer_pullup(in, (ev_ssize_t)avail);
		q = p;
		st = frame_reader_feed(&c->fr, &q, p + avail, &out, &len);
		evbuffer_drain(in, (size_t)(q - p));
		if (st == FRAME_AGAIN) {
			if (c->fr.have > 0 && !c->frame_start_ns)
				c->frame_start_ns = clock_mono_ns();
			continue;
		}
		if (st != FRAME_OK) {
			conn_close(c, st == FRAME_EMPTY ? METRICS_CLOSE_FRAME_EMPTY
							: METRICS_CLOSE_FRAME_TOO_BIG);
			return;
		}
		c->frame_start_ns = 0;
		if (!handle_frame(c, out, len))
			return;
	}
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	c->last_rx_ns = clock_mono_ns();
	conn_read(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	char err[256], subject[WRITER_PEER_MAX];

	if (what & BEV_EVENT_CONNECTED) {
		/* TLS handshake done: the peer is now its certificate. */
		tls_peer_subject(bufferevent_openssl_get_ssl(bev), subject, sizeof(subject));
		if (subject[0]) {
			char addr[sizeof(c->peer)];

			memcpy(addr, c->peer, sizeof(addr));
			snprintf(c->peer, sizeof(c->peer), "%.100s %.50s", subject, addr);
		}
		c->tls = true;
		return;
	}
	if (what & BEV_EVENT_EOF) {
		conn_close(c, METRICS_CLOSE_PEER_CLOSED);
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		unsigned long e = bufferevent_get_openssl_error(bev);

		if (e)
			log_warn_rl(5, "sensor connection from %s: TLS: %s", c->peer,
				    tls_last_error(err, sizeof(err), e));
		conn_close(c, c->srv->ssl_ctx && !c->tls ? METRICS_CLOSE_TLS_HANDSHAKE
							 : METRICS_CLOSE_IO_ERROR);
	}
}

/* ---- timeouts ---- */

static enum metrics_close sweep_reason(const struct conn *c, uint64_t now)
{
	const struct server_cfg *cfg = &c->srv->cfg;

	if (c->state == CONN_CLOSING)
		return now - c->closing_ns > 2 * NS_PER_SEC ? c->closing_reason
							    : METRICS_CLOSE_COUNT;
	if (c->state == CONN_HANDSHAKE && now - c->opened_ns > cfg->hello_timeout_s * NS_PER_SEC)
		return METRICS_CLOSE_HELLO_TIMEOUT;
	if (c->frame_start_ns && now - c->frame_start_ns > cfg->frame_timeout_s * NS_PER_SEC)
		return METRICS_CLOSE_FRAME_TIMEOUT;
	if (!c->paused && now - c->last_rx_ns > cfg->idle_timeout_s * NS_PER_SEC)
		return METRICS_CLOSE_IDLE_TIMEOUT;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > SERVER_OUT_MAX)
		return METRICS_CLOSE_SLOW_READER;
	return METRICS_CLOSE_COUNT;
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	uint64_t now = clock_mono_ns();

	if (s->listener_off) {
		s->listener_off = false;
		evconnlistener_enable(s->lst);
	}
	for (unsigned int i = 0; i < s->cfg.max_conns; i++) {
		struct conn *c = s->conns[i];
		enum metrics_close r;

		if (!c)
			continue;
		r = sweep_reason(c, now);
		if (r != METRICS_CLOSE_COUNT)
			conn_close(c, r);
	}
}

/* ---- accepting ---- */

static void peer_text(const struct sockaddr *sa, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
		snprintf(buf, cap, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
		snprintf(buf, cap, "[%s]:%u", host, port);
	} else {
		snprintf(buf, cap, "?");
	}
}

static struct bufferevent *conn_bev(struct server *s, evutil_socket_t fd)
{
	struct bufferevent *bev;
	SSL *ssl;

	if (!s->ssl_ctx)
		return bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	ssl = SSL_new(s->ssl_ctx);
	if (!ssl)
		return NULL;
	bev = bufferevent_openssl_socket_new(s->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	/* A sensor that drops the TCP connection without close_notify is just gone. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

static struct conn *conn_new(struct server *s, unsigned int slot)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fifo = calloc(s->cfg.max_inflight, sizeof(*c->fifo));
	if (!c->fifo || frame_reader_init(&c->fr, s->cfg.max_frame) != 0) {
		free(c->fifo);
		free(c);
		return NULL;
	}
	c->srv = s;
	c->slot = slot;
	c->id = (++s->next_id << SLOT_BITS) | slot;
	c->opened_ns = c->last_rx_ns = clock_mono_ns();
	return c;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	struct server *s = arg;
	unsigned int slot = 0;
	struct conn *c;
	int one = 1;

	metrics_inc(&s->cfg.metrics->conns_accepted);
	while (slot < s->cfg.max_conns && s->conns[slot])
		slot++;
	if (slot == s->cfg.max_conns || !(c = conn_new(s, slot))) {
		metrics_inc(&s->cfg.metrics->closes[METRICS_CLOSE_TOO_MANY]);
		log_warn_rl(10, "sensor connection refused: %u connections open", s->n_conns);
		evutil_closesocket(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	peer_text(sa, c->peer, sizeof(c->peer));
	c->bev = conn_bev(s, fd);
	if (!c->bev) {
		evutil_closesocket(fd);
		frame_reader_fini(&c->fr);
		free(c->fifo);
		free(c);
		return;
	}
	s->conns[slot] = c;
	s->n_conns++;
	metrics_inc(&s->cfg.metrics->conns_handshaking);
	bufferevent_setwatermark(c->bev, EV_READ, 0, SERVER_READ_HIGH);
	bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct server *s = arg;
	int err = EVUTIL_SOCKET_ERROR();

	/* EMFILE and friends: keep serving the connections we have; the
	 * sweep listens again a second later rather than spinning now. */
	log_warn_rl(10, "accept on the sensor port: %s", evutil_socket_error_to_string(err));
	evconnlistener_disable(l);
	s->listener_off = true;
}

/* ---- set-up ---- */

static int listen_on(struct server *s, struct errbuf *eb)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], port[8];
	uint16_t p;

	if (httpd_split_hostport(s->cfg.listen, "0.0.0.0", host, sizeof(host), &p))
		return errbuf_set(eb, -EINVAL, "--listen: want HOST:PORT, got '%s'",
				  s->cfg.listen ? s->cfg.listen : "");
	snprintf(port, sizeof(port), "%u", p);
	if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
		return errbuf_set(eb, -EINVAL, "--listen: cannot resolve '%s'", host);
	s->lst = evconnlistener_new_bind(s->base, accept_cb, s,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
					 ai->ai_addr, (int)ai->ai_addrlen);
	freeaddrinfo(ai);
	if (!s->lst)
		return errbuf_set(eb, -EADDRINUSE, "--listen: cannot listen on %s: %s",
				  s->cfg.listen, strerror(errno));
	evconnlistener_set_error_cb(s->lst, accept_error_cb);
	if (getsockname(evconnlistener_get_fd(s->lst), (struct sockaddr *)&ss, &sl) == 0)
		s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							 : ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

static void cfg_defaults(struct server_cfg *c)
{
	if (!c->max_frame || c->max_frame > INGEST_MAX_FRAME)
		c->max_frame = INGEST_MAX_FRAME;
	if (!c->max_conns)
		c->max_conns = 256;
	if (c->max_conns > (1u << SLOT_BITS) - 1)
		c->max_conns = (1u << SLOT_BITS) - 1;
	if (!c->max_inflight)
		c->max_inflight = 4096;
	if (!c->hello_timeout_s)
		c->hello_timeout_s = 10;
	if (!c->frame_timeout_s)
		c->frame_timeout_s = 30;
	if (!c->idle_timeout_s)
		c->idle_timeout_s = 600;
}

int server_create(struct event_base *base, const struct server_cfg *cfg, struct server **out,
		  struct errbuf *eb)
{
	const struct timeval second = {1, 0};
	struct server *s = calloc(1, sizeof(*s));
	int err = -ENOMEM;

	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->base = base;
	cfg_defaults(&s->cfg);
	if (!s->cfg.plaintext) {
		err = tls_ctx_create(cfg->tls_cert, cfg->tls_key, cfg->tls_ca, &s->ssl_ctx, eb);
		if (err)
			goto err_free;
	}
	s->conns = calloc(s->cfg.max_conns, sizeof(*s->conns));
	s->wake_ev = event_new(base, -1, 0, on_done, s);
	s->sweep_ev = event_new(base, -1, EV_PERSIST, on_sweep, s);
	if (!s->conns || !s->wake_ev || !s->sweep_ev)
		goto err_events;
	err = listen_on(s, eb);
	if (err)
		goto err_events;
	event_add(s->sweep_ev, &second);
	writer_set_notify(cfg->writer, server_wake, s);
	*out = s;
	return 0;

err_events:
	if (s->wake_ev)
		event_free(s->wake_ev);
	if (s->sweep_ev)
		event_free(s->sweep_ev);
	free(s->conns);
	tls_ctx_destroy(s->ssl_ctx);
err_free:
	free(s);
	return err;
}

void server_destroy(struct server *s)
{
	if (!s)
		return;
	writer_set_notify(s->cfg.writer, NULL, NULL);
	if (s->lst)
		evconnlistener_free(s->lst);
	for (unsigned int i = 0; i < s->cfg.max_conns; i++)
		if (s->conns[i])
			conn_close(s->conns[i], METRICS_CLOSE_SHUTDOWN);
	event_free(s->wake_ev);
	event_free(s->sweep_ev);
	free(s->conns);
	tls_ctx_destroy(s->ssl_ctx);
	free(s);
}

uint16_t server_port(const struct server *s)
{
	return s->port;
}
