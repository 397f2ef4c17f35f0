// SPDX-License-Identifier: BSD-3-Clause
/*
 * Threads: the detector thread packs frames into the hand-off ring
 * (export_pb_alert/tx/summary); the exporter thread (exporter_main) moves
 * them into the spool and runs the connection; any thread reads the stats.
 * The connection itself lives in export_pb_conn.c.
 */
#include "exporters/export_pb.h"

#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "exporters/export_pb_int.h"

/* ---- helpers without state ---- */

uint32_t export_pb_backoff_ms(uint32_t attempt, uint64_t rnd, uint32_t min_ms, uint32_t max_ms)
{
	uint64_t base = min_ms ? min_ms : 1;
	uint64_t d;

	for (uint32_t i = 0; i < attempt && base < max_ms; i++)
		base *= 2;
	if (base > max_ms)
		base = max_ms;
	/* [0.75, 1.25) x base */
	d = base - base / 4 + (base / 2 ? rnd % (base / 2) : 0);
	return (uint32_t)(d > max_ms ? max_ms : d);
}

uint64_t export_pb_rng(struct export_pb *ex)
{
	/* xorshift64*: jitter only, seeded from getrandom() */
	ex->rng ^= ex->rng >> 12;
	ex->rng ^= ex->rng << 25;
	ex->rng ^= ex->rng >> 27;
	return ex->rng * 0x2545f4914f6cdd1dull;
}

uint64_t export_pb_run_id(const struct export_pb *ex)
{
	return ex->run_id;
}

/* ---- enqueue (detector thread) ---- */

static void count(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/* The frame pb_conv just built goes into the ring with the next seq. */
static void enqueue(struct export_pb *ex, enum spool_class cls, long size)
{
	struct export_pb_rec *r;

	if (size < 0) {
		count(&ex->too_big[cls]);
		return;
	}
	/* Summaries are superseded by the next period: they never take the last half. */
	if (cls == SPOOL_SUMMARY && msgring_used(ex->ring) > msgring_capacity(ex->ring) / 2) {
		count(&ex->handoff_full[cls]);
		return;
	}
	r = msgring_reserve(ex->ring, (uint32_t)(sizeof(*r) + (size_t)size));
	if (!r) {
		count(&ex->handoff_full[cls]);
		return;
	}
	r->cls = cls;
	r->len = (uint32_t)size;
	r->seq = ++ex->next_seq;
	pb_conv_pack(ex->conv, r->data);
	msgring_commit(ex->ring);
	count(&ex->enqueued[cls]);
	count(&ex->enqueued_total);
	/* The exporter looks at the ring every EXPORT_PB_IDLE_MS anyway; a wake-up
	 * (a syscall here) is only worth it when the ring fills. The fence pairs
	 * with exporter_sleep(): either it sees the record or we see it asleep. */
	if (msgring_used(ex->ring) < msgring_capacity(ex->ring) / 16)
		return;
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&ex->sleeping, memory_order_relaxed) &&
	    atomic_exchange(&ex->sleeping, false)) {
		uint64_t one = 1;

		if (write(ex->wake_fd, &one, sizeof(one)) < 0)
			(void)0; /* the counter is full: it is awake anyway */
	}
}

static struct pb_conv_id next_id(struct export_pb *ex)
{
	return (struct pb_conv_id){
		.sensor_id = ex->sensor_id,
		.run_id = ex->run_id,
		.seq = ex->next_seq + 1,
	};
}

void export_pb_alert(struct export_pb *ex, const struct alert *a)
{
	struct pb_conv_id id = next_id(ex);

	enqueue(ex, SPOOL_ALERT, pb_conv_alert(ex->conv, &id, a));
}

void export_pb_tx(struct export_pb *ex, const struct smtp_tx *tx)
{
	struct pb_conv_id id = next_id(ex);

	enqueue(ex, SPOOL_TX, pb_conv_tx(ex->conv, &id, tx));
}

