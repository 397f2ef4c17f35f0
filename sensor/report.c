// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/jsonw.h"
#include "sensor/privacy.h"

#define NS	    1000000000ull
#define OBJ_BYTES   (256 * 1024) /* one host or account with all its alerts */
#define MAX_KIND_AL 32		 /* alerts shown per host or account */

struct ranked_host {
	struct detect_host_summary s;
};

struct ranked_account {
	struct detect_account_summary s;
};

struct report {
	FILE *f;
	const struct detect_engine *de;
	const struct privacy *ips; /* privacy.pseudonymize_ips; NULL: addresses as seen */
	struct ranked_host *hosts;
	struct ranked_account *accts;
	size_t n_hosts, n_accts;
	char *buf;
};

/* ---- collecting and ranking ---- */

static int cmp_host(const void *pa, const void *pb)
{
	const struct detect_host_summary *a = &((const struct ranked_host *)pa)->s;
	const struct detect_host_summary *b = &((const struct ranked_host *)pb)->s;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return memcmp(a->addr.b, b->addr.b, 16);
}

static int cmp_account(const void *pa, const void *pb)
{
	const struct detect_account_summary *a = &((const struct ranked_account *)pa)->s;
	const struct detect_account_summary *b = &((const struct ranked_account *)pb)->s;
	int c;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	c = strcmp(a->type, b->type);
	return c ? c : strcmp(a->name, b->name);
}

static int collect(struct report *r)
{
	const struct detect_stats *st = detect_engine_stats(r->de);
	struct detect_account_summary as;
	struct detect_host_summary hs;
	uint32_t cur = 0;

	/* Made at report time, once: never on the event path. */
	r->hosts = calloc(st->hosts + 1, sizeof(*r->hosts));
	r->accts = calloc(st->accounts + 1, sizeof(*r->accts));
	r->buf = malloc(OBJ_BYTES);
	if (!r->hosts || !r->accts || !r->buf)
		return -ENOMEM;
	while (detect_engine_host_next(r->de, &cur, &hs) && r->n_hosts < st->hosts)
		if (hs.kinds || hs.score > 0)
			r->hosts[r->n_hosts++].s = hs;
	cur = 0;
	while (detect_engine_account_next(r->de, &cur, &as) && r->n_accts < st->accounts)
		if (as.kinds)
			r->accts[r->n_accts++].s = as;
	qsort(r->hosts, r->n_hosts, sizeof(*r->hosts), cmp_host);
	qsort(r->accts, r->n_accts, sizeof(*r->accts), cmp_account);
	return 0;
}

/* Alerts about this host (account NULL: any account) or about this account. */
static size_t alerts_of(const struct report *r, const union pkt_addr *host, const char *account,
			const struct alert **out)
{
	const struct alert *a;
	uint32_t cur = 0;
	size_t n = 0;

	while (detect_engine_alert_next(r->de, &cur, &a) && n < MAX_KIND_AL) {
		if (host && memcmp(a->host.b, host->b, 16) != 0)
			continue;
		if (account && strcmp(a->account, account) != 0)
			continue;
		out[n++] = a;
	}
	return n;
}

static const char *addr_str(const struct report *r, uint8_t family, const union pkt_addr *a,
			    char *buf, size_t cap)
{
	return privacy_ip_text(r->ips, family, a, buf, cap);
}

/* Alert text names addresses ("server 192.0.2.7"): pseudonyms when asked. */
static const char *text_ips(const struct report *r, const char *s, size_t cap,
			    char buf[ALERT_MESSAGE_MAX])
{
	_Static_assert(ALERT_MESSAGE_MAX >= ALERT_EXAMPLE_MAX, "buf holds either field");
	privacy_text_ips(r->ips, s, strnlen(s, cap), buf, cap);
	return buf;
}

