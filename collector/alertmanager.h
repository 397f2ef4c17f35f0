/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * alertmanager: the collector's alerts posted to Prometheus Alertmanager
 * (POST /api/v2/alerts, libcurl with timeouts) from a worker thread, so ingest
 * never waits on it. Each alert is identified by its labels: alertname
 * (Relaywatch<Kind>), kind, host, severity, sensor, and account when set;
 * annotations carry the message and the evidence; generatorURL points at the
 * collector's host page. A firing alert is re-sent every resend interval
 * (keep it below Alertmanager's resolve_timeout, 5m by default) without
 * endsAt; when a host has had no alert for quiet_after seconds, every alert of
 * that host is sent once more with endsAt = now (resolved) and forgotten.
 *
 * Owns: the thread, the curl handle, the notification queue and the table of
 * firing alerts (bounded; what does not fit is dropped and counted).
 * alertmanager_notify() may be called from any one thread (the writer).
 */
#ifndef RELAYWATCH_COLLECTOR_ALERTMANAGER_H
#define RELAYWATCH_COLLECTOR_ALERTMANAGER_H

#include <stdint.h>

#include "collector/metrics.h"
#include "collector/store.h"
#include "common/errbuf.h"

struct alertmanager;

struct alertmanager_cfg {
	const char *url;	    /* Alertmanager base URL, e.g. http://127.0.0.1:9093 */
	const char *public_url;	    /* the collector's HTTP base for generatorURL */
	unsigned int resend_s;	    /* 0: 60 */
	unsigned int quiet_after_s; /* 0: 900 */
	unsigned int timeout_ms;    /* per POST; 0: 5000 */
	unsigned int max_alerts;    /* firing alerts kept; 0: 10000 */
	struct metrics *metrics;
};

int alertmanager_create(const struct alertmanager_cfg *cfg, struct alertmanager **out,
			struct errbuf *eb);
/* Resolves nothing: what fires stays firing in Alertmanager until its resolve_timeout. */
void alertmanager_destroy(struct alertmanager *am);
/* A new alert was stored. Copies what it needs; never blocks on the network. */
void alertmanager_notify(struct alertmanager *am, const struct store_alert *a);

/* "open_relay" -> "RelaywatchOpenRelay" */
void alertmanager_alertname(const char *kind, char *buf, size_t cap);

#endif /* RELAYWATCH_COLLECTOR_ALERTMANAGER_H */