void export_pb_summary(struct export_pb *ex, const struct detect_host_summary *hs, uint64_t ts_ns,
		       uint32_t period_s)
{
	struct pb_conv_id id = next_id(ex);

	enqueue(ex, SPOOL_SUMMARY, pb_conv_summary(ex->conv, &id, hs, ts_ns, period_s));
}

#define SUMMARY_SLICE 8192 /* hosts looked at per tick (about 10 ticks a second) */

static void summary_start(struct export_pb *ex, uint64_t now_ns, uint32_t period_s)
{
	ex->sum.since_ns = ex->sum.end_ns;
	ex->sum.end_ns = now_ns;
	ex->sum.cursor = 0;
	ex->sum.walking = true;
	ex->sum.due_ns = now_ns + (uint64_t)period_s * NS_PER_SEC;
}

/* Up to max hosts; false when the walk is over. */
static bool summary_walk(struct export_pb *ex, const struct detect_engine *de, uint32_t period_s,
			 unsigned int max, bool wait)
{
	struct timespec ms = {0, 1000000L};
	struct detect_host_summary hs;

	for (unsigned int i = 0; i < max; i++) {
		if (!detect_engine_host_next(de, &ex->sum.cursor, &hs)) {
			ex->sum.walking = false;
			return false;
		}
		/* Seen before the last walk (times are whole seconds): that summary holds. */
		if (hs.last_ns + NS_PER_SEC <= ex->sum.since_ns)
			continue;
		/* Only at the very end may the detector thread wait: nothing is left to do. */
		while (wait && msgring_used(ex->ring) > msgring_capacity(ex->ring) / 4)
			nanosleep(&ms, NULL);
		export_pb_summary(ex, &hs, ex->sum.end_ns, period_s);
	}
	return true;
}

void export_pb_summary_tick(struct export_pb *ex, const struct detect_engine *de, uint64_t now_ns,
			    uint32_t period_s, bool final)
{
	if (!ex->sum.due_ns)
		ex->sum.due_ns = now_ns + (uint64_t)period_s * NS_PER_SEC;
	if (final) {
		/* A walk under way had not seen all of its hosts yet: keep its start. */
		uint64_t since = ex->sum.walking ? ex->sum.since_ns : ex->sum.end_ns;

		summary_start(ex, now_ns, period_s);
		ex->sum.since_ns = since;
		summary_walk(ex, de, period_s, UINT32_MAX, true);
		return;
	}
	if (!ex->sum.walking && now_ns >= ex->sum.due_ns)
		summary_start(ex, now_ns, period_s);
	if (ex->sum.walking)
		summary_walk(ex, de, period_s, SUMMARY_SLICE, false);
}

/* ---- exporter thread ---- */

/* Hand-off ring -> spool. Bounded per call so the socket is served too. */
static void take_handoff(struct export_pb *ex)
{
	const struct export_pb_rec *r;
	uint32_t len;

	for (int i = 0; i < 4096 && (r = msgring_peek(ex->ring, &len)); i++) {
		if (len >= sizeof(*r) && r->len <= len - sizeof(*r))
			spool_append(ex->sp, (enum spool_class)r->cls, r->seq, r->data, r->len);
		msgring_release(ex->ring);
		ex->taken++;
	}
	spool_flush(ex->sp);
	atomic_store_explicit(&ex->taken_pub, ex->taken, memory_order_relaxed);
}

static void publish(struct export_pb *ex, uint64_t seen)
{
	struct spool_stats ss;

	spool_stats(ex->sp, &ss);
	for (int c = 0; c < SPOOL_CLASS_COUNT; c++) {
		ex->xs.spool_evicted[c] = ss.evicted[c];
		ex->xs.spool_refused[c] = ss.refused[c];
	}
	ex->xs.spool_bytes = ss.bytes;
	ex->xs.spool_frames = ss.frames;
	ex->xs.spool_recovered = ss.recovered;
	ex->xs.spool_damaged_files = ss.damaged_files;
	ex->xs.spool_write_errors = ss.write_errors;
	ex->xs.in_flight = spool_in_flight(ex->sp);
	stats_publish(ex->pub, &ex->xs, sizeof(ex->xs));
	/* Everything enqueued before `seen` was read is acknowledged or dropped. */
	if (ex->taken == seen && spool_is_empty(ex->sp))
		atomic_store_explicit(&ex->delivered, seen, memory_order_release);
}

