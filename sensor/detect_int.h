/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * detect_int: the detection engine's insides, shared by detect_engine.c
 * (dispatch, roles, learning), detect_alerts.c (evidence, rate limiting,
 * emission) and the detectors detect_<kind>.c. Nothing outside those files
 * includes it. Everything here belongs to the detector thread.
 */
#ifndef RELAYWATCH_SENSOR_DETECT_INT_H
#define RELAYWATCH_SENSOR_DETECT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "sensor/account.h"
#include "sensor/alert.h"
#include "sensor/config.h"
#include "sensor/detect.h"
#include "sensor/event.h"
#include "sensor/host.h"
#include "sensor/lru.h"
#include "sensor/reply_text.h"

#define DETECT_NS	      1000000000ull
#define DETECT_EV_EXAMPLES    4
#define DETECT_EV_EXAMPLE_LEN 96
#define DETECT_EV_UIDS	      4
#define DETECT_EV_TXS	      4

/* Examples and flows gathered for one (host, kind, account) while its
 * counters climb, so the alert can name them when it fires. */
struct detect_evidence {
	uint64_t key;
	uint64_t first_ns, last_ns;
	struct window w;	    /* a counter of the detector's own (signature hits) */
	uint32_t tx[DETECT_EV_TXS]; /* transactions already counted (text and signature) */
	uint8_t n_uids, n_ex, tx_at, pad;
	char uids[DETECT_EV_UIDS][FLOW_UID_LEN + 1];
	struct {
		char field[16];
		char value[DETECT_EV_EXAMPLE_LEN];
	} ex[DETECT_EV_EXAMPLES];
};

/* The last state of one alert identity (host + kind + account). */
struct detect_alert_state {
	uint64_t key;
	uint64_t last_emit_ns;
	bool dirty; /* changed since last emitted */
	struct alert a;
};

/* One recipient a home server accepted from a foreign unauthenticated
 * client for a foreign domain, waiting to be seen leaving again. */
struct detect_pending {
	uint64_t key; /* hash of server + recipient */
	uint64_t ts_ns;
	union pkt_addr server; /* where it is now */
	union pkt_addr origin; /* the home server that took it from outside */
	union pkt_addr client; /* the foreign client */
	uint8_t family;
	char uid[FLOW_UID_LEN + 1];
	char rcpt[64]; /* for the alert, cut */
	char dom[64];  /* to learn from; "" when too long to keep */
};

/* A domain learned as hosted at home: accepted from outside, never left. */
struct detect_domain {
	uint64_t key;
	union pkt_addr server;
	uint8_t family;
	uint32_t learned_s;
	uint32_t hits; /* times it was learned again */
	char name[64];
};

/* Parameters as the detectors use them (from struct detect_cfg). */
struct detect_p {
	uint32_t or_min_relayed, or_min_domains, or_window;
	uint64_t or_relay_window_ns;
	uint32_t rp_min_denied, rp_min_servers, rp_window;
	uint32_t bf_min_failures, bf_window;
	uint32_t sp_min_users, sp_min_failures, sp_window;
	uint32_t ca_min_sources, ca_min_rcpts, ca_min_bounces, ca_window, ca_min_age;
	double ca_rate_factor;
	uint32_t mx_min_servers, mx_window, mx_min_xdp_flows;
	uint32_t bl_min_replies, bl_window;
	uint32_t hv_min_rcpts, hv_window;
	double hv_ratio;
	uint32_t bs_min_bounces, bs_window;
	uint32_t mr_min_addresses;
	uint32_t sf_min_messages, sf_window;
	uint32_t cs_min_severity, cs_min_hits, cs_window;
	double va_factor;
	uint32_t va_min_messages, va_min_rcpts, va_window, va_min_age;
};

struct detect_engine {
	const struct config *cfg;      /* not owned; outlives the engine */
	const struct netset *home_net; /* cfg's */
	detect_emit_fn *emit;
	void *emit_arg;

