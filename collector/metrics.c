// SPDX-License-Identifier: BSD-3-Clause
#include "collector/metrics.h"

#include <string.h>

#define P "relaywatch_collector_"

static const char *const close_names[METRICS_CLOSE_COUNT] = {
#define METRICS_X_NAME(n, s) s,
	METRICS_CLOSE_REASONS(METRICS_X_NAME)
#undef METRICS_X_NAME
};

/* Seconds: 100 us to 10 s, for commits and acks alike. */
static const double latency_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
					0.05,	0.1,	 0.25,	 0.5,	1,	2.5,   5,    10};
static const double batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

void metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
	prom_hist_init(&m->ack_latency, latency_bounds, N_OF(latency_bounds));
	prom_hist_init(&m->commit_latency, latency_bounds, N_OF(latency_bounds));
	prom_hist_init(&m->batch_frames, batch_bounds, N_OF(batch_bounds));
}

const char *metrics_close_name(enum metrics_close r)
{
	return (unsigned int)r < METRICS_CLOSE_COUNT ? close_names[r] : "unknown";
}

static uint64_t get(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static void by_type(struct prom *p, const char *name, const char *help, const _Atomic uint64_t *v)
{
	prom_family(p, name, PROM_COUNTER, help);
	for (int t = 0; t < INGEST_TYPE_COUNT; t++) {
		struct prom_label l = {"type", ingest_type_name(t)};

		prom_sample(p, &l, 1, (double)get(&v[t]));
	}
}

static void write_ingest(struct prom *p, const struct metrics *m)
{
	struct prom_label l[1];

	by_type(p, P "frames", "Frames received from sensors, by type.", m->frames);
	prom_counter(p, P "received_bytes", "Frame bytes received from sensors (with headers).",
		     get(&m->bytes));
	prom_counter(p, P "frames_rejected",
		     "Well-formed frames refused for a bad field (acknowledged, not stored).",
		     get(&m->rejected));
	prom_counter(p, P "connections_accepted", "Sensor connections accepted.",
		     get(&m->conns_accepted));
	prom_family(p, P "connections", PROM_GAUGE, "Open sensor connections by state.");
	l[0] = (struct prom_label){"state", "handshake"};
	prom_sample(p, l, 1, (double)get(&m->conns_handshaking));
	l[0].value = "active";
	prom_sample(p, l, 1, (double)get(&m->conns_active));
	l[0].value = "paused";
	prom_sample(p, l, 1, (double)get(&m->conns_paused));
	prom_family(p, P "connection_closes", PROM_COUNTER,
		    "Sensor connections closed, by reason.");
	for (int r = 0; r < METRICS_CLOSE_COUNT; r++) {
		l[0] = (struct prom_label){"reason", close_names[r]};
		prom_sample(p, l, 1, (double)get(&m->closes[r]));
	}
	prom_counter(p, P "acks", "Ack frames sent to sensors.", get(&m->acks));
	prom_family(p, P "ack_latency_seconds", PROM_HISTOGRAM,
		    "From a frame read whole to the ack that covers it.");
	prom_hist_write(p, NULL, 0, &m->ack_latency);
}

static void write_store(struct prom *p, const struct metrics *m)
{
	by_type(p, P "frames_stored", "Frames stored (new rows), by type.", m->stored);
	prom_counter(p, P "dedup_hits", "Re-sent frames that were already stored.", get(&m->dedup));
	prom_counter(p, P "store_errors", "Failed store statements or commits.",
		     get(&m->store_errors));
	prom_counter(p, P "store_retries", "Batches retried after a transient store error.",
		     get(&m->store_retries));
	prom_counter(p, P "store_commits", "Store transactions committed.", get(&m->commits));
	prom_counter(p, P "store_expired_rows",
		     "Archive transactions and summaries deleted after --retention.",
		     get(&m->expired_rows));
	prom_gauge(p, P "store_queue_frames", "Frames waiting for the store writer.",
		   (double)get(&m->queue_frames));
	prom_family(p, P "store_commit_seconds", PROM_HISTOGRAM,
		    "Store latency: one batch's inserts and its commit.");
	prom_hist_write(p, NULL, 0, &m->commit_latency);
	prom_family(p, P "store_batch_frames", PROM_HISTOGRAM, "Frames per committed batch.");
	prom_hist_write(p, NULL, 0, &m->batch_frames);
}

static void write_outputs(struct prom *p, const struct metrics *m)
{
	prom_counter(p, P "alertmanager_posts", "POSTs to Alertmanager that succeeded.",
		     get(&m->am_posts));
	prom_counter(p, P "alertmanager_failures", "POSTs to Alertmanager that failed.",
		     get(&m->am_failures));
	prom_counter(p, P "alertmanager_alerts_sent", "Alerts sent to Alertmanager (with resends).",
		     get(&m->am_alerts_sent));
	prom_counter(p, P "alertmanager_dropped",
		     "Alert notifications dropped: the Alertmanager queue was full.",
		     get(&m->am_dropped));
	prom_gauge(p, P "alertmanager_active_alerts", "Alerts the collector keeps firing.",
		   (double)get(&m->am_active));
	prom_counter(p, P "kafka_produced", "Alerts delivered to Kafka.", get(&m->kafka_produced));
	prom_counter(p, P "kafka_failed", "Alerts Kafka did not take or deliver.",
		     get(&m->kafka_failed));
}

static void write_ranking(struct prom *p, const struct metrics *m)
{
	char rank[16];

	prom_gauge(p, P "ranked_hosts", "Hosts in the relay ranking.",
		   (double)get(&m->ranked_hosts));
	prom_family(p, P "top_host_score", PROM_GAUGE,
		    "Combined score of the top-ranked relay hosts (bounded: top 10 only).");
	for (unsigned int i = 0; i < m->n_top && i < METRICS_TOP_N; i++) {
		struct prom_label l[2] = {{"rank", rank}, {"host", m->top[i].host}};

		snprintf(rank, sizeof(rank), "%u", i + 1);
		prom_sample(p, l, 2, m->top[i].score);
	}
}

int metrics_write(const struct metrics *m, FILE *f)
{
	struct prom p;

	prom_init(&p, f);
	write_ingest(&p, m);
	write_store(&p, m);
	write_outputs(&p, m);
	write_ranking(&p, m);
	return prom_finish(&p);
}