/* Sleep in poll() on the wake-up eventfd and the socket. */
static void exporter_sleep(struct export_pb *ex, uint64_t now)
{
	struct pollfd pfd[2] = {{.fd = ex->wake_fd, .events = POLLIN}, {.fd = -1}};
	int timeout = export_pb_conn_poll(ex, now, &pfd[1]);

	if (timeout > EXPORT_PB_IDLE_MS)
		timeout = EXPORT_PB_IDLE_MS;
	uint64_t drain;

	atomic_store(&ex->sleeping, true);
	atomic_thread_fence(memory_order_seq_cst);
	if (msgring_used(ex->ring) || atomic_load(&ex->stop))
		timeout = 0;
	if (poll(pfd, 2, timeout) > 0 && (pfd[0].revents & POLLIN))
		if (read(ex->wake_fd, &drain, sizeof(drain)) < 0)
			(void)0;
	atomic_store(&ex->sleeping, false);
	ex->revents = pfd[1].fd >= 0 ? pfd[1].revents : 0;
}

static void *exporter_main(void *arg)
{
	struct export_pb *ex = arg;
	sigset_t set;

	/* A write to a socket the collector closed must fail, not kill us. */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	while (!atomic_load(&ex->stop)) {
		uint64_t seen = atomic_load_explicit(&ex->enqueued_total, memory_order_acquire);
		uint64_t now;

		take_handoff(ex);
		now = clock_mono_ns();
		export_pb_conn_step(ex, now);
		if (ex->spool_dir[0] && now >= ex->next_sync_ns) {
			spool_sync(ex->sp);
			ex->next_sync_ns = now + NS_PER_SEC;
		}
		publish(ex, seen);
		exporter_sleep(ex, now);
	}
	/* What is still in the ring goes to the spool (and its files). */
	while (msgring_used(ex->ring))
		take_handoff(ex);
	export_pb_conn_close(ex);
	publish(ex, atomic_load(&ex->enqueued_total));
	return NULL;
}

/* ---- create / destroy ---- */

static int copy_cfg(struct export_pb *ex, const struct export_pb_cfg *cfg, struct errbuf *eb)
{
	ex->cfg = *cfg;
	if (snprintf(ex->address, sizeof(ex->address), "%s", cfg->address ? cfg->address : "") >=
		    (int)sizeof(ex->address) ||
	    snprintf(ex->sensor_id, sizeof(ex->sensor_id), "%s",
		     cfg->sensor_id ? cfg->sensor_id : "") >= (int)sizeof(ex->sensor_id) ||
	    snprintf(ex->spool_dir, sizeof(ex->spool_dir), "%s",
		     cfg->spool_dir ? cfg->spool_dir : "") >= (int)sizeof(ex->spool_dir))
		return errbuf_set(eb, -ENAMETOOLONG,
				  "collector: address, sensor id or spool "
				  "directory too long");
	if (snprintf(ex->tls_cert, sizeof(ex->tls_cert), "%s",
		     cfg->tls_cert ? cfg->tls_cert : "") >= (int)sizeof(ex->tls_cert) ||
	    snprintf(ex->tls_ca, sizeof(ex->tls_ca), "%s", cfg->tls_ca ? cfg->tls_ca : "") >=
		    (int)sizeof(ex->tls_ca))
		return errbuf_set(eb, -ENAMETOOLONG, "collector: TLS file name too long");
	ex->cfg.tls_cert = ex->tls_cert;
	ex->cfg.tls_ca = ex->tls_ca;
	ex->cfg.address = ex->address;
	ex->cfg.sensor_id = ex->sensor_id;
	ex->cfg.spool_dir = ex->spool_dir;
	if (!ex->cfg.spool_max_bytes)
		ex->cfg.spool_max_bytes = 256ull << 20;
	if (!ex->cfg.drain_timeout_s)
		ex->cfg.drain_timeout_s = EXPORT_PB_DRAIN_TIMEOUT;
	if (!ex->cfg.backoff_min_ms)
		ex->cfg.backoff_min_ms = EXPORT_PB_BACKOFF_MIN_MS;
	if (!ex->cfg.backoff_max_ms)
		ex->cfg.backoff_max_ms = EXPORT_PB_BACKOFF_MAX_MS;
	if (!ex->cfg.connect_timeout_ms)
		ex->cfg.connect_timeout_ms = EXPORT_PB_CONNECT_TIMEOUT;
	if (!ex->cfg.ack_timeout_ms)
		ex->cfg.ack_timeout_ms = EXPORT_PB_ACK_TIMEOUT;
	if (!ex->cfg.ring_bytes)
		ex->cfg.ring_bytes = EXPORT_PB_RING_BYTES;
	return 0;
}

