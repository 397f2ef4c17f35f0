// SPDX-License-Identifier: BSD-3-Clause
/*
 * The schema of the configuration file: one table of keys per section, each
 * key with its type, its field in struct config and, for numbers, its bounds.
 * The reader walks these tables; deploy/relaywatch.yaml documents every key.
 */
#include "sensor/config_int.h"

#include <stddef.h>

#include "sensor/smtp_session.h"

#define CFG_OFF(m) offsetof(struct config, m)
#define CFG_SZ(m)  sizeof(((struct config *)0)->m)
/* clang-format off */
#define K_BOOL(n, m)		{ n, CK_BOOL, CFG_SZ(m), CFG_OFF(m), 0, 0, 1, NULL }
#define K_NUM(n, t, m, lo, hi)	{ n, t, CFG_SZ(m), CFG_OFF(m), 0, lo, hi, NULL }
#define K_STR(n, t, m)		{ n, t, 0, CFG_OFF(m), CFG_SZ(m), 0, 0, NULL }
#define K_ENUM(n, m, names)	{ n, CK_ENUM, CFG_SZ(m), CFG_OFF(m), 0, 0, 0, names }
#define K_LIST(n, t, m, cnt)	{ n, t, 0, CFG_OFF(m), CFG_OFF(cnt), 0, 0, NULL }
#define K_SET(n, t, m)		{ n, t, 0, CFG_OFF(m), 0, 0, 0, NULL }
#define K_SECTION(n, sub)	{ n, CK_SECTION, 0, 0, 0, 0, 0, sub }
#define K_END			{ NULL, 0, 0, 0, 0, 0, 0, NULL }
/* clang-format on */

static const char *const report_names[] = {"table", "json", "none", NULL};
static const char *const xdp_mode_names[] = {"auto", "native", "generic", NULL};
static const char *const bind_names[] = {"auto", "zero-copy", "copy", NULL};

_Static_assert(CONFIG_REPORT_NONE == 2 && SOURCE_XDP_GENERIC == 2 && SOURCE_BIND_COPY == 2,
	       "the name tables follow the enums");
_Static_assert(sizeof(enum config_report) == sizeof(int) && sizeof(enum source_bind) == sizeof(int),
	       "enum fields are stored as int");

/* Floors and ceilings: below them the sensor cannot work, above them it is a
 * typo (a flow table of 10, a terabyte of reassembly). */
static const struct ckey capture_keys[] = {
	K_NUM("workers", CK_COUNT, workers, 0, SOURCE_MAX_QUEUES),
	K_BOOL("checksums", verify_checksums),
	K_BOOL("vlan_in_key", vlan_in_key),
	K_END,
};

static const struct ckey limits_keys[] = {
	K_NUM("flows_per_worker", CK_COUNT, limits.flows_per_worker, 1024, 1u << 24),
	K_NUM("flow_idle_timeout", CK_DURATION, limits.flow_idle_timeout_s, 10, DAY_S),
	K_NUM("flow_embryonic_timeout", CK_DURATION, limits.flow_embryonic_timeout_s, 1, HOUR_S),
	K_NUM("flow_closed_timeout", CK_DURATION, limits.flow_closed_timeout_s, 1, HOUR_S),
	K_NUM("reasm_bytes_per_flow", CK_SIZE, limits.reasm_bytes_per_flow, 4 * KiB, 16 * MiB),
	K_NUM("reasm_bytes_per_worker", CK_SIZE, limits.reasm_bytes_per_worker, MiB, 16 * GiB),
	K_NUM("smtp_sessions_per_worker", CK_COUNT, limits.smtp_sessions_per_worker, 64,
	      SMTP_SESSIONS_MAX),
	K_NUM("smtp_max_line", CK_SIZE, limits.smtp_max_line, 512, 64 * KiB),
	K_NUM("smtp_max_header_bytes", CK_SIZE, limits.smtp_max_header_bytes, 4 * KiB, 16 * MiB),
	K_NUM("smtp_max_pipeline", CK_COUNT, limits.smtp_max_pipeline, 1, 4096),
	K_NUM("event_ring_bytes", CK_SIZE, limits.event_ring_bytes, MiB, 4 * GiB),
	K_NUM("hosts", CK_COUNT, limits.hosts, 1024, 1u << 27),
	K_NUM("accounts", CK_COUNT, limits.accounts, 1024, 1u << 26),
	K_END,
};

static const struct ckey alerts_keys[] = {
	K_NUM("interval", CK_DURATION, alert_interval_s, 1, 7 * DAY_S),
	K_END,
};

static const struct ckey signatures_keys[] = {
	K_LIST("files", CK_PATHS, sig_files, n_sig_files),
	K_BOOL("enabled", sigs_enabled),
	K_END,
};

static const struct ckey privacy_keys[] = {
	K_BOOL("pseudonymize", pseudonymize),
	K_BOOL("pseudonymize_ips", pseudonymize_ips),
	K_STR("key_file", CK_PATH, key_file),
	K_BOOL("keep_subject", keep_subject),
	K_END,
};

static const struct ckey output_keys[] = {
	K_STR("log_dir", CK_PATH, log_dir),
	K_ENUM("report", report, report_names),
	K_STR("metrics", CK_LISTEN, metrics_addr),
	K_END,
};

static const struct ckey collector_keys[] = {
	K_STR("address", CK_HOSTPORT, collector.address),
	K_STR("tls_cert", CK_PATH, collector.tls_cert),
	K_STR("tls_key", CK_PATH, collector.tls_key),
	K_STR("tls_ca", CK_PATH, collector.tls_ca),
	K_BOOL("plaintext", collector.plaintext),
	K_STR("sensor_id", CK_NAME, collector.sensor_id),
	K_STR("spool_dir", CK_PATH, collector.spool_dir),
	K_NUM("spool_max_bytes", CK_SIZE, collector.spool_max_bytes, MiB, TiB),
	K_BOOL("archive", collector.archive),
	K_NUM("summary_interval", CK_DURATION, collector.summary_interval_s, 5, DAY_S),
	K_NUM("drain_timeout", CK_DURATION, collector.drain_timeout_s, 1, DAY_S),
	K_END,
};

static const struct ckey live_keys[] = {
	K_STR("user", CK_NAME, live.user),
	K_STR("group", CK_NAME, live.group),
	K_NUM("queues", CK_COUNT, live.queues, 1, SOURCE_MAX_QUEUES),
	K_ENUM("xdp_mode", live.xdp_mode, xdp_mode_names),
	K_ENUM("bind", live.bind, bind_names),
	K_BOOL("busy_poll", live.busy_poll),
	K_BOOL("seccomp", live.seccomp),
	K_END,
};

const struct ckey config_top_keys[] = {
	K_SET("home_net", CK_NETS, home_net),
	K_SET("home_domains", CK_DOMAINS, home_domains),
	K_SET("mail_servers", CK_NETS, mail_servers),
	K_LIST("smtp_ports", CK_PORTS, smtp_ports, n_smtp_ports),
	K_LIST("tls_ports", CK_PORTS, tls_ports, n_tls_ports),
	K_BOOL("detect_any_port", detect_any_port),
	K_SECTION("capture", capture_keys),
	K_SECTION("limits", limits_keys),
	{"detectors", CK_DETECTORS, 0, 0, 0, 0, 0, NULL},
	K_SECTION("alerts", alerts_keys),
	K_SECTION("signatures", signatures_keys),
	K_SECTION("privacy", privacy_keys),
	K_SECTION("output", output_keys),
	K_SECTION("collector", collector_keys),
	K_SECTION("live", live_keys),
	K_END,
};
