// SPDX-License-Identifier: BSD-3-Clause
#include "collector/writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"

#define WRITER_RUNS	   64  /* distinct (sensor, run) per batch before an early upsert */
#define WRITER_BACKOFF_MIN 100 /* ms */
#define WRITER_BACKOFF_MAX 5000

enum item_result {
	RES_STORED = 1,
	RES_DUP = 0,
	RES_REJECTED = -1,
};

struct run_acc {
	const char *sensor_id;
	uint64_t run_id, max_seq, frames;
};

struct writer {
	struct writer_cfg cfg;
	struct store *st;
	struct ingest_scratch *sc; /* writer thread only */
	pthread_t thr;
	pthread_mutex_t mu; /* queue, done list, stop */
	pthread_cond_t cv;
	struct writer_item *head, *tail;
	unsigned int n_queued;
	uint64_t queued_bytes;
	bool stop;
	struct writer_done *done;
	unsigned int n_done, cap_done;
	/* writer thread only */
	struct writer_item **batch;
	int8_t *res;
	uint64_t *hello_seq;
	struct run_acc runs[WRITER_RUNS];
	unsigned int n_runs;
	unsigned int calls;    /* batch mode: store calls made so far */
	unsigned int *call_of; /* batch mode: the call that stored item i */
	int *results;
	unsigned int backoff_ms;
	uint64_t next_expire_ns;
};

struct writer_item *writer_item_new(void)
{
	return calloc(1, sizeof(struct writer_item));
}

void writer_item_free(struct writer_item *it)
{
	if (!it)
		return;
	ingest_free(it->frame);
	free(it);
}

/* ---- the event-loop side ---- */

void writer_set_notify(struct writer *w, writer_notify_fn *fn, void *arg)
{
	pthread_mutex_lock(&w->mu);
	w->cfg.notify = fn;
	w->cfg.notify_arg = arg;
	pthread_mutex_unlock(&w->mu);
}

bool writer_has_room(struct writer *w)
{
	bool room;

	pthread_mutex_lock(&w->mu);
	room = w->n_queued < w->cfg.queue_max && w->queued_bytes < w->cfg.queue_max_bytes;
	pthread_mutex_unlock(&w->mu);
	return room;
}

