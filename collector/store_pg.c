// SPDX-License-Identifier: BSD-3-Clause
/*
 * PostgreSQL backend (libpq): parameters and results as text, statements
 * prepared once per connection and keyed by the SQL's address. A lost
 * connection is reset at the next BEGIN, which also forgets the prepared
 * statements (they lived in the old session).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "collector/store_int.h"
#include "common/log.h"

#define PG_STMT_CACHE 48
#define PG_MAX_PARAMS 48

#define PG_PIPE_OPS                                                                                \
	1024 /* queued statements before a sync: the results stay                                  \
	      * well inside the socket buffer, so neither side blocks */

enum pg_op {
	PG_OP_PREPARE = 0,
	PG_OP_EXEC = 1,	  /* its changes are reported */
	PG_OP_SCRIPT = 2, /* BEGIN, COMMIT */
};

struct pg_conn {
	PGconn *pg;
	unsigned int n_cached;
	unsigned int generation; /* statement names of a session: rw<gen>_<i> */
	const char *cached_sql[PG_STMT_CACHE];
	/* pipeline mode */
	bool piped;
	int pipe_err;
	unsigned int n_ops;
	uint8_t ops[PG_PIPE_OPS];
	int64_t *changes;
	unsigned int n_changes, cap_changes;
};

struct pg_row {
	PGresult *res;
	int row;
};

/* Connection loss is worth a retry; data and constraint errors are not. */
static int pg_errno(struct pg_conn *c, const PGresult *res, const char *what)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	log_warn_rl(10, "store: postgresql %s: %s", what, PQerrorMessage(c->pg));
	if (PQstatus(c->pg) != CONNECTION_OK)
		return -ENOTCONN;
	if (state && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0))
		return -EINVAL;
	if (state && strncmp(state, "40", 2) == 0)
		return -EBUSY; /* serialization failure, deadlock: retry */
	return -EIO;
}

static void pg_notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("store: postgresql: %s", msg);
}

static int pg_open(const char *target, const struct store_opts *opts, void **conn,
		   struct errbuf *eb)
{
	struct pg_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->pg = PQconnectdb(target);
	if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
		errbuf_set(eb, -ECONNREFUSED, "store: cannot connect to postgresql: %s",
			   c->pg ? PQerrorMessage(c->pg) : "out of memory");
		PQfinish(c->pg);
		free(c);
		return -ECONNREFUSED;
	}
	PQsetNoticeProcessor(c->pg, pg_notice, NULL);
	if (opts->readonly) {
		PGresult *r = PQexec(c->pg, "SET default_transaction_read_only = on");

		PQclear(r);
	}
	*conn = c;
	return 0;
}

static void pg_close(void *conn)
{
	struct pg_conn *c = conn;

	if (!c)
		return;
	PQfinish(c->pg);
	free(c->changes);
	free(c);
}

static int pg_script(void *conn, const char *sql)
{
	struct pg_conn *c = conn;
	PGresult *r;
	int ret = 0;

	if (c->piped) {
		if (!PQsendQueryParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0))
			return pg_errno(c, NULL, "queue");
		c->ops[c->n_ops++] = PG_OP_SCRIPT;
		return 0;
	}
	if (PQstatus(c->pg) != CONNECTION_OK && strcmp(sql, "BEGIN") == 0) {
		PQreset(c->pg);
		c->n_cached = 0;
		c->generation++;
		if (PQstatus(c->pg) != CONNECTION_OK)
			return -ENOTCONN;
		log_info("store: postgresql connection re-established");
	}
	r = PQexec(c->pg, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		ret = pg_errno(c, r, "script");
	PQclear(r);
	return ret;
}

