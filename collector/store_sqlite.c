// SPDX-License-Identifier: BSD-3-Clause
/*
 * SQLite backend: one connection, WAL journal (readers never block the one
 * writer), a cache of prepared statements keyed by the SQL's address (the
 * statements store.c uses are static strings).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "collector/store_int.h"
#include "common/log.h"

#define SQLITE_STMT_CACHE 48

struct sqlite_conn {
	sqlite3 *db;
	unsigned int n_cached;
	const char *cached_sql[SQLITE_STMT_CACHE];
	sqlite3_stmt *cached[SQLITE_STMT_CACHE];
};

static int sqlite_err(struct sqlite_conn *c, int rc, const char *what)
{
	log_warn_rl(10, "store: sqlite %s: %s", what, sqlite3_errmsg(c->db));
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return -EBUSY;
	if (rc == SQLITE_FULL)
		return -ENOSPC;
	if (rc == SQLITE_CONSTRAINT)
		return -EEXIST;
	return -EIO;
}

static int sqlite_script(void *conn, const char *sql)
{
	struct sqlite_conn *c = conn;
	char *msg = NULL;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		log_warn("store: sqlite: %s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return rc == SQLITE_BUSY ? -EBUSY : -EIO;
	}
	return 0;
}

static int sqlite_open(const char *target, const struct store_opts *opts, void **conn,
		       struct errbuf *eb)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	struct sqlite_conn *c;
	char pragmas[160];
	int rc;

	if (!opts->readonly)
		flags |= SQLITE_OPEN_CREATE;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	rc = sqlite3_open_v2(target, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		errbuf_set(eb, -EIO, "store: cannot open sqlite database %s: %s", target,
			   c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		sqlite3_close(c->db);
		free(c);
		return rc == SQLITE_CANTOPEN ? -ENOENT : -EIO;
	}
	sqlite3_busy_timeout(c->db, 5000);
	/* WAL: the HTTP thread and `report` read while the writer commits. */
	snprintf(pragmas, sizeof(pragmas),
		 "%sPRAGMA synchronous=%s; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;",
		 opts->readonly ? "" : "PRAGMA journal_mode=WAL; ",
		 opts->sqlite_sync_full ? "FULL" : "NORMAL");
	if (sqlite_script(c, pragmas)) {
		errbuf_set(eb, -EIO, "store: %s: %s", target, sqlite3_errmsg(c->db));
		sqlite3_close(c->db);
		free(c);
		return -EIO;
	}
	*conn = c;
	return 0;
}

static void sqlite_close(void *conn)
{
	struct sqlite_conn *c = conn;

	if (!c)
		return;
	for (unsigned int i = 0; i < c->n_cached; i++)
		sqlite3_finalize(c->cached[i]);
	sqlite3_close(c->db);
	free(c);
}

static sqlite3_stmt *stmt_get(struct sqlite_conn *c, const char *sql, bool cache, int *rc)
{
	sqlite3_stmt *st = NULL;

	if (cache) {
		for (unsigned int i = 0; i < c->n_cached; i++)
			if (c->cached_sql[i] == sql)
				return c->cached[i];
	}
	*rc = sqlite3_prepare_v3(c->db, sql, -1, cache ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL);
	if (*rc != SQLITE_OK)
		return NULL;
	if (cache && c->n_cached < SQLITE_STMT_CACHE) {
		c->cached_sql[c->n_cached] = sql;
		c->cached[c->n_cached++] = st;
	}
	return st;
}

static bool stmt_is_cached(const struct sqlite_conn *c, const sqlite3_stmt *st)
{
	for (unsigned int i = 0; i < c->n_cached; i++)
		if (c->cached[i] == st)
			return true;
	return false;
}

static int bind_all(sqlite3_stmt *st, const struct store_val *p, unsigned int n)
{
	int rc = SQLITE_OK;

	for (unsigned int i = 0; i < n && rc == SQLITE_OK; i++) {
		int idx = (int)i + 1;

		switch (p[i].t) {
		case STORE_V_I64:
			rc = sqlite3_bind_int64(st, idx, p[i].i);
			break;
		case STORE_V_DBL:
			rc = sqlite3_bind_double(st, idx, p[i].d);
			break;
		case STORE_V_TEXT:
			rc = sqlite3_bind_text(st, idx, p[i].s, -1, SQLITE_STATIC);
			break;
		default:
			rc = sqlite3_bind_null(st, idx);
			break;
		}
	}
	return rc;
}

static int sqlite_exec(void *conn, const char *sql, bool cache, const struct store_val *p,
		       unsigned int n, store_row_fn *cb, void *arg, uint64_t *changes)
{
	struct sqlite_conn *c = conn;
	struct store_row row = {.be = &store_sqlite_backend};
	sqlite3_stmt *st;
	int rc = SQLITE_OK, ret = 0;

	st = stmt_get(c, sql, cache, &rc);
	if (!st)
		return sqlite_err(c, rc, "prepare");
	if ((unsigned int)sqlite3_bind_parameter_count(st) != n) {
		log_err("store: sqlite: statement wants %d parameters, got %u",
			sqlite3_bind_parameter_count(st), n);
		ret = -EINVAL;
		goto out;
	}
	rc = bind_all(st, p, n);
	if (rc != SQLITE_OK) {
		ret = sqlite_err(c, rc, "bind");
		goto out;
	}
	row.h = st;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cb && (ret = cb(&row, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = sqlite_err(c, rc, "step");
	else if (changes)
		*changes = (uint64_t)sqlite3_changes(c->db);
out:
	if (stmt_is_cached(c, st)) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		sqlite3_finalize(st);
	}
	return ret;
}

static int64_t sqlite_col_i64(void *row, int i)
{
	return sqlite3_column_int64(row, i);
}

static double sqlite_col_dbl(void *row, int i)
{
	return sqlite3_column_double(row, i);
}

static const char *sqlite_col_text(void *row, int i)
{
	const unsigned char *s = sqlite3_column_text(row, i);

	return s ? (const char *)s : "";
}

const struct store_backend store_sqlite_backend = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.exec = sqlite_exec,
	.script = sqlite_script,
	.col_i64 = sqlite_col_i64,
	.col_dbl = sqlite_col_dbl,
	.col_text = sqlite_col_text,
};