int writer_submit(struct writer *w, struct writer_item *it)
{
	pthread_mutex_lock(&w->mu);
	if (w->n_queued >= w->cfg.queue_max || w->queued_bytes >= w->cfg.queue_max_bytes) {
		pthread_mutex_unlock(&w->mu);
		return -ENOSPC;
	}
	it->next = NULL;
	if (w->tail)
		w->tail->next = it;
	else
		w->head = it;
	w->tail = it;
	w->n_queued++;
	w->queued_bytes += it->bytes;
	metrics_set(&w->cfg.metrics->queue_frames, w->n_queued);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

unsigned int writer_take_done(struct writer *w, struct writer_done *out, unsigned int n)
{
	unsigned int k;

	pthread_mutex_lock(&w->mu);
	k = w->n_done < n ? w->n_done : n;
	memcpy(out, w->done, k * sizeof(*out));
	memmove(w->done, w->done + k, (w->n_done - k) * sizeof(*out));
	w->n_done -= k;
	pthread_mutex_unlock(&w->mu);
	return k;
}

/* ---- the writer thread ---- */

/* runs.frames counts frames received for the run, duplicates included. */
static int run_note(struct writer *w, const Relaywatch__Frame *f)
{
	struct run_acc *r = NULL;

	for (unsigned int i = 0; i < w->n_runs && !r; i++)
		if (w->runs[i].run_id == f->run_id &&
		    strcmp(w->runs[i].sensor_id, f->sensor_id) == 0)
			r = &w->runs[i];
	if (!r) {
		if (w->n_runs == WRITER_RUNS)
			return -ENOSPC;
		r = &w->runs[w->n_runs++];
		*r = (struct run_acc){.sensor_id = f->sensor_id, .run_id = f->run_id};
	}
	if (f->seq > r->max_seq)
		r->max_seq = f->seq;
	r->frames++;
	return 0;
}

static int runs_flush(struct writer *w, uint64_t now_ns)
{
	for (unsigned int i = 0; i < w->n_runs; i++) {
		struct store_run r = {
			.sensor_id = w->runs[i].sensor_id,
			.run_id = w->runs[i].run_id,
			.max_seq = w->runs[i].max_seq,
			.frames = w->runs[i].frames,
			.first_ns = now_ns,
			.last_ns = now_ns,
		};
		int err = store_put_run(w->st, &r);

		if (err)
			return err;
		w->calls++;
	}
	w->n_runs = 0;
	return 0;
}

static int store_item(struct writer *w, unsigned int i)
{
	struct writer_item *it = w->batch[i];
	Relaywatch__Frame *f = it->frame;
	int ret;

	if (it->status != INGEST_OK) {
		w->res[i] = RES_REJECTED;
		return 0;
	}
	if (f->body_case == RELAYWATCH__FRAME__BODY_HELLO) {
		ret = ingest_store_hello(w->st, f, it->peer, it->recv_real_ns, w->sc);
		if (!ret)
			ret = store_max_seq(w->st, ingest_sensor_id(f), f->run_id,
					    &w->hello_seq[i]);
		w->res[i] = RES_DUP;
		return ret;
	}
	w->call_of[i] = w->calls++;
	ret = ingest_store(w->st, f, it->recv_real_ns, w->sc);
	if (ret < 0)
		return ret;
	w->res[i] = ret ? RES_STORED : RES_DUP; /* batch mode: known at batch end */
	if (run_note(w, f) == -ENOSPC) {
		ret = runs_flush(w, it->recv_real_ns);
		if (!ret)
			ret = run_note(w, f);
	}
	return ret < 0 ? ret : 0;
}

/*
 * Where the store pipelines (PostgreSQL), the whole batch in one round trip:
 * the inserts, the runs and COMMIT are queued and their results read at the
 * end. Hellos need an answer at once, so a batch with one goes the slow way.
 * 0, -EOPNOTSUPP (not possible here), or -errno (rolled back).
 */
static int run_pipelined(struct writer *w, unsigned int n)
{
	int err, end;

	for (unsigned int i = 0; i < n; i++)
		if (w->batch[i]->frame->body_case == RELAYWATCH__FRAME__BODY_HELLO)
			return -EOPNOTSUPP;
	err = store_batch_begin(w->st);
	if (err)
		return err;
	w->n_runs = 0;
	w->calls = 0;
	err = store_begin(w->st);
	for (unsigned int i = 0; i < n && !err; i++)
		err = store_item(w, i);
	if (!err)
		err = runs_flush(w, clock_real_ns());
	if (!err)
		err = store_commit(w->st);
	end = store_batch_end(w->st, w->results, w->calls);
	if (end)
		err = end;
	if (err) {
		store_rollback(w->st);
		metrics_inc(&w->cfg.metrics->store_errors);
		return err;
	}
	for (unsigned int i = 0; i < n; i++)
		if (w->res[i] != RES_REJECTED)
			w->res[i] = w->results[w->call_of[i]] ? RES_STORED : RES_DUP;
	return 0;
}

/* Items [from, to) in one transaction; 0 or -errno (rolled back). */
static int run_batch(struct writer *w, unsigned int from, unsigned int to)
{
	int err;

	if (from == 0 && to > 1) {
		err = run_pipelined(w, to);
		if (err != -EOPNOTSUPP)
			return err;
	}
	err = store_begin(w->st);
	w->n_runs = 0;
	w->calls = 0;
	for (unsigned int i = from; i < to && !err; i++)
		err = store_item(w, i);
	if (!err)
		err = runs_flush(w, clock_real_ns());
	if (!err)
		err = store_commit(w->st);
	if (err) {
		store_rollback(w->st);
		metrics_inc(&w->cfg.metrics->store_errors);
	}
	return err;
}

/* The database answers: a failure was the frame's, not the connection's. */
static bool store_alive(struct writer *w)
{
	uint64_t seq;

	return store_max_seq(w->st, "", 0, &seq) == 0;
}

/* Puts items [from, n) back at the head of the queue, in order. */
static void requeue(struct writer *w, unsigned int from, unsigned int n)
{
	pthread_mutex_lock(&w->mu);
	for (unsigned int i = n; i-- > from;) {
		struct writer_item *it = w->batch[i];

		it->next = w->head;
		w->head = it;
		if (!w->tail)
			w->tail = it;
		w->n_queued++;
		w->queued_bytes += it->bytes;
	}
	pthread_mutex_unlock(&w->mu);
	metrics_inc(&w->cfg.metrics->store_retries);
}

static void backoff(struct writer *w)
{
	struct timespec ts;

	w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : WRITER_BACKOFF_MIN;
	if (w->backoff_ms > WRITER_BACKOFF_MAX)
		w->backoff_ms = WRITER_BACKOFF_MAX;
	log_warn_rl(30, "store: unavailable, retrying in %u ms", w->backoff_ms);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)(w->backoff_ms % 1000) * 1000000L;
	ts.tv_sec += w->backoff_ms / 1000 + ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&w->mu);
	if (!w->stop)
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	pthread_mutex_unlock(&w->mu);
}

