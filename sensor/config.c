// SPDX-License-Identifier: BSD-3-Clause
/*
 * The YAML loader and the cross-checks. libyaml's event API is pulled one
 * event at a time against a table of keys: every event carries the line for
 * the message, anchors and aliases are refused before anything could be
 * expanded (a configuration needs no sharing, and a value's line stays the
 * line it is written on), and nesting never goes deeper than the schema,
 * because a value of the wrong shape is an error the moment it starts. A list
 * given in the file is built aside and swapped in whole: it replaces the
 * previous list, and a bad entry leaves the previous one untouched.
 */
#include "sensor/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "sensor/alert.h"
#include "sensor/privacy.h"
#include "sensor/smtp_session.h"

#define CONFIG_FILE_MAX (1u << 20) /* real files are a few KiB; more is the wrong file */
#define CONFIG_KEY_MAX	160	   /* dotted key path in messages */
#define CONFIG_WORD_MAX 64	   /* longest value quoted in a message */
#define CONFIG_SEEN_MAX 32	   /* keys in one map of the schema */
#define CONFIG_TOO_BIG                                                                             \
	"%s: more than 1 MiB; a configuration file is a few KiB (is it the right file?)"

#define KiB    (1ull << 10)
#define MiB    (1ull << 20)
#define GiB    (1ull << 30)
#define TiB    (1ull << 40)
#define HOUR_S 3600u
#define DAY_S  86400u

enum ck_type {
	CK_SECTION,
	CK_DETECTORS,
	CK_BOOL,
	CK_COUNT,
	CK_SIZE,
	CK_DURATION,
	CK_PATH,
	CK_NAME,     /* user, group, sensor id */
	CK_HOSTPORT, /* HOST:PORT */
	CK_LISTEN,   /* HOST:PORT, :PORT or PORT */
	CK_ENUM,
	CK_PORTS,
	CK_NETS,
	CK_DOMAINS,
	CK_PATHS,
};

struct ckey {
	const char *name;
	uint8_t type;  /* enum ck_type */
	uint8_t width; /* bytes of an integer, bool or enum field */
	uint32_t off;  /* of the field in struct config */
	uint32_t size; /* string capacity; CK_PORTS/CK_PATHS: offset of the count */
	uint64_t min, max;
	const void *aux; /* CK_SECTION: struct ckey[]; CK_ENUM: names, NULL-ended */
};

#define CFG_OFF(m) offsetof(struct config, m)
#define CFG_SZ(m)  sizeof(((struct config *)0)->m)
/* clang-format off */
#define K_BOOL(n, m)		{ n, CK_BOOL, CFG_SZ(m), CFG_OFF(m), 0, 0, 1, NULL }
#define K_NUM(n, t, m, lo, hi)	{ n, t, CFG_SZ(m), CFG_OFF(m), 0, lo, hi, NULL }
#define K_STR(n, t, m)		{ n, t, 0, CFG_OFF(m), CFG_SZ(m), 0, 0, NULL }
#define K_ENUM(n, m, names)	{ n, CK_ENUM, CFG_SZ(m), CFG_OFF(m), 0, 0, 0, names }
#define K_LIST(n, t, m, cnt)	{ n, t, 0, CFG_OFF(m), CFG_OFF(cnt), 0, 0, NULL }
#define K_SET(n, t, m)		{ n, t, 0, CFG_OFF(m), 0, 0, 0, NULL }
#define K_SECTION(n, sub)	{ n, CK_SECTION, 0, 0, 0, 0, 0, sub }
#define K_END			{ NULL, 0, 0, 0, 0, 0, 0, NULL }
/* clang-format on */

static const char *const report_names[] = {"table", "json", "none", NULL};
static const char *const xdp_mode_names[] = {"auto", "native", "generic", NULL};
static const char *const bind_names[] = {"auto", "zero-copy", "copy", NULL};

_Static_assert(CONFIG_REPORT_NONE == 2 && SOURCE_XDP_GENERIC == 2 && SOURCE_BIND_COPY == 2,
	       "the name tables follow the enums");
_Static_assert(sizeof(enum config_report) == sizeof(int) && sizeof(enum source_bind) == sizeof(int),
	       "enum fields are stored as int");
_Static_assert(ALERT_KIND_COUNT <= CONFIG_SEEN_MAX && 2 + DETECT_MAX_PARAMS <= CONFIG_SEEN_MAX,
	       "duplicate tracking covers every map");

/* Floors and ceilings: below them the sensor cannot work, above them it is a
 * typo (a flow table of 10, a terabyte of reassembly). */
static const struct ckey capture_keys[] = {
	K_NUM("workers", CK_COUNT, workers, 0, SOURCE_MAX_QUEUES),
	K_BOOL("checksums", verify_checksums),
	K_BOOL("vlan_in_key", vlan_in_key),
	K_END,
};

static const struct ckey limits_keys[] = {
	K_NUM("flows_per_worker", CK_COUNT, limits.flows_per_worker, 1024, 1u << 24),
	K_NUM("flow_idle_timeout", CK_DURATION, limits.flow_idle_timeout_s, 10, DAY_S),
	K_NUM("flow_embryonic_timeout", CK_DURATION, limits.flow_embryonic_timeout_s, 1, HOUR_S),
	K_NUM("flow_closed_timeout", CK_DURATION, limits.flow_closed_timeout_s, 1, HOUR_S),
	K_NUM("reasm_bytes_per_flow", CK_SIZE, limits.reasm_bytes_per_flow, 4 * KiB, 16 * MiB),
	K_NUM("reasm_bytes_per_worker", CK_SIZE, limits.reasm_bytes_per_worker, MiB, 16 * GiB),
	K_NUM("smtp_sessions_per_worker", CK_COUNT, limits.smtp_sessions_per_worker, 64,
	      SMTP_SESSIONS_MAX),
	K_NUM("smtp_max_line", CK_SIZE, limits.smtp_max_line, 512, 64 * KiB),
	K_NUM("smtp_max_header_bytes", CK_SIZE, limits.smtp_max_header_bytes, 4 * KiB, 16 * MiB),
	K_NUM("smtp_max_pipeline", CK_COUNT, limits.smtp_max_pipeline, 1, 4096),
	K_NUM("event_ring_bytes", CK_SIZE, limits.event_ring_bytes, MiB, 4 * GiB),
	K_NUM("hosts", CK_COUNT, limits.hosts, 1024, 1u << 27),
	K_NUM("accounts", CK_COUNT, limits.accounts, 1024, 1u << 26),
	K_END,
};

