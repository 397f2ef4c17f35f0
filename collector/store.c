// SPDX-License-Identifier: BSD-3-Clause
/*
 * The schema, its migrations and every statement, written once for both
 * backends: the SQL is the common subset of SQLite 3.40 and PostgreSQL 15
 * (BIGINT, DOUBLE PRECISION, TEXT; INSERT ... ON CONFLICT DO NOTHING; CASE
 * instead of MAX(a,b)/GREATEST). Parameters are $1..$n in order of first use.
 */
#include "collector/store.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/store_int.h"

struct store {
	const struct store_backend *be;
	void *conn;
	int version;
	/* batch mode: which queued statement answers each put_* call */
	bool batched;
	unsigned int ops, n_calls, cap_calls;
	unsigned int *calls;
	int64_t *changes;
};

const char *const store_sum_names[STORE_SUM_COUNT] = {
#define STORE_X_NAME(n) #n,
	STORE_SUMMARY_COUNTERS(STORE_X_NAME)
#undef STORE_X_NAME
};

#define KEY_COLS   "sensor_id TEXT NOT NULL, run_id BIGINT NOT NULL, seq BIGINT NOT NULL, "
#define COLDEF(n)  #n " BIGINT NOT NULL, "
#define COLNAME(n) #n ", "
#define COLREF(n)  "s." #n ", "

