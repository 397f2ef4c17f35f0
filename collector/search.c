// SPDX-License-Identifier: BSD-3-Clause
#include "collector/search.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/rows_json.h"
#include "common/clock.h"

static int parse_age(const char *s, uint64_t now_ns, uint64_t *out)
{
	static const struct {
		char unit;
		uint64_t secs;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || !end[0] || end[1])
		return -EINVAL;
	for (unsigned int i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (*end == units[i].unit) {
			uint64_t ago = (uint64_t)v * units[i].secs * NS_PER_SEC;

			if (v > 100ull * 365 * 86400 / units[i].secs)
				return -EINVAL;
			*out = ago < now_ns ? now_ns - ago : 1;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_iso(const char *s, uint64_t *out)
{
	struct tm tm = {0};
	const char *p;
	time_t t;

	p = strptime(s, "%Y-%m-%d", &tm);
	if (!p)
		return -EINVAL;
	if (*p == 'T' || *p == ' ') {
		const char *q = strptime(p + 1, "%H:%M:%S", &tm);

		if (!q) {
			tm.tm_sec = 0;
			q = strptime(p + 1, "%H:%M", &tm);
		}
		if (!q)
			return -EINVAL;
		p = q;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	if (*p)
		return -EINVAL;
	t = timegm(&tm);
	if (t < 0)
		return -EINVAL;
	*out = (uint64_t)t * NS_PER_SEC;
	return 0;
}

int search_parse_time(const char *s, uint64_t now_ns, uint64_t *out_ns)
{
	size_t n = s ? strlen(s) : 0;
	bool digits = n > 0;

	if (!n || n > 40)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		digits &= isdigit((unsigned char)s[i]) != 0;
	if (digits) {
		unsigned long long v;
		char *end;

		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno || *end || v > 4102444800ull) /* 2100-01-01 */
			return -EINVAL;
		*out_ns = (uint64_t)v * NS_PER_SEC;
		return 0;
	}
	if (strchr(s, '-'))
		return parse_iso(s, out_ns);
	return parse_age(s, now_ns, out_ns);
}

/* ---- table ---- */

struct table_ctx {
	FILE *f;
	uint64_t n;
};

static int table_row(const struct store_tx *t, void *arg)
{
	struct table_ctx *c = arg;
	char ts[40];

	rows_json_time(t->ts_ns, ts, sizeof(ts), 0);
	fprintf(c->f, "%-20s  %-12.40s  %-39s -> %-39s  %-20.64s  %-32.128s  %.400s\n", ts,
		t->key.sensor_id, t->client, t->server, t->auth_user[0] ? t->auth_user : "-",
		t->mailfrom[0] ? t->mailfrom : "<>", t->rcpt_text);
	if (t->subject[0] || t->msg_id[0])
		fprintf(c->f, "%20s  subject: %.200s  msg-id: %.200s\n", "", t->subject, t->msg_id);
	c->n++;
	return 0;
}

int search_write_table(FILE *f, struct store *st, const struct store_search *q)
{
	struct table_ctx c = {.f = f};
	int err;

	fprintf(f, "%-20s  %-12s  %-39s    %-39s  %-20s  %-32s  %s\n", "time (UTC)", "sensor",
		"client", "server", "auth user", "mail from", "recipients");
	err = store_search_tx(st, q, table_row, &c);
	if (!err)
		fprintf(f, "%llu transactions\n", (unsigned long long)c.n);
	if (!err && (fflush(f) != 0 || ferror(f)))
		err = -EIO;
	return err;
}

/* ---- JSON ---- */

struct json_ctx {
	struct jsonw *w;
	uint64_t n;
};

static int json_row(const struct store_tx *t, void *arg)
{
	struct json_ctx *c = arg;

	rows_json_tx(c->w, t);
	c->n++;
	return 0;
}

int search_json(struct jsonw *w, struct store *st, const struct store_search *q)
{
	struct json_ctx c = {.w = w};
	int err;

	jsonw_obj_open(w);
	jsonw_key(w, "query");
	jsonw_obj_open(w);
	jsonw_kv_cstr(w, "account", q->account ? q->account : "");
	jsonw_kv_cstr(w, "host", q->host ? q->host : "");
	jsonw_kv_cstr(w, "rcpt_domain", q->rcpt_domain ? q->rcpt_domain : "");
	rows_json_kv_time(w, "since", q->since_ns);
	rows_json_kv_time(w, "until", q->until_ns);
	jsonw_kv_u64(w, "limit", q->limit ? q->limit : 1000);
	jsonw_obj_close(w);
	jsonw_key(w, "transactions");
	jsonw_arr_open(w);
	err = store_search_tx(st, q, json_row, &c);
	jsonw_arr_close(w);
	jsonw_kv_u64(w, "count", c.n);
	jsonw_obj_close(w);
	return err;
}

struct render_ctx {
	struct store *st;
	const struct store_search *q;
	int err;
};

static void render(struct jsonw *w, void *arg)
{
	struct render_ctx *c = arg;

	c->err = search_json(w, c->st, c->q);
}

int search_write_json(FILE *f, struct store *st, const struct store_search *q)
{
	struct render_ctx c = {.st = st, .q = q};
	size_t len;
	char *doc = rows_json_render(render, &c, &len);

	if (!doc)
		return c.err ? c.err : -ENOMEM;
	if (!c.err)
		fwrite(doc, 1, len, f);
	free(doc);
	if (!c.err && (fflush(f) != 0 || ferror(f)))
		return -EIO;
	return c.err;
}