static const struct ckey alerts_keys[] = {
	K_NUM("interval", CK_DURATION, alert_interval_s, 1, 7 * DAY_S),
	K_END,
};

static const struct ckey signatures_keys[] = {
	K_LIST("files", CK_PATHS, sig_files, n_sig_files),
	K_BOOL("enabled", sigs_enabled),
	K_END,
};

static const struct ckey privacy_keys[] = {
	K_BOOL("pseudonymize", pseudonymize),
	K_BOOL("pseudonymize_ips", pseudonymize_ips),
	K_STR("key_file", CK_PATH, key_file),
	K_BOOL("keep_subject", keep_subject),
	K_END,
};

static const struct ckey output_keys[] = {
	K_STR("log_dir", CK_PATH, log_dir),
	K_ENUM("report", report, report_names),
	K_STR("metrics", CK_LISTEN, metrics_addr),
	K_END,
};

static const struct ckey collector_keys[] = {
	K_STR("address", CK_HOSTPORT, collector.address),
	K_STR("tls_cert", CK_PATH, collector.tls_cert),
	K_STR("tls_key", CK_PATH, collector.tls_key),
	K_STR("tls_ca", CK_PATH, collector.tls_ca),
	K_BOOL("plaintext", collector.plaintext),
	K_STR("sensor_id", CK_NAME, collector.sensor_id),
	K_STR("spool_dir", CK_PATH, collector.spool_dir),
	K_NUM("spool_max_bytes", CK_SIZE, collector.spool_max_bytes, MiB, TiB),
	K_BOOL("archive", collector.archive),
	K_NUM("summary_interval", CK_DURATION, collector.summary_interval_s, 5, DAY_S),
	K_NUM("drain_timeout", CK_DURATION, collector.drain_timeout_s, 1, DAY_S),
	K_END,
};

static const struct ckey live_keys[] = {
	K_STR("user", CK_NAME, live.user),
	K_STR("group", CK_NAME, live.group),
	K_NUM("queues", CK_COUNT, live.queues, 1, SOURCE_MAX_QUEUES),
	K_ENUM("xdp_mode", live.xdp_mode, xdp_mode_names),
	K_ENUM("bind", live.bind, bind_names),
	K_BOOL("busy_poll", live.busy_poll),
	K_BOOL("seccomp", live.seccomp),
	K_END,
};

static const struct ckey top_keys[] = {
	K_SET("home_net", CK_NETS, home_net),
	K_SET("home_domains", CK_DOMAINS, home_domains),
	K_SET("mail_servers", CK_NETS, mail_servers),
	K_LIST("smtp_ports", CK_PORTS, smtp_ports, n_smtp_ports),
	K_LIST("tls_ports", CK_PORTS, tls_ports, n_tls_ports),
	K_BOOL("detect_any_port", detect_any_port),
	K_SECTION("capture", capture_keys),
	K_SECTION("limits", limits_keys),
	{"detectors", CK_DETECTORS, 0, 0, 0, 0, 0, NULL},
	K_SECTION("alerts", alerts_keys),
	K_SECTION("signatures", signatures_keys),
	K_SECTION("privacy", privacy_keys),
	K_SECTION("output", output_keys),
	K_SECTION("collector", collector_keys),
	K_SECTION("live", live_keys),
	K_END,
};

/* ---- scalars ---- */

/* Decimal digits only: no sign, no blanks, no 0x. */
static int parse_u64(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*end = p;
	*out = v;
	return 0;
}

static int parse_count(const char *s, uint64_t *out)
{
	const char *end;
	int err = parse_u64(s, &end, out);

	return err ? err : *end ? -EINVAL : 0;
}

struct unit {
	const char *sfx;
	uint64_t mult;
};

/* Digits, for sizes one optional blank, then one of the suffixes. */
static int parse_scaled(const char *s, const struct unit *u, size_t n, bool size, uint64_t *out)
{
	const char *p;
	uint64_t v;
	int err;

	if (!s)
		return -EINVAL;
	err = parse_u64(s, &p, &v);
	if (err)
		return err;
	if (size && *p == ' ' && p[1])
		p++;
	for (size_t i = 0; i < n; i++) {
		if (size ? strcasecmp(p, u[i].sfx) : strcmp(p, u[i].sfx))
			continue;
		if (v > UINT64_MAX / u[i].mult)
			return -ERANGE;
		*out = v * u[i].mult;
		return 0;
	}
	return -EINVAL;
}

int config_parse_size(const char *s, uint64_t *out)
{
	/* KiB and K are 1024, KB is 1000: each suffix means what it says. */
	/* clang-format off */
	static const struct unit units[] = {
		{ "", 1 },	   { "B", 1 },		 { "K", KiB },		{ "KiB", KiB },
		{ "KB", 1000 },	   { "M", MiB },	 { "MiB", MiB },	{ "MB", 1000000 },
		{ "G", GiB },	   { "GiB", GiB },	 { "GB", 1000000000 },	{ "T", TiB },
		{ "TiB", TiB },	   { "TB", 1000000000000ull },
	};
	/* clang-format on */

	return parse_scaled(s, units, sizeof(units) / sizeof(units[0]), true, out);
}

int config_parse_duration(const char *s, uint32_t *secs)
{
	/* Lower case only: "10M" could be months as well as minutes. */
	static const struct unit units[] = {
		{"", 1}, {"s", 1}, {"m", 60}, {"h", HOUR_S}, {"d", DAY_S},
	};
	uint64_t v;
	int err = parse_scaled(s, units, sizeof(units) / sizeof(units[0]), false, &v);

	if (err)
		return err;
	if (v > UINT32_MAX)
		return -ERANGE;
	*secs = (uint32_t)v;
	return 0;
}

