// SPDX-License-Identifier: BSD-3-Clause
#include "collector/aggregate.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"

/* ---- a string -> index map (open addressing, grows at 1/2 full) ---- */

struct strmap {
	uint32_t *slot; /* index + 1, 0 = empty */
	size_t cap;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Finds key; names(i) gives the key of index i. Returns the index or -1 and the slot. */
static long strmap_find(const struct strmap *m, const char *key,
			const char *(*name)(void *, size_t), void *arg, size_t *pos)
{
	size_t i = hash_str(key) & (m->cap - 1);

	for (size_t probe = 0; probe < m->cap; probe++, i = (i + 1) & (m->cap - 1)) {
		if (!m->slot[i]) {
			*pos = i;
			return -1;
		}
		if (strcmp(name(arg, m->slot[i] - 1), key) == 0)
			return (long)m->slot[i] - 1;
	}
	*pos = m->cap;
	return -1;
}

static int strmap_grow(struct strmap *m, size_t n, const char *(*name)(void *, size_t), void *arg)
{
	struct strmap nm = {.cap = m->cap ? m->cap * 2 : 1024};

	if (n * 2 < m->cap)
		return 0;
	nm.slot = calloc(nm.cap, sizeof(*nm.slot));
	if (!nm.slot)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		size_t pos;

		if (m->slot[i] && strmap_find(&nm, name(arg, m->slot[i] - 1), name, arg, &pos) < 0)
			nm.slot[pos] = m->slot[i];
	}
	free(m->slot);
	*m = nm;
	return 0;
}

/* ---- building ---- */

/* A growable array of records, each keyed by the string at key_off. */
struct table {
	void **items; /* where the array pointer lives (&r->hosts) */
	size_t *n;
	size_t cap;
	size_t size, key_off, key_cap;
	struct strmap map;
};

static const char *table_key(void *arg, size_t i)
{
	const struct table *t = arg;

	return (const char *)*t->items + i * t->size + t->key_off;
}

/* The record for key, zeroed and keyed when new; NULL when out of memory. */
static void *table_get(struct table *t, const char *key)
{
	size_t pos;
	char *rec;
	long i;

	if (strmap_grow(&t->map, *t->n + 1, table_key, t))
		return NULL;
	i = strmap_find(&t->map, key, table_key, t, &pos);
	if (i >= 0)
		return (char *)*t->items + (size_t)i * t->size;
	if (*t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		void *p = realloc(*t->items, cap * t->size);

		if (!p)
			return NULL;
		*t->items = p;
		t->cap = cap;
	}
	rec = (char *)*t->items + *t->n * t->size;
	memset(rec, 0, t->size);
	snprintf(rec + t->key_off, t->key_cap, "%s", key);
	t->map.slot[pos] = (uint32_t)++ * t->n;
	return rec;
}

struct build {
	struct agg_result *r;
	struct table hosts, accounts;
	const struct agg_opts *o;
};

static struct agg_host *host_get(struct build *b, const char *host)
{
	return table_get(&b->hosts, host);
}

static struct agg_account *account_get(struct build *b, const char *account)
{
	return table_get(&b->accounts, account);
}

/* Adds name once; 1 when new, 0 when known, -ENOMEM. */
static int names_add(struct agg_names *n, const char *name)
{
	unsigned int kept = n->n < AGG_MAX_NAMES ? n->n : AGG_MAX_NAMES;

	for (unsigned int i = 0; i < kept; i++)
		if (strcmp(n->name[i], name) == 0)
			return 0;
	if (n->n < AGG_MAX_NAMES) {
		n->name[n->n] = strdup(name);
		if (!n->name[n->n])
			return -ENOMEM;
	}
	n->n++;
	return 1;
}

static void names_free(struct agg_names *n)
{
	for (unsigned int i = 0; i < n->n && i < AGG_MAX_NAMES; i++)
		free(n->name[i]);
	memset(n, 0, sizeof(*n));
}

double aggregate_severity_weight(const char *severity)
{
	static const char *const names[] = {"info", "low", "medium", "high", "critical"};
	static const double weight[] = {1, 2, 4, 8, 16};

	for (unsigned int i = 0; i < 5; i++)
		if (strcmp(severity, names[i]) == 0)
			return weight[i];
	return 0;
}

