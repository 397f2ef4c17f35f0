/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sprt: a per-host sequential probability ratio test (Wald), in the manner
 * of SPOT (Duan et al., "Detecting spam zombies by monitoring outgoing
 * messages", 2009), over what the wire says rather than over a content
 * classifier: replies that reject, blocklist and relay-denied replies,
 * signature hits, bounces, recipient domains new to the host, AUTH
 * outcomes. Each observation adds ln(P(o | relays spam) / P(o | normal));
 * the sum crossing ln((1-beta)/alpha) means "relays spam" at false-positive
 * rate alpha; falling to ln(beta/(1-alpha)) means "normal" and the test
 * restarts from 0 (Wald's restart), so a quiet history cannot hide a later
 * change. The table of probabilities and why: sprt.c. 8 bytes per host.
 * Embedded in the host table: detector thread only.
 */
#ifndef RELAYWATCH_SENSOR_SPRT_H
#define RELAYWATCH_SENSOR_SPRT_H

#include <stdbool.h>
#include <stdint.h>

enum sprt_obs {
	SPRT_RCPT_ACCEPTED = 0,
	SPRT_RCPT_REJECTED, /* 4xx/5xx for another reason (policy, content) */
	SPRT_RCPT_UNKNOWN,  /* unknown mailbox */
	SPRT_RELAY_DENIED,
	SPRT_BLOCKLIST,	 /* a server named a blocklist */
	SPRT_SIG_HIT,	 /* spam, phishing or spam-kit signature */
	SPRT_BOUNCE,	 /* a bounce came back to an address the host sent as */
	SPRT_NEW_DOMAIN, /* recipient domain the host did not use lately */
	SPRT_OLD_DOMAIN,
	SPRT_AUTH_FAIL,
	SPRT_AUTH_OK,
	SPRT_OBS_COUNT
};

struct sprt_cfg {
	float llr[SPRT_OBS_COUNT];
	float upper; /* ln((1 - beta) / alpha) */
	float lower; /* ln(beta / (1 - alpha)) */
	float cap;   /* the sum is kept below this so a host can recover */
};

struct sprt {
	float llr;	    /* current log-likelihood ratio */
	uint16_t crossings; /* times the upper bound was crossed */
	uint8_t above;	    /* currently at or above the upper bound */
	uint8_t pad;
};

/* alpha: false positives tolerated; beta: misses tolerated. */
void sprt_cfg_init(struct sprt_cfg *c, double alpha, double beta);
/* The probability pair behind an observation (for documentation and tests). */
void sprt_obs_probs(enum sprt_obs o, double *p_relay, double *p_normal);
const char *sprt_obs_name(enum sprt_obs o);

/* Add n observations of o; true when this call crossed the upper bound. */
bool sprt_observe(struct sprt *s, const struct sprt_cfg *c, enum sprt_obs o, uint32_t n);
/* The score shown to people: the sum when positive, else 0. */
double sprt_score(const struct sprt *s);

#endif /* RELAYWATCH_SENSOR_SPRT_H */
