/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * alert_json: one alert as one alerts.json line: ts, kind, severity, host,
 * account, score, message, the counters that crossed (value, threshold,
 * window), examples, flow uids and seq (0 for a new alert, then updates of
 * the same host + kind + account). Pure formatting into a caller's buffer;
 * export_json writes the line. Any thread. With privacy.pseudonymize_ips the
 * host and every address in the message and examples are pseudonyms.
 */
#ifndef RELAYWATCH_EXPORTERS_ALERT_JSON_H
#define RELAYWATCH_EXPORTERS_ALERT_JSON_H

#include <stddef.h>

#include "sensor/alert.h"
#include "sensor/privacy.h"

/* A record never needs more than this (fixed-size alert, worst-case escaping). */
#define ALERT_JSON_LINE_MAX 16384

/* "\n"-terminated line; its length, or -1 when cap is too small. ips: the
 * privacy state when privacy.pseudonymize_ips is on, else NULL. */
long alert_json_format(const struct alert *a, const struct privacy *ips, char *buf, size_t cap);

#endif /* RELAYWATCH_EXPORTERS_ALERT_JSON_H */
