// SPDX-License-Identifier: BSD-3-Clause
/*
 * The YAML loader. The event walker (config_walk.c) is pulled against the
 * tables of keys (config_schema.c), and nesting never goes deeper than the
 * schema, because a value of the wrong shape is an error the moment it
 * starts. A list given in the file is built aside and swapped in whole: it
 * replaces the previous list, and a bad entry leaves the previous one
 * untouched. The cross-checks are config_validate.c.
 */
#include "sensor/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "sensor/alert.h"
#include "sensor/config_int.h"

#define CONFIG_TOO_BIG                                                                             \
	"%s: more than 1 MiB; a configuration file is a few KiB (is it the right file?)"

_Static_assert(ALERT_KIND_COUNT <= CONFIG_SEEN_MAX && 2 + DETECT_MAX_PARAMS <= CONFIG_SEEN_MAX,
	       "duplicate tracking covers every map");

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
	if (config_parse_bool(s, out))
		return cp_err(cp, cp_line(cp), "'%s' is not a boolean (true/false, yes/no, on/off)",
			      config_echo(s, e));
	return 0;
}

static const char *fmt_bound(uint8_t type, uint64_t v, char *buf, size_t cap)
{
	if (type == CK_SIZE)
		return config_fmt_size(v, buf, cap);
	if (type == CK_DURATION)
		return config_fmt_duration(v, buf, cap);
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
		err = config_parse_count(s, &v);
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
		return cp_err(cp, cp_line(cp), "'%s' is not %s", config_echo(s, e), what);
	if (err || v < k->min || v > k->max)
		return cp_err(cp, cp_line(cp), "'%s' is out of range (%s..%s)", config_echo(s, e),
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
	return cp_err(cp, cp_line(cp), "'%s' is not one of: %s", config_echo(s, e), list);
}

static int cp_string(struct cfg_parse *cp, const struct ckey *k, const char *s, char *field)
{
	char e[CONFIG_WORD_MAX + 4];
	size_t len = strlen(s);

	if (len >= k->size)
		return cp_err(cp, cp_line(cp), "'%s' is too long (at most %u characters)",
			      config_echo(s, e), k->size - 1);
	if (config_has_control(s))
		return cp_err(cp, cp_line(cp), "'%s' contains a control character",
			      config_echo(s, e));
	if (k->type == CK_NAME && !config_name_ok(s))
		return cp_err(cp, cp_line(cp),
			      "'%s' is not a name (letters, digits, '.', '_', '-')",
			      config_echo(s, e));
	if ((k->type == CK_HOSTPORT || k->type == CK_LISTEN) && len &&
	    !config_hostport_ok(s, k->type == CK_LISTEN))
		return cp_err(cp, cp_line(cp), "'%s' is not HOST:PORT with a port of 1-65535",
			      config_echo(s, e));
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
	int err = config_parse_count(s, &v);

	if (err == -EINVAL)
		return cp_err(cp, line, "'%s' is not a port", config_echo(s, e));
	if (err || v < 1 || v > 65535)
		return cp_err(cp, line, "'%s' is out of range (1..65535)", config_echo(s, e));
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
	if (config_has_control(item))
		return cp_err(cp, line, "'%s' contains a control character", config_echo(item, e));
	switch (l->k->type) {
	case CK_PORTS:
		return cp_port(cp, l, item, line);
	case CK_NETS:
		err = netset_add_cidr(&l->ns, item, &why);
		break;
	case CK_DOMAINS:
		if (!config_domain_labels_ok(item))
			return cp_err(cp, line, "'%s' is not a domain name", config_echo(item, e));
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
		return config_fmt_duration((uint64_t)v, buf, cap);
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
		err = config_parse_count(s, &u);
		v = (double)u;
		what = "a count";
		break;
	case DETECT_P_SECONDS:
		err = config_parse_duration(s, &secs);
		v = secs;
		what = "a duration (e.g. 90, 90s, 10m, 2h, 1d)";
		break;
	case DETECT_P_RATIO:
		err = config_parse_real(s, true, &v);
		what = "a ratio (e.g. 0.5 or 50%)";
		break;
	default:
		err = config_parse_real(s, false, &v);
		what = "a number";
		break;
	}
	if (err == -EINVAL)
		return cp_err(cp, cp_line(cp), "'%s' is not %s", config_echo(s, e), what);
	if (err || v < dp->min || v > dp->max)
		return cp_err(cp, cp_line(cp), "'%s' is out of range (%s..%s)", config_echo(s, e),
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
			      config_echo(s, e));
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
	struct cp_table top = {.keys = config_top_keys};
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