/* The SensorHello of this run, packed once with its length header. */
static int pack_hello(struct export_pb *ex)
{
	struct pb_conv_hello h = {
		.version = RELAYWATCH_VERSION,
		.config_digest = ex->cfg.config_digest,
		.started_ns = ex->cfg.started_ns,
		.home_net = ex->cfg.home_net,
		.n_home_net = ex->cfg.n_home_net,
	};
	struct pb_conv_id id = {.sensor_id = ex->sensor_id, .run_id = ex->run_id, .seq = 0};
	long n = pb_conv_hello(ex->conv, &id, &h);

	if (n < 0)
		return (int)n;
	ex->hello = malloc(FRAME_HDR + (size_t)n);
	if (!ex->hello)
		return -ENOMEM;
	frame_put_header(ex->hello, (uint32_t)n);
	pb_conv_pack(ex->conv, ex->hello + FRAME_HDR);
	ex->hello_len = FRAME_HDR + (uint32_t)n;
	return 0;
}

static int make_ids(struct export_pb *ex)
{
	/* run_id: 64 random bits per process; never 0 (proto3's "unset"). */
	do {
		if (getrandom(&ex->run_id, sizeof(ex->run_id), 0) != sizeof(ex->run_id))
			return -errno;
	} while (ex->run_id == 0);
	if (getrandom(&ex->rng, sizeof(ex->rng), 0) != sizeof(ex->rng) || ex->rng == 0)
		ex->rng = ex->run_id;
	return 0;
}

static int open_parts(struct export_pb *ex, struct errbuf *eb)
{
	struct pb_conv_cfg pcc = {
		.pseudonymize_ips = ex->cfg.pseudonymize_ips,
		.drop_subject = ex->cfg.drop_subject,
	};
	struct spool_cfg sc = {
		.dir = ex->spool_dir,
		.max_bytes = ex->cfg.spool_max_bytes,
		.run_id = ex->run_id,
	};
	int err;

	if (ex->cfg.privacy_key_file && ex->cfg.privacy_key_file[0]) {
		err = privacy_create(ex->cfg.privacy_key_file, &ex->privacy, eb);
		if (err)
			return err;
		pcc.privacy = ex->privacy;
	}
	ex->cfg.privacy_key_file = NULL; /* not needed again */
	if ((err = pb_conv_create(&pcc, &ex->conv)) || (err = pack_hello(ex)) ||
	    (err = msgring_create(ex->cfg.ring_bytes, &ex->ring)) ||
	    (err = frame_reader_init(&ex->fr, EXPORT_PB_ACK_MAX)))
		return errbuf_set(eb, err, "collector: %s", strerror(-err));
	ex->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ex->wake_fd < 0)
		return errbuf_set(eb, -errno, "collector: eventfd: %s", strerror(errno));
	return spool_open(&sc, &ex->sp, eb);
}