/* The statement's name on this connection; prepares it the first time. */
static int pg_prepare(struct pg_conn *c, const char *sql, int n, char *name, size_t cap)
{
	PGresult *r;
	int ret = 0;

	for (unsigned int i = 0; i < c->n_cached; i++) {
		if (c->cached_sql[i] == sql) {
			snprintf(name, cap, "rw%u_%u", c->generation, i);
			return 0;
		}
	}
	if (c->n_cached >= PG_STMT_CACHE) {
		name[0] = '\0'; /* full: run unprepared */
		return 0;
	}
	snprintf(name, cap, "rw%u_%u", c->generation, c->n_cached);
	if (c->piped) {
		/* Queued like the rest; a failure shows at the sync. */
		if (!PQsendPrepare(c->pg, name, sql, n, NULL))
			return pg_errno(c, NULL, "prepare");
		c->ops[c->n_ops++] = PG_OP_PREPARE;
		c->cached_sql[c->n_cached++] = sql;
		return 0;
	}
	r = PQprepare(c->pg, name, sql, n, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		ret = pg_errno(c, r, "prepare");
	else
		c->cached_sql[c->n_cached++] = sql;
	PQclear(r);
	return ret;
}

static void params_text(const struct store_val *p, unsigned int n, char num[][32],
			const char **vals)
{
	for (unsigned int i = 0; i < n; i++) {
		switch (p[i].t) {
		case STORE_V_I64:
			snprintf(num[i], 32, "%" PRId64, p[i].i);
			vals[i] = num[i];
			break;
		case STORE_V_DBL:
			snprintf(num[i], 32, "%.17g", p[i].d);
			vals[i] = num[i];
			break;
		case STORE_V_TEXT:
			vals[i] = p[i].s;
			break;
		default:
			vals[i] = NULL;
			break;
		}
	}
}

static int pg_rows(PGresult *r, store_row_fn *cb, void *arg)
{
	struct pg_row pr = {.res = r};
	struct store_row row = {.be = &store_pg_backend, .h = &pr};
	int n = PQntuples(r), ret = 0;

	for (pr.row = 0; pr.row < n && cb; pr.row++)
		if ((ret = cb(&row, arg)) != 0)
			break;
	return ret;
}

/* ---- pipeline mode ---- */

static int push_change(struct pg_conn *c, int64_t v)
{
	if (c->n_changes == c->cap_changes) {
		unsigned int cap = c->cap_changes ? c->cap_changes * 2 : 1024;
		int64_t *ch = realloc(c->changes, cap * sizeof(*ch));

		if (!ch)
			return -ENOMEM;
		c->changes = ch;
		c->cap_changes = cap;
	}
	c->changes[c->n_changes++] = v;
	return 0;
}

/* One queued statement's result; its changes when it is an exec. */
static void pipe_result(struct pg_conn *c, enum pg_op op)
{
	PGresult *r = PQgetResult(c->pg);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	int64_t changes = -1;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		const char *t = PQcmdTuples(r);

		changes = t && *t ? strtoll(t, NULL, 10) : 0;
	} else if (!c->pipe_err) {
		c->pipe_err = st == PGRES_PIPELINE_ABORTED ? -EIO : pg_errno(c, r, "pipeline");
	}
	PQclear(r);
	/* each statement's results end with a NULL */
	while ((r = PQgetResult(c->pg)) != NULL)
		PQclear(r);
	if (op == PG_OP_EXEC && push_change(c, changes) && !c->pipe_err)
		c->pipe_err = -ENOMEM;
}

/* Sends a sync and reads every queued statement's result. */
static int pipe_drain(struct pg_conn *c)
{
	PGresult *r;

	if (!PQpipelineSync(c->pg))
		return pg_errno(c, NULL, "sync");
	for (unsigned int i = 0; i < c->n_ops; i++)
		pipe_result(c, c->ops[i]);
	c->n_ops = 0;
	r = PQgetResult(c->pg);
	if (!r || PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
		if (!c->pipe_err)
			c->pipe_err = pg_errno(c, r, "sync");
	}
	PQclear(r);
	return c->pipe_err;
}

