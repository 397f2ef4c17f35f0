// SPDX-License-Identifier: BSD-3-Clause
#include "common/prom.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool name_char_ok(char c, bool first, bool colon_ok)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return true;
	if (c == ':' && colon_ok)
		return true;
	return !first && c >= '0' && c <= '9';
}

/* Metric and label names: a bad character becomes '_' rather than a broken scrape. */
static void put_name(struct prom *p, const char *s, bool colon_ok)
{
	for (size_t i = 0; s[i] && i < PROM_NAME_MAX; i++)
		fputc(name_char_ok(s[i], i == 0, colon_ok) ? s[i] : '_', p->f);
}

/* Label values escape \ " and newline; HELP text escapes \ and newline only. */
static void put_escaped(struct prom *p, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", p->f);
		else if (*s == '\n')
			fputs("\\n", p->f);
		else if (*s == '"' && quote)
			fputs("\\\"", p->f);
		else
			fputc(*s, p->f);
	}
}

void prom_init(struct prom *p, FILE *f)
{
	memset(p, 0, sizeof(*p));
	p->f = f;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

void prom_family(struct prom *p, const char *name, enum prom_type type, const char *help)
{
	static const char *const type_names[] = {"counter", "gauge", "histogram"};
	bool add_total = type == PROM_COUNTER && !ends_with(name, "_total");

	snprintf(p->family, sizeof(p->family), "%s%s", name, add_total ? "_total" : "");
	p->type = type;
	fputs("# HELP ", p->f);
	put_name(p, p->family, true);
	fputc(' ', p->f);
	put_escaped(p, help ? help : "", false);
	fputs("\n# TYPE ", p->f);
	put_name(p, p->family, true);
	fprintf(p->f, " %s\n", type_names[type]);
}

void prom_format_value(double v, char *buf, size_t cap)
{
	if (isnan(v)) {
		snprintf(buf, cap, "NaN");
	} else if (isinf(v)) {
		snprintf(buf, cap, v > 0 ? "+Inf" : "-Inf");
	} else if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, cap, "%.0f", v);
	} else {
		/* Shortest text that reads back as the same double. */
		snprintf(buf, cap, "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, cap, "%.17g", v);
	}
}

static void put_labels(struct prom *p, const struct prom_label *labels, unsigned int n,
		       const char *le)
{
	bool any = false;

	if (n == 0 && !le)
		return;
	fputc('{', p->f);
	for (unsigned int i = 0; i < n; i++) {
		if (!labels[i].name || !labels[i].value)
			continue;
		if (any)
			fputc(',', p->f);
		put_name(p, labels[i].name, false);
		fputs("=\"", p->f);
		put_escaped(p, labels[i].value, true);
		fputc('"', p->f);
		any = true;
	}
	if (le)
		fprintf(p->f, "%sle=\"%s\"", any ? "," : "", le);
	fputc('}', p->f);
}

static void put_line(struct prom *p, const char *suffix, const struct prom_label *labels,
		     unsigned int n, const char *le, double v)
{
	char val[64];

	put_name(p, p->family, true);
	fputs(suffix, p->f);
	put_labels(p, labels, n, le);
	prom_format_value(v, val, sizeof(val));
	fprintf(p->f, " %s\n", val);
}

void prom_sample(struct prom *p, const struct prom_label *labels, unsigned int n_labels, double v)
{
	put_line(p, "", labels, n_labels, NULL, v);
}

void prom_hist_write(struct prom *p, const struct prom_label *labels, unsigned int n_labels,
		     const struct prom_hist *h)
{
	uint64_t cum = 0;
	char le[64];

	for (unsigned int i = 0; i <= h->n_bounds; i++) {
		cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
		if (i < h->n_bounds)
			prom_format_value(h->bounds[i], le, sizeof(le));
		else
			snprintf(le, sizeof(le), "+Inf");
		put_line(p, "_bucket", labels, n_labels, le, (double)cum);
	}
	put_line(p, "_sum", labels, n_labels, NULL,
		 (double)atomic_load_explicit(&h->sum_nano, memory_order_relaxed) / 1e9);
	put_line(p, "_count", labels, n_labels, NULL, (double)cum);
}

void prom_counter(struct prom *p, const char *name, const char *help, uint64_t v)
{
	prom_family(p, name, PROM_COUNTER, help);
	prom_sample(p, NULL, 0, (double)v);
}

void prom_gauge(struct prom *p, const char *name, const char *help, double v)
{
	prom_family(p, name, PROM_GAUGE, help);
	prom_sample(p, NULL, 0, v);
}

int prom_finish(struct prom *p)
{
	if (fflush(p->f) != 0 || ferror(p->f))
		p->err = -EIO;
	return p->err;
}

void prom_hist_init(struct prom_hist *h, const double *bounds, unsigned int n_bounds)
{
	memset(h, 0, sizeof(*h));
	h->bounds = bounds;
	h->n_bounds = n_bounds < PROM_HIST_BUCKETS ? n_bounds : PROM_HIST_BUCKETS;
}

void prom_hist_observe(struct prom_hist *h, double v)
{
	unsigned int i = 0;

	while (i < h->n_bounds && v > h->bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
	if (v > 0 && v < 1e9)
		atomic_fetch_add_explicit(&h->sum_nano, (uint64_t)(v * 1e9), memory_order_relaxed);
}
