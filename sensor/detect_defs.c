// SPDX-License-Identifier: BSD-3-Clause
/*
 * The detector registry: names, default severities and parameters with the
 * reasons for their defaults. config.c validates YAML against this table.
 */
#include "sensor/detect.h"

#include <assert.h>
#include <string.h>

#define H 3600.0
#define M 60.0

/* The table is laid out by hand: clang-format 14 flips its declaration
 * between two layouts on every run. */
/* clang-format off */
const struct detect_def detect_defs[ALERT_KIND_COUNT] = {
	[ALERT_OPEN_RELAY] =
		{
			.kind = ALERT_OPEN_RELAY,
			.severity = ALERT_SEV_CRITICAL,
			.summary =
				"a home server accepts mail from a foreign, unauthenticated client "
				"for foreign domains",
			.n_params = 4,
			.params =
				{
					/* One relayed message proven by its copy leaving is enough.
					 */
					{"min_relayed", DETECT_P_COUNT, 1, 1, 1e6,
					 "accepted foreign-to-foreign recipients confirmed as "
					 "relayed"},
					/* The relayed copy leaves within minutes on a real open
					   relay. */
					{"relay_window", DETECT_P_SECONDS, 10 * M, 10, 24 * H,
					 "how long after acceptance a copy leaving the server "
					 "counts"},
					/* Without confirmation a hosting MX also takes many
					 * domains, so only a wide spread of unrelated domains is
					 * evidence. */
					{"min_domains", DETECT_P_COUNT, 20, 2, 1e6,
					 "distinct foreign recipient domains accepted from foreign "
					 "unauthenticated clients, not hosted by the server"},
					{"window", DETECT_P_SECONDS, 1 * H, 60, 7 * 24 * H,
					 "evidence window"},
				},
		},
	[ALERT_RELAY_PROBE] =
		{
			.kind = ALERT_RELAY_PROBE,
			.severity = ALERT_SEV_MEDIUM,
			.summary = "a client tries foreign-to-foreign relaying and is refused",
			.n_params = 3,
			/* One refusal is a misconfigured client; three are a probe. */
			.params =
				{
					{"min_denied", DETECT_P_COUNT, 3, 1, 1e6,
					 "relay-denied replies"},
					{"min_servers", DETECT_P_COUNT, 1, 1, 1e6,
					 "distinct servers refusing"},
					{"window", DETECT_P_SECONDS, 1 * H, 60, 7 * 24 * H,
					 "evidence window"},
				},
		},
	[ALERT_AUTH_BRUTEFORCE] =
		{
			.kind = ALERT_AUTH_BRUTEFORCE,
			.severity = ALERT_SEV_HIGH,
			.summary = "many failed AUTH from one source",
			.n_params = 2,
			/* A user who mistypes fails 2-3 times; clients give up after ~5. */
			.params =
				{
					{"min_failures", DETECT_P_COUNT, 10, 2, 1e6,
					 "AUTH failures (535)"},
					{"window", DETECT_P_SECONDS, 10 * M, 60, 24 * H,
					 "evidence window"},
				},
		},
	[ALERT_AUTH_SPRAY] =
		{
			.kind = ALERT_AUTH_SPRAY,
			.severity = ALERT_SEV_HIGH,
			.summary = "one source tries many user names",
			.n_params = 3,
			/* A shared NAT may carry a few users; five failing names is a spray. */
			.params =
				{
					{"min_users", DETECT_P_COUNT, 5, 2, 1e6,
					 "distinct user names tried"},
					{"min_failures", DETECT_P_COUNT, 5, 1, 1e6,
					 "AUTH failures"},
					{"window", DETECT_P_SECONDS, 10 * M, 60, 24 * H,
					 "evidence window"},
				},
		},
	[ALERT_COMPROMISED_ACCOUNT] =
		{
			.kind = ALERT_COMPROMISED_ACCOUNT,
			.severity = ALERT_SEV_HIGH,
			.summary = "an AUTH account used from many places, far above its own rate, "
				   "or drawing bounces",
			.n_params = 6,
			.params =
				{
					/* Phone, laptop, home and office are four; botnets use
					   dozens. */
					{"min_sources", DETECT_P_COUNT, 5, 2,
					 1e6, "distinct source addresses with successful AUTH"},
					{"rate_factor", DETECT_P_FACTOR, 10, 1.5, 1e6,
					 "recipients per window above the account's own baseline"},
					{"min_rcpts", DETECT_P_COUNT, 200,
					 1, 1e9, "recipients in the window before a rate can count"},
					{"min_bounces", DETECT_P_COUNT, 20, 1, 1e6,
					 "bounces (null sender) coming back to the account's "
					 "address"},
					{"window", DETECT_P_SECONDS, 1 * H, 60,
					 7 * 24 * H, "evidence window"},
					/* A baseline younger than this says nothing about normal.
					 */
					{"baseline_min_age", DETECT_P_SECONDS, 6 * H, 0,
					 30 * 24 * H, "history needed before rates are compared"},
				},
		},
	[ALERT_DIRECT_MX_BOT] =
		{
			.kind = ALERT_DIRECT_MX_BOT,
			.severity = ALERT_SEV_HIGH,
			.summary = "a home host that is not a mail server talks SMTP to many "
				   "foreign servers",
			.n_params = 3,
			/* A PC has no reason to reach any MX; ten is already a spam run. */
			.params =
				{
					{"min_servers", DETECT_P_COUNT, 10, 1,
					 1e6, "distinct foreign SMTP servers contacted on port 25"},
					{"window", DETECT_P_SECONDS, 1 * H, 60,
					 7 * 24 * H, "evidence window"},
					/* Live AF_XDP only: the pre-filter counts connections
					 * per source even when the sessions are encrypted or
					 * user space is behind. A mail client submits a few
					 * messages an hour over one or two connections each. */
					{"min_xdp_flows", DETECT_P_COUNT, 100, 2, 1e6,
					 "SMTP connections started (any SMTP port), counted by "
					 "the XDP pre-filter"},
				},
		},
	[ALERT_BLOCKLISTED] =
		{
			.kind = ALERT_BLOCKLISTED,
			.severity = ALERT_SEV_HIGH,
			.summary = "a remote server's reply names a blocklist for a home client",
			.n_params = 2,
			/* The remote operator already decided; one reply is the fact. */
			.params =
				{
					{"min_replies", DETECT_P_COUNT, 1, 1,
					 1e6, "blocklist replies"},
					{"window", DETECT_P_SECONDS, 1 * H, 60,
					 7 * 24 * H, "evidence window"},
				},
		},
	[ALERT_RECIPIENT_HARVEST] =
		{
			.kind = ALERT_RECIPIENT_HARVEST,
			.severity = ALERT_SEV_MEDIUM,
			.summary = "a high share of rejected recipients (unknown users)",
			.n_params = 3,
			/* Address books go stale by a few percent; half unknown is guessing. */
			.params =
				{
					{"min_rcpts", DETECT_P_COUNT, 20, 1,
					 1e6, "recipients tried"},
					{"reject_ratio", DETECT_P_RATIO, 0.5, 0.01, 1,
					 "share rejected as unknown"},
					{"window", DETECT_P_SECONDS, 10 * M, 60,
					 24 * H, "evidence window"},
				},
		},
	[ALERT_BOUNCE_STORM] =
		{
			.kind = ALERT_BOUNCE_STORM,
			.severity = ALERT_SEV_MEDIUM,
			.summary = "many null-sender messages to one home address (backscatter)",
			.n_params = 2,
			.params =
				{
					{"min_bounces", DETECT_P_COUNT, 20, 1,
					 1e6, "bounces to one address"},
					{"window", DETECT_P_SECONDS, 10 * M, 60,
					 24 * H, "evidence window"},
				},
		},
	[ALERT_MASS_RECIPIENTS] =
		{
			.kind = ALERT_MASS_RECIPIENTS,
			.severity = ALERT_SEV_LOW,
			.summary =
				"one message with very many addresses in To/Cc (the Bcc mistake)",
			.n_params = 1,
			/* Team mails reach a few dozen; a hundred visible addresses is a leak. */
			.params =
				{
					{"min_addresses", DETECT_P_COUNT, 100,
					 2, 1e6, "addresses in To and Cc"},
				},
		},
	[ALERT_SPOOFED_HOME_DOMAIN] =
		{
			.kind = ALERT_SPOOFED_HOME_DOMAIN,
			.severity = ALERT_SEV_MEDIUM,
			.summary = "a foreign unauthenticated client sends MAIL FROM a home domain",
			.n_params = 2,
			.params =
				{
					{"min_messages", DETECT_P_COUNT, 1, 1,
					 1e6, "accepted spoofed senders"},
					{"window", DETECT_P_SECONDS, 1 * H, 60,
					 7 * 24 * H, "evidence window"},
				},
		},
	[ALERT_CONTENT_SIGNATURE] =
		{
			.kind = ALERT_CONTENT_SIGNATURE,
			.severity = ALERT_SEV_MEDIUM,
			.summary = "Hyperscan signatures over commands, replies, headers, bodies, "
				   "URLs",
			.n_params = 3,
			.params =
				{
					{"min_severity", DETECT_P_COUNT, 2, 0, 4,
					 "lowest signature severity that alerts (0 info .. 4 "
					 "critical)"},
					{"min_hits", DETECT_P_COUNT, 1, 1,
					 1e6, "hits of one signature in the window"},
					/* Only matters when min_hits > 1: a rule that needs several
					 * hits wants them from one run of mail, not over days. */
					{"window", DETECT_P_SECONDS, 1 * H, 60,
					 7 * 24 * H, "window for min_hits"},
				},
		},
	[ALERT_VOLUME_ANOMALY] =
		{
			.kind = ALERT_VOLUME_ANOMALY,
			.severity = ALERT_SEV_MEDIUM,
			.summary = "message or recipient rate far above the host's own baseline",
			.n_params = 6,
			.params =
				{
					{"factor", DETECT_P_FACTOR, 10, 1.5, 1e6,
					 "rate over baseline"},
					/* Below this, a tenfold jump is still a handful of mails.
					 */
					{"min_messages", DETECT_P_COUNT, 50, 1,
					 1e9, "messages in the window"},
					{"window", DETECT_P_SECONDS, 10 * M, 60,
					 24 * H, "rate window"},
					{"baseline_halflife", DETECT_P_SECONDS, 24 * H, 60,
					 30 * 24 * H, "how fast the baseline forgets"},
					{"baseline_min_age", DETECT_P_SECONDS, 6 * H, 0,
					 30 * 24 * H, "history needed before rates are compared"},
					/* Spam runs often send one message to many recipients: the
					 * recipient rate is judged too, with its own floor, five
					 * recipients a message above min_messages. */
					{"min_rcpts", DETECT_P_COUNT, 250,
					 1, 1e9, "recipients in the window"},
				},
		},
};

void detect_cfg_default(struct detect_cfg cfg[ALERT_KIND_COUNT])
{
	for (int k = 0; k < ALERT_KIND_COUNT; k++) {
		memset(&cfg[k], 0, sizeof(cfg[k]));
		cfg[k].enabled = true;
		cfg[k].severity = detect_defs[k].severity;
		for (unsigned int i = 0; i < detect_defs[k].n_params; i++)
			cfg[k].p[i] = detect_defs[k].params[i].def;
	}
}

int detect_param_index(enum alert_kind kind, const char *name)
{
	const struct detect_def *d = &detect_defs[kind];

	for (unsigned int i = 0; i < d->n_params; i++)
		if (strcmp(d->params[i].name, name) == 0)
			return (int)i;
	return -1;
}

double detect_param(const struct detect_cfg *cfg, enum alert_kind kind, const char *name)
{
	int i = detect_param_index(kind, name);

	assert(i >= 0);
	return i >= 0 ? cfg[kind].p[i] : 0;
}
/* clang-format on */
