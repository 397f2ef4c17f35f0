// SPDX-License-Identifier: BSD-3-Clause
/*
 * The HTML relay report: one page, nothing fetched. A Content-Security-Policy
 * of default-src 'none' makes that a promise the browser keeps; styles and
 * the small filter script are inline; each host's timeline is an inline SVG
 * drawn here (alerts as marks on one lane per kind, coloured by severity; the
 * sensors' message counters as lines), so the page works without script.
 * Every text from the store is HTML-escaped.
 */
#include "collector/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/rows_json.h"

#define TL_POINTS 2000 /* alerts and counter samples drawn per host, the latest */
#define TL_SERIES 8    /* sensors drawn per host */
#define TL_W	  960
#define TL_LEFT	  170
#define TL_RIGHT  20
#define TL_LANE	  18
#define TL_PLOT	  90

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static const char *sev_color(const char *sev)
{
	static const char *const names[] = {"critical", "high", "medium", "low"};
	static const char *const colors[] = {"#b71c1c", "#e65100", "#c49000", "#1565c0"};

	for (unsigned int i = 0; i < 4; i++)
		if (strcmp(sev, names[i]) == 0)
			return colors[i];
	return "#607d8b";
}

static const char *const series_colors[TL_SERIES] = {
	"#2e7d32", "#6a1b9a", "#00838f", "#ad1457", "#4e342e", "#283593", "#827717", "#37474f",
};

/* ---- timeline data ---- */

struct tl_alert {
	uint64_t ts;
	unsigned int lane;
	const char *color;
	char title[200];
};

struct tl_sample {
	uint64_t ts;
	unsigned int series;
	uint64_t messages;
};

struct timeline {
	const struct agg_host *h;
	struct tl_alert *alerts;
	size_t n_alerts, at_alerts; /* ring: the latest TL_POINTS */
	struct tl_sample *samples;
	size_t n_samples, at_samples;
	char series[TL_SERIES][64];
	unsigned int n_series;
	uint64_t t0, t1, max_msgs;
};

static void tl_span(struct timeline *t, uint64_t ts)
{
	if (!ts)
		return;
	if (!t->t0 || ts < t->t0)
		t->t0 = ts;
	if (ts > t->t1)
		t->t1 = ts;
}

static int tl_on_alert(const struct store_alert *a, void *arg)
{
	struct timeline *t = arg;
	struct tl_alert *p = &t->alerts[t->at_alerts++ % TL_POINTS];
	unsigned int lane = 0;

	while (lane < t->h->n_kinds && strcmp(t->h->kinds[lane].kind, a->kind) != 0)
		lane++;
	p->ts = a->ts_ns;
	p->lane = lane;
	p->color = sev_color(a->severity);
	snprintf(p->title, sizeof(p->title), "%s %s from %s: %.120s", a->kind, a->severity,
		 a->key.sensor_id, a->message);
	if (t->n_alerts < TL_POINTS)
		t->n_alerts++;
	tl_span(t, a->ts_ns);
	return 0;
}

static unsigned int tl_series(struct timeline *t, const char *sensor)
{
	for (unsigned int i = 0; i < t->n_series; i++)
		if (strcmp(t->series[i], sensor) == 0)
			return i;
	if (t->n_series == TL_SERIES)
		return TL_SERIES;
	snprintf(t->series[t->n_series], sizeof(t->series[0]), "%s", sensor);
	return t->n_series++;
}

static int tl_on_summary(const struct store_summary *s, void *arg)
{
	struct timeline *t = arg;
	unsigned int series = tl_series(t, s->key.sensor_id);
	struct tl_sample *p;

	if (series == TL_SERIES)
		return 0;
	p = &t->samples[t->at_samples++ % TL_POINTS];
	*p = (struct tl_sample){s->ts_ns, series, s->c[STORE_SUM_messages]};
	if (t->n_samples < TL_POINTS)
		t->n_samples++;
	if (p->messages > t->max_msgs)
		t->max_msgs = p->messages;
	tl_span(t, s->ts_ns);
	return 0;
}

