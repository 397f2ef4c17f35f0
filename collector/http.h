/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http: the collector's read-only HTTP API on common/httpd (127.0.0.1 by
 * default): /api/hosts (ranking), /api/hosts/{ip} (one host: its ranking
 * entry, alerts, summaries, sensors, accounts), /api/accounts,
 * /api/sensors, /api/search (the archive), / (the HTML report) and /metrics
 * (which also refreshes the bounded top-N ranking gauge). Opens its own
 * store connection; everything runs on httpd's one thread.
 */
#ifndef RELAYWATCH_COLLECTOR_HTTP_H
#define RELAYWATCH_COLLECTOR_HTTP_H

#include <stdint.h>

#include "collector/metrics.h"
#include "collector/store.h"
#include "common/errbuf.h"

struct http;

struct http_cfg {
	const char *listen; /* HOST:PORT, :PORT = 127.0.0.1 */
	const char *db;
	struct store_opts store_opts;
	double min_score;	 /* default for /api/hosts, / and the gauge */
	unsigned int rank_ttl_s; /* /metrics recomputes the ranking at most this often; 0: 15 */
	struct metrics *metrics;
};

int http_create(const struct http_cfg *cfg, struct http **out, struct errbuf *eb);
void http_destroy(struct http *h);
uint16_t http_port(const struct http *h);

#endif /* RELAYWATCH_COLLECTOR_HTTP_H */