/* UTC; the table reads "2024-05-01 10:00:00", JSON "2024-05-01T10:00:00Z". */
static const char *time_fmt(uint64_t ns, bool iso, char *buf, size_t cap)
{
	time_t t = (time_t)(ns / NS);
	struct tm tm;
	size_t n;

	if (!ns || !gmtime_r(&t, &tm)) {
		snprintf(buf, cap, "-");
		return buf;
	}
	n = iso ? strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm)
		: strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm);
	if (!n)
		snprintf(buf, cap, "-");
	return buf;
}

static const char *time_str(uint64_t ns, char *buf, size_t cap)
{
	return time_fmt(ns, false, buf, cap);
}

static const char *time_iso(uint64_t ns, char *buf, size_t cap)
{
	return time_fmt(ns, true, buf, cap);
}

static const char *kinds_str(uint32_t kinds, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int k = 0; k < ALERT_KIND_COUNT && n < cap; k++)
		if (kinds & (1u << k))
			n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? "," : "",
					      alert_kind_name((enum alert_kind)k));
	return buf;
}

/* ---- table ---- */

/* Wire text may hold anything: keep control bytes off the terminal. */
static void put_clean(FILE *f, const char *s)
{
	for (size_t i = 0; s[i] && i < 512; i++)
		fputc((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i], f);
}

static void table_alert(const struct report *r, const struct alert *a)
{
	FILE *f = r->f;
	const char *last = "";
	char w[16], t[ALERT_MESSAGE_MAX];

	fprintf(f, "      %s (%s", alert_kind_name(a->kind), alert_severity_name(a->severity));
	if (a->account[0]) {
		fputs(", account ", f);
		put_clean(f, a->account);
	}
	fprintf(f, ", %u update%s)", a->seq, a->seq == 1 ? "" : "s");
	for (uint32_t i = 0; i < a->n_counters; i++) {
		const struct alert_counter *c = &a->counters[i];

		fprintf(f, "%s %s %.6g", i ? "," : ":", c->name, c->value);
		if (c->threshold > 0)
			fprintf(f, " >= %.6g", c->threshold);
		if (c->window_s)
			fprintf(f, " in %s", detect_span_str(c->window_s, w, sizeof(w)));
	}
	fputs("\n        ", f);
	put_clean(f, text_ips(r, a->message, sizeof(a->message), t));
	for (uint32_t i = 0; i < a->n_examples; i++) {
		const struct alert_example *e = &a->examples[i];

		if (strcmp(e->field, last) == 0) {
			fputs(", ", f);
		} else {
			fprintf(f, "\n        %s: ", e->field);
			last = e->field;
		}
		put_clean(f, text_ips(r, e->value, sizeof(e->value), t));
	}
	for (uint32_t i = 0; i < a->n_uids; i++)
		fprintf(f, "%s%s", i ? " " : "\n        flows: ", a->uids[i]);
	fputc('\n', f);
}

static void table_host(const struct report *r, size_t rank, const struct detect_host_summary *h)
{
	const struct alert *al[MAX_KIND_AL];
	char a[64], t1[32], t2[32], k[256];
	size_t n = alerts_of(r, &h->addr, NULL, al);

	fprintf(r->f, "%3zu  %-39s %7.1f %6.1f  %-4s %-6s %s  %s  %s\n", rank,
		addr_str(r, h->family, &h->addr, a, sizeof(a)), h->score, h->sprt,
		h->home ? "home" : "-", h->mail_server ? "server" : "-",
		time_str(h->first_ns, t1, sizeof(t1)), time_str(h->last_ns, t2, sizeof(t2)),
		kinds_str(h->kinds, k, sizeof(k)));
	fprintf(r->f,
		"      sessions %u out / %u in, %u messages, %u recipients (%u rejected), "
		"AUTH %u ok / %u failed\n",
		h->sessions_out, h->sessions_in, h->msgs, h->rcpts, h->rcpts_rejected, h->auth_ok,
		h->auth_fail);
	for (size_t i = 0; i < n; i++)
		table_alert(r, al[i]);
}