/* ---- timeline drawing ---- */

static double tl_x(const struct timeline *t, uint64_t ts)
{
	double span = (double)(t->t1 - t->t0);

	return TL_LEFT + (double)(TL_W - TL_LEFT - TL_RIGHT) * (double)(ts - t->t0) / span;
}

static void tl_axis(FILE *f, const struct timeline *t, int y)
{
	char label[40];

	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n", TL_LEFT, y,
		TL_W - TL_RIGHT, y);
	for (int i = 0; i <= 4; i++) {
		uint64_t ts = t->t0 + (t->t1 - t->t0) / 4 * (uint64_t)i;
		time_t sec = (time_t)(ts / 1000000000ull);
		struct tm tm;

		if (!gmtime_r(&sec, &tm))
			continue;
		strftime(label, sizeof(label), "%m-%d %H:%M:%S", &tm);
		fprintf(f,
			"<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"%s\">%s</text>\n",
			tl_x(t, ts), y + 14,
			i == 0	 ? "start"
			: i == 4 ? "end"
				 : "middle",
			label);
	}
}

static void tl_lanes(FILE *f, const struct timeline *t)
{
	for (unsigned int i = 0; i < t->h->n_kinds; i++) {
		int y = 10 + (int)i * TL_LANE;

		fprintf(f, "<text x=\"4\" y=\"%d\" class=\"lane\">", y + 12);
		esc(f, t->h->kinds[i].kind);
		fprintf(f,
			"</text><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"grid\"/>\n",
			TL_LEFT, y + 8, TL_W - TL_RIGHT, y + 8);
	}
	for (size_t i = 0; i < t->n_alerts; i++) {
		const struct tl_alert *a = &t->alerts[i];

		fprintf(f, "<circle cx=\"%.1f\" cy=\"%d\" r=\"5\" fill=\"%s\"><title>",
			tl_x(t, a->ts), 18 + (int)a->lane * TL_LANE, a->color);
		esc(f, a->title);
		fputs("</title></circle>\n", f);
	}
}

static void tl_counters(FILE *f, const struct timeline *t, int top)
{
	double scale = t->max_msgs ? (double)(TL_PLOT - 10) / (double)t->max_msgs : 0;

	fprintf(f, "<text x=\"4\" y=\"%d\" class=\"lane\">messages (%llu max)</text>\n", top + 14,
		(unsigned long long)t->max_msgs);
	for (unsigned int s = 0; s < t->n_series; s++) {
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
			series_colors[s]);
		for (size_t i = 0; i < t->n_samples; i++) {
			const struct tl_sample *p =
				&t->samples[(t->at_samples - t->n_samples + i) % TL_POINTS];

			if (p->series == s)
				fprintf(f, "%.1f,%.1f ", tl_x(t, p->ts),
					top + TL_PLOT - (double)p->messages * scale);
		}
		fputs("\"><title>", f);
		esc(f, t->series[s]);
		fputs("</title></polyline>\n", f);
	}
}

static void tl_draw(FILE *f, struct timeline *t)
{
	int lanes = (int)(t->h->n_kinds ? t->h->n_kinds : 1) * TL_LANE + 10;
	int height = lanes + (t->n_samples ? TL_PLOT : 0) + 24;

	if (!t->t0)
		return;
	if (t->t1 - t->t0 < 60000000000ull) {
		t->t0 = t->t0 > 30000000000ull ? t->t0 - 30000000000ull : 0;
		t->t1 = t->t0 + 60000000000ull;
	}
	fprintf(f,
		"<svg class=\"timeline\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\""
		" role=\"img\" aria-label=\"timeline\">\n",
		TL_W, height, TL_W, height);
	tl_lanes(f, t);
	if (t->n_samples)
		tl_counters(f, t, lanes);
	tl_axis(f, t, height - 20);
	fputs("</svg>\n", f);
	if (t->n_series) {
		fputs("<p class=\"legend\">", f);
		for (unsigned int s = 0; s < t->n_series; s++) {
			fprintf(f, "<span style=\"color:%s\">&#9644; ", series_colors[s]);
			esc(f, t->series[s]);
			fputs("</span> ", f);
		}
		fputs("</p>\n", f);
	}
}