/* "0.5", "2", and with pct "50%"; nothing strtod would also take (inf, nan, blanks). */
static int parse_real(const char *s, bool pct, double *out)
{
	char *end;
	double v;

	if (!isdigit((unsigned char)s[0]) && s[0] != '.')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s)
		return -EINVAL;
	if (pct && end[0] == '%' && end[1] == '\0') {
		v /= 100;
		end++;
	}
	if (*end || isnan(v))
		return -EINVAL;
	if (errno == ERANGE || !isfinite(v))
		return -ERANGE;
	*out = v;
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};

	for (unsigned int i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
			*out = strcasecmp(s, yes[i]) == 0;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *fmt_size(uint64_t v, char *buf, size_t cap)
{
	static const char *const unit[] = {"TiB", "GiB", "MiB", "KiB"};

	for (unsigned int i = 0; i < 4; i++) {
		uint64_t u = 1ull << (10 * (4 - i));

		if (v && v % u == 0) {
			snprintf(buf, cap, "%llu%s", (unsigned long long)(v / u), unit[i]);
			return buf;
		}
	}
	snprintf(buf, cap, "%llu", (unsigned long long)v);
	return buf;
}

static const char *fmt_duration(uint64_t v, char *buf, size_t cap)
{
	if (v && v % DAY_S == 0)
		snprintf(buf, cap, "%llud", (unsigned long long)(v / DAY_S));
	else if (v && v % HOUR_S == 0)
		snprintf(buf, cap, "%lluh", (unsigned long long)(v / HOUR_S));
	else if (v && v % 60 == 0)
		snprintf(buf, cap, "%llum", (unsigned long long)(v / 60));
	else
		snprintf(buf, cap, "%llus", (unsigned long long)v);
	return buf;
}

static bool port_ok(const char *s)
{
	uint64_t v;

	return parse_count(s, &v) == 0 && v >= 1 && v <= 65535;
}

/* "host:port" or "[v6]:port"; with host_optional also ":port" and "port". */
static bool hostport_ok(const char *s, bool host_optional)
{
	const char *colon = strrchr(s, ':');
	struct in6_addr a6;
	char v6[INET6_ADDRSTRLEN];
	size_t hlen;

	if (!colon)
		return host_optional && port_ok(s);
	hlen = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hlen < 3 || s[hlen - 1] != ']' || hlen - 2 >= sizeof(v6))
			return false;
		memcpy(v6, s + 1, hlen - 2);
		v6[hlen - 2] = '\0';
		return inet_pton(AF_INET6, v6, &a6) == 1 && port_ok(colon + 1);
	}
	if (hlen == 0 && !host_optional)
		return false;
	for (size_t i = 0; i < hlen; i++) /* a bare IPv6 address needs brackets */
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-' && s[i] != '_')
			return false;
	return port_ok(colon + 1);
}

/* User, group and sensor names: what a POSIX user name and a host name share. */
static bool name_ok(const char *s)
{
	if (s[0] == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	return true;
}

/* What domset does not check: empty labels, labels over 63, hyphens at a label's ends. */
static bool domain_labels_ok(const char *s)
{
	size_t len = strlen(s), start = 0;

	while (len && s[len - 1] == '.')
		len--;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (i == start || i - start > 63 || s[start] == '-' || s[i - 1] == '-')
			return false;
		start = i + 1;
	}
	return true;
}

/* A value quoted in a message: at most CONFIG_WORD_MAX bytes, control and
 * non-ASCII bytes shown as '?', so a hostile file cannot write into a log. */