static int pg_batch_begin(void *conn)
{
	struct pg_conn *c = conn;

	if (PQstatus(c->pg) != CONNECTION_OK || !PQenterPipelineMode(c->pg))
		return -ENOTCONN;
	c->piped = true;
	c->pipe_err = 0;
	c->n_ops = 0;
	c->n_changes = 0;
	return 0;
}

static int pg_batch_end(void *conn, int64_t *changes, unsigned int cap, unsigned int *n)
{
	struct pg_conn *c = conn;
	int err = c->n_ops ? pipe_drain(c) : c->pipe_err;

	PQexitPipelineMode(c->pg);
	c->piped = false;
	if (err) {
		/* A statement may have been prepared in a session that failed. */
		c->n_cached = 0;
		c->generation++;
	}
	*n = c->n_changes < cap ? c->n_changes : cap;
	if (changes)
		memcpy(changes, c->changes, *n * sizeof(*changes));
	return err;
}

static int pipe_exec(struct pg_conn *c, const char *name, const char *sql, unsigned int n,
		     const char *const *vals)
{
	int ok = name[0] ? PQsendQueryPrepared(c->pg, name, (int)n, vals, NULL, NULL, 0)
			 : PQsendQueryParams(c->pg, sql, (int)n, NULL, vals, NULL, NULL, 0);

	if (!ok)
		return pg_errno(c, NULL, "queue");
	c->ops[c->n_ops++] = PG_OP_EXEC;
	return c->n_ops + 2 > PG_PIPE_OPS ? pipe_drain(c) : 0;
}

static int pg_exec(void *conn, const char *sql, bool cache, const struct store_val *p,
		   unsigned int n, store_row_fn *cb, void *arg, uint64_t *changes)
{
	struct pg_conn *c = conn;
	char num[PG_MAX_PARAMS][32], name[32] = "";
	const char *vals[PG_MAX_PARAMS];
	ExecStatusType st;
	PGresult *r;
	int ret;

	if (n > PG_MAX_PARAMS)
		return -E2BIG;
	if (c->piped && cb)
		return -EINVAL; /* rows cannot come back before the sync */
	params_text(p, n, num, vals);
	if (cache && (ret = pg_prepare(c, sql, (int)n, name, sizeof(name))) != 0)
		return ret;
	if (c->piped)
		return pipe_exec(c, name, sql, n, vals);
	if (name[0])
		r = PQexecPrepared(c->pg, name, (int)n, vals, NULL, NULL, 0);
	else
		r = PQexecParams(c->pg, sql, (int)n, NULL, vals, NULL, NULL, 0);
	st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		ret = pg_errno(c, r, "exec");
		PQclear(r);
		return ret;
	}
	ret = pg_rows(r, cb, arg);
	if (changes) {
		const char *t = PQcmdTuples(r);

		*changes = t && *t ? strtoull(t, NULL, 10) : 0;
	}
	PQclear(r);
	return ret;
}

static int64_t pg_col_i64(void *row, int i)
{
	struct pg_row *pr = row;
	const char *s = PQgetvalue(pr->res, pr->row, i);

	/* SUM() comes back as numeric text; values beyond int64 are not ours. */
	return s && *s ? strtoll(s, NULL, 10) : 0;
}

static double pg_col_dbl(void *row, int i)
{
	struct pg_row *pr = row;
	const char *s = PQgetvalue(pr->res, pr->row, i);

	return s && *s ? strtod(s, NULL) : 0;
}

static const char *pg_col_text(void *row, int i)
{
	struct pg_row *pr = row;
	const char *s = PQgetvalue(pr->res, pr->row, i);

	return s ? s : "";
}

const struct store_backend store_pg_backend = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.script = pg_script,
	.batch_begin = pg_batch_begin,
	.batch_end = pg_batch_end,
	.col_i64 = pg_col_i64,
	.col_dbl = pg_col_dbl,
	.col_text = pg_col_text,
};