static int timeline(FILE *f, struct store *st, const struct agg_host *h, uint64_t since_ns)
{
	struct timeline *t = calloc(1, sizeof(*t));
	struct store_filter flt = {.host = h->host, .since_ns = since_ns};
	int err = -ENOMEM;

	if (!t)
		return -ENOMEM;
	t->h = h;
	t->alerts = calloc(TL_POINTS, sizeof(*t->alerts));
	t->samples = calloc(TL_POINTS, sizeof(*t->samples));
	if (!t->alerts || !t->samples)
		goto out;
	err = store_scan_alerts(st, &flt, tl_on_alert, t);
	if (!err)
		err = store_scan_summaries(st, &flt, tl_on_summary, t);
	if (!err) {
		/* The ring is read in time order from its oldest point. */
		if (t->at_alerts > TL_POINTS) {
			struct tl_alert *tmp = malloc(TL_POINTS * sizeof(*tmp));

			if (tmp) {
				for (size_t i = 0; i < TL_POINTS; i++)
					tmp[i] = t->alerts[(t->at_alerts + i) % TL_POINTS];
				free(t->alerts);
				t->alerts = tmp;
			}
		}
		tl_draw(f, t);
	}
out:
	free(t->alerts);
	free(t->samples);
	free(t);
	return err;
}

/* ---- the page ---- */

static const char page_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	"style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>relaywatch relay report</title>\n<style>\n"
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}\n"
	"h1{font-size:1.5em}h2{font-size:1.15em;margin:1.6em 0 .4em}\n"
	"table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:2px 6px;"
	"text-align:left;vertical-align:top}th{background:#f2f2f2}\n"
	"td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
	".sev-critical{color:#b71c1c;font-weight:bold}.sev-high{color:#e65100;font-weight:bold}"
	".sev-medium{color:#8d6e00}.sev-low{color:#1565c0}.sev-info{color:#607d8b}\n"
	"section.host{border-top:2px solid #ddd;margin-top:1em}.muted{color:#666}"
	".ev{font-family:monospace;font-size:12px;white-space:pre-wrap;word-break:break-all}\n"
	"svg.timeline{max-width:100%;height:auto;background:#fafafa;border:1px solid #e0e0e0}\n"
	"svg .lane{font-size:11px;fill:#444}svg .tick{font-size:10px;fill:#666}"
	"svg .axis{stroke:#888}svg .grid{stroke:#e6e6e6}\n"
	".legend{font-size:12px}#filter{padding:3px 6px;width:22em}\n"
	"</style>\n</head>\n<body>\n";

/* Filters the ranking and the host sections as the user types. */
static const char page_script[] =
	"<script>\n"
	"(function () {\n"
	"  var box = document.getElementById('filter');\n"
	"  if (!box) { return; }\n"
	"  box.addEventListener('input', function () {\n"
	"    var q = box.value.trim().toLowerCase();\n"
	"    var items = document.querySelectorAll('[data-host]');\n"
	"    for (var i = 0; i < items.length; i++) {\n"
	"      var t = items[i].getAttribute('data-search') || '';\n"
	"      items[i].style.display = (q === '' || t.indexOf(q) >= 0) ? '' : 'none';\n"
	"    }\n"
	"  });\n"
	"})();\n"
	"</script>\n";

static void search_attr(FILE *f, const struct agg_host *h)
{
	fputs(" data-search=\"", f);
	esc(f, h->host);
	for (unsigned int i = 0; i < h->n_kinds; i++) {
		fputc(' ', f);
		esc(f, h->kinds[i].kind);
	}
	for (unsigned int i = 0; i < h->accounts.n && i < AGG_MAX_NAMES; i++) {
		fputc(' ', f);
		esc(f, h->accounts.name[i]);
	}
	fputc('"', f);
}

