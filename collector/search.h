/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * search: the investigation archive for a person (`relaywatch-collector
 * search`) and for the API (/api/search): who sent what to whom, from where
 * and when. Parses the time bounds people type and writes the transactions
 * found as a table or as one JSON document. The caller's thread.
 */
#ifndef RELAYWATCH_COLLECTOR_SEARCH_H
#define RELAYWATCH_COLLECTOR_SEARCH_H

#include <stdint.h>
#include <stdio.h>

#include "collector/store.h"
#include "common/jsonw.h"

/*
 * A time bound: epoch seconds ("1714560000"), RFC 3339 / ISO 8601 in UTC
 * ("2024-05-01", "2024-05-01T12:00", "2024-05-01T12:00:00Z", "2024-05-01 12:00:00"),
 * or an age before now ("90s", "30m", "12h", "7d"). 0 or -EINVAL.
 */
int search_parse_time(const char *s, uint64_t now_ns, uint64_t *out_ns);

/* Runs q and writes the matches. 0 or -errno. */
int search_write_table(FILE *f, struct store *st, const struct store_search *q);
/* {"query":{...},"count":N,"transactions":[...]} */
int search_json(struct jsonw *w, struct store *st, const struct store_search *q);
int search_write_json(FILE *f, struct store *st, const struct store_search *q);

#endif /* RELAYWATCH_COLLECTOR_SEARCH_H */
