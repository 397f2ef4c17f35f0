/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * export_json: the JSON-lines sinks. DIR/smtp.json gets one object per SMTP
 * transaction (and one per session that had none), with Zeek smtp.log field
 * names where the meaning is the same; DIR/alerts.json one object per alert.
 * Formatting is separate from writing so tests and other sinks can reuse it.
 *
 * Owns: its open files. Used by the detector thread only.
 */
#ifndef RELAYWATCH_EXPORTERS_EXPORT_JSON_H
#define RELAYWATCH_EXPORTERS_EXPORT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"
#include "sensor/smtp_tx.h"

#define EXPORT_JSON_LINE_MAX (64 * 1024)
#define EXPORT_JSON_IPS_MAX  4096 /* a value with addresses rewritten is cut here */

struct privacy;

struct export_json_stats {
	uint64_t tx_lines;
	uint64_t alert_lines;
	uint64_t write_errors;
	uint64_t overflow; /* a record larger than EXPORT_JSON_LINE_MAX (not written) */
};

struct export_json;

/* Creates DIR if needed and truncates DIR/smtp.json and DIR/alerts.json. */
int export_json_open(const char *dir, struct export_json **out, struct errbuf *eb);
void export_json_close(struct export_json *ej);

/* privacy.pseudonymize_ips: addresses of the records (endpoints, path, HELO,
 * Received:, replies) as pseudonyms from now on; NULL: as seen. p must outlive ej. */
void export_json_set_privacy(struct export_json *ej, const struct privacy *p);
void export_json_tx(struct export_json *ej, const struct smtp_tx *tx);
/* A pre-formatted alert line (exporters/alert_json.c formats it). */
void export_json_alert_line(struct export_json *ej, const char *line, size_t len);
int export_json_flush(struct export_json *ej);
const struct export_json_stats *export_json_stats(const struct export_json *ej);

/* One smtp.json line, "\n"-terminated; returns its length, or -1 when cap is too small.
 * ips: as export_json_set_privacy. */
long export_json_format_tx(const struct smtp_tx *tx, const struct privacy *ips, char *buf,
			   size_t cap);
/* Text form of an address of the record's family. */
const char *export_json_addr(uint8_t family, const union pkt_addr *a, char *buf, size_t cap);

#endif /* RELAYWATCH_EXPORTERS_EXPORT_JSON_H */