static void names_html(FILE *f, const struct agg_names *n)
{
	for (unsigned int i = 0; i < n->n && i < AGG_MAX_NAMES; i++) {
		if (i)
			fputs(", ", f);
		esc(f, n->name[i]);
	}
	if (n->n > AGG_MAX_NAMES)
		fprintf(f, " (+%u)", n->n - AGG_MAX_NAMES);
}

static void overview(FILE *f, const struct agg_result *r)
{
	char last[40];

	fputs("<table id=\"ranking\">\n<thead><tr><th>#</th><th>host</th><th>score</th>"
	      "<th>kinds</th><th>sensors</th><th>alerts</th><th>last seen (UTC)</th></tr></thead>"
	      "\n<tbody>\n",
	      f);
	for (size_t i = 0; i < r->n_hosts; i++) {
		const struct agg_host *h = &r->hosts[i];

		fprintf(f, "<tr data-host=\"%zu\"", i + 1);
		search_attr(f, h);
		fprintf(f, "><td class=\"num\">%zu</td><td><a href=\"#h%zu\">", i + 1, i + 1);
		esc(f, h->host);
		fprintf(f, "</a></td><td class=\"num\">%.2f</td><td>", h->score);
		for (unsigned int k = 0; k < h->n_kinds; k++) {
			fprintf(f, "%s<span class=\"sev-%s\">", k ? ", " : "",
				h->kinds[k].severity[0] ? h->kinds[k].severity : "info");
			esc(f, h->kinds[k].kind);
			fputs("</span>", f);
		}
		if (!h->n_kinds)
			fputs("<span class=\"muted\">summaries only</span>", f);
		fputs("</td><td>", f);
		names_html(f, h->evidence.n ? &h->evidence : &h->sensors);
		rows_json_time(h->last_ns, last, sizeof(last), 0);
		fprintf(f, "</td><td class=\"num\">%llu</td><td>%s</td></tr>\n",
			(unsigned long long)h->alerts, last);
	}
	fputs("</tbody>\n</table>\n", f);
}

