/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rows_json: store rows as JSON objects with stable field names (the alert
 * fields match the sensor's alerts.json: ts, first_ts, kind, severity, host,
 * account, score, message, counters, examples, uids, seq), times as RFC 3339
 * UTC text, and a renderer that grows its buffer until a document fits.
 * Pure functions, any thread.
 */
#ifndef RELAYWATCH_COLLECTOR_ROWS_JSON_H
#define RELAYWATCH_COLLECTOR_ROWS_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "collector/store.h"
#include "common/jsonw.h"

#define ROWS_JSON_MAX_DOC (256u << 20)

/* "2024-05-01T12:00:00Z" (or "...:00.123Z" with ms); "" for 0. */
void rows_json_time(uint64_t ns, char *buf, size_t cap, int ms);
void rows_json_kv_time(struct jsonw *w, const char *key, uint64_t ns);
/* "%016llx": run ids are random 64-bit numbers, text keeps them whole in JSON. */
void rows_json_kv_hex(struct jsonw *w, const char *key, uint64_t v);

void rows_json_alert(struct jsonw *w, const struct store_alert *a);
void rows_json_summary(struct jsonw *w, const struct store_summary *s);
void rows_json_tx(struct jsonw *w, const struct store_tx *t);

typedef void rows_json_fn(struct jsonw *w, void *arg);

/*
 * Runs fn on a jsonw, doubling the buffer until the document fits (up to
 * ROWS_JSON_MAX_DOC). Returns a malloc'd NUL-terminated document ending in
 * '\n' with *len set, or NULL.
 */
char *rows_json_render(rows_json_fn *fn, void *arg, size_t *len);

#endif /* RELAYWATCH_COLLECTOR_ROWS_JSON_H */
