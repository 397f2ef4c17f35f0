// SPDX-License-Identifier: BSD-3-Clause
#include "collector/report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collector/rows_json.h"

int report_parse_format(const char *s, enum report_format *out)
{
	if (strcmp(s, "table") == 0)
		*out = REPORT_TABLE;
	else if (strcmp(s, "json") == 0)
		*out = REPORT_JSON;
	else if (strcmp(s, "html") == 0)
		*out = REPORT_HTML;
	else
		return -EINVAL;
	return 0;
}

/* ---- JSON ---- */

static void names_json(struct jsonw *w, const char *key, const struct agg_names *n)
{
	jsonw_key(w, key);
	jsonw_arr_open(w);
	for (unsigned int i = 0; i < n->n && i < AGG_MAX_NAMES; i++)
		jsonw_cstr(w, n->name[i]);
	jsonw_arr_close(w);
}

static void kinds_json(struct jsonw *w, const struct agg_kind *k, unsigned int n)
{
	jsonw_key(w, "kinds");
	jsonw_arr_open(w);
	for (unsigned int i = 0; i < n; i++, k++) {
		size_t ev = k->evidence_json ? strlen(k->evidence_json) : 0;

		jsonw_obj_open(w);
		jsonw_kv_cstr(w, "kind", k->kind);
		jsonw_kv_cstr(w, "severity", k->severity);
		jsonw_kv_u64(w, "alerts", k->alerts);
		jsonw_kv_u64(w, "incidents", k->incidents);
		rows_json_kv_time(w, "first_seen", k->first_ns);
		rows_json_kv_time(w, "last_seen", k->last_ns);
		jsonw_kv_cstr(w, "sensor", k->sensor ? k->sensor : "");
		jsonw_kv_cstr(w, "message", k->message ? k->message : "");
		jsonw_kv_cstr(w, "evidence_text", k->evidence_text ? k->evidence_text : "");
		/* the latest alert's counters, examples and uids, as stored */
		if (ev > 2 && k->evidence_json[0] == '{')
			jsonw_raw(w, k->evidence_json + 1, ev - 2);
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
}

static void summary_json(struct jsonw *w, const struct agg_host *h)
{
	jsonw_key(w, "summary");
	if (!h->has_summary) {
		jsonw_null(w);
		return;
	}
	jsonw_obj_open(w);
	jsonw_kv_bool(w, "home", h->home);
	jsonw_kv_bool(w, "mail_server", h->mail_server);
	jsonw_kv_double(w, "sensor_score", h->sensor_score, 2);
	jsonw_kv_u64(w, "rows", h->summaries);
	for (int i = 0; i < STORE_SUM_COUNT; i++)
		jsonw_kv_u64(w, store_sum_names[i], h->c[i]);
	jsonw_obj_close(w);
}

void report_json_host(struct jsonw *w, const struct agg_host *h, unsigned int rank)
{
	jsonw_obj_open(w);
	jsonw_kv_u64(w, "rank", rank);
	jsonw_kv_cstr(w, "host", h->host);
	jsonw_kv_double(w, "score", h->score, 2);
	jsonw_key(w, "score_parts");
	jsonw_obj_open(w);
	jsonw_kv_double(w, "severity_weight", h->weight, 0);
	jsonw_kv_u64(w, "incidents", h->incidents);
	jsonw_kv_u64(w, "kinds", h->n_kinds);
	jsonw_kv_u64(w, "sensors", h->evidence.n);
	jsonw_kv_double(w, "summary", h->summary_score, 2);
	jsonw_obj_close(w);
	rows_json_kv_time(w, "first_seen", h->first_ns);
	rows_json_kv_time(w, "last_seen", h->last_ns);
	jsonw_kv_u64(w, "alerts", h->alerts);
	jsonw_kv_u64(w, "incidents", h->incidents);
	names_json(w, "sensors", &h->sensors);
	names_json(w, "accounts", &h->accounts);
	kinds_json(w, h->kinds, h->n_kinds);
	summary_json(w, h);
	jsonw_obj_close(w);
}

void report_json_account(struct jsonw *w, const struct agg_account *a, unsigned int rank)
{
	jsonw_obj_open(w);
	jsonw_kv_u64(w, "rank", rank);
	jsonw_kv_cstr(w, "account", a->account);
	jsonw_kv_double(w, "score", a->score, 2);
	rows_json_kv_time(w, "first_seen", a->first_ns);
	rows_json_kv_time(w, "last_seen", a->last_ns);
	jsonw_kv_u64(w, "alerts", a->alerts);
	jsonw_kv_u64(w, "incidents", a->incidents);
	names_json(w, "hosts", &a->hosts);
	names_json(w, "sensors", &a->sensors);
	kinds_json(w, a->kinds, a->n_kinds);
	jsonw_obj_close(w);
}

void report_json(struct jsonw *w, const struct agg_result *r, const struct report_opts *o)
{
	jsonw_obj_open(w);
	rows_json_kv_time(w, "generated_at", r->generated_ns);
	jsonw_kv_double(w, "min_score", o ? o->min_score : 0, 2);
	jsonw_kv_u64(w, "hosts_seen", r->hosts_seen);
	jsonw_kv_cstr(w, "score_formula", REPORT_FORMULA);
	jsonw_key(w, "hosts");
	jsonw_arr_open(w);
	for (size_t i = 0; i < r->n_hosts; i++)
		report_json_host(w, &r->hosts[i], (unsigned int)i + 1);
	jsonw_arr_close(w);
	jsonw_key(w, "accounts");
	jsonw_arr_open(w);
	for (size_t i = 0; i < r->n_accounts; i++)
		report_json_account(w, &r->accounts[i], (unsigned int)i + 1);
	jsonw_arr_close(w);
	jsonw_obj_close(w);
}

/* ---- table ---- */

static void join_names(const struct agg_names *n, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < n->n && i < AGG_MAX_NAMES && len + 1 < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? "," : "", n->name[i]);
	if (n->n > AGG_MAX_NAMES && len + 8 < cap)
		snprintf(buf + len, cap - len, ",+%u", n->n - AGG_MAX_NAMES);
}

