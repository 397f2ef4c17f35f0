/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * store_int: what store.c asks of a database backend (store_sqlite.c,
 * store_pg.c): open a connection, run one statement with typed parameters
 * ($1..$n, numbered in order of first use so SQLite and PostgreSQL read the
 * same text) and hand back rows, run a DDL script. store.c owns the SQL; a
 * backend owns its connection and its prepared-statement cache. One thread.
 */
#ifndef RELAYWATCH_COLLECTOR_STORE_INT_H
#define RELAYWATCH_COLLECTOR_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "collector/store.h"
#include "common/errbuf.h"

enum store_val_type {
	STORE_V_NULL = 0,
	STORE_V_I64 = 1,
	STORE_V_DBL = 2,
	STORE_V_TEXT = 3,
};

struct store_val {
	enum store_val_type t;
	int64_t i;
	double d;
	const char *s;
};

struct store_backend;

/* One result row, valid during the row callback. */
struct store_row {
	const struct store_backend *be;
	void *h;
};

typedef int store_row_fn(const struct store_row *r, void *arg);

struct store_backend {
	const char *name;
	int (*open)(const char *target, const struct store_opts *opts, void **conn,
		    struct errbuf *eb);
	void (*close)(void *conn);
	/*
	 * Runs sql with params. cache: sql is a static string worth preparing
	 * once. Rows go to cb (may be NULL); *changes (may be NULL) gets the
	 * rows inserted, updated or deleted. 0, the callback's > 0, or -errno.
	 */
	int (*exec)(void *conn, const char *sql, bool cache, const struct store_val *p,
		    unsigned int n, store_row_fn *cb, void *arg, uint64_t *changes);
	/* Several statements, no parameters (migrations, BEGIN/COMMIT). */
	int (*script)(void *conn, const char *sql);
	/*
	 * Optional (NULL: statements run one at a time). Between batch_begin and
	 * batch_end, exec (without rows) and script (BEGIN/COMMIT) only queue;
	 * batch_end sends them all in one round trip and writes each exec's
	 * changes in order (-1 for one that failed). 0 or the first error.
	 */
	int (*batch_begin)(void *conn);
	int (*batch_end)(void *conn, int64_t *changes, unsigned int cap, unsigned int *n);
	int64_t (*col_i64)(void *row, int i);
	double (*col_dbl)(void *row, int i);
	const char *(*col_text)(void *row, int i); /* "" for NULL */
};

extern const struct store_backend store_sqlite_backend;
extern const struct store_backend store_pg_backend;

static inline int64_t store_col_i64(const struct store_row *r, int i)
{
	return r->be->col_i64(r->h, i);
}

static inline uint64_t store_col_u64(const struct store_row *r, int i)
{
	return (uint64_t)r->be->col_i64(r->h, i);
}

static inline double store_col_dbl(const struct store_row *r, int i)
{
	return r->be->col_dbl(r->h, i);
}

static inline const char *store_col_text(const struct store_row *r, int i)
{
	return r->be->col_text(r->h, i);
}

static inline struct store_val store_i64(int64_t v)
{
	return (struct store_val){.t = STORE_V_I64, .i = v};
}

/* uint64 keys (run_id) keep their bit pattern in a signed BIGINT column. */
static inline struct store_val store_u64(uint64_t v)
{
	return (struct store_val){.t = STORE_V_I64, .i = (int64_t)v};
}

static inline struct store_val store_dbl(double v)
{
	return (struct store_val){.t = STORE_V_DBL, .d = v};
}

static inline struct store_val store_text(const char *s)
{
	return (struct store_val){.t = STORE_V_TEXT, .s = s ? s : ""};
}

#endif /* RELAYWATCH_COLLECTOR_STORE_INT_H */
