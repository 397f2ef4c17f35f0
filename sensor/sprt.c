// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/sprt.h"

#include <math.h>

/*
 * P(observation | the host relays spam) and P(observation | it does not),
 * per observation. SPOT used 0.9 / 0.2 for "this message is spam"; we have
 * no per-message verdict, so each wire signal gets its own pair, chosen so
 * that what a normal sender meets now and then moves the sum a little and
 * what it almost never meets moves it a lot:
 *
 * - accepted recipient 0.50 / 0.95 (-0.64): most mail of a normal sender is
 *   accepted; half of a spam run is, so acceptance is mild evidence of good.
 * - rejected recipient 0.30 / 0.03 (+2.30): policy and content rejections
 *   hit a few percent of honest mail, a third of spam.
 * - unknown mailbox 0.20 / 0.02 (+2.30): address books go stale slowly;
 *   harvested and guessed lists bounce in bulk.
 * - relay denied 0.10 / 0.001 (+4.61): an honest client almost never asks a
 *   server to relay for strangers; two of these nearly decide.
 * - blocklist reply 0.10 / 0.0005 (+5.30): somebody else already decided;
 *   one such reply plus any other sign crosses.
 * - signature hit 0.30 / 0.01 (+3.40): spam-kit and phishing rules are
 *   written to be rare on honest mail.
 * - bounce back 0.20 / 0.02 (+2.30): backscatter of forged or spammed mail.
 * - new recipient domain 0.80 / 0.50 (+0.47) and known domain 0.20 / 0.50
 *   (-0.92): spam spreads over domains, people write to the same ones. Kept
 *   weak on purpose: a new mail server also meets many new domains, and
 *   with acceptance (-0.64) a new domain alone never adds up.
 * - AUTH failure 0.50 / 0.05 (+2.30), success 0.40 / 0.95 (-0.86): typos
 *   happen, ten in a row do not.
 *
 * Bounds: alpha = 0.001, beta = 0.01 (engine default) give +6.9 / -4.6, so
 * e.g. three unknown-mailbox rejections with nothing good in between, or
 * one blocklist reply and one relay denial, cross; a normal host with a
 * stale address now and then drifts back to the lower bound and restarts.
 */
static const struct {
	const char *name;
	double p_relay, p_normal;
} obs_tab[SPRT_OBS_COUNT] = {
	[SPRT_RCPT_ACCEPTED] = {"rcpt_accepted", 0.50, 0.95},
	[SPRT_RCPT_REJECTED] = {"rcpt_rejected", 0.30, 0.03},
	[SPRT_RCPT_UNKNOWN] = {"rcpt_unknown", 0.20, 0.02},
	[SPRT_RELAY_DENIED] = {"relay_denied", 0.10, 0.001},
	[SPRT_BLOCKLIST] = {"blocklist", 0.10, 0.0005},
	[SPRT_SIG_HIT] = {"sig_hit", 0.30, 0.01},
	[SPRT_BOUNCE] = {"bounce", 0.20, 0.02},
	[SPRT_NEW_DOMAIN] = {"new_domain", 0.80, 0.50},
	[SPRT_OLD_DOMAIN] = {"old_domain", 0.20, 0.50},
	[SPRT_AUTH_FAIL] = {"auth_fail", 0.50, 0.05},
	[SPRT_AUTH_OK] = {"auth_ok", 0.40, 0.95},
};

void sprt_obs_probs(enum sprt_obs o, double *p_relay, double *p_normal)
{
	*p_relay = obs_tab[o].p_relay;
	*p_normal = obs_tab[o].p_normal;
}

const char *sprt_obs_name(enum sprt_obs o)
{
	return (unsigned int)o < SPRT_OBS_COUNT ? obs_tab[o].name : "unknown";
}

void sprt_cfg_init(struct sprt_cfg *c, double alpha, double beta)
{
	for (int o = 0; o < SPRT_OBS_COUNT; o++)
		c->llr[o] = (float)log(obs_tab[o].p_relay / obs_tab[o].p_normal);
	c->upper = (float)log((1.0 - beta) / alpha);
	c->lower = (float)log(beta / (1.0 - alpha));
	/* Three times the decision: a relay that is cleaned up comes back under
	 * the bound after a few dozen accepted recipients, not thousands. */
	c->cap = 3.0f * c->upper;
}

bool sprt_observe(struct sprt *s, const struct sprt_cfg *c, enum sprt_obs o, uint32_t n)
{
	float v = s->llr + c->llr[o] * (float)(n > 1000 ? 1000 : n);
	bool crossed = false;

	if (v <= c->lower) {
		v = 0; /* decided "normal": restart */
		s->above = 0;
	} else if (v >= c->upper && !s->above) {
		s->above = 1;
		if (s->crossings < UINT16_MAX)
			s->crossings++;
		crossed = true;
	} else if (v < c->upper) {
		s->above = 0;
	}
	s->llr = v > c->cap ? c->cap : v;
	return crossed;
}

double sprt_score(const struct sprt *s)
{
	return s->llr > 0 ? s->llr : 0;
}