static void join_kinds(const struct agg_kind *k, unsigned int n, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < n && len + 1 < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? "," : "", k[i].kind);
	if (!n)
		snprintf(buf, cap, "(summaries)");
}

static void table_kinds(FILE *f, const struct agg_kind *k, unsigned int n)
{
	char first[40], last[40];

	for (unsigned int i = 0; i < n; i++, k++) {
		rows_json_time(k->first_ns, first, sizeof(first), 0);
		rows_json_time(k->last_ns, last, sizeof(last), 0);
		fprintf(f, "     %-20s %-8s x%-4llu %s .. %s  [%s]\n", k->kind, k->severity,
			(unsigned long long)k->incidents, first, last, k->sensor ? k->sensor : "");
		if (k->message && k->message[0])
			fprintf(f, "       %.300s\n", k->message);
		if (k->evidence_text && k->evidence_text[0])
			fprintf(f, "       evidence: %.600s\n", k->evidence_text);
	}
}

static void table_summary(FILE *f, const struct agg_host *h)
{
	const uint64_t *c = h->c;

	if (!h->has_summary)
		return;
	fprintf(f,
		"     summary: %s%s%llu sessions, %llu messages, %llu recipients (%llu rejected),"
		" %llu AUTH failures, %llu servers, %llu blocklist replies, %llu signature hits,"
		" %llu bounces [E %.2f]\n",
		h->home ? "home, " : "", h->mail_server ? "mail server, " : "",
		(unsigned long long)c[STORE_SUM_sessions],
		(unsigned long long)c[STORE_SUM_messages],
		(unsigned long long)c[STORE_SUM_recipients],
		(unsigned long long)c[STORE_SUM_rcpt_rejected],
		(unsigned long long)c[STORE_SUM_auth_failure],
		(unsigned long long)c[STORE_SUM_distinct_servers],
		(unsigned long long)c[STORE_SUM_blocklist_replies],
		(unsigned long long)c[STORE_SUM_signature_hits],
		(unsigned long long)c[STORE_SUM_bounces_received], h->summary_score);
}