static void post_done(struct writer *w, unsigned int n)
{
	pthread_mutex_lock(&w->mu);
	if (w->n_done + n > w->cap_done) {
		unsigned int cap = (w->n_done + n) * 2;
		struct writer_done *d = realloc(w->done, cap * sizeof(*d));

		if (!d) {
			/* The acks are lost, not the frames: the sensor re-sends. */
			pthread_mutex_unlock(&w->mu);
			log_err("store: out of memory for acks");
			return;
		}
		w->done = d;
		w->cap_done = cap;
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct writer_item *it = w->batch[i];

		w->done[w->n_done++] = (struct writer_done){
			.conn_id = it->conn_id,
			.run_id = it->frame->run_id,
			.seq = it->frame->seq,
			.recv_mono_ns = it->recv_mono_ns,
			.hello = it->frame->body_case == RELAYWATCH__FRAME__BODY_HELLO,
			.hello_max_seq = w->hello_seq[i],
		};
	}
	/* Under the lock, so that writer_set_notify(NULL) means no call after it. */
	if (w->cfg.notify)
		w->cfg.notify(w->cfg.notify_arg);
	pthread_mutex_unlock(&w->mu);
}

static void after_commit(struct writer *w, unsigned int n)
{
	struct metrics *m = w->cfg.metrics;

	for (unsigned int i = 0; i < n; i++) {
		const struct writer_item *it = w->batch[i];
		enum ingest_type t = ingest_type_of(it->frame);

		if (w->res[i] == RES_REJECTED)
			continue;
		if (t == INGEST_HELLO)
			continue;
		if (w->res[i] == RES_DUP) {
			metrics_inc(&m->dedup);
			continue;
		}
		metrics_inc(&m->stored[t]);
		if (t == INGEST_ALERT && w->cfg.on_alert) {
			struct store_alert a;

			ingest_alert_row(it->frame, it->recv_real_ns, w->sc, &a);
			w->cfg.on_alert(&a, w->cfg.alert_arg);
		}
	}
	post_done(w, n);
	for (unsigned int i = 0; i < n; i++) {
		writer_item_free(w->batch[i]);
		w->batch[i] = NULL;
	}
}

/*
 * One transaction for the batch; when it fails and the database still
 * answers, one transaction per frame so that only the frame at fault is
 * refused. When the database does not answer, everything from the failed
 * frame on goes back to the queue.
 */
static void process(struct writer *w, unsigned int n)
{
	uint64_t t0 = clock_mono_ns();
	unsigned int done = n;
	bool stopping;

	memset(w->res, 0, n * sizeof(*w->res));
	memset(w->hello_seq, 0, n * sizeof(*w->hello_seq));
	if (run_batch(w, 0, n) != 0) {
		done = 0;
		while (done < n && store_alive(w)) {
			if (run_batch(w, done, done + 1) != 0 && store_alive(w)) {
				log_warn_rl(10,
					    "store: frame refused by the database (not retried)");
				w->res[done] = RES_REJECTED;
				metrics_inc(&w->cfg.metrics->rejected);
			}
			done++;
		}
	}
	if (done > 0) {
		metrics_inc(&w->cfg.metrics->commits);
		prom_hist_observe(&w->cfg.metrics->commit_latency,
				  (double)(clock_mono_ns() - t0) / 1e9);
		prom_hist_observe(&w->cfg.metrics->batch_frames, done);
		w->backoff_ms = 0;
		after_commit(w, done);
	}
	if (done < n) {
		memmove(w->batch, w->batch + done, (n - done) * sizeof(*w->batch));
		pthread_mutex_lock(&w->mu);
		stopping = w->stop;
		pthread_mutex_unlock(&w->mu);
		if (stopping) {
			/* Not acked: the sensors send these again to the next collector. */
			for (unsigned int i = 0; i < n - done; i++)
				writer_item_free(w->batch[i]);
			return;
		}
		requeue(w, 0, n - done);
		backoff(w);
	}
}