static void table_account(const struct report *r, size_t rank,
			  const struct detect_account_summary *s)
{
	const struct alert *al[MAX_KIND_AL];
	char a[64], b[64], k[256];
	size_t n = alerts_of(r, NULL, s->name, al);

	fprintf(r->f, "%3zu  %-7s ", rank, s->type);
	put_clean(r->f, s->name);
	fprintf(r->f, "  score %.1f  server %s  last source %s  %s\n", s->score,
		addr_str(r, s->family, &s->server, a, sizeof(a)),
		addr_str(r, s->family, &s->source, b, sizeof(b)),
		kinds_str(s->kinds, k, sizeof(k)));
	fprintf(r->f, "      %u logins, %u messages, %u recipients, %u bounces received\n",
		s->auth_ok, s->msgs, s->rcpts, s->bounces);
	for (size_t i = 0; i < n; i++)
		if (al[i]->account[0])
			table_alert(r, al[i]);
}

static void write_table(struct report *r, size_t nh, size_t na)
{
	const struct detect_stats *st = detect_engine_stats(r->de);

	fprintf(r->f, "relaywatch relay report: %zu host(s) and %zu account(s) with evidence\n",
		r->n_hosts, r->n_accts);
	if (!detect_engine_home_configured(r->de))
		fprintf(r->f, "home_net is not configured: no host is home, so relaying, "
			      "direct-to-MX, blocklisting and spoofing cannot be judged\n");
	fprintf(r->f,
		"%llu hosts tracked (%llu evicted), %llu accounts (%llu evicted), %llu mail "
		"servers and %llu hosted domains learned, %llu alerts\n\n",
		(unsigned long long)st->hosts, (unsigned long long)st->hosts_evicted,
		(unsigned long long)st->accounts, (unsigned long long)st->accounts_evicted,
		(unsigned long long)st->servers_learned, (unsigned long long)st->domains_learned,
		(unsigned long long)st->alerts);
	fprintf(r->f, "  #  %-39s %7s %6s  %-11s %-19s  %-19s  %s\n", "host", "score", "sprt",
		"role", "first seen (UTC)", "last seen (UTC)", "kinds");
	for (size_t i = 0; i < nh; i++)
		table_host(r, i + 1, &r->hosts[i].s);
	if (!na)
		return;
	fprintf(r->f, "\naccounts\n");
	for (size_t i = 0; i < na; i++)
		table_account(r, i + 1, &r->accts[i].s);
}

/* ---- JSON ---- */

static bool field_seen_before(const struct alert *a, uint32_t i)
{
	for (uint32_t j = 0; j < i; j++)
		if (strcmp(a->examples[j].field, a->examples[i].field) == 0)
			return true;
	return false;
}

/* Counters keyed by name, examples grouped by field: easier to read and to
 * query than the alert line's lists. */
static void json_alert(const struct report *r, struct jsonw *w, const struct alert *a)
{
	char t[32], x[ALERT_MESSAGE_MAX];

	jsonw_obj_open(w);
	jsonw_kv_cstr(w, "kind", alert_kind_name(a->kind));
	jsonw_kv_cstr(w, "severity", alert_severity_name(a->severity));
	if (a->account[0])
		jsonw_kv_cstr(w, "account", a->account);
	jsonw_kv_u64(w, "updates", a->seq);
	jsonw_kv_cstr(w, "first", time_iso(a->first_ns, t, sizeof(t)));
	jsonw_kv_cstr(w, "last", time_iso(a->ts_ns, t, sizeof(t)));
	jsonw_kv_cstr(w, "message", text_ips(r, a->message, sizeof(a->message), x));
	jsonw_key(w, "counts");
	jsonw_obj_open(w);
	for (uint32_t i = 0; i < a->n_counters; i++) {
		jsonw_key(w, a->counters[i].name);
		jsonw_arr_open(w);
		jsonw_double(w, a->counters[i].value, 3);
		jsonw_double(w, a->counters[i].threshold, 3);
		jsonw_u64(w, a->counters[i].window_s);
		jsonw_arr_close(w);
	}
	jsonw_obj_close(w);
	jsonw_key(w, "evidence");
	jsonw_obj_open(w);
	for (uint32_t i = 0; i < a->n_examples; i++) {
		if (field_seen_before(a, i))
			continue;
		jsonw_key(w, a->examples[i].field);
		jsonw_arr_open(w);
		for (uint32_t j = i; j < a->n_examples; j++)
			if (strcmp(a->examples[j].field, a->examples[i].field) == 0)
				jsonw_cstr(w, text_ips(r, a->examples[j].value,
						       sizeof(a->examples[j].value), x));
		jsonw_arr_close(w);
	}
	jsonw_obj_close(w);
	jsonw_key(w, "flows");
	jsonw_arr_open(w);
	for (uint32_t i = 0; i < a->n_uids; i++)
		jsonw_cstr(w, a->uids[i]);
	jsonw_arr_close(w);
	jsonw_obj_close(w);
}