static int replace(char **dst, const char *src)
{
	char *s = strdup(src);

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

/* The kind entry of a host or account; kinds is grown on first use. */
static struct agg_kind *kind_get(struct agg_kind **kinds, unsigned int *n, const char *kind)
{
	for (unsigned int i = 0; i < *n; i++)
		if (strcmp((*kinds)[i].kind, kind) == 0)
			return &(*kinds)[i];
	if (!*kinds) {
		*kinds = calloc(AGG_MAX_KINDS, sizeof(**kinds));
		if (!*kinds)
			return NULL;
	}
	if (*n == AGG_MAX_KINDS)
		return &(*kinds)[AGG_MAX_KINDS - 1]; /* more kinds than exist: lump */
	snprintf((*kinds)[*n].kind, sizeof((*kinds)[0].kind), "%s", kind);
	return &(*kinds)[(*n)++];
}

static int kind_add(struct agg_kind *k, const struct store_alert *a)
{
	double w = aggregate_severity_weight(a->severity);
	int err = 0;

	if (w > k->weight || !k->severity[0]) {
		k->weight = w;
		snprintf(k->severity, sizeof(k->severity), "%s", a->severity);
	}
	k->alerts++;
	k->incidents += a->alert_seq == 0;
	if (!k->first_ns || (a->first_ns && a->first_ns < k->first_ns))
		k->first_ns = a->first_ns ? a->first_ns : a->ts_ns;
	if (a->ts_ns >= k->last_ns) {
		k->last_ns = a->ts_ns;
		err = replace(&k->message, a->message);
		err = err ? err : replace(&k->evidence_json, a->evidence_json);
		err = err ? err : replace(&k->evidence_text, a->evidence_text);
		err = err ? err : replace(&k->sensor, a->key.sensor_id);
	}
	return err;
}

static void span(uint64_t *first, uint64_t *last, uint64_t f, uint64_t l)
{
	if (f && (!*first || f < *first))
		*first = f;
	if (l > *last)
		*last = l;
}

static int account_add(struct build *b, const struct store_alert *a)
{
	struct agg_account *acc = account_get(b, a->account);
	struct agg_kind *k;
	int err;

	if (!acc)
		return -ENOMEM;
	k = kind_get(&acc->kinds, &acc->n_kinds, a->kind);
	if (!k)
		return -ENOMEM;
	err = kind_add(k, a);
	acc->alerts++;
	acc->incidents += a->alert_seq == 0;
	span(&acc->first_ns, &acc->last_ns, a->first_ns ? a->first_ns : a->ts_ns, a->ts_ns);
	if (!err && names_add(&acc->hosts, a->host) < 0)
		err = -ENOMEM;
	if (!err && names_add(&acc->sensors, a->key.sensor_id) < 0)
		err = -ENOMEM;
	return err;
}

static int on_alert(const struct store_alert *a, void *arg)
{
	struct build *b = arg;
	struct agg_host *h = host_get(b, a->host);
	struct agg_kind *k;
	int err;

	if (!h)
		return -ENOMEM;
	k = kind_get(&h->kinds, &h->n_kinds, a->kind);
	if (!k)
		return -ENOMEM;
	err = kind_add(k, a);
	h->alerts++;
	h->incidents += a->alert_seq == 0;
	span(&h->first_ns, &h->last_ns, a->first_ns ? a->first_ns : a->ts_ns, a->ts_ns);
	if (!err && (names_add(&h->sensors, a->key.sensor_id) < 0 ||
		     names_add(&h->evidence, a->key.sensor_id) < 0))
		err = -ENOMEM;
	if (!err && a->account[0]) {
		if (names_add(&h->accounts, a->account) < 0)
			err = -ENOMEM;
		else
			err = account_add(b, a);
	}
	return err;
}

static bool summary_has_evidence(const struct store_summary *s)
{
	const uint64_t *c = s->c;

	return c[STORE_SUM_blocklist_replies] || c[STORE_SUM_signature_hits] ||
	       c[STORE_SUM_auth_failure] || c[STORE_SUM_bounces_received] ||
	       c[STORE_SUM_rcpt_rejected] ||
	       (s->home && !s->mail_server && c[STORE_SUM_distinct_servers] > 2);
}

/* The newest summary of each (sensor, run, host, first_seen): running totals. */
static int on_summary(const struct store_summary *s, void *arg)
{
	struct build *b = arg;
	struct agg_host *h = host_get(b, s->host);

	if (!h)
		return -ENOMEM;
	for (int i = 0; i < STORE_SUM_COUNT; i++) {
		if (i == STORE_SUM_distinct_servers || i == STORE_SUM_distinct_rcpt_domains)
			h->c[i] = s->c[i] > h->c[i] ? s->c[i] : h->c[i];
		else
			h->c[i] += s->c[i];
	}
	h->has_summary = true;
	h->home |= s->home;
	h->mail_server |= s->mail_server;
	if (s->score > h->sensor_score)
		h->sensor_score = s->score;
	h->summaries++;
	span(&h->first_ns, &h->last_ns, s->first_seen_ns, s->last_seen_ns);
	if (names_add(&h->sensors, s->key.sensor_id) < 0)
		return -ENOMEM;
	if (summary_has_evidence(s) && names_add(&h->evidence, s->key.sensor_id) < 0)
		return -ENOMEM;
	return 0;
}

/* ---- scoring ---- */

static double lg(double x)
{
	return log2(1.0 + x);
}

double aggregate_summary_score(const struct agg_host *h)
{
	const uint64_t *c = h->c;
	double e = 2 * lg((double)c[STORE_SUM_blocklist_replies]) +
		   2 * lg((double)c[STORE_SUM_signature_hits]) +
		   lg((double)c[STORE_SUM_auth_failure]) +
		   lg((double)c[STORE_SUM_bounces_received]) / 2;

	if (c[STORE_SUM_recipients]) {
		double share = (double)c[STORE_SUM_rcpt_rejected] / (double)c[STORE_SUM_recipients];
		double volume = (double)c[STORE_SUM_recipients] / 20.0;

		e += 4 * (share > 1 ? 1 : share) * (volume > 1 ? 1 : volume);
	}
	if (h->home && !h->mail_server && c[STORE_SUM_distinct_servers] > 1)
		e += lg((double)c[STORE_SUM_distinct_servers]) - 1;
	return e > AGG_SUMMARY_CAP ? AGG_SUMMARY_CAP : e;
}

static double round2(double v)
{
	return round(v * 100.0) / 100.0;
}

double aggregate_host_score(const struct agg_host *h)
{
	double s = h->weight + 2 * lg((double)h->incidents) + h->summary_score;

	if (h->n_kinds > 1)
		s += 2.0 * (h->n_kinds - 1);
	if (h->evidence.n > 1)
		s += 4.0 * (h->evidence.n - 1);
	return round2(s);
}

double aggregate_account_score(const struct agg_account *a)
{
	double s = a->weight + 2 * lg((double)a->incidents);

	if (a->n_kinds > 1)
		s += 2.0 * (a->n_kinds - 1);
	if (a->sensors.n > 1)
		s += 4.0 * (a->sensors.n - 1);
	if (a->hosts.n > 1)
		s += 2 * log2((double)a->hosts.n);
	return round2(s);
}

static void finish_kinds(struct agg_kind *kinds, unsigned int n, double *weight,
			 uint64_t *incidents)
{
	uint64_t inc = 0;

	*weight = 0;
	for (unsigned int i = 0; i < n; i++) {
		/* An alert seen only as updates (its first frame older than the
		 * store, or lost) is still one incident. */
		if (!kinds[i].incidents)
			kinds[i].incidents = 1;
		inc += kinds[i].incidents;
		if (kinds[i].weight > *weight)
			*weight = kinds[i].weight;
	}
	*incidents = inc;
}

static int cmp_kind(const void *a, const void *b)
{
	const struct agg_kind *x = a, *y = b;

	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	if (x->incidents != y->incidents)
		return x->incidents > y->incidents ? -1 : 1;
	return strcmp(x->kind, y->kind);
}

static int cmp_host(const void *a, const void *b)
{
	const struct agg_host *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->last_ns != y->last_ns)
		return x->last_ns > y->last_ns ? -1 : 1;
	return strcmp(x->host, y->host);
}