static void kinds_html(FILE *f, const struct agg_host *h)
{
	char first[40], last[40];

	if (!h->n_kinds)
		return;
	fputs("<table>\n<thead><tr><th>kind</th><th>severity</th><th>incidents</th><th>alerts"
	      "</th><th>first seen</th><th>last seen</th><th>latest evidence</th></tr></thead>\n"
	      "<tbody>\n",
	      f);
	for (unsigned int i = 0; i < h->n_kinds; i++) {
		const struct agg_kind *k = &h->kinds[i];

		rows_json_time(k->first_ns, first, sizeof(first), 0);
		rows_json_time(k->last_ns, last, sizeof(last), 0);
		fputs("<tr><td>", f);
		esc(f, k->kind);
		fprintf(f, "</td><td class=\"sev-%s\">", k->severity[0] ? k->severity : "info");
		esc(f, k->severity);
		fprintf(f,
			"</td><td class=\"num\">%llu</td><td class=\"num\">%llu</td><td>%s</td>"
			"<td>%s</td><td>",
			(unsigned long long)k->incidents, (unsigned long long)k->alerts, first,
			last);
		esc(f, k->message);
		fputs("<div class=\"ev\">", f);
		esc(f, k->evidence_text);
		fputs("</div><span class=\"muted\">from ", f);
		esc(f, k->sensor);
		fputs("</span></td></tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
}

static void summary_html(FILE *f, const struct agg_host *h)
{
	if (!h->has_summary)
		return;
	fprintf(f, "<p>Host summaries (%llu, newest per sensor run): %s%s",
		(unsigned long long)h->summaries, h->home ? "home network" : "outside",
		h->mail_server ? ", mail server" : "");
	for (int i = 0; i < STORE_SUM_COUNT; i++)
		fprintf(f, "%s %s %llu", i ? "," : ";", store_sum_names[i],
			(unsigned long long)h->c[i]);
	fprintf(f, ". Summary evidence %.2f.</p>\n", h->summary_score);
}

static int host_section(FILE *f, struct store *st, const struct agg_host *h, size_t rank,
			const struct report_opts *o)
{
	char first[40], last[40];

	rows_json_time(h->first_ns, first, sizeof(first), 0);
	rows_json_time(h->last_ns, last, sizeof(last), 0);
	fprintf(f, "<section class=\"host\" id=\"h%zu\" data-host=\"%zu\"", rank, rank);
	search_attr(f, h);
	fprintf(f, ">\n<h2>#%zu <span class=\"hostname\">", rank);
	esc(f, h->host);
	fprintf(f,
		"</span> &mdash; score %.2f</h2>\n<p>severity weight %.0f, incidents %llu, "
		"kinds %u, sensors %u, summary evidence %.2f; seen %s .. %s. Sensors: ",
		h->score, h->weight, (unsigned long long)h->incidents, h->n_kinds, h->evidence.n,
		h->summary_score, first, last);
	names_html(f, &h->sensors);
	if (h->accounts.n) {
		fputs(". Accounts: ", f);
		names_html(f, &h->accounts);
	}
	fputs(".</p>\n", f);
	if (rank <= (o->charts ? o->charts : 50)) {
		int err = timeline(f, st, h, o->since_ns);

		if (err)
			return err;
	}
	kinds_html(f, h);
	summary_html(f, h);
	fputs("</section>\n", f);
	return 0;
}

static void accounts_html(FILE *f, const struct agg_result *r)
{
	char last[40];

	if (!r->n_accounts)
		return;
	fputs("<h2>Accounts</h2>\n<table id=\"accounts\">\n<thead><tr><th>#</th><th>account</th>"
	      "<th>score</th><th>kinds</th><th>hosts</th><th>sensors</th><th>last seen</th></tr>"
	      "</thead>\n<tbody>\n",
	      f);
	for (size_t i = 0; i < r->n_accounts; i++) {
		const struct agg_account *a = &r->accounts[i];

		fprintf(f, "<tr><td class=\"num\">%zu</td><td>", i + 1);
		esc(f, a->account);
		fprintf(f, "</td><td class=\"num\">%.2f</td><td>", a->score);
		for (unsigned int k = 0; k < a->n_kinds; k++) {
			fputs(k ? ", " : "", f);
			esc(f, a->kinds[k].kind);
		}
		fputs("</td><td>", f);
		names_html(f, &a->hosts);
		fputs("</td><td>", f);
		names_html(f, &a->sensors);
		rows_json_time(a->last_ns, last, sizeof(last), 0);
		fprintf(f, "</td><td>%s</td></tr>\n", last);
	}
	fputs("</tbody>\n</table>\n", f);
}

int report_html(FILE *f, struct store *st, const struct agg_result *r, const struct report_opts *o)
{
	char gen[40];
	int err = 0;

	rows_json_time(r->generated_ns, gen, sizeof(gen), 0);
	fputs(page_head, f);
	fprintf(f,
		"<h1>Hosts relaying spam</h1>\n<p class=\"muted\">relaywatch-collector %s, "
		"generated %s: %zu hosts ranked of %zu seen, minimum score %.2f.<br>score = ",
		RELAYWATCH_VERSION, gen, r->n_hosts, r->hosts_seen, o->min_score);
	esc(f, REPORT_FORMULA);
	fputs(".</p>\n<p><input id=\"filter\" type=\"search\" placeholder=\"filter: host, kind, "
	      "account\" aria-label=\"filter\"></p>\n",
	      f);
	if (!r->n_hosts)
		fputs("<p id=\"empty\">No host reached the minimum score.</p>\n", f);
	else
		overview(f, r);
	for (size_t i = 0; i < r->n_hosts && !err; i++)
		err = host_section(f, st, &r->hosts[i], i + 1, o);
	accounts_html(f, r);
	fputs(page_script, f);
	fputs("</body>\n</html>\n", f);
	return err;
}