	bool on[ALERT_KIND_COUNT];
	uint8_t sev[ALERT_KIND_COUNT];
	struct detect_p p;
	uint64_t alert_interval_ns;
	struct window_cfg hw[HOST_W_COUNT];
	uint32_t hd_span[HOST_D_COUNT];
	struct window_cfg aw[ACCOUNT_W_COUNT];
	uint32_t acct_sources_span;
	struct window_cfg cs_wc;     /* signature hits (evidence window) */
	struct window_cfg mx_xdp_wc; /* connections counted by the XDP pre-filter */
	struct baseline_cfg host_base, acct_base;
	struct sprt_cfg sprt;

	struct distinct_pool *pool;
	struct host_table hosts;
	struct account_table accounts;
	struct lru pending, domains, evidence, alerts;

	uint64_t now_ns;       /* newest packet time seen */
	uint32_t alert_cursor; /* tick scan position in the alert table */
	struct alert scratch;  /* the alert being built */
	struct detect_stats st;
};

/* ---- roles and names (detect_engine.c) ---- */

bool detect_is_home(const struct detect_engine *de, const union pkt_addr *a);
bool detect_is_mail_server(const struct detect_engine *de, const struct host *h);
/* Configured home domain, or learned as hosted by a home server. */
bool detect_is_home_domain(const struct detect_engine *de, const char *dom, size_t len);

/* An address as carried in events: <> and spaces stripped, domain split. */
struct detect_addr {
	const char *s;
	size_t len;
	const char *dom; /* after the last '@'; len 0 when none */
	size_t dom_len;
};

void detect_split_addr(const char *s, size_t len, struct detect_addr *out);
uint64_t detect_hash_lower(const char *s, size_t len, uint64_t seed);
size_t detect_clamp(size_t len, size_t cap);

/* Host entries (created when missing). A pointer stays valid while fewer
 * than MIN_TABLE other hosts are looked up: tables never go below that. */
struct host *detect_host(struct detect_engine *de, uint8_t family, const union pkt_addr *a,
			 uint64_t ts_ns);
struct host *detect_client(struct detect_engine *de, const struct event_hdr *e);
struct host *detect_server(struct detect_engine *de, const struct event_hdr *e);
const char *detect_addr_str(uint8_t family, const union pkt_addr *a, char *buf, size_t cap);
bool detect_addr_is_set(const union pkt_addr *a);
/* Add an address as an example, written out. */
void detect_note_addr(struct detect_evidence *ev, const char *field, uint8_t family,
		      const union pkt_addr *a);

/* Count n events in a window (late ones are counted in the stats, not in
 * the window); the window's sum after it. detect_count: one event in a
 * host's window. */
uint32_t detect_window_add(struct detect_engine *de, struct window *w, const struct window_cfg *c,
			   uint64_t ts_ns, uint32_t n);
uint32_t detect_count(struct detect_engine *de, struct host *h, enum host_win w, uint64_t ts_ns);

/* ---- evidence and alerts (detect_alerts.c) ---- */

int detect_alerts_init(struct detect_engine *de);
void detect_alerts_fini(struct detect_engine *de);

struct detect_evidence *detect_evidence_get(struct detect_engine *de, const union pkt_addr *host,
					    enum alert_kind kind, uint64_t sub, uint64_t now_ns);
void detect_evidence_note(struct detect_evidence *ev, const char *field, const char *value,
			  size_t len);
void detect_evidence_uid(struct detect_evidence *ev, const char *uid);
/* Record a transaction (uid + depth) as counted; false if it already was. */
bool detect_evidence_tx_first(struct detect_evidence *ev, const char *uid, uint32_t depth);
/* The transaction's record (EV_TX) went by: the next one may reuse its depth. */
void detect_evidence_tx_end(struct detect_engine *de, const union pkt_addr *host,
			    enum alert_kind kind, const char *uid, uint32_t depth);

/* Start building an alert in de->scratch: identity, time, severity. */
struct alert *detect_alert_begin(struct detect_engine *de, enum alert_kind kind, uint8_t family,
				 const union pkt_addr *host, const char *account, uint64_t now_ns);
/* detect_alert_begin() for a host, with the counter that crossed first. */
struct alert *detect_alert_crossed(struct detect_engine *de, enum alert_kind kind,
				   const struct host *h, uint64_t now_ns, const char *counter,
				   double value, double threshold, uint32_t window_s);