static int cmp_account(const void *a, const void *b)
{
	const struct agg_account *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->last_ns != y->last_ns)
		return x->last_ns > y->last_ns ? -1 : 1;
	return strcmp(x->account, y->account);
}

static void kinds_free(struct agg_kind *kinds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		free(kinds[i].message);
		free(kinds[i].evidence_json);
		free(kinds[i].evidence_text);
		free(kinds[i].sensor);
	}
	free(kinds);
}

static void host_fini(struct agg_host *h)
{
	kinds_free(h->kinds, h->n_kinds);
	names_free(&h->sensors);
	names_free(&h->evidence);
	names_free(&h->accounts);
}

static void account_fini(struct agg_account *a)
{
	kinds_free(a->kinds, a->n_kinds);
	names_free(&a->hosts);
	names_free(&a->sensors);
}

static void rank_hosts(struct agg_result *r, const struct agg_opts *o)
{
	size_t kept = 0;

	for (size_t i = 0; i < r->n_hosts; i++) {
		struct agg_host *h = &r->hosts[i];

		finish_kinds(h->kinds, h->n_kinds, &h->weight, &h->incidents);
		if (h->kinds)
			qsort(h->kinds, h->n_kinds, sizeof(*h->kinds), cmp_kind);
		h->summary_score = round2(aggregate_summary_score(h));
		h->score = aggregate_host_score(h);
	}
	if (r->n_hosts) /* qsort of NULL, 0 is undefined (UBSan) */
		qsort(r->hosts, r->n_hosts, sizeof(*r->hosts), cmp_host);
	r->hosts_seen = r->n_hosts;
	for (size_t i = 0; i < r->n_hosts; i++) {
		bool keep = r->hosts[i].score >= o->min_score && (!o->top || kept < o->top);

		if (keep)
			r->hosts[kept++] = r->hosts[i];
		else
			host_fini(&r->hosts[i]);
	}
	r->n_hosts = kept;
}