static void json_kinds(struct jsonw *w, uint32_t kinds)
{
	jsonw_key(w, "kinds");
	jsonw_arr_open(w);
	for (int k = 0; k < ALERT_KIND_COUNT; k++)
		if (kinds & (1u << k))
			jsonw_cstr(w, alert_kind_name((enum alert_kind)k));
	jsonw_arr_close(w);
}

static void json_alerts(const struct report *r, struct jsonw *w, const struct alert *const *al,
			size_t n, bool acct)
{
	jsonw_key(w, "alerts");
	jsonw_arr_open(w);
	for (size_t i = 0; i < n; i++)
		if (!acct || al[i]->account[0])
			json_alert(r, w, al[i]);
	jsonw_arr_close(w);
}

static void json_host(const struct report *r, struct jsonw *w, size_t rank,
		      const struct detect_host_summary *h)
{
	const struct alert *al[MAX_KIND_AL];
	size_t n = alerts_of(r, &h->addr, NULL, al);
	char a[64], t[32];

	jsonw_obj_open(w);
	jsonw_kv_u64(w, "rank", rank);
	jsonw_kv_cstr(w, "host", addr_str(r, h->family, &h->addr, a, sizeof(a)));
	jsonw_kv_double(w, "score", h->score, 2);
	jsonw_kv_double(w, "sprt", h->sprt, 2);
	jsonw_kv_bool(w, "home", h->home);
	jsonw_kv_bool(w, "mail_server", h->mail_server);
	jsonw_kv_cstr(w, "first_seen", time_iso(h->first_ns, t, sizeof(t)));
	jsonw_kv_cstr(w, "last_seen", time_iso(h->last_ns, t, sizeof(t)));
	json_kinds(w, h->kinds);
	jsonw_key(w, "totals");
	jsonw_obj_open(w);
	jsonw_kv_u64(w, "sessions_out", h->sessions_out);
	jsonw_kv_u64(w, "sessions_in", h->sessions_in);
	jsonw_kv_u64(w, "messages", h->msgs);
	jsonw_kv_u64(w, "rcpts", h->rcpts);
	jsonw_kv_u64(w, "rcpts_rejected", h->rcpts_rejected);
	jsonw_kv_u64(w, "auth_ok", h->auth_ok);
	jsonw_kv_u64(w, "auth_failed", h->auth_fail);
	jsonw_obj_close(w);
	json_alerts(r, w, al, n, false);
	jsonw_obj_close(w);
}