static const char *echo(const char *s, char buf[CONFIG_WORD_MAX + 4])
{
	size_t n = 0;

	for (; s[n] && n < CONFIG_WORD_MAX; n++)
		buf[n] = (s[n] >= 0x20 && s[n] < 0x7f) ? s[n] : '?';
	if (s[n]) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* ---- the event walker ---- */

struct cfg_parse {
	yaml_parser_t yp;
	yaml_event_t ev;
	bool have_ev;
	const char *name; /* file name for messages */
	const char *text;
	size_t len;
	struct config *cfg;
	struct errbuf *eb;
	char key[CONFIG_KEY_MAX]; /* dotted path of the key being read */
};

struct cp_seen {
	size_t line[CONFIG_SEEN_MAX]; /* where each key of one map was first given */
};

static size_t cp_line(const struct cfg_parse *cp)
{
	return cp->ev.start_mark.line + 1;
}

static int __attribute__((format(printf, 3, 4)))
cp_err(struct cfg_parse *cp, size_t line, const char *fmt, ...)
{
	char msg[sizeof(struct errbuf)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cp->key[0])
		return errbuf_set(cp->eb, -EINVAL, "%s:%zu: %s: %s", cp->name, line, cp->key, msg);
	return errbuf_set(cp->eb, -EINVAL, "%s:%zu: %s", cp->name, line, msg);
}

static size_t cp_push(struct cfg_parse *cp, const char *name)
{
	size_t old = strlen(cp->key);

	snprintf(cp->key + old, sizeof(cp->key) - old, "%s%s", old ? "." : "", name);
	return old;
}

static const char *cp_what(const struct cfg_parse *cp)
{
	switch (cp->ev.type) {
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_MAPPING_START_EVENT:
		return "a map";
	default:
		return "a single value";
	}
}

/* A tab in indentation is the most common YAML mistake: say so. */
static bool cp_tab_at(const struct cfg_parse *cp, size_t line, size_t col)
{
	size_t i = 0;

	for (; i < cp->len && line; i++)
		if (cp->text[i] == '\n')
			line--;
	return i + col < cp->len && cp->text[i + col] == '\t';
}

static int cp_syntax_err(struct cfg_parse *cp)
{
	const yaml_parser_t *yp = &cp->yp;
	const char *problem = yp->problem ? yp->problem : "malformed";
	bool tab = !strstr(problem, "tab") &&
		   cp_tab_at(cp, yp->problem_mark.line, yp->problem_mark.column);

	if (yp->error == YAML_MEMORY_ERROR)
		return errbuf_set(cp->eb, -ENOMEM, "%s: out of memory", cp->name);
	return cp_err(cp, yp->problem_mark.line + 1, "YAML syntax error: %s%s%s%s",
		      yp->context ? yp->context : "", yp->context ? ": " : "", problem,
		      tab ? " (a tab: indent with spaces)" : "");
}

static int cp_next(struct cfg_parse *cp)
{
	const yaml_char_t *anchor = NULL;
	char e[CONFIG_WORD_MAX + 4];

	if (cp->have_ev)
		yaml_event_delete(&cp->ev);
	cp->have_ev = false;
	if (!yaml_parser_parse(&cp->yp, &cp->ev))
		return cp_syntax_err(cp);
	cp->have_ev = true;
	switch (cp->ev.type) {
	case YAML_ALIAS_EVENT:
		return cp_err(cp, cp_line(cp),
			      "aliases (*%s) are not supported: write the value out",
			      echo((const char *)cp->ev.data.alias.anchor, e));
	case YAML_SCALAR_EVENT:
		anchor = cp->ev.data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = cp->ev.data.sequence_start.anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = cp->ev.data.mapping_start.anchor;
		break;
	default:
		break;
	}
	if (anchor)
		return cp_err(cp, cp_line(cp),
			      "anchors (&%s) are not supported: write each value out",
			      echo((const char *)anchor, e));
	return 0;
}

static bool cp_is_null(const struct cfg_parse *cp)
{
	const char *v = (const char *)cp->ev.data.scalar.value;

	if (cp->ev.type != YAML_SCALAR_EVENT || cp->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !v[0] || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

/* The current event as one string; *null for an empty plain value. */
static int cp_text(struct cfg_parse *cp, const char **s, bool *null)
{
	if (cp->ev.type != YAML_SCALAR_EVENT)
		return cp_err(cp, cp_line(cp), "expected a single value, got %s", cp_what(cp));
	*s = (const char *)cp->ev.data.scalar.value;
	if (strlen(*s) != cp->ev.data.scalar.length)
		return cp_err(cp, cp_line(cp), "a value must not contain a NUL character");
	*null = cp_is_null(cp);
	if (*null)
		*s = "";
	return 0;
}

/* A key of a map or an entry of a list, as text; what it means is fn's. */
typedef int cp_each_fn(struct cfg_parse *cp, const char *text, void *arg);

/* The MAPPING_START or SEQUENCE_START is current: fn for each key (which then
 * reads its value) or each entry, up to the end event. */
static int cp_each(struct cfg_parse *cp, yaml_event_type_t end, cp_each_fn *fn, void *arg)
{
	/* Each key or entry takes at least two bytes of input: this bounds the loop. */
	for (size_t i = 0; i <= CONFIG_FILE_MAX / 2; i++) {
		const char *text;
		bool null;
		int err = cp_next(cp);

		if (err)
			return err;
		if (cp->ev.type == end)
			return 0;
		if (end == YAML_MAPPING_END_EVENT && cp->ev.type != YAML_SCALAR_EVENT)
			return cp_err(cp, cp_line(cp), "a key must be a name, got %s", cp_what(cp));
		err = cp_text(cp, &text, &null);
		if (!err)
			err = fn(cp, text, arg);
		if (err)
			return err;
	}
	return cp_err(cp, cp_line(cp), "too many entries");
}

/* The key event is current: record it, refuse a repeat, move to the value. */
static int cp_enter(struct cfg_parse *cp, struct cp_seen *seen, unsigned int idx, const char *name)
{
	size_t line = cp_line(cp);

	cp_push(cp, name);
	if (seen->line[idx])
		return cp_err(cp, line, "duplicate key (first at line %zu)", seen->line[idx]);
	seen->line[idx] = line;
	return cp_next(cp);
}

static unsigned int edit_distance(const char *a, const char *b)
{
	unsigned int row[CONFIG_WORD_MAX + 1];
	size_t la = strlen(a), lb = strlen(b);

	if (la > CONFIG_WORD_MAX || lb > CONFIG_WORD_MAX)
		return UINT32_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned int)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned int diag = row[0];

		row[0] = (unsigned int)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned int up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			best = up + 1 < best ? up + 1 : best;
			best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* Near enough to be a typo: two edits, one for short names. */
static const char *closest(const char *name, const char *const *cands, unsigned int n)
{
	const char *best = NULL;
	unsigned int best_d = UINT32_MAX;

	for (unsigned int i = 0; i < n; i++) {
		unsigned int d = edit_distance(name, cands[i]);
		unsigned int limit = strlen(cands[i]) <= 4 ? 1 : 2;

		if (d <= limit && d < best_d) {
			best = cands[i];
			best_d = d;
		}
	}
	return best;
}

/* A right key in the wrong place: "workers" at the top is capture.workers. */
static bool cp_elsewhere(const char *name, char *out, size_t cap)
{
	if (alert_kind_from_name(name) >= 0) {
		snprintf(out, cap, "detectors.%s", name);
		return true;
	}
	for (const struct ckey *t = top_keys; t->name; t++) {
		if (!strcmp(t->name, name)) {
			snprintf(out, cap, "%s", name);
			return true;
		}
		if (t->type != CK_SECTION)
			continue;
		for (const struct ckey *k = t->aux; k->name; k++) {
			if (!strcmp(k->name, name)) {
				snprintf(out, cap, "%s.%s", t->name, name);
				return true;
			}
		}
	}
	return false;
}

static int cp_unknown(struct cfg_parse *cp, const char *what, const char *name,
		      const char *const *cands, unsigned int n, bool elsewhere)
{
	char e[CONFIG_WORD_MAX + 4], where[CONFIG_KEY_MAX];
	const char *near = closest(name, cands, n);
	size_t line = cp_line(cp);

	cp_push(cp, echo(name, e));
	if (!near && elsewhere && cp_elsewhere(name, where, sizeof(where)))
		near = where;
	if (near)
		return cp_err(cp, line, "unknown %s; did you mean '%s'?", what, near);
	return cp_err(cp, line, "unknown %s", what);
}

/* ---- values ---- */

static void store_uint(void *field, unsigned int width, uint64_t v)
{
	uint32_t v32 = (uint32_t)v;
	uint16_t v16 = (uint16_t)v;
	uint8_t v8 = (uint8_t)v;

	switch (width) {
	case 8:
		memcpy(field, &v, 8);
		break;
	case 4:
		memcpy(field, &v32, 4);
		break;
	case 2:
		memcpy(field, &v16, 2);
		break;
	default:
		memcpy(field, &v8, 1);
		break;
	}
}

static int cp_bool(struct cfg_parse *cp, const char *s, bool null, bool *out)
{
	char e[CONFIG_WORD_MAX + 4];

	if (null)
		return cp_err(cp, cp_line(cp), "needs a value");
	if (parse_bool(s, out))
		return cp_err(cp, cp_line(cp), "'%s' is not a boolean (true/false, yes/no, on/off)",
			      echo(s, e));
	return 0;
}

static const char *fmt_bound(uint8_t type, uint64_t v, char *buf, size_t cap)
{
	if (type == CK_SIZE)
		return fmt_size(v, buf, cap);
	if (type == CK_DURATION)
		return fmt_duration(v, buf, cap);
	snprintf(buf, cap, "%llu", (unsigned long long)v);
	return buf;
}

static int cp_number(struct cfg_parse *cp, const struct ckey *k, const char *s, bool null,
		     void *field)
{
	char e[CONFIG_WORD_MAX + 4], lo[32], hi[32];
	const char *what;
	uint64_t v = 0;
	uint32_t secs = 0;
	int err;

	if (null)
		return cp_err(cp, cp_line(cp), "needs a value");
	if (k->type == CK_COUNT) {
		err = parse_count(s, &v);
		what = "a count";
	} else if (k->type == CK_SIZE) {
		err = config_parse_size(s, &v);
		what = "a size (e.g. 64KiB, 32MiB, 1GiB)";
	} else {
		err = config_parse_duration(s, &secs);
		v = secs;
		what = "a duration (e.g. 90, 90s, 10m, 2h, 1d)";
	}
	if (err == -EINVAL)
		return cp_err(cp, cp_line(cp), "'%s' is not %s", echo(s, e), what);
	if (err || v < k->min || v > k->max)
		return cp_err(cp, cp_line(cp), "'%s' is out of range (%s..%s)", echo(s, e),
			      fmt_bound(k->type, k->min, lo, sizeof(lo)),
			      fmt_bound(k->type, k->max, hi, sizeof(hi)));
	store_uint(field, k->width, v);
	return 0;
}

static int cp_enum(struct cfg_parse *cp, const struct ckey *k, const char *s, void *field)
{
	const char *const *names = k->aux;
	char e[CONFIG_WORD_MAX + 4], list[128] = "";
	size_t used = 0;

	for (int i = 0; names[i]; i++) {
		if (!strcmp(s, names[i])) {
			memcpy(field, &i, sizeof(i));
			return 0;
		}
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
						 i ? ", " : "", names[i]);
	}
	return cp_err(cp, cp_line(cp), "'%s' is not one of: %s", echo(s, e), list);
}

static int cp_string(struct cfg_parse *cp, const struct ckey *k, const char *s, char *field)
{
	char e[CONFIG_WORD_MAX + 4];
	size_t len = strlen(s);

	if (len >= k->size)
		return cp_err(cp, cp_line(cp), "'%s' is too long (at most %u characters)",
			      echo(s, e), k->size - 1);
	if (has_control(s))
		return cp_err(cp, cp_line(cp), "'%s' contains a control character", echo(s, e));
	if (k->type == CK_NAME && !name_ok(s))
		return cp_err(cp, cp_line(cp),
			      "'%s' is not a name (letters, digits, '.', '_', '-')", echo(s, e));
	if ((k->type == CK_HOSTPORT || k->type == CK_LISTEN) && len &&
	    !hostport_ok(s, k->type == CK_LISTEN))
		return cp_err(cp, cp_line(cp), "'%s' is not HOST:PORT with a port of 1-65535",
			      echo(s, e));
	memcpy(field, s, len + 1);
	return 0;
}

static int cp_scalar(struct cfg_parse *cp, const struct ckey *k)
{
	char *field = (char *)cp->cfg + k->off;
	const char *s;
	bool null;
	int err = cp_text(cp, &s, &null);

	if (err)
		return err;
	switch (k->type) {
	case CK_BOOL:
		return cp_bool(cp, s, null, (bool *)field);
	case CK_COUNT:
	case CK_SIZE:
	case CK_DURATION:
		return cp_number(cp, k, s, null, field);
	case CK_ENUM:
		return null ? cp_err(cp, cp_line(cp), "needs a value") : cp_enum(cp, k, s, field);
	default:
		return cp_string(cp, k, s, field);
	}
}

/* ---- lists ---- */

struct cp_list {
	const struct ckey *k;
	unsigned int n;
	uint16_t ports[CONFIG_MAX_PORTS];
	struct netset ns;
	struct domset ds;
	char paths[CONFIG_MAX_SIG_FILES][CONFIG_PATH_MAX];
};

static int cp_port(struct cfg_parse *cp, struct cp_list *l, const char *s, size_t line)
{
	char e[CONFIG_WORD_MAX + 4];
	uint64_t v;
	int err = parse_count(s, &v);

	if (err == -EINVAL)
		return cp_err(cp, line, "'%s' is not a port", echo(s, e));
	if (err || v < 1 || v > 65535)
		return cp_err(cp, line, "'%s' is out of range (1..65535)", echo(s, e));
	for (unsigned int i = 0; i < l->n; i++)
		if (l->ports[i] == v)
			return cp_err(cp, line, "port %u is listed twice", (unsigned int)v);
	if (l->n == CONFIG_MAX_PORTS)
		return cp_err(cp, line, "more than %d ports", CONFIG_MAX_PORTS);
	l->ports[l->n++] = (uint16_t)v;
	return 0;
}

static int cp_item(struct cfg_parse *cp, struct cp_list *l, const char *s, size_t len, size_t line)
{
	char item[CONFIG_PATH_MAX], e[CONFIG_WORD_MAX + 4];
	struct errbuf why = {""};
	int err = 0;

	if (len == 0)
		return cp_err(cp, line, "empty list entry");
	if (len >= sizeof(item))
		return cp_err(cp, line, "an entry is longer than %zu characters", sizeof(item) - 1);
	memcpy(item, s, len);
	item[len] = '\0';
	if (has_control(item))
		return cp_err(cp, line, "'%s' contains a control character", echo(item, e));
	switch (l->k->type) {
	case CK_PORTS:
		return cp_port(cp, l, item, line);
	case CK_NETS:
		err = netset_add_cidr(&l->ns, item, &why);
		break;
	case CK_DOMAINS:
		if (!domain_labels_ok(item))
			return cp_err(cp, line, "'%s' is not a domain name", echo(item, e));
		err = domset_add(&l->ds, item, &why);
		break;
	default:
		if (l->n == CONFIG_MAX_SIG_FILES)
			return cp_err(cp, line, "more than %d files", CONFIG_MAX_SIG_FILES);
		memcpy(l->paths[l->n++], item, len + 1);
	}
	if (err == -ENOMEM)
		return errbuf_set(cp->eb, -ENOMEM, "%s: out of memory", cp->name);
	return err ? cp_err(cp, line, "%s", why.msg) : 0;
}

/* "a, b, c" on one line, as the command line takes it. */
static int cp_list_scalar(struct cfg_parse *cp, struct cp_list *l, const char *s)
{
	size_t line = cp_line(cp);

	if (l->k->type == CK_PATHS) /* a path may hold a comma */
		return cp_item(cp, l, s, strlen(s), line);
	for (;;) {
		const char *comma = strchr(s, ',');
		const char *end = comma ? comma : s + strlen(s);
		int err;

		while (s < end && isspace((unsigned char)*s))
			s++;
		while (end > s && isspace((unsigned char)end[-1]))
			end--;
		err = cp_item(cp, l, s, (size_t)(end - s), line);
		if (err || !comma)
			return err;
		s = comma + 1;
	}
}

static int cp_list_entry(struct cfg_parse *cp, const char *s, void *arg)
{
	return cp_item(cp, arg, s, strlen(s), cp_line(cp));
}

/* The new value goes in place; the old one goes back into l for the caller to free. */
static void swap_bytes(void *field, void *mine, size_t size)
{
	unsigned char tmp[sizeof(struct netset) + sizeof(struct domset)];

	memcpy(tmp, field, size);
	memcpy(field, mine, size);
	memcpy(mine, tmp, size);
}

static void cp_list_commit(struct cfg_parse *cp, struct cp_list *l)
{
	char *field = (char *)cp->cfg + l->k->off;
	char *count = (char *)cp->cfg + l->k->size;

	switch (l->k->type) {
	case CK_PORTS:
		/* Unused slots zeroed: two configurations with the same lists compare equal. */
		memset(field, 0, sizeof(l->ports));
		memcpy(field, l->ports, l->n * sizeof(l->ports[0]));
		store_uint(count, sizeof(uint16_t), l->n);
		break;
	case CK_NETS:
		netset_finish(&l->ns);
		swap_bytes(field, &l->ns, sizeof(l->ns));
		break;
	case CK_DOMAINS:
		domset_finish(&l->ds);
		swap_bytes(field, &l->ds, sizeof(l->ds));
		break;
	default:
		memset(field, 0, sizeof(l->paths));
		memcpy(field, l->paths, l->n * sizeof(l->paths[0]));
		store_uint(count, sizeof(unsigned int), l->n);
	}
}

static int cp_list(struct cfg_parse *cp, const struct ckey *k)
{
	struct cp_list *l = calloc(1, sizeof(*l));
	const char *s;
	bool null;
	int err;

	if (!l)
		return errbuf_set(cp->eb, -ENOMEM, "%s: out of memory", cp->name);
	l->k = k;
	netset_init(&l->ns);
	domset_init(&l->ds);
	if (cp->ev.type == YAML_SEQUENCE_START_EVENT)
		err = cp_each(cp, YAML_SEQUENCE_END_EVENT, cp_list_entry, l);
	else if (cp->ev.type == YAML_MAPPING_START_EVENT)
		err = cp_err(cp, cp_line(cp), "expected a list, got a map");
	else if (!(err = cp_text(cp, &s, &null)) && !null)
		err = cp_list_scalar(cp, l, s);
	if (!err)
		cp_list_commit(cp, l);
	netset_fini(&l->ns);
	domset_fini(&l->ds);
	free(l);
	return err;
}

/* ---- detectors ---- */

struct cp_detector {
	enum alert_kind kind;
	struct cp_seen seen;
};

static const char *fmt_param(uint8_t type, double v, char *buf, size_t cap)
{
	if (type == DETECT_P_SECONDS)
		return fmt_duration((uint64_t)v, buf, cap);
	snprintf(buf, cap, type == DETECT_P_COUNT ? "%.0f" : "%g", v);
	return buf;
}

static int cp_param(struct cfg_parse *cp, const struct detect_param *dp, double *out)
{
	char e[CONFIG_WORD_MAX + 4], lo[32], hi[32];
	const char *s, *what;
	uint64_t u = 0;
	uint32_t secs = 0;
	double v = 0;
	bool null;
	int err = cp_text(cp, &s, &null);

	if (err)
		return err;
	if (null)
		return cp_err(cp, cp_line(cp), "needs a value");
	switch (dp->type) {
	case DETECT_P_COUNT:
		err = parse_count(s, &u);
		v = (double)u;
		what = "a count";
		break;
	case DETECT_P_SECONDS:
		err = config_parse_duration(s, &secs);
		v = secs;
		what = "a duration (e.g. 90, 90s, 10m, 2h, 1d)";
		break;
	case DETECT_P_RATIO:
		err = parse_real(s, true, &v);
		what = "a ratio (e.g. 0.5 or 50%)";
		break;
	default:
		err = parse_real(s, false, &v);
		what = "a number";
		break;
	}
	if (err == -EINVAL)
		return cp_err(cp, cp_line(cp), "'%s' is not %s", echo(s, e), what);
	if (err || v < dp->min || v > dp->max)
		return cp_err(cp, cp_line(cp), "'%s' is out of range (%s..%s)", echo(s, e),
			      fmt_param(dp->type, dp->min, lo, sizeof(lo)),
			      fmt_param(dp->type, dp->max, hi, sizeof(hi)));
	*out = v;
	return 0;
}

static int cp_severity(struct cfg_parse *cp, uint8_t *out)
{
	char e[CONFIG_WORD_MAX + 4];
	const char *s;
	bool null;
	int err = cp_text(cp, &s, &null), sev;

	if (err)
		return err;
	if (null)
		return cp_err(cp, cp_line(cp), "needs a value");
	sev = alert_severity_from_name(s);
	if (sev < 0)
		return cp_err(cp, cp_line(cp),
			      "'%s' is not a severity (info, low, medium, high, critical)",
			      echo(s, e));
	*out = (uint8_t)sev;
	return 0;
}

static int cp_detector_key(struct cfg_parse *cp, const char *name, void *arg)
{
	struct cp_detector *d = arg;
	const struct detect_def *def = &detect_defs[d->kind];
	struct detect_cfg *dc = &cp->cfg->detectors[d->kind];
	const char *cands[2 + DETECT_MAX_PARAMS] = {"enabled", "severity"};
	unsigned int n = 2 + def->n_params, idx = 0;
	size_t old = strlen(cp->key);
	const char *s;
	bool null;
	int err;

	for (unsigned int i = 0; i < def->n_params; i++)
		cands[2 + i] = def->params[i].name;
	while (idx < n && strcmp(cands[idx], name))
		idx++;
	if (idx == n)
		return cp_unknown(cp, "parameter", name, cands, n, false);
	err = cp_enter(cp, &d->seen, idx, cands[idx]);
	if (!err && idx == 0) {
		err = cp_text(cp, &s, &null);
		if (!err)
			err = cp_bool(cp, s, null, &dc->enabled);
	} else if (!err && idx == 1)
		err = cp_severity(cp, &dc->severity);
	else if (!err)
		err = cp_param(cp, &def->params[idx - 2], &dc->p[idx - 2]);
	cp->key[old] = '\0';
	return err;
}

static int cp_detectors_key(struct cfg_parse *cp, const char *name, void *arg)
{
	struct cp_seen *seen = arg;
	struct cp_detector d = {.kind = 0};
	const char *cands[ALERT_KIND_COUNT];
	size_t old = strlen(cp->key);
	int kind = alert_kind_from_name(name), err;

	if (kind < 0) {
		for (int k = 0; k < ALERT_KIND_COUNT; k++)
			cands[k] = alert_kind_name((enum alert_kind)k);
		return cp_unknown(cp, "detector", name, cands, ALERT_KIND_COUNT, false);
	}
	d.kind = (enum alert_kind)kind;
	err = cp_enter(cp, seen, (unsigned int)kind, alert_kind_name(d.kind));
	if (!err && cp->ev.type == YAML_MAPPING_START_EVENT)
		err = cp_each(cp, YAML_MAPPING_END_EVENT, cp_detector_key, &d);
	else if (!err && !cp_is_null(cp))
		err = cp_err(cp, cp_line(cp),
			     "expected a map (enabled, severity, parameters), got %s", cp_what(cp));
	cp->key[old] = '\0';
	return err;
}

/* ---- keys of the schema tables ---- */

struct cp_table {
	const struct ckey *keys;
	struct cp_seen seen;
};

static int cp_table_key(struct cfg_parse *cp, const char *name, void *arg);

static int cp_value(struct cfg_parse *cp, const struct ckey *k)
{
	struct cp_table sub = {.keys = k->aux};
	struct cp_seen seen = {{0}};
	bool map = cp->ev.type == YAML_MAPPING_START_EVENT;

	switch (k->type) {
	case CK_SECTION:
	case CK_DETECTORS:
		if (!map && cp_is_null(cp))
			return 0;
		if (!map)
			return cp_err(cp, cp_line(cp), "expected a map of keys, got %s",
				      cp_what(cp));
		if (k->type == CK_DETECTORS)
			return cp_each(cp, YAML_MAPPING_END_EVENT, cp_detectors_key, &seen);
		return cp_each(cp, YAML_MAPPING_END_EVENT, cp_table_key, &sub);
	case CK_PORTS:
	case CK_NETS:
	case CK_DOMAINS:
	case CK_PATHS:
		return cp_list(cp, k);
	default:
		return cp_scalar(cp, k);
	}
}

static int cp_table_key(struct cfg_parse *cp, const char *name, void *arg)
{
	struct cp_table *t = arg;
	const char *cands[CONFIG_SEEN_MAX];
	size_t old = strlen(cp->key);
	unsigned int n = 0;
	int err;

	while (t->keys[n].name && strcmp(t->keys[n].name, name)) {
		cands[n] = t->keys[n].name;
		n++;
	}
	if (!t->keys[n].name)
		return cp_unknown(cp, "key", name, cands, n, true);
	err = cp_enter(cp, &t->seen, n, t->keys[n].name);
	if (!err)
		err = cp_value(cp, &t->keys[n]);
	cp->key[old] = '\0';
	return err;
}

/* STREAM_START, at most one document holding a map (or nothing), STREAM_END. */
static int cp_stream(struct cfg_parse *cp)
{
	struct cp_table top = {.keys = top_keys};
	int err;

	if ((err = cp_next(cp)) || (err = cp_next(cp)))
		return err;
	if (cp->ev.type == YAML_STREAM_END_EVENT)
		return 0; /* empty or only comments: the defaults */
	if ((err = cp_next(cp)))
		return err;
	if (cp->ev.type == YAML_MAPPING_START_EVENT)
		err = cp_each(cp, YAML_MAPPING_END_EVENT, cp_table_key, &top);
	else if (!cp_is_null(cp))
		err = cp_err(cp, cp_line(cp), "the top level must be a map of keys, got %s",
			     cp_what(cp));
	if (err || (err = cp_next(cp)) || (err = cp_next(cp)))
		return err;
	if (cp->ev.type != YAML_STREAM_END_EVENT)
		return cp_err(cp, cp_line(cp),
			      "a second YAML document ('---'): the configuration is one map");
	return 0;
}

int config_load_buffer(struct config *cfg, const char *name, const char *yaml, size_t len,
		       struct errbuf *eb)
{
	struct cfg_parse cp = {
		.name = name ? name : "<config>",
		.text = yaml ? yaml : "",
		.cfg = cfg,
		.eb = eb,
	};
	int err;

	if (len > CONFIG_FILE_MAX)
		return errbuf_set(eb, -EINVAL, CONFIG_TOO_BIG, cp.name);
	cp.len = yaml ? len : 0;
	if (!yaml_parser_initialize(&cp.yp))
		return errbuf_set(eb, -ENOMEM, "%s: out of memory", cp.name);
	yaml_parser_set_input_string(&cp.yp, (const unsigned char *)cp.text, cp.len);
	err = cp_stream(&cp);
	if (cp.have_ev)
		yaml_event_delete(&cp.ev);
	yaml_parser_delete(&cp.yp);
	if (!err)
		snprintf(cfg->file, sizeof(cfg->file), "%s", cp.name);
	return err;
}

/* Reads at most one byte past the limit, so a pipe or /dev/zero is refused too. */
static int config_read(const char *path, char *buf, size_t *len, struct errbuf *eb)
{
	struct stat st;
	size_t got = 0;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errbuf_set(eb, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		err = errbuf_set(eb, -EISDIR, "%s: is a directory", path);
	while (!err && got <= CONFIG_FILE_MAX) {
		ssize_t n = read(fd, buf + got, CONFIG_FILE_MAX + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = errbuf_set(eb, -errno, "%s: %s", path, strerror(errno));
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!err && got > CONFIG_FILE_MAX)
		err = errbuf_set(eb, -EINVAL, CONFIG_TOO_BIG, path);
	*len = got;
	return err;
}

int config_load(struct config *cfg, const char *path, struct errbuf *eb)
{
	char *buf = malloc(CONFIG_FILE_MAX + 1);
	size_t len = 0;
	int err;

	if (!buf)
		return errbuf_set(eb, -ENOMEM, "%s: out of memory", path);
	err = config_read(path, buf, &len, eb);
	if (!err)
		err = config_load_buffer(cfg, path, buf, len, eb);
	free(buf);
	return err;
}

/* ---- cross-checks ---- */

static int check_readable(const char *key, const char *path, struct errbuf *eb)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int err = 0;

	if (fd < 0)
		return errbuf_set(eb, -EINVAL, "%s: '%s': %s", key, path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		err = errbuf_set(eb, -EINVAL, "%s: '%s' is a directory", key, path);
	close(fd);
	return err;
}

static int validate_ports(const struct config *cfg, struct errbuf *eb)
{
	if (cfg->n_smtp_ports > CONFIG_MAX_PORTS || cfg->n_tls_ports > CONFIG_MAX_PORTS)
		return errbuf_set(eb, -EINVAL, "smtp_ports, tls_ports: more than %d ports",
				  CONFIG_MAX_PORTS);
	for (unsigned int i = 0; i < cfg->n_smtp_ports; i++) {
		if (cfg->smtp_ports[i] == 0)
			return errbuf_set(eb, -EINVAL, "smtp_ports: port 0 is not a port");
		for (unsigned int j = 0; j < cfg->n_tls_ports; j++)
			if (cfg->smtp_ports[i] == cfg->tls_ports[j])
				return errbuf_set(
					eb, -EINVAL,
					"port %u is in both smtp_ports and tls_ports: a "
					"port is plain SMTP (maybe STARTTLS) or implicit TLS",
					cfg->smtp_ports[i]);
	}
	for (unsigned int j = 0; j < cfg->n_tls_ports; j++)
		if (cfg->tls_ports[j] == 0)
			return errbuf_set(eb, -EINVAL, "tls_ports: port 0 is not a port");
	return 0;
}

static int validate_collector_tls(const struct config_collector *c, struct errbuf *eb)
{
	int err;

	if (!c->tls_cert[0] || !c->tls_key[0] || !c->tls_ca[0])
		return errbuf_set(eb, -EINVAL,
				  "collector.address '%s' is reached over TLS: set "
				  "collector.tls_cert, collector.tls_key and collector.tls_ca, "
				  "or collector.plaintext: true",
				  c->address);
	if ((err = check_readable("collector.tls_cert", c->tls_cert, eb)) ||
	    (err = check_readable("collector.tls_key", c->tls_key, eb)) ||
	    (err = check_readable("collector.tls_ca", c->tls_ca, eb)))
		return err;
	return 0;
}

static int validate_collector(const struct config_collector *c, struct errbuf *eb)
{
	bool tls_any = c->tls_cert[0] || c->tls_key[0] || c->tls_ca[0];

	if (c->plaintext && tls_any)
		return errbuf_set(
			eb, -EINVAL,
			"collector.plaintext and collector.tls_cert/tls_key/tls_ca exclude "
			"each other: plain TCP or TLS, not both");
	if (!c->address[0]) {
		if (c->spool_dir[0])
			return errbuf_set(eb, -EINVAL,
					  "collector.spool_dir needs collector.address");
		if (c->archive)
			return errbuf_set(eb, -EINVAL, "collector.archive needs collector.address");
		return 0;
	}
	if (!hostport_ok(c->address, false))
		return errbuf_set(eb, -EINVAL,
				  "collector.address: '%s' is not HOST:PORT with a port of 1-65535",
				  c->address);
	return c->plaintext ? 0 : validate_collector_tls(c, eb);
}

static int validate_privacy(const struct config *cfg, struct errbuf *eb)
{
	const char *key = cfg->pseudonymize ? "privacy.pseudonymize" : "privacy.pseudonymize_ips";
	struct errbuf why = {""};

	if (!cfg->pseudonymize && !cfg->pseudonymize_ips)
		return 0;
	if (!cfg->key_file[0])
		return errbuf_set(eb, -EINVAL,
				  "%s needs privacy.key_file (at least %d random bytes: "
				  "head -c 32 /dev/urandom > FILE)",
				  key, PRIVACY_KEY_MIN);
	if (privacy_key_check(cfg->key_file, &why))
		return errbuf_set(eb, -EINVAL, "privacy.key_file: %s", why.msg);
	return 0;
}

static int validate_limits(const struct config *cfg, struct errbuf *eb)
{
	const struct config_limits *l = &cfg->limits;
	char a[32], b[32];

	if (cfg->workers > SOURCE_MAX_QUEUES)
		return errbuf_set(eb, -EINVAL, "capture.workers: %u is more than %d", cfg->workers,
				  SOURCE_MAX_QUEUES);
	if (cfg->live.queues < 1 || cfg->live.queues > SOURCE_MAX_QUEUES)
		return errbuf_set(eb, -EINVAL, "live.queues: %u is outside 1..%d", cfg->live.queues,
				  SOURCE_MAX_QUEUES);
	if (l->reasm_bytes_per_flow > l->reasm_bytes_per_worker)
		return errbuf_set(eb, -EINVAL,
				  "limits.reasm_bytes_per_flow (%s) is larger than "
				  "limits.reasm_bytes_per_worker (%s)",
				  fmt_size(l->reasm_bytes_per_flow, a, sizeof(a)),
				  fmt_size(l->reasm_bytes_per_worker, b, sizeof(b)));
	if (l->smtp_max_line > l->smtp_max_header_bytes)
		return errbuf_set(eb, -EINVAL,
				  "limits.smtp_max_line (%s) is larger than "
				  "limits.smtp_max_header_bytes (%s)",
				  fmt_size(l->smtp_max_line, a, sizeof(a)),
				  fmt_size(l->smtp_max_header_bytes, b, sizeof(b)));
	if (l->flow_embryonic_timeout_s > l->flow_idle_timeout_s ||
	    l->flow_closed_timeout_s > l->flow_idle_timeout_s)
		return errbuf_set(eb, -EINVAL,
				  "limits.flow_embryonic_timeout and limits.flow_closed_timeout "
				  "must not be longer than limits.flow_idle_timeout (%s)",
				  fmt_duration(l->flow_idle_timeout_s, a, sizeof(a)));
	return 0;
}

int config_validate(const struct config *cfg, struct errbuf *eb)
{
	int err;

	if ((err = validate_ports(cfg, eb)) || (err = validate_limits(cfg, eb)) ||
	    (err = validate_collector(&cfg->collector, eb)) || (err = validate_privacy(cfg, eb)))
		return err;
	if (cfg->metrics_addr[0] && !hostport_ok(cfg->metrics_addr, true))
		return errbuf_set(eb, -EINVAL,
				  "output.metrics: '%s' is not HOST:PORT with a port of 1-65535",
				  cfg->metrics_addr);
	if (cfg->n_sig_files > CONFIG_MAX_SIG_FILES)
		return errbuf_set(eb, -EINVAL, "signatures.files: more than %d files",
				  CONFIG_MAX_SIG_FILES);
	for (unsigned int i = 0; cfg->sigs_enabled && i < cfg->n_sig_files; i++)
		if ((err = check_readable("signatures.files", cfg->sig_files[i], eb)))
			return err;
	return 0;
}