static void rank_accounts(struct agg_result *r, const struct agg_opts *o)
{
	size_t kept = 0;

	for (size_t i = 0; i < r->n_accounts; i++) {
		struct agg_account *a = &r->accounts[i];

		finish_kinds(a->kinds, a->n_kinds, &a->weight, &a->incidents);
		if (a->kinds)
			qsort(a->kinds, a->n_kinds, sizeof(*a->kinds), cmp_kind);
		a->score = aggregate_account_score(a);
	}
	if (r->n_accounts)
		qsort(r->accounts, r->n_accounts, sizeof(*r->accounts), cmp_account);
	for (size_t i = 0; i < r->n_accounts; i++) {
		bool keep = r->accounts[i].score >= o->min_score && (!o->top || kept < o->top);

		if (keep)
			r->accounts[kept++] = r->accounts[i];
		else
			account_fini(&r->accounts[i]);
	}
	r->n_accounts = kept;
}

int aggregate_build(struct store *st, const struct agg_opts *o, struct agg_result **out)
{
	static const struct agg_opts none = {0};
	struct build b = {.o = o ? o : &none};
	struct store_filter f;
	int err;

	b.r = calloc(1, sizeof(*b.r));
	if (!b.r)
		return -ENOMEM;
	b.hosts = (struct table){.items = (void **)&b.r->hosts,
				 .n = &b.r->n_hosts,
				 .size = sizeof(struct agg_host),
				 .key_off = offsetof(struct agg_host, host),
				 .key_cap = sizeof(b.r->hosts->host)};
	b.accounts = (struct table){.items = (void **)&b.r->accounts,
				    .n = &b.r->n_accounts,
				    .size = sizeof(struct agg_account),
				    .key_off = offsetof(struct agg_account, account),
				    .key_cap = sizeof(b.r->accounts->account)};
	b.r->generated_ns = clock_real_ns();
	f = (struct store_filter){.host = b.o->host, .since_ns = b.o->since_ns};
	err = store_scan_alerts(st, &f, on_alert, &b);
	if (!err) {
		f.latest_only = true;
		err = store_scan_summaries(st, &f, on_summary, &b);
	}
	free(b.hosts.map.slot);
	free(b.accounts.map.slot);
	if (err) {
		aggregate_free(b.r);
		return err;
	}
	rank_hosts(b.r, b.o);
	rank_accounts(b.r, b.o);
	*out = b.r;
	return 0;
}

void aggregate_free(struct agg_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_hosts; i++)
		host_fini(&r->hosts[i]);
	for (size_t i = 0; i < r->n_accounts; i++)
		account_fini(&r->accounts[i]);
	free(r->hosts);
	free(r->accounts);
	free(r);
}