int export_pb_create(const struct export_pb_cfg *cfg, struct export_pb **out, struct errbuf *eb)
{
	struct export_pb *ex = calloc(1, sizeof(*ex));
	int err;

	if (!ex)
		return errbuf_set(eb, -ENOMEM, "collector: out of memory");
	ex->fd = ex->wake_fd = -1;
	ex->alert = -1;
	/* Nothing is known to be delivered until the thread has looked at the spool. */
	atomic_init(&ex->delivered, UINT64_MAX);
	pthread_mutex_init(&ex->err_lock, NULL);
	if ((err = copy_cfg(ex, cfg, eb)) || (err = export_pb_conn_init(ex, eb)))
		goto err_destroy;
	if ((err = make_ids(ex))) {
		errbuf_set(eb, err, "collector: getrandom: %s", strerror(-err));
		goto err_destroy;
	}
	if ((err = open_parts(ex, eb)))
		goto err_destroy;
	err = -pthread_create(&ex->thread, NULL, exporter_main, ex);
	if (err) {
		errbuf_set(eb, err, "collector: cannot start the exporter thread: %s",
			   strerror(-err));
		goto err_destroy;
	}
	ex->started = true;
	*out = ex;
	return 0;

err_destroy:
	export_pb_destroy(ex);
	return err;
}

void export_pb_destroy(struct export_pb *ex)
{
	uint64_t one = 1;

	if (!ex)
		return;
	if (ex->started) {
		atomic_store(&ex->stop, true);
		if (write(ex->wake_fd, &one, sizeof(one)) < 0)
			(void)0;
		pthread_join(ex->thread, NULL);
	}
	export_pb_conn_fini(ex);
	spool_close(ex->sp);
	ex->sp = NULL;
	frame_reader_fini(&ex->fr);
	msgring_destroy(ex->ring);
	if (ex->wake_fd >= 0)
		close(ex->wake_fd);
	pb_conv_destroy(ex->conv);
	privacy_destroy(ex->privacy);
	free(ex->hello);
	pthread_mutex_destroy(&ex->err_lock);
	free(ex);
}

/* ---- any thread ---- */

void export_pb_stats_read(struct export_pb *ex, struct export_pb_stats *out)
{
	stats_read(out, ex->pub, sizeof(*out));
	for (int c = 0; c < SPOOL_CLASS_COUNT; c++) {
		out->enqueued[c] = atomic_load_explicit(&ex->enqueued[c], memory_order_relaxed);
		out->handoff_full[c] =
			atomic_load_explicit(&ex->handoff_full[c], memory_order_relaxed);
		out->too_big[c] = atomic_load_explicit(&ex->too_big[c], memory_order_relaxed);
	}
}

void export_pb_last_error(struct export_pb *ex, char *buf, size_t cap)
{
	pthread_mutex_lock(&ex->err_lock);
	snprintf(buf, cap, "%s", ex->last_err);
	pthread_mutex_unlock(&ex->err_lock);
}

static void wait_failed(struct export_pb *ex, uint64_t total, struct errbuf *eb)
{
	struct export_pb_stats st;
	char err[EXPORT_PB_ERR_MAX];
	uint64_t left;

	export_pb_stats_read(ex, &st);
	export_pb_last_error(ex, err, sizeof(err));
	left = st.spool_frames + (total - atomic_load(&ex->taken_pub));
	if (!err[0])
		snprintf(err, sizeof(err), "%s",
			 st.connected ? "connected, but no acks came back" : "no connection yet");
	if (ex->spool_dir[0])
		errbuf_set(eb, -ETIMEDOUT,
			   "collector %s: nothing acknowledged for %u s (%s); the %" PRIu64
			   " frames not delivered stay in %s for the next run",
			   ex->address, ex->cfg.drain_timeout_s, err, left, ex->spool_dir);
	else
		errbuf_set(eb, -ETIMEDOUT,
			   "collector %s: nothing acknowledged for %u s (%s); %" PRIu64
			   " frames not delivered are lost (--spool DIR would keep them for the "
			   "next run)",
			   ex->address, ex->cfg.drain_timeout_s, err, left);
}

