/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * store: the collector's database behind one small interface, with two
 * backends chosen by URI: "sqlite:PATH" (embedded default, WAL, one writer)
 * and "postgresql://..." (libpq). Same schema and SQL for both; migrations
 * run at open. Every frame row is unique on (sensor_id, run_id, seq), so a
 * re-sent frame is ignored and reported as a duplicate. A struct store is one
 * database connection: use it from one thread (the writer owns one, the HTTP
 * thread and the CLI open their own).
 */
#ifndef RELAYWATCH_COLLECTOR_STORE_H
#define RELAYWATCH_COLLECTOR_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/errbuf.h"

/* HostSummary counters, in schema order: columns, JSON names and sums. */
#define STORE_SUMMARY_COUNTERS(X)                                                                  \
	X(sessions)                                                                                \
	X(sessions_served)                                                                         \
	X(messages)                                                                                \
	X(recipients)                                                                              \
	X(rcpt_rejected)                                                                           \
	X(auth_success)                                                                            \
	X(auth_failure)                                                                            \
	X(distinct_servers)                                                                        \
	X(distinct_rcpt_domains)                                                                   \
	X(bounces_received)                                                                        \
	X(blocklist_replies)                                                                       \
	X(signature_hits)

enum store_sum {
#define STORE_X_ENUM(n) STORE_SUM_##n,
	STORE_SUMMARY_COUNTERS(STORE_X_ENUM)
#undef STORE_X_ENUM
		STORE_SUM_COUNT
};

extern const char *const store_sum_names[STORE_SUM_COUNT];

struct store;

/* The idempotence key every frame carries. */
struct store_key {
	const char *sensor_id;
	uint64_t run_id;
	uint64_t seq;
};

struct store_sensor {
	const char *sensor_id;
	const char *version;
	const char *config_digest;
	const char *home_net; /* comma-separated */
	const char *peer;     /* certificate subject or address it connected from */
	uint64_t run_id;
	uint64_t started_ns;
	uint64_t seen_ns; /* collector clock */
};

struct store_alert {
	struct store_key key;
	uint64_t recv_ns; /* collector clock when stored */
	uint64_t ts_ns;	  /* sensor (packet) time */
	uint64_t first_ns;
	const char *kind;
	const char *severity;
	const char *host;
	const char *account; /* "" when per host */
	const char *message;
	double score;
	uint32_t alert_seq;	   /* the sensor's update counter */
	const char *evidence_json; /* {"counters":[...],"examples":[...],"uids":[...]} */
	const char *evidence_text; /* the same for a human, one line */
};

struct store_summary {
	struct store_key key;
	uint64_t recv_ns;
	uint64_t ts_ns;
	uint32_t period_s;
	const char *host;
	bool home;
	bool mail_server;
	uint64_t c[STORE_SUM_COUNT];
	double score;
	uint64_t first_seen_ns;
	uint64_t last_seen_ns;
};

struct store_rcpt {
	const char *addr;
	const char *domain; /* lower case, "" when none */
	uint32_t code;
	const char *status;
};

struct store_tx {
	struct store_key key;
	uint64_t recv_ns;
	uint64_t ts_ns;
	const char *uid, *client, *server, *helo, *mailfrom;
	const char *auth_mech, *auth_user, *auth_result;
	const char *msg_id, *from, *subject, *last_reply, *user_agent;
	uint32_t client_port, server_port, trans_depth, to_count, cc_count;
	uint64_t msg_size;
	bool tls, is_bounce;
	const char *rcpt_json; /* [{"addr":...,"code":...,"status":...}] */
	const char *rcpt_text; /* "addr code status, ..." */
	unsigned int n_rcpt;   /* rcpt[] is written on insert only */
	const struct store_rcpt *rcpt;
};

struct store_run {
	const char *sensor_id;
	uint64_t run_id;
	uint64_t max_seq;
	uint64_t frames;
	uint64_t first_ns, last_ns; /* collector clock */
};