static void json_account(const struct report *r, struct jsonw *w, size_t rank,
			 const struct detect_account_summary *s)
{
	const struct alert *al[MAX_KIND_AL];
	size_t n = alerts_of(r, NULL, s->name, al);
	char a[64], t[32];

	jsonw_obj_open(w);
	jsonw_kv_u64(w, "rank", rank);
	jsonw_kv_cstr(w, "account", s->name);
	jsonw_kv_cstr(w, "type", s->type);
	jsonw_kv_double(w, "score", s->score, 2);
	jsonw_kv_cstr(w, "server", addr_str(r, s->family, &s->server, a, sizeof(a)));
	jsonw_kv_cstr(w, "last_source", addr_str(r, s->family, &s->source, a, sizeof(a)));
	jsonw_kv_cstr(w, "first_seen", time_iso(s->first_ns, t, sizeof(t)));
	jsonw_kv_cstr(w, "last_seen", time_iso(s->last_ns, t, sizeof(t)));
	json_kinds(w, s->kinds);
	jsonw_key(w, "totals");
	jsonw_obj_open(w);
	jsonw_kv_u64(w, "logins", s->auth_ok);
	jsonw_kv_u64(w, "messages", s->msgs);
	jsonw_kv_u64(w, "rcpts", s->rcpts);
	jsonw_kv_u64(w, "bounces", s->bounces);
	jsonw_obj_close(w);
	json_alerts(r, w, al, n, true);
	jsonw_obj_close(w);
}

/* One object of the document through the bounded buffer. */
static int json_piece(const struct report *r, bool comma, const struct jsonw *w)
{
	if (w->overflow)
		return -ENOSPC;
	if (comma)
		fputc(',', r->f);
	fwrite(w->buf, 1, w->len, r->f);
	return 0;
}

static void json_head(const struct report *r, struct jsonw *w)
{
	const struct detect_stats *st = detect_engine_stats(r->de);

	jsonw_init(w, r->buf, OBJ_BYTES);
	jsonw_obj_open(w);
	jsonw_kv_bool(w, "home_net_configured", detect_engine_home_configured(r->de));
	jsonw_kv_u64(w, "hosts", st->hosts);
	jsonw_kv_u64(w, "hosts_evicted", st->hosts_evicted);
	jsonw_kv_u64(w, "accounts", st->accounts);
	jsonw_kv_u64(w, "accounts_evicted", st->accounts_evicted);
	jsonw_kv_u64(w, "servers_learned", st->servers_learned);
	jsonw_kv_u64(w, "domains_learned", st->domains_learned);
	jsonw_kv_u64(w, "alerts", st->alerts);
	jsonw_kv_u64(w, "alerts_updated", st->alerts_updated);
	jsonw_obj_close(w);
}

static int write_json(struct report *r, size_t nh, size_t na)
{
	struct jsonw w;
	int err;

	json_head(r, &w);
	fputs("{\"engine\":", r->f);
	err = json_piece(r, false, &w);
	fputs(",\"hosts\":[", r->f);
	for (size_t i = 0; i < nh && !err; i++) {
		jsonw_init(&w, r->buf, OBJ_BYTES);
		json_host(r, &w, i + 1, &r->hosts[i].s);
		err = json_piece(r, i > 0, &w);
	}
	fputs("],\"accounts\":[", r->f);
	for (size_t i = 0; i < na && !err; i++) {
		jsonw_init(&w, r->buf, OBJ_BYTES);
		json_account(r, &w, i + 1, &r->accts[i].s);
		err = json_piece(r, i > 0, &w);
	}
	fputs("]}\n", r->f);
	return err;
}

int report_write(FILE *f, const struct detect_engine *de, enum config_report fmt,
		 unsigned int top_n, const struct privacy *ips)
{
	struct report r = {.f = f, .de = de, .ips = ips};
	size_t nh, na;
	int err;

	if (fmt == CONFIG_REPORT_NONE)
		return 0;
	err = collect(&r);
	if (!err) {
		nh = top_n && top_n < r.n_hosts ? top_n : r.n_hosts;
		na = top_n && top_n < r.n_accts ? top_n : r.n_accts;
		if (fmt == CONFIG_REPORT_JSON)
			err = write_json(&r, nh, na);
		else
			write_table(&r, nh, na);
	}
	if (!err && ferror(f))
		err = -EIO;
	free(r.hosts);
	free(r.accts);
	free(r.buf);
	return err;
}