/* Migrations: index i brings the schema from version i to i + 1. Append only. */
static const char *const migrations[] = {
	/* 1: sensors, runs, alerts, host summaries, the transaction archive */
	"CREATE TABLE sensors (sensor_id TEXT PRIMARY KEY, version TEXT NOT NULL,"
	" config_digest TEXT NOT NULL, home_net TEXT NOT NULL, peer TEXT NOT NULL,"
	" run_id BIGINT NOT NULL, started_ns BIGINT NOT NULL, first_seen_ns BIGINT NOT NULL,"
	" last_seen_ns BIGINT NOT NULL);"
	"CREATE TABLE runs (sensor_id TEXT NOT NULL, run_id BIGINT NOT NULL,"
	" max_seq BIGINT NOT NULL, frames BIGINT NOT NULL, first_ns BIGINT NOT NULL,"
	" last_ns BIGINT NOT NULL, PRIMARY KEY (sensor_id, run_id));"
	"CREATE TABLE alerts (" KEY_COLS "recv_ns BIGINT NOT NULL, ts_ns BIGINT NOT NULL,"
	" first_ns BIGINT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL,"
	" host TEXT NOT NULL, account TEXT NOT NULL, message TEXT NOT NULL,"
	" score DOUBLE PRECISION NOT NULL, alert_seq BIGINT NOT NULL, evidence TEXT NOT NULL,"
	" evidence_text TEXT NOT NULL, PRIMARY KEY (sensor_id, run_id, seq));"
	"CREATE INDEX alerts_host ON alerts (host, ts_ns);"
	"CREATE INDEX alerts_account ON alerts (account, ts_ns);"
	"CREATE TABLE summaries (" KEY_COLS "recv_ns BIGINT NOT NULL, ts_ns BIGINT NOT NULL,"
	" period_s BIGINT NOT NULL, host TEXT NOT NULL, home INTEGER NOT NULL,"
	" mail_server INTEGER NOT NULL, " STORE_SUMMARY_COUNTERS(
		COLDEF) "score DOUBLE PRECISION NOT NULL, first_seen_ns BIGINT NOT NULL,"
			" last_seen_ns BIGINT NOT NULL, PRIMARY KEY (sensor_id, run_id, seq));"
			"CREATE INDEX summaries_host ON summaries"
			" (host, sensor_id, run_id, first_seen_ns, ts_ns);"
			"CREATE INDEX summaries_recv ON summaries (recv_ns);"
			"CREATE TABLE transactions (" KEY_COLS
			"recv_ns BIGINT NOT NULL, ts_ns BIGINT NOT NULL,"
			" uid TEXT NOT NULL, client TEXT NOT NULL, client_port INTEGER NOT NULL,"
			" server TEXT NOT NULL, server_port INTEGER NOT NULL, trans_depth INTEGER "
			"NOT NULL,"
			" helo TEXT NOT NULL, mailfrom TEXT NOT NULL, auth_mech TEXT NOT NULL,"
			" auth_user TEXT NOT NULL, auth_result TEXT NOT NULL, msg_id TEXT NOT NULL,"
			" from_hdr TEXT NOT NULL, subject TEXT NOT NULL, to_count INTEGER NOT NULL,"
			" cc_count INTEGER NOT NULL, msg_size BIGINT NOT NULL, last_reply TEXT NOT "
			"NULL,"
			" tls INTEGER NOT NULL, is_bounce INTEGER NOT NULL, user_agent TEXT NOT "
			"NULL,"
			" rcpt_json TEXT NOT NULL, rcpt_text TEXT NOT NULL, n_rcpt INTEGER NOT "
			"NULL,"
			" PRIMARY KEY (sensor_id, run_id, seq));"
			"CREATE INDEX tx_ts ON transactions (ts_ns);"
			"CREATE INDEX tx_recv ON transactions (recv_ns);"
			"CREATE INDEX tx_client ON transactions (client, ts_ns);"
			"CREATE INDEX tx_server ON transactions (server, ts_ns);"
			"CREATE INDEX tx_auth_user ON transactions (auth_user, ts_ns);"
			"CREATE INDEX tx_mailfrom ON transactions (mailfrom, ts_ns);"
			"CREATE TABLE tx_rcpt (" KEY_COLS
			"idx INTEGER NOT NULL, recv_ns BIGINT NOT NULL,"
			" ts_ns BIGINT NOT NULL, addr TEXT NOT NULL, domain TEXT NOT NULL,"
			" code INTEGER NOT NULL, status TEXT NOT NULL,"
			" PRIMARY KEY (sensor_id, run_id, seq, idx));"
			"CREATE INDEX tx_rcpt_domain ON tx_rcpt (domain, ts_ns);"
			"CREATE INDEX tx_rcpt_recv ON tx_rcpt (recv_ns);",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int exec(struct store *st, const char *sql, const struct store_val *p, unsigned int n,
		store_row_fn *cb, void *arg, uint64_t *changes)
{
	int err = st->be->exec(st->conn, sql, true, p, n, cb, arg, changes);

	if (!err && st->batched)
		st->ops++;
	return err;
}

static int row_int(const struct store_row *r, void *arg)
{
	*(int64_t *)arg = store_col_i64(r, 0);
	return 0;
}

/* name: the SQLite file, or "postgresql" (a server URL may carry a password). */
static int migrate(struct store *st, bool readonly, const char *name, struct errbuf *eb)
{
	int64_t v = 0;
	int err;

	if (!readonly) {
		err = st->be->script(st->conn, "CREATE TABLE IF NOT EXISTS schema_version"
					       " (version INTEGER NOT NULL)");
		if (err)
			return errbuf_set(eb, err, "store %s: cannot create schema_version", name);
	}
	err = st->be->script(st->conn, "BEGIN");
	if (err)
		return errbuf_set(eb, err, "store %s: cannot begin the migration", name);
	err = exec(st, "SELECT COALESCE(MAX(version), 0) FROM schema_version", NULL, 0, row_int, &v,
		   NULL);
	if (!err && readonly && v < N_MIGRATIONS)
		err = errbuf_set(eb, -ENOENT,
				 "store %s: database schema %d, want %d: run serve first", name,
				 (int)v, N_MIGRATIONS);
	for (int i = (int)v; !err && i < N_MIGRATIONS; i++)
		err = st->be->script(st->conn, migrations[i]);
	if (!err && v < N_MIGRATIONS) {
		struct store_val p[] = {store_i64(N_MIGRATIONS)};

		err = st->be->exec(st->conn, "INSERT INTO schema_version (version) VALUES ($1)",
				   false, p, 1, NULL, NULL, NULL);
	}
	if (err) {
		st->be->script(st->conn, "ROLLBACK");
		if (!eb || !eb->msg[0])
			errbuf_set(eb, err, "store %s: migration failed", name);
		return err;
	}
	st->version = N_MIGRATIONS;
	return st->be->script(st->conn, "COMMIT");
}

int store_open(const char *uri, const struct store_opts *opts, struct store **out,
	       struct errbuf *eb)
{
	static const struct store_opts defaults = {0};
	const char *target = uri;
	struct store *st;
	int err;

	if (!opts)
		opts = &defaults;
	if (!uri || !*uri)
		return errbuf_set(eb, -EINVAL, "store: no database given (--db)");
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	if (strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0) {
		st->be = &store_pg_backend;
	} else {
		st->be = &store_sqlite_backend;
		if (strncmp(uri, "sqlite:", 7) == 0)
			target = uri + 7;
		if (!*target) {
			free(st);
			return errbuf_set(eb, -EINVAL, "store: sqlite: without a path");
		}
	}
	err = st->be->open(target, opts, &st->conn, eb);
	if (err) {
		free(st);
		return err;
	}
	err = migrate(st, opts->readonly, st->be == &store_pg_backend ? "postgresql" : target, eb);
	if (err) {
		store_close(st);
		return err;
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	st->be->close(st->conn);
	free(st->calls);
	free(st->changes);
	free(st);
}

const char *store_backend_name(const struct store *st)
{
	return st->be->name;
}

int store_schema_version(struct store *st)
{
	return st->version;
}

int store_begin(struct store *st)
{
	return st->be->script(st->conn, "BEGIN");
}

int store_commit(struct store *st)
{
	return st->be->script(st->conn, "COMMIT");
}

int store_rollback(struct store *st)
{
	return st->be->script(st->conn, "ROLLBACK");
}

static int put(struct store *st, const char *sql, const struct store_val *p, unsigned int n)
{
	uint64_t changes = 0;
	int err = exec(st, sql, p, n, NULL, NULL, &changes);

	if (err || !st->batched)
		return err ? err : changes > 0;
	if (st->n_calls == st->cap_calls) {
		unsigned int cap = st->cap_calls ? st->cap_calls * 2 : 1024;
		unsigned int *c = realloc(st->calls, cap * sizeof(*c));

		if (!c)
			return -ENOMEM;
		st->calls = c;
		st->cap_calls = cap;
	}
	st->calls[st->n_calls++] = st->ops - 1;
	return 0;
}

int store_batch_begin(struct store *st)
{
	int err;

	if (!st->be->batch_begin)
		return -EOPNOTSUPP;
	err = st->be->batch_begin(st->conn);
	if (err)
		return err;
	st->batched = true;
	st->ops = 0;
	st->n_calls = 0;
	return 0;
}

int store_batch_end(struct store *st, int *results, unsigned int n)
{
	unsigned int got = 0;
	int64_t *ch;
	int err;

	if (!st->batched)
		return -EINVAL;
	st->batched = false;
	ch = realloc(st->changes, (st->ops ? st->ops : 1) * sizeof(*ch));
	if (ch)
		st->changes = ch;
	err = st->be->batch_end(st->conn, ch, ch ? st->ops : 0, &got);
	if (!err && (!ch || got < st->ops))
		err = -EIO;
	for (unsigned int i = 0; !err && i < n && i < st->n_calls; i++)
		results[i] = ch[st->calls[i]] > 0;
	return err;
}

int store_put_alert(struct store *st, const struct store_alert *a)
{
	static const char sql[] =
		"INSERT INTO alerts (sensor_id, run_id, seq, recv_ns, ts_ns, first_ns, kind,"
		" severity, host, account, message, score, alert_seq, evidence, evidence_text)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
		" ON CONFLICT DO NOTHING";
	const struct store_val p[] = {
		store_text(a->key.sensor_id), store_u64(a->key.run_id),
		store_u64(a->key.seq),	      store_u64(a->recv_ns),
		store_u64(a->ts_ns),	      store_u64(a->first_ns),
		store_text(a->kind),	      store_text(a->severity),
		store_text(a->host),	      store_text(a->account),
		store_text(a->message),	      store_dbl(a->score),
		store_i64(a->alert_seq),      store_text(a->evidence_json),
		store_text(a->evidence_text),
	};

	return put(st, sql, p, sizeof(p) / sizeof(p[0]));
}

int store_put_summary(struct store *st, const struct store_summary *s)
{
	static const char sql[] =
		"INSERT INTO summaries (sensor_id, run_id, seq, recv_ns, ts_ns, period_s, host,"
		" home, mail_server, " STORE_SUMMARY_COUNTERS(
			COLNAME) "score, first_seen_ns, last_seen_ns) VALUES ($1, $2, $3, $4, $5, "
				 "$6, $7, $8, $9,"
				 " $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, "
				 "$22, $23, $24)"
				 " ON CONFLICT DO NOTHING";
	struct store_val p[9 + STORE_SUM_COUNT + 3] = {
		store_text(s->key.sensor_id), store_u64(s->key.run_id), store_u64(s->key.seq),
		store_u64(s->recv_ns),	      store_u64(s->ts_ns),	store_i64(s->period_s),
		store_text(s->host),	      store_i64(s->home),	store_i64(s->mail_server),
	};
	unsigned int n = 9;

	_Static_assert(9 + STORE_SUM_COUNT + 3 == 24, "summaries insert has 24 parameters");
	for (int i = 0; i < STORE_SUM_COUNT; i++)
		p[n++] = store_u64(s->c[i]);
	p[n++] = store_dbl(s->score);
	p[n++] = store_u64(s->first_seen_ns);
	p[n++] = store_u64(s->last_seen_ns);
	return put(st, sql, p, n);
}

static int put_rcpts(struct store *st, const struct store_tx *t)
{
	static const char sql[] =
		"INSERT INTO tx_rcpt (sensor_id, run_id, seq, idx, recv_ns, ts_ns, addr, domain,"
		" code, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
		" ON CONFLICT DO NOTHING";

	for (unsigned int i = 0; i < t->n_rcpt; i++) {
		const struct store_rcpt *r = &t->rcpt[i];
		const struct store_val p[] = {
			store_text(t->key.sensor_id), store_u64(t->key.run_id),
			store_u64(t->key.seq),	      store_i64(i),
			store_u64(t->recv_ns),	      store_u64(t->ts_ns),
			store_text(r->addr),	      store_text(r->domain),
			store_i64(r->code),	      store_text(r->status),
		};
		int err = exec(st, sql, p, sizeof(p) / sizeof(p[0]), NULL, NULL, NULL);

		if (err < 0)
			return err;
	}
	return 0;
}

int store_put_tx(struct store *st, const struct store_tx *t)
{
	static const char sql[] =
		"INSERT INTO transactions (sensor_id, run_id, seq, recv_ns, ts_ns, uid, client,"
		" client_port, server, server_port, trans_depth, helo, mailfrom, auth_mech,"
		" auth_user, auth_result, msg_id, from_hdr, subject, to_count, cc_count, msg_size,"
		" last_reply, tls, is_bounce, user_agent, rcpt_json, rcpt_text, n_rcpt) VALUES"
		" ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,"
		" $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)"
		" ON CONFLICT DO NOTHING";
	const struct store_val p[] = {
		store_text(t->key.sensor_id), store_u64(t->key.run_id),	 store_u64(t->key.seq),
		store_u64(t->recv_ns),	      store_u64(t->ts_ns),	 store_text(t->uid),
		store_text(t->client),	      store_i64(t->client_port), store_text(t->server),
		store_i64(t->server_port),    store_i64(t->trans_depth), store_text(t->helo),
		store_text(t->mailfrom),      store_text(t->auth_mech),	 store_text(t->auth_user),
		store_text(t->auth_result),   store_text(t->msg_id),	 store_text(t->from),
		store_text(t->subject),	      store_i64(t->to_count),	 store_i64(t->cc_count),
		store_u64(t->msg_size),	      store_text(t->last_reply), store_i64(t->tls),
		store_i64(t->is_bounce),      store_text(t->user_agent), store_text(t->rcpt_json),
		store_text(t->rcpt_text),     store_i64(t->n_rcpt),
	};
	int ret = put(st, sql, p, sizeof(p) / sizeof(p[0]));

	/* The recipients of a duplicate are already there; in batch mode the
	 * answer is not known yet and their own key makes a re-insert harmless. */
	if (ret == 1 || (ret == 0 && st->batched)) {
		int err = put_rcpts(st, t);

		if (err)
			return err;
	}
	return ret;
}

int store_put_sensor(struct store *st, const struct store_sensor *s)
{
	static const char sql[] =
		"INSERT INTO sensors (sensor_id, version, config_digest, home_net, peer, run_id,"
		" started_ns, first_seen_ns, last_seen_ns) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
		" $8) ON CONFLICT (sensor_id) DO UPDATE SET version = excluded.version,"
		" config_digest = excluded.config_digest, home_net = excluded.home_net,"
		" peer = excluded.peer, run_id = excluded.run_id, started_ns = excluded.started_ns,"
		" last_seen_ns = excluded.last_seen_ns";
	const struct store_val p[] = {
		store_text(s->sensor_id), store_text(s->version), store_text(s->config_digest),
		store_text(s->home_net),  store_text(s->peer),	  store_u64(s->run_id),
		store_u64(s->started_ns), store_u64(s->seen_ns),
	};
	int ret = put(st, sql, p, sizeof(p) / sizeof(p[0]));

	return ret < 0 ? ret : 0;
}

int store_put_run(struct store *st, const struct store_run *r)
{
	static const char sql[] =
		"INSERT INTO runs (sensor_id, run_id, max_seq, frames, first_ns, last_ns) VALUES"
		" ($1, $2, $3, $4, $5, $6) ON CONFLICT (sensor_id, run_id) DO UPDATE SET"
		" max_seq = CASE WHEN excluded.max_seq > runs.max_seq THEN excluded.max_seq"
		" ELSE runs.max_seq END, frames = runs.frames + excluded.frames,"
		" last_ns = excluded.last_ns";
	const struct store_val p[] = {
		store_text(r->sensor_id), store_u64(r->run_id),	  store_u64(r->max_seq),
		store_u64(r->frames),	  store_u64(r->first_ns), store_u64(r->last_ns),
	};
	int ret = put(st, sql, p, sizeof(p) / sizeof(p[0]));

	return ret < 0 ? ret : 0;
}

int store_max_seq(struct store *st, const char *sensor_id, uint64_t run_id, uint64_t *seq)
{
	static const char sql[] =
		"SELECT COALESCE(MAX(max_seq), 0) FROM runs WHERE sensor_id = $1 AND run_id = $2";
	const struct store_val p[] = {store_text(sensor_id), store_u64(run_id)};
	int64_t v = 0;
	int err = exec(st, sql, p, 2, row_int, &v, NULL);

	*seq = err ? 0 : (uint64_t)v;
	return err;
}

int store_expire(struct store *st, uint64_t before_ns, uint64_t *deleted)
{
	static const char *const sqls[] = {
		"DELETE FROM tx_rcpt WHERE recv_ns < $1",
		"DELETE FROM transactions WHERE recv_ns < $1",
		"DELETE FROM summaries WHERE recv_ns < $1",
	};
	const struct store_val p[] = {store_u64(before_ns)};
	uint64_t total = 0;

	for (unsigned int i = 0; i < sizeof(sqls) / sizeof(sqls[0]); i++) {
		uint64_t n = 0;
		int err = exec(st, sqls[i], p, 1, NULL, NULL, &n);

		if (err)
			return err;
		if (i > 0)
			total += n; /* recipients are part of their transaction */
	}
	if (deleted)
		*deleted = total;
	return 0;
}

int store_count(struct store *st, const char *table, uint64_t *n)
{
	static const char *const tables[][2] = {
		{"alerts", "SELECT COUNT(*) FROM alerts"},
		{"summaries", "SELECT COUNT(*) FROM summaries"},
		{"transactions", "SELECT COUNT(*) FROM transactions"},
		{"tx_rcpt", "SELECT COUNT(*) FROM tx_rcpt"},
		{"sensors", "SELECT COUNT(*) FROM sensors"},
		{"runs", "SELECT COUNT(*) FROM runs"},
	};

	for (unsigned int i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		if (strcmp(table, tables[i][0]) == 0) {
			int64_t v = 0;
			int err = exec(st, tables[i][1], NULL, 0, row_int, &v, NULL);

			*n = (uint64_t)v;
			return err;
		}
	}
	return -EINVAL;
}

/* ---- reading ---- */

/* Appends cond to sql with each '#' replaced by the next parameter, $<n + 1>. */
static void add_cond(char *sql, size_t cap, const char *cond, unsigned int *n)
{
	size_t len = strlen(sql);
	unsigned int k = ++*n;

	for (; *cond && len + 8 < cap; cond++) {
		if (*cond == '#')
			len += (size_t)snprintf(sql + len, cap - len, "$%u", k);
		else
			sql[len++] = *cond;
	}
	sql[len] = '\0';
}

struct scan_ctx {
	void *cb;
	void *arg;
	bool latest_only;
	/* summaries, latest only: the group of the last row handed out */
	char last_group[512];
};

static int alert_row(const struct store_row *r, void *arg)
{
	struct scan_ctx *c = arg;
	const struct store_alert a = {
		.key = {store_col_text(r, 0), store_col_u64(r, 1), store_col_u64(r, 2)},
		.recv_ns = store_col_u64(r, 3),
		.ts_ns = store_col_u64(r, 4),
		.first_ns = store_col_u64(r, 5),
		.kind = store_col_text(r, 6),
		.severity = store_col_text(r, 7),
		.host = store_col_text(r, 8),
		.account = store_col_text(r, 9),
		.message = store_col_text(r, 10),
		.score = store_col_dbl(r, 11),
		.alert_seq = (uint32_t)store_col_i64(r, 12),
		.evidence_json = store_col_text(r, 13),
		.evidence_text = store_col_text(r, 14),
	};

	return ((store_alert_fn *)c->cb)(&a, c->arg);
}

int store_scan_alerts(struct store *st, const struct store_filter *f, store_alert_fn *cb, void *arg)
{
	static const struct store_filter none = {0};
	struct scan_ctx c = {.cb = (void *)cb, .arg = arg};
	struct store_val p[3];
	unsigned int n = 0;
	char sql[768];
	size_t len;

	if (!f)
		f = &none;
	snprintf(sql, sizeof(sql),
		 "SELECT sensor_id, run_id, seq, recv_ns, ts_ns, first_ns, kind, severity, host,"
		 " account, message, score, alert_seq, evidence, evidence_text FROM alerts WHERE 1 "
		 "= 1");
	if (f->since_ns) {
		add_cond(sql, sizeof(sql), " AND ts_ns >= #", &n);
		p[n - 1] = store_u64(f->since_ns);
	}
	if (f->host && *f->host) {
		add_cond(sql, sizeof(sql), " AND host = #", &n);
		p[n - 1] = store_text(f->host);
	}
	if (f->account && *f->account) {
		add_cond(sql, sizeof(sql), " AND account = #", &n);
		p[n - 1] = store_text(f->account);
	}
	len = strlen(sql);
	len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s",
				f->newest_first
					? " ORDER BY ts_ns DESC, sensor_id, run_id, seq DESC"
					: " ORDER BY host, ts_ns, sensor_id, run_id, seq");
	if (f->limit)
		snprintf(sql + len, sizeof(sql) - len, " LIMIT %u", f->limit);
	return st->be->exec(st->conn, sql, false, p, n, alert_row, &c, NULL);
}

static void summary_from_row(const struct store_row *r, struct store_summary *s)
{
	int col = 9;

	memset(s, 0, sizeof(*s));
	s->key = (struct store_key){store_col_text(r, 0), store_col_u64(r, 1), store_col_u64(r, 2)};
	s->recv_ns = store_col_u64(r, 3);
	s->ts_ns = store_col_u64(r, 4);
	s->period_s = (uint32_t)store_col_i64(r, 5);
	s->host = store_col_text(r, 6);
	s->home = store_col_i64(r, 7) != 0;
	s->mail_server = store_col_i64(r, 8) != 0;
	for (int i = 0; i < STORE_SUM_COUNT; i++)
		s->c[i] = store_col_u64(r, col++);
	s->score = store_col_dbl(r, col++);
	s->first_seen_ns = store_col_u64(r, col++);
	s->last_seen_ns = store_col_u64(r, col);
}

static int summary_row(const struct store_row *r, void *arg)
{
	struct scan_ctx *c = arg;
	struct store_summary s;

	summary_from_row(r, &s);
	if (c->latest_only) {
		char group[sizeof(c->last_group)];

		/* Rows come newest first within a group: keep only the first. */
		snprintf(group, sizeof(group), "%s|%s|%llx|%llx", s.host, s.key.sensor_id,
			 (unsigned long long)s.key.run_id, (unsigned long long)s.first_seen_ns);
		if (strcmp(group, c->last_group) == 0)
			return 0;
		memcpy(c->last_group, group, sizeof(group));
	}
	return ((store_summary_fn *)c->cb)(&s, c->arg);
}

int store_scan_summaries(struct store *st, const struct store_filter *f, store_summary_fn *cb,
			 void *arg)
{
#define SUM_SELECT                                                                                 \
	"SELECT sensor_id, run_id, seq, recv_ns, ts_ns, period_s, host, home, "                    \
	"mail_server, " STORE_SUMMARY_COUNTERS(                                                    \
		COLNAME) "score, first_seen_ns, last_seen_ns FROM summaries"                       \
			 " WHERE ts_ns >= $1"
#define SUM_LATEST " ORDER BY host, sensor_id, run_id, first_seen_ns, ts_ns DESC, seq DESC"
#define SUM_TIME   " ORDER BY host, ts_ns, sensor_id, run_id, seq"
	static const char all_latest[] = SUM_SELECT SUM_LATEST;
	static const char all_time[] = SUM_SELECT SUM_TIME;
	static const char host_latest[] = SUM_SELECT " AND host = $2" SUM_LATEST;
	static const char host_time[] = SUM_SELECT " AND host = $2" SUM_TIME;
	struct scan_ctx c = {.cb = (void *)cb, .arg = arg};
	struct store_val p[2] = {store_u64(f ? f->since_ns : 0)};
	bool latest = f && f->latest_only;
	bool by_host = f && f->host && *f->host;

	c.latest_only = latest;
	if (by_host)
		p[1] = store_text(f->host);
	return exec(st,
		    by_host ? (latest ? host_latest : host_time) : (latest ? all_latest : all_time),
		    p, by_host ? 2 : 1, summary_row, &c, NULL);
#undef SUM_SELECT
#undef SUM_LATEST
#undef SUM_TIME
}

static int sensor_row(const struct store_row *r, void *arg)
{
	struct scan_ctx *c = arg;
	const struct store_sensor s = {
		.sensor_id = store_col_text(r, 0),
		.version = store_col_text(r, 1),
		.config_digest = store_col_text(r, 2),
		.home_net = store_col_text(r, 3),
		.peer = store_col_text(r, 4),
		.run_id = store_col_u64(r, 5),
		.started_ns = store_col_u64(r, 6),
		.seen_ns = store_col_u64(r, 7),
	};

	return ((store_sensor_fn *)c->cb)(&s, c->arg);
}

int store_scan_sensors(struct store *st, store_sensor_fn *cb, void *arg)
{
	static const char sql[] =
		"SELECT sensor_id, version, config_digest, home_net, peer, run_id,"
		" started_ns, last_seen_ns FROM sensors ORDER BY sensor_id";
	struct scan_ctx c = {.cb = (void *)cb, .arg = arg};

	return exec(st, sql, NULL, 0, sensor_row, &c, NULL);
}

static int run_row(const struct store_row *r, void *arg)
{
	struct scan_ctx *c = arg;
	const struct store_run run = {
		.sensor_id = store_col_text(r, 0),
		.run_id = store_col_u64(r, 1),
		.max_seq = store_col_u64(r, 2),
		.frames = store_col_u64(r, 3),
		.first_ns = store_col_u64(r, 4),
		.last_ns = store_col_u64(r, 5),
	};

	return ((store_run_fn *)c->cb)(&run, c->arg);
}

int store_scan_runs(struct store *st, store_run_fn *cb, void *arg)
{
	static const char sql[] = "SELECT sensor_id, run_id, max_seq, frames, first_ns, last_ns"
				  " FROM runs ORDER BY sensor_id, first_ns";
	struct scan_ctx c = {.cb = (void *)cb, .arg = arg};

	return exec(st, sql, NULL, 0, run_row, &c, NULL);
}

static int account_row(const struct store_row *r, void *arg)
{
	struct scan_ctx *c = arg;

	return ((store_account_fn *)c->cb)(store_col_text(r, 0), store_col_u64(r, 1),
					   store_col_u64(r, 2), store_col_u64(r, 3), c->arg);
}

int store_scan_host_accounts(struct store *st, const char *host, store_account_fn *cb, void *arg)
{
	static const char sql[] =
		"SELECT auth_user, COUNT(*), MIN(ts_ns), MAX(ts_ns) FROM transactions"
		" WHERE client = $1 AND auth_user <> '' GROUP BY auth_user"
		" ORDER BY COUNT(*) DESC, auth_user LIMIT 100";
	struct scan_ctx c = {.cb = (void *)cb, .arg = arg};
	const struct store_val p[] = {store_text(host)};

	return exec(st, sql, p, 1, account_row, &c, NULL);
}

static int tx_row(const struct store_row *r, void *arg)
{
	struct scan_ctx *c = arg;
	const struct store_tx t = {
		.key = {store_col_text(r, 0), store_col_u64(r, 1), store_col_u64(r, 2)},
		.recv_ns = store_col_u64(r, 3),
		.ts_ns = store_col_u64(r, 4),
		.uid = store_col_text(r, 5),
		.client = store_col_text(r, 6),
		.client_port = (uint32_t)store_col_i64(r, 7),
		.server = store_col_text(r, 8),
		.server_port = (uint32_t)store_col_i64(r, 9),
		.trans_depth = (uint32_t)store_col_i64(r, 10),
		.helo = store_col_text(r, 11),
		.mailfrom = store_col_text(r, 12),
		.auth_mech = store_col_text(r, 13),
		.auth_user = store_col_text(r, 14),
		.auth_result = store_col_text(r, 15),
		.msg_id = store_col_text(r, 16),
		.from = store_col_text(r, 17),
		.subject = store_col_text(r, 18),
		.to_count = (uint32_t)store_col_i64(r, 19),
		.cc_count = (uint32_t)store_col_i64(r, 20),
		.msg_size = store_col_u64(r, 21),
		.last_reply = store_col_text(r, 22),
		.tls = store_col_i64(r, 23) != 0,
		.is_bounce = store_col_i64(r, 24) != 0,
		.user_agent = store_col_text(r, 25),
		.rcpt_json = store_col_text(r, 26),
		.rcpt_text = store_col_text(r, 27),
		.n_rcpt = (unsigned int)store_col_i64(r, 28),
	};

	return ((store_tx_fn *)c->cb)(&t, c->arg);
}

int store_search_tx(struct store *st, const struct store_search *q, store_tx_fn *cb, void *arg)
{
	char sql[2048], domain[256];
	struct store_val p[6];
	size_t len, n_dom;
	struct scan_ctx c = {.cb = (void *)cb, .arg = arg};
	unsigned int n = 0;

	snprintf(sql, sizeof(sql),
		 "SELECT t.sensor_id, t.run_id, t.seq, t.recv_ns, t.ts_ns, t.uid, t.client,"
		 " t.client_port, t.server, t.server_port, t.trans_depth, t.helo, t.mailfrom,"
		 " t.auth_mech, t.auth_user, t.auth_result, t.msg_id, t.from_hdr, t.subject,"
		 " t.to_count, t.cc_count, t.msg_size, t.last_reply, t.tls, t.is_bounce,"
		 " t.user_agent, t.rcpt_json, t.rcpt_text, t.n_rcpt FROM transactions t WHERE 1 = "
		 "1");
	if (q->account && *q->account) {
		add_cond(sql, sizeof(sql), " AND (t.auth_user = # OR t.mailfrom = #)", &n);
		p[n - 1] = store_text(q->account);
	}
	if (q->host && *q->host) {
		add_cond(sql, sizeof(sql), " AND (t.client = # OR t.server = #)", &n);
		p[n - 1] = store_text(q->host);
	}
	if (q->rcpt_domain && *q->rcpt_domain) {
		/* stored in lower case */
		for (n_dom = 0; q->rcpt_domain[n_dom] && n_dom + 1 < sizeof(domain); n_dom++)
			domain[n_dom] = (char)tolower((unsigned char)q->rcpt_domain[n_dom]);
		domain[n_dom] = '\0';
		add_cond(sql, sizeof(sql),
			 " AND EXISTS (SELECT 1 FROM tx_rcpt r WHERE r.sensor_id = t.sensor_id"
			 " AND r.run_id = t.run_id AND r.seq = t.seq AND r.domain = #)",
			 &n);
		p[n - 1] = store_text(domain);
	}
	if (q->since_ns) {
		add_cond(sql, sizeof(sql), " AND t.ts_ns >= #", &n);
		p[n - 1] = store_u64(q->since_ns);
	}
	if (q->until_ns) {
		add_cond(sql, sizeof(sql), " AND t.ts_ns < #", &n);
		p[n - 1] = store_u64(q->until_ns);
	}
	len = strlen(sql);
	snprintf(sql + len, sizeof(sql) - len, " ORDER BY t.ts_ns, t.sensor_id, t.seq LIMIT %u",
		 q->limit ? q->limit : 1000);
	return st->be->exec(st->conn, sql, false, p, n, tx_row, &c, NULL);
}