/* Which alerts or summaries a scan returns; NULL/0 fields do not filter. */
struct store_filter {
	const char *host;
	const char *account;
	uint64_t since_ns;  /* on ts_ns */
	bool latest_only;   /* summaries: newest row per sensor, run, host, first_seen */
	bool newest_first;  /* alerts: by time, newest first (else by host, time) */
	unsigned int limit; /* alerts: 0 for all */
};

/* Investigation archive search; at least one field or a time bound. */
struct store_search {
	const char *account; /* AUTH user or MAIL FROM mailbox */
	const char *host;    /* client or server */
	const char *rcpt_domain;
	uint64_t since_ns, until_ns; /* on ts_ns; 0: open */
	unsigned int limit;	     /* 0: 1000 */
};

/* Scan callbacks: 0 to go on, > 0 to stop, < 0 (-errno) to fail the scan. */
typedef int store_alert_fn(const struct store_alert *a, void *arg);
typedef int store_summary_fn(const struct store_summary *s, void *arg);
typedef int store_tx_fn(const struct store_tx *t, void *arg);
typedef int store_sensor_fn(const struct store_sensor *s, void *arg);
typedef int store_run_fn(const struct store_run *r, void *arg);
typedef int store_account_fn(const char *account, uint64_t txs, uint64_t first_ns, uint64_t last_ns,
			     void *arg);

struct store_opts {
	bool readonly;	       /* no migrations; fail if the schema is missing */
	bool sqlite_sync_full; /* SQLite synchronous=FULL (an ack survives power loss) */
};

/* uri: "sqlite:PATH", a bare path, or "postgresql://..." / "postgres://...". */
int store_open(const char *uri, const struct store_opts *opts, struct store **out,
	       struct errbuf *eb);
void store_close(struct store *st);
const char *store_backend_name(const struct store *st);
int store_schema_version(struct store *st);

int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);

/*
 * Batch mode, where the backend pipelines (PostgreSQL: a batch in one round
 * trip): until store_batch_end, BEGIN/COMMIT and the put_* calls only queue
 * and return 0; store_batch_end runs them and gives each put_* call's result
 * in call order (1 stored, 0 duplicate). -EOPNOTSUPP when the backend runs
 * statements one at a time (SQLite: there is no round trip to save).
 */
int store_batch_begin(struct store *st);
int store_batch_end(struct store *st, int *results, unsigned int n);

/* 1 stored, 0 duplicate (already stored), -errno. */
int store_put_alert(struct store *st, const struct store_alert *a);
int store_put_summary(struct store *st, const struct store_summary *s);
int store_put_tx(struct store *st, const struct store_tx *t);
int store_put_sensor(struct store *st, const struct store_sensor *s);
/* Raises the run's max_seq to at least r->max_seq and adds r->frames. */
int store_put_run(struct store *st, const struct store_run *r);

/* Highest seq stored for the run (0 when none). */
int store_max_seq(struct store *st, const char *sensor_id, uint64_t run_id, uint64_t *seq);
/* Deletes archive transactions and summaries received before before_ns. */
int store_expire(struct store *st, uint64_t before_ns, uint64_t *deleted);

int store_scan_alerts(struct store *st, const struct store_filter *f, store_alert_fn *cb,
		      void *arg);
int store_scan_summaries(struct store *st, const struct store_filter *f, store_summary_fn *cb,
			 void *arg);
int store_scan_sensors(struct store *st, store_sensor_fn *cb, void *arg);
int store_scan_runs(struct store *st, store_run_fn *cb, void *arg);
int store_search_tx(struct store *st, const struct store_search *q, store_tx_fn *cb, void *arg);
/* AUTH users seen in archived transactions from host (as client). */
int store_scan_host_accounts(struct store *st, const char *host, store_account_fn *cb, void *arg);

/* Row counts, for tests and the report footer. */
int store_count(struct store *st, const char *table, uint64_t *n);

#endif /* RELAYWATCH_COLLECTOR_STORE_H */
