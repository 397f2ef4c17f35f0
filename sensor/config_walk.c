// SPDX-License-Identifier: BSD-3-Clause
/*
 * The event walker under the YAML reader. libyaml's event API is pulled one
 * event at a time; every event carries the line for the message, and anchors
 * and aliases are refused before anything could be expanded (a configuration
 * needs no sharing, and a value's line stays the line it is written on).
 * Messages name the file, the line and the dotted key; an unknown key gets
 * the nearest known one as a suggestion.
 */
#include "sensor/config_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sensor/alert.h"

size_t cp_line(const struct cfg_parse *cp)
{
	return cp->ev.start_mark.line + 1;
}

int __attribute__((format(printf, 3, 4)))
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

size_t cp_push(struct cfg_parse *cp, const char *name)
{
	size_t old = strlen(cp->key);

	snprintf(cp->key + old, sizeof(cp->key) - old, "%s%s", old ? "." : "", name);
	return old;
}

const char *cp_what(const struct cfg_parse *cp)
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

int cp_next(struct cfg_parse *cp)
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
			      config_echo((const char *)cp->ev.data.alias.anchor, e));
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
			      config_echo((const char *)anchor, e));
	return 0;
}

bool cp_is_null(const struct cfg_parse *cp)
{
	const char *v = (const char *)cp->ev.data.scalar.value;

	if (cp->ev.type != YAML_SCALAR_EVENT || cp->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !v[0] || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

/* The current event as one string; *null for an empty plain value. */
int cp_text(struct cfg_parse *cp, const char **s, bool *null)
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

/* The MAPPING_START or SEQUENCE_START is current: fn for each key (which then
 * reads its value) or each entry, up to the end event. */
int cp_each(struct cfg_parse *cp, yaml_event_type_t end, cp_each_fn *fn, void *arg)
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
int cp_enter(struct cfg_parse *cp, struct cp_seen *seen, unsigned int idx, const char *name)
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
	for (const struct ckey *t = config_top_keys; t->name; t++) {
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

int cp_unknown(struct cfg_parse *cp, const char *what, const char *name, const char *const *cands,
	       unsigned int n, bool elsewhere)
{
	char e[CONFIG_WORD_MAX + 4], where[CONFIG_KEY_MAX];
	const char *near = closest(name, cands, n);
	size_t line = cp_line(cp);

	cp_push(cp, config_echo(name, e));
	if (!near && elsewhere && cp_elsewhere(name, where, sizeof(where)))
		near = where;
	if (near)
		return cp_err(cp, line, "unknown %s; did you mean '%s'?", what, near);
	return cp_err(cp, line, "unknown %s", what);
}
