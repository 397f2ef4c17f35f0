/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config: everything a sensor run is told, from defaults, a YAML file
 * (libyaml) and the command line, in that order of precedence. Every limit
 * of the data path is here with a safe default. Loading never exits: errors
 * come back as -EINVAL with "file:line: key: message" in the errbuf, and
 * unknown keys are errors. Built on the main thread before anything starts;
 * read-only afterwards (a SIGHUP reload builds a new one).
 *
 * YAML layout (deploy/relaywatch.yaml documents every key):
 *   home_net, home_domains, mail_servers, smtp_ports, tls_ports, detect_any_port,
 *   capture:    workers, checksums, vlan_in_key
 *   limits:     flows_per_worker, flow_idle_timeout, flow_embryonic_timeout,
 *               flow_closed_timeout, reasm_bytes_per_flow, reasm_bytes_per_worker,
 *               smtp_sessions_per_worker, smtp_max_line, smtp_max_header_bytes,
 *               smtp_max_pipeline, event_ring_bytes, hosts, accounts
 *   detectors:  <kind>: { enabled, severity, <param>: value ... }   (detect_defs)
 *   alerts:     interval
 *   signatures: files, enabled
 *   privacy:    pseudonymize, pseudonymize_ips, key_file, keep_subject
 *   output:     log_dir, report, metrics
 *   collector:  address, tls_cert, tls_key, tls_ca, plaintext, sensor_id, spool_dir,
 *               spool_max_bytes, archive, summary_interval, drain_timeout
 *   live:       user, group, queues, xdp_mode, bind, busy_poll, seccomp
 * Sizes accept suffixes (64KiB, 32MiB, 1GiB), durations 90, 90s, 10m, 2h, 1d.
 */
#ifndef RELAYWATCH_SENSOR_CONFIG_H
#define RELAYWATCH_SENSOR_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/errbuf.h"
#include "dataplane/source.h"
#include "sensor/detect.h"
#include "sensor/netset.h"

#define CONFIG_MAX_PORTS     32
#define CONFIG_MAX_SIG_FILES 16
#define CONFIG_PATH_MAX	     1024
#define CONFIG_NAME_MAX	     128

enum config_report {
	CONFIG_REPORT_TABLE = 0,
	CONFIG_REPORT_JSON = 1,
	CONFIG_REPORT_NONE = 2,
};

struct config_limits {
	uint32_t flows_per_worker;	   /* 262144 */
	uint32_t flow_idle_timeout_s;	   /* 300 */
	uint32_t flow_embryonic_timeout_s; /* 30 */
	uint32_t flow_closed_timeout_s;	   /* 5 */
	uint32_t reasm_bytes_per_flow;	   /* 64 KiB */
	uint64_t reasm_bytes_per_worker;   /* 64 MiB */
	uint32_t smtp_sessions_per_worker; /* 16384 */
	uint32_t smtp_max_line;		   /* 2048 */
	uint32_t smtp_max_header_bytes;	   /* 64 KiB */
	uint32_t smtp_max_pipeline;	   /* 64 */
	uint64_t event_ring_bytes;	   /* 32 MiB per worker */
	uint32_t hosts;			   /* 1000000 */
	uint32_t accounts;		   /* 262144 */
};

struct config_collector {
	char address[CONFIG_NAME_MAX]; /* HOST:PORT, "" = none */
	char tls_cert[CONFIG_PATH_MAX];
	char tls_key[CONFIG_PATH_MAX];
	char tls_ca[CONFIG_PATH_MAX];
	bool plaintext;
	char sensor_id[CONFIG_NAME_MAX]; /* default: host name */
	char spool_dir[CONFIG_PATH_MAX]; /* "" = in memory only */
	uint64_t spool_max_bytes;	 /* 256 MiB */
	bool archive;			 /* transaction metadata too */
	uint32_t summary_interval_s;	 /* HostSummary period, 60 */
	uint32_t drain_timeout_s;	 /* end of a run: give up after this long
					  * without an ack, 60 */
};

struct config_live {
	char user[CONFIG_NAME_MAX]; /* drop root to this user ("" = stay) */
	char group[CONFIG_NAME_MAX];
	uint16_t queues;
	enum source_xdp_mode xdp_mode;
	enum source_bind bind;
	bool busy_poll;
	bool seccomp; /* default true */
};

struct config {
	char file[CONFIG_PATH_MAX]; /* where it came from, "" = defaults */

	struct netset home_net;
	struct domset home_domains;
	struct netset mail_servers; /* empty: learn servers from 220 banners */
	uint16_t smtp_ports[CONFIG_MAX_PORTS], n_smtp_ports; /* 25, 587, 2525 */
	uint16_t tls_ports[CONFIG_MAX_PORTS], n_tls_ports;   /* 465 */
	bool detect_any_port;				     /* true */

	uint16_t workers;      /* 0 = default */
	bool verify_checksums; /* false */
	bool vlan_in_key;      /* true */

	struct config_limits limits;
	struct detect_cfg detectors[ALERT_KIND_COUNT];
	uint32_t alert_interval_s; /* one alert per host+kind per interval, 300 */

	char sig_files[CONFIG_MAX_SIG_FILES][CONFIG_PATH_MAX];
	unsigned int n_sig_files; /* default: the installed default set */
	bool sigs_enabled;	  /* true */

	bool pseudonymize;     /* false */
	bool pseudonymize_ips; /* false */
	char key_file[CONFIG_PATH_MAX];
	bool keep_subject; /* false */

	char log_dir[CONFIG_PATH_MAX];
	enum config_report report;
	char metrics_addr[CONFIG_NAME_MAX]; /* HOST:PORT, "" = off */

	struct config_collector collector;
	struct config_live live;
};

/* Defaults only; never fails except for memory. */
int config_init(struct config *cfg);
void config_fini(struct config *cfg);
/* Read YAML over the current values. */
int config_load(struct config *cfg, const char *path, struct errbuf *eb);
/* Parse from memory (tests, fuzzing); name is used in messages. */
int config_load_buffer(struct config *cfg, const char *name, const char *yaml, size_t len,
		       struct errbuf *eb);
/* After file and CLI: cross-checks (TLS files exist, ports disjoint, ...). */
int config_validate(const struct config *cfg, struct errbuf *eb);

/* "64KiB" / "90s" parsing shared with the CLI; -EINVAL on garbage. */
int config_parse_size(const char *s, uint64_t *out);
int config_parse_duration(const char *s, uint32_t *secs);

/* 65536-bit port maps built from the lists. */
void config_port_map(const uint16_t *ports, uint16_t n, uint8_t map[8192]);

#endif /* RELAYWATCH_SENSOR_CONFIG_H */
