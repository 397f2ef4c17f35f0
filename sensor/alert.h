/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * alert: what a detector concluded about a host or an account, with the
 * evidence behind it: the counters and windows that crossed a threshold, a
 * few example values and the flows. A fixed-size value; the detector thread
 * fills it and hands it to the outputs (alerts.json, collector, metrics).
 * Alerts for one host and kind are rate-limited: an update carries the same
 * identity, higher counts and seq + 1.
 */
#ifndef RELAYWATCH_SENSOR_ALERT_H
#define RELAYWATCH_SENSOR_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/flow.h"
#include "dataplane/pkt.h"

/* Names are part of the interface (alerts.json "kind", metrics labels). */
#define ALERT_KINDS(X)                                                                             \
	X(OPEN_RELAY, "open_relay")                                                                \
	X(RELAY_PROBE, "relay_probe")                                                              \
	X(AUTH_BRUTEFORCE, "auth_bruteforce")                                                      \
	X(AUTH_SPRAY, "auth_spray")                                                                \
	X(COMPROMISED_ACCOUNT, "compromised_account")                                              \
	X(DIRECT_MX_BOT, "direct_mx_bot")                                                          \
	X(BLOCKLISTED, "blocklisted")                                                              \
	X(RECIPIENT_HARVEST, "recipient_harvest")                                                  \
	X(BOUNCE_STORM, "bounce_storm")                                                            \
	X(MASS_RECIPIENTS, "mass_recipients")                                                      \
	X(SPOOFED_HOME_DOMAIN, "spoofed_home_domain")                                              \
	X(CONTENT_SIGNATURE, "content_signature")                                                  \
	X(VOLUME_ANOMALY, "volume_anomaly")

enum alert_kind {
#define ALERT_X_ENUM(name, str) ALERT_##name,
	ALERT_KINDS(ALERT_X_ENUM)
#undef ALERT_X_ENUM
		ALERT_KIND_COUNT
};

enum alert_severity {
	ALERT_SEV_INFO = 0,
	ALERT_SEV_LOW = 1,
	ALERT_SEV_MEDIUM = 2,
	ALERT_SEV_HIGH = 3,
	ALERT_SEV_CRITICAL = 4,
};

#define ALERT_MAX_COUNTERS 8
#define ALERT_MAX_EXAMPLES 8
#define ALERT_MAX_UIDS	   8
#define ALERT_ACCOUNT_MAX  128
#define ALERT_EXAMPLE_MAX  160
#define ALERT_MESSAGE_MAX  200

struct alert_counter {
	char name[32]; /* e.g. "auth_failures", "distinct_users" */
	double value;
	double threshold;
	uint32_t window_s; /* 0: not windowed (one message, one reply) */
};

struct alert_example {
	char field[24]; /* e.g. "rcpt_domain", "user", "reply", "sig_id" */
	char value[ALERT_EXAMPLE_MAX];
};

struct alert {
	uint64_t ts_ns;	   /* packet time the alert fired (or was updated) */
	uint64_t first_ns; /* first evidence in the window */
	uint8_t kind;	   /* enum alert_kind */
	uint8_t severity;  /* enum alert_severity */
	uint8_t family;	   /* of host */
	uint8_t pad;
	uint32_t seq;	     /* 0 first time, then updates of the same host+kind(+account) */
	union pkt_addr host; /* the host the evidence is about */
	char account[ALERT_ACCOUNT_MAX]; /* AUTH user or mailbox, "" when per host only */
	double score;			 /* the host's score when the alert fired */
	char message[ALERT_MESSAGE_MAX]; /* one line for a human */
	uint32_t n_counters, n_examples, n_uids;
	struct alert_counter counters[ALERT_MAX_COUNTERS];
	struct alert_example examples[ALERT_MAX_EXAMPLES];
	char uids[ALERT_MAX_UIDS][FLOW_UID_LEN + 1];
};

const char *alert_kind_name(enum alert_kind k);
/* -1 when unknown */
int alert_kind_from_name(const char *name);
const char *alert_severity_name(enum alert_severity s);
int alert_severity_from_name(const char *name);

/* Builders; each ignores what does not fit. */
void alert_add_counter(struct alert *a, const char *name, double value, double threshold,
		       uint32_t window_s);
void alert_add_example(struct alert *a, const char *field, const char *value, size_t len);
void alert_add_uid(struct alert *a, const char *uid);

#endif /* RELAYWATCH_SENSOR_ALERT_H */