/* Add the evidence's examples and flows, score it, rate-limit, emit. */
void detect_alert_fire(struct detect_engine *de, struct alert *a, const struct detect_evidence *ev);
void detect_alerts_tick(struct detect_engine *de, uint64_t now_ns, uint32_t budget);
void detect_alerts_flush(struct detect_engine *de);

double detect_host_score(const struct detect_engine *de, const struct host *h);
double detect_kinds_score(const struct detect_engine *de, uint32_t kinds);

/* ---- detectors (detect_<kind>.c) ---- */

/* Each reads its parameters from cfg into de->p and declares its spans. */
void detect_open_relay_init(struct detect_engine *de, const struct detect_cfg *cfg);
void detect_relay_probe_init(struct detect_engine *de, const struct detect_cfg *cfg);
void detect_auth_bruteforce_init(struct detect_engine *de, const struct detect_cfg *cfg);
void detect_auth_spray_init(struct detect_engine *de, const struct detect_cfg *cfg);
void detect_compromised_account_init(struct detect_engine *de, const struct detect_cfg *cfg);
void detect_direct_mx_bot_init(struct detect_engine *de, const struct detect_cfg *cfg);
void detect_blocklisted_init(struct detect_engine *de, const struct detect_cfg *cfg);
void detect_recipient_harvest_init(struct detect_engine *de, const struct detect_cfg *cfg);
void detect_bounce_storm_init(struct detect_engine *de, const struct detect_cfg *cfg);
void detect_mass_recipients_init(struct detect_engine *de, const struct detect_cfg *cfg);
void detect_spoofed_home_domain_init(struct detect_engine *de, const struct detect_cfg *cfg);
void detect_content_signature_init(struct detect_engine *de, const struct detect_cfg *cfg);
void detect_volume_anomaly_init(struct detect_engine *de, const struct detect_cfg *cfg);

void detect_open_relay_rcpt(struct detect_engine *de, const struct event_rcpt *r,
			    struct host *client);
void detect_open_relay_expire(struct detect_engine *de, uint64_t now_ns, uint32_t budget);
void detect_relay_probe_denied(struct detect_engine *de, const struct event_hdr *e, uint32_t depth,
			       struct host *client, const char *text, size_t len);
void detect_auth_bruteforce_fail(struct detect_engine *de, const struct event_auth *a,
				 struct host *client);
void detect_auth_spray_fail(struct detect_engine *de, const struct event_auth *a,
			    struct host *client);
void detect_compromised_account_auth(struct detect_engine *de, const struct event_auth *a);
void detect_compromised_account_tx(struct detect_engine *de, const struct smtp_tx *tx);
void detect_compromised_account_bounce(struct detect_engine *de, const struct account *mbox,
				       const struct smtp_tx *tx);
void detect_direct_mx_bot_open(struct detect_engine *de, const struct event_hdr *e,
			       struct host *client);
/* n more SMTP connections from h counted by the XDP pre-filter up to ts_ns. */
void detect_direct_mx_bot_xdp(struct detect_engine *de, struct host *h, uint32_t n, uint64_t ts_ns);
void detect_blocklisted_reply(struct detect_engine *de, const struct event_hdr *e, uint32_t depth,
			      const char *text, size_t len, uint32_t sig_id);
void detect_recipient_harvest_rcpt(struct detect_engine *de, const struct event_rcpt *r,
				   struct host *client, enum reply_text_class cls);
void detect_bounce_storm_tx(struct detect_engine *de, const struct smtp_tx *tx);
void detect_mass_recipients_tx(struct detect_engine *de, const struct smtp_tx *tx,
			       const struct host *c);
void detect_spoofed_home_domain_tx(struct detect_engine *de, const struct smtp_tx *tx,
				   struct host *client);
void detect_content_signature_hit(struct detect_engine *de, const struct event_sig *s,
				  struct host *client);
void detect_volume_anomaly_tx(struct detect_engine *de, const struct smtp_tx *tx,
			      struct host *client);

#endif /* RELAYWATCH_SENSOR_DETECT_INT_H */