static void expire(struct writer *w)
{
	uint64_t now = clock_real_ns(), deleted = 0;
	int err;

	if (!w->cfg.retention_s || now < w->next_expire_ns)
		return;
	w->next_expire_ns = now + (uint64_t)w->cfg.expire_every_s * NS_PER_SEC;
	err = store_begin(w->st);
	if (!err)
		err = store_expire(w->st, now - w->cfg.retention_s * NS_PER_SEC, &deleted);
	if (!err)
		err = store_commit(w->st);
	if (err) {
		store_rollback(w->st);
		log_warn("store: expiring the archive failed: %s", strerror(-err));
		return;
	}
	metrics_add(&w->cfg.metrics->expired_rows, deleted);
	if (deleted)
		log_info("store: %llu archive rows older than %llu days deleted",
			 (unsigned long long)deleted,
			 (unsigned long long)(w->cfg.retention_s / 86400));
}

static void deadline_in(struct timespec *ts, unsigned int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	ts->tv_sec += ms / 1000 + ts->tv_nsec / 1000000000L;
	ts->tv_nsec %= 1000000000L;
}

/* Waits for frames (at most a second, for housekeeping); pops a batch. */
static unsigned int take_batch(struct writer *w, bool *stop)
{
	struct timespec ts;
	unsigned int n = 0;

	pthread_mutex_lock(&w->mu);
	if (!w->stop && w->n_queued == 0) {
		deadline_in(&ts, 1000);
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	}
	if (w->cfg.batch_wait_ms && !w->stop && w->n_queued > 0) {
		deadline_in(&ts, w->cfg.batch_wait_ms);
		while (!w->stop && w->n_queued < w->cfg.batch_max &&
		       pthread_cond_timedwait(&w->cv, &w->mu, &ts) == 0)
			;
	}
	while (w->head && n < w->cfg.batch_max) {
		struct writer_item *it = w->head;

		w->head = it->next;
		if (!w->head)
			w->tail = NULL;
		w->n_queued--;
		w->queued_bytes -= it->bytes;
		w->batch[n++] = it;
	}
	metrics_set(&w->cfg.metrics->queue_frames, w->n_queued);
	*stop = w->stop && !w->head;
	pthread_mutex_unlock(&w->mu);
	return n;
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	bool stop = false;

	while (!stop) {
		unsigned int n = take_batch(w, &stop);

		if (n)
			process(w, n);
		expire(w);
	}
	return NULL;
}

static int alloc_arrays(struct writer *w)
{
	w->sc = malloc(sizeof(*w->sc));
	w->batch = calloc(w->cfg.batch_max, sizeof(*w->batch));
	w->res = calloc(w->cfg.batch_max, sizeof(*w->res));
	w->hello_seq = calloc(w->cfg.batch_max, sizeof(*w->hello_seq));
	w->call_of = calloc(w->cfg.batch_max, sizeof(*w->call_of));
	/* one call per frame, plus the runs: at most one per frame too */
	w->results = calloc(2 * (size_t)w->cfg.batch_max + WRITER_RUNS, sizeof(*w->results));
	return w->sc && w->batch && w->res && w->hello_seq && w->call_of && w->results ? 0
										       : -ENOMEM;
}

static void free_arrays(struct writer *w)
{
	free(w->sc);
	free(w->batch);
	free(w->res);
	free(w->hello_seq);
	free(w->call_of);
	free(w->results);
	free(w->done);
}

int writer_create(const struct writer_cfg *cfg, struct writer **out, struct errbuf *eb)
{
	struct writer *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	w->cfg = *cfg;
	w->cfg.batch_max = cfg->batch_max ? cfg->batch_max : 1000;
	w->cfg.queue_max = cfg->queue_max ? cfg->queue_max : 20000;
	w->cfg.queue_max_bytes = cfg->queue_max_bytes ? cfg->queue_max_bytes : 64ull << 20;
	w->cfg.expire_every_s = cfg->expire_every_s ? cfg->expire_every_s : 3600;
	err = alloc_arrays(w);
	if (err)
		goto err_free;
	err = store_open(cfg->db, &cfg->store_opts, &w->st, eb);
	if (err)
		goto err_free;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	err = -pthread_create(&w->thr, NULL, writer_main, w);
	if (err)
		goto err_close;
	*out = w;
	return 0;

err_close:
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	store_close(w->st);
err_free:
	free_arrays(w);
	free(w);
	return err;
}

void writer_destroy(struct writer *w)
{
	struct writer_item *it;

	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thr, NULL);
	while ((it = w->head) != NULL) {
		w->head = it->next;
		writer_item_free(it);
	}
	store_close(w->st);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free_arrays(w);
	free(w);
}
