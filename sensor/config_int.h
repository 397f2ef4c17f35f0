/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config_int: the configuration loader's insides, shared by config.c (the
 * YAML reader: values, lists, detectors, the load), config_walk.c (the libyaml
 * event walker), config_schema.c (the tables of keys), config_scalar.c (text to
 * values and back) and config_validate.c (the cross-checks). Nothing outside
 * those files includes it. Main thread only, like struct config itself.
 */
#ifndef RELAYWATCH_SENSOR_CONFIG_INT_H
#define RELAYWATCH_SENSOR_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "common/errbuf.h"
#include "sensor/config.h"

#define CONFIG_FILE_MAX (1u << 20) /* real files are a few KiB; more is the wrong file */
#define CONFIG_KEY_MAX	160	   /* dotted key path in messages */
#define CONFIG_WORD_MAX 64	   /* longest value quoted in a message */
#define CONFIG_SEEN_MAX 32	   /* keys in one map of the schema */

#define KiB    (1ull << 10)
#define MiB    (1ull << 20)
#define GiB    (1ull << 30)
#define TiB    (1ull << 40)
#define HOUR_S 3600u
#define DAY_S  86400u

/* ---- config_scalar.c: text to values and back ---- */

int config_parse_count(const char *s, uint64_t *out);
/* "0.5", "2", and with pct "50%". */
int config_parse_real(const char *s, bool pct, double *out);
int config_parse_bool(const char *s, bool *out);
const char *config_fmt_size(uint64_t v, char *buf, size_t cap);
const char *config_fmt_duration(uint64_t v, char *buf, size_t cap);
/* "host:port" or "[v6]:port"; with host_optional also ":port" and "port". */
bool config_hostport_ok(const char *s, bool host_optional);
bool config_name_ok(const char *s);
bool config_domain_labels_ok(const char *s);
/* A value quoted in a message: bounded, printable ASCII only. */
const char *config_echo(const char *s, char buf[CONFIG_WORD_MAX + 4]);
bool config_has_control(const char *s);

/* ---- config_schema.c: the keys ---- */

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

/* The top level; a CK_SECTION's aux is its own table. */
extern const struct ckey config_top_keys[];

/* ---- config_walk.c: the event walker ---- */

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

size_t cp_line(const struct cfg_parse *cp);
/* Sets the errbuf to "file:line: key: message"; returns -EINVAL. */
int __attribute__((format(printf, 3, 4)))
cp_err(struct cfg_parse *cp, size_t line, const char *fmt, ...);
/* Appends name to the key path; returns the old length to cut back to. */
size_t cp_push(struct cfg_parse *cp, const char *name);
const char *cp_what(const struct cfg_parse *cp);
int cp_next(struct cfg_parse *cp);
bool cp_is_null(const struct cfg_parse *cp);
int cp_text(struct cfg_parse *cp, const char **s, bool *null);

/* A key of a map or an entry of a list, as text; what it means is fn's. */
typedef int cp_each_fn(struct cfg_parse *cp, const char *text, void *arg);

int cp_each(struct cfg_parse *cp, yaml_event_type_t end, cp_each_fn *fn, void *arg);
int cp_enter(struct cfg_parse *cp, struct cp_seen *seen, unsigned int idx, const char *name);
int cp_unknown(struct cfg_parse *cp, const char *what, const char *name, const char *const *cands,
	       unsigned int n, bool elsewhere);

#endif /* RELAYWATCH_SENSOR_CONFIG_INT_H */