static void table_accounts(FILE *f, const struct agg_result *r)
{
	char kinds[256], hosts[512], last[40];

	if (!r->n_accounts)
		return;
	fprintf(f, "\naccounts\n  %3s  %-32s %7s  %-30s %-24s %s\n", "#", "account", "score",
		"kinds", "hosts", "last seen");
	for (size_t i = 0; i < r->n_accounts; i++) {
		const struct agg_account *a = &r->accounts[i];

		join_kinds(a->kinds, a->n_kinds, kinds, sizeof(kinds));
		join_names(&a->hosts, hosts, sizeof(hosts));
		rows_json_time(a->last_ns, last, sizeof(last), 0);
		fprintf(f, "  %3zu  %-32.128s %7.2f  %-30s %-24s %s\n", i + 1, a->account, a->score,
			kinds, hosts, last);
	}
}

void report_table(FILE *f, const struct agg_result *r, const struct report_opts *o)
{
	char gen[40], kinds[256], sensors[512], first[40], last[40];

	rows_json_time(r->generated_ns, gen, sizeof(gen), 0);
	fprintf(f, "relaywatch relay report, %s: %zu hosts ranked of %zu seen (min score %.2f)\n",
		gen, r->n_hosts, r->hosts_seen, o ? o->min_score : 0);
	fprintf(f, "score = %s\n\n", REPORT_FORMULA);
	fprintf(f, "  %3s  %-39s %7s  %-34s %-20s %6s  %-20s  %s\n", "#", "host", "score", "kinds",
		"sensors", "alerts", "first seen", "last seen");
	for (size_t i = 0; i < r->n_hosts; i++) {
		const struct agg_host *h = &r->hosts[i];

		join_kinds(h->kinds, h->n_kinds, kinds, sizeof(kinds));
		join_names(&h->sensors, sensors, sizeof(sensors));
		rows_json_time(h->first_ns, first, sizeof(first), 0);
		rows_json_time(h->last_ns, last, sizeof(last), 0);
		fprintf(f, "  %3zu  %-39s %7.2f  %-34s %-20s %6llu  %-20s  %s\n", i + 1, h->host,
			h->score, kinds, sensors, (unsigned long long)h->alerts, first, last);
		table_kinds(f, h->kinds, h->n_kinds);
		table_summary(f, h);
	}
	table_accounts(f, r);
}

/* ---- entry ---- */

struct json_doc {
	const struct agg_result *r;
	const struct report_opts *o;
};

static void json_doc(struct jsonw *w, void *arg)
{
	const struct json_doc *d = arg;

	report_json(w, d->r, d->o);
}

int report_write(FILE *f, struct store *st, enum report_format fmt, const struct report_opts *o)
{
	struct agg_opts ao = {.since_ns = o->since_ns, .min_score = o->min_score, .top = o->top};
	struct agg_result *r;
	struct json_doc d;
	char *doc;
	size_t len;
	int err;

	err = aggregate_build(st, &ao, &r);
	if (err)
		return err;
	switch (fmt) {
	case REPORT_JSON:
		d = (struct json_doc){r, o};
		doc = rows_json_render(json_doc, &d, &len);
		if (!doc) {
			err = -ENOMEM;
			break;
		}
		fwrite(doc, 1, len, f);
		free(doc);
		break;
	case REPORT_HTML:
		err = report_html(f, st, r, o);
		break;
	default:
		report_table(f, r, o);
		break;
	}
	aggregate_free(r);
	if (!err && (fflush(f) != 0 || ferror(f)))
		err = -EIO;
	return err;
}