int export_pb_wait(struct export_pb *ex, uint32_t wait_ms, struct errbuf *eb)
{
	uint64_t end = clock_mono_ns() + wait_ms * NS_PER_MSEC;
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 5 * 1000000L};

	for (;;) {
		uint64_t total = atomic_load_explicit(&ex->enqueued_total, memory_order_acquire);
		uint64_t now = clock_mono_ns();
		struct export_pb_stats st;

		if (atomic_load_explicit(&ex->delivered, memory_order_acquire) == total)
			return 0;
		export_pb_stats_read(ex, &st);
		if (!ex->wait_since_ns || st.frames_acked != ex->wait_acked) {
			ex->wait_acked = st.frames_acked;
			ex->wait_since_ns = now;
		}
		if (now - ex->wait_since_ns >= ex->cfg.drain_timeout_s * NS_PER_SEC) {
			wait_failed(ex, total, eb);
			return -ETIMEDOUT;
		}
		if (now >= end)
			return -EAGAIN;
		nanosleep(&ts, NULL);
	}
}

static const char *const fail_names[EXPORT_PB_FAIL_COUNT] = {
	"dns",	     "refused",	 "timeout",	    "network",	   "tls_verify", "tls_rejected",
	"tls_other", "protocol", "collector_error", "ack_timeout", "closed",
};

const char *export_pb_fail_name(enum export_pb_fail f)
{
	return (unsigned int)f < EXPORT_PB_FAIL_COUNT ? fail_names[f] : "unknown";
}

static void print_drops(const struct export_pb_stats *st, FILE *f)
{
	static const char *const cls[SPOOL_CLASS_COUNT] = {"alerts", "transactions", "summaries"};
	uint64_t total = 0;

	for (int c = 0; c < SPOOL_CLASS_COUNT; c++)
		total += st->handoff_full[c] + st->too_big[c] + st->spool_evicted[c] +
			 st->spool_refused[c];
	if (!total)
		return;
	fprintf(f, "  collector frames dropped:");
	for (int c = 0; c < SPOOL_CLASS_COUNT; c++) {
		uint64_t spool = st->spool_evicted[c] + st->spool_refused[c];

		fprintf(f,
			" %s %" PRIu64 " (spool full %" PRIu64 ", hand-off full %" PRIu64
			", too big %" PRIu64 ")%s",
			cls[c], spool + st->handoff_full[c] + st->too_big[c], spool,
			st->handoff_full[c], st->too_big[c],
			c + 1 < SPOOL_CLASS_COUNT ? "," : "\n");
	}
}

void export_pb_print(struct export_pb *ex, FILE *f)
{
	struct export_pb_stats st;
	char err[EXPORT_PB_ERR_MAX];
	bool any = false;

	export_pb_stats_read(ex, &st);
	fprintf(f,
		"  collector %s: %" PRIu64 " frames acknowledged, %" PRIu64 " sent (%" PRIu64
		" re-sent, %.1f MiB), %" PRIu64 " session%s, %" PRIu64 " reconnect%s, %" PRIu64
		" frames left in the spool (%" PRIu64 " from earlier runs)\n",
		ex->address, st.frames_acked, st.frames_sent, st.frames_resent,
		(double)st.bytes_sent / (1 << 20), st.sessions, st.sessions == 1 ? "" : "s",
		st.reconnects, st.reconnects == 1 ? "" : "s", st.spool_frames, st.spool_recovered);
	print_drops(&st, f);
	for (int i = 0; i < EXPORT_PB_FAIL_COUNT; i++) {
		if (!st.failures[i])
			continue;
		fprintf(f, "%s %s %" PRIu64, any ? "," : "  collector failures:", fail_names[i],
			st.failures[i]);
		any = true;
	}
	if (any)
		fputc('\n', f);
	export_pb_last_error(ex, err, sizeof(err));
	if (err[0])
		fprintf(f, "  collector last error: %s\n", err);
}
