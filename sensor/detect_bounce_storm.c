// SPDX-License-Identifier: BSD-3-Clause
/*
 * bounce_storm: many null-sender messages (MAIL FROM:<>) to one home
 * address within the window: backscatter from spam that forged it, or the
 * bounces of spam it really sent. A home address is one received by a
 * home server, or in a home domain (configured or learned). Each bounce
 * also scores the host that last sent as that address, and counts for the
 * user who sends as it (compromised_account).
 */
#include <string.h>

#include "sensor/detect_int.h"

void detect_bounce_storm_init(struct detect_engine *de, const struct detect_cfg *cfg)
{
	de->p.bs_min_bounces = (uint32_t)detect_param(cfg, ALERT_BOUNCE_STORM, "min_bounces");
	de->p.bs_window = (uint32_t)detect_param(cfg, ALERT_BOUNCE_STORM, "window");
}

static void fire(struct detect_engine *de, struct account *m, const struct smtp_tx *tx, uint32_t n)
{
	struct detect_evidence *ev;
	struct alert *a;
	char w[16];

	ev = detect_evidence_get(de, &tx->resp_h, ALERT_BOUNCE_STORM, m->key, tx->ts_ns);
	detect_note_addr(ev, "bounce_from", tx->family, &tx->orig_h);
	if (tx->f[SMTP_F_SUBJECT].len)
		detect_evidence_note(ev, "subject", smtp_tx_str(tx, tx->f[SMTP_F_SUBJECT]),
				     tx->f[SMTP_F_SUBJECT].len);
	detect_evidence_uid(ev, tx->uid);
	if (n < de->p.bs_min_bounces)
		return;
	m->kinds |= 1u << ALERT_BOUNCE_STORM;
	a = detect_alert_begin(de, ALERT_BOUNCE_STORM, tx->family, &tx->resp_h, m->name, tx->ts_ns);
	alert_add_counter(a, "bounces", n, de->p.bs_min_bounces, de->p.bs_window);
	snprintf(a->message, sizeof(a->message),
		 "bounce storm: %u null-sender messages to %s within %s", n, m->name,
		 detect_span_str(de->p.bs_window, w, sizeof(w)));
	detect_alert_fire(de, a, ev);
}

static void one_bounce(struct detect_engine *de, const struct smtp_tx *tx,
		       const struct detect_addr *ad)
{
	struct account *m;
	struct host *sender;
	bool created;

	m = account_get(&de->accounts, ACCOUNT_MAILBOX, ad->s, ad->len, tx->ts_ns, &created);
	if (created) {
		m->family = tx->family;
		m->server = tx->resp_h;
	}
	host_tot_inc(&m->tot_bounces, 1);
	detect_window_add(de, &m->w[ACCOUNT_W_BOUNCES], &de->aw[ACCOUNT_W_BOUNCES], tx->ts_ns, 1);
	if (detect_addr_is_set(&m->source)) {
		sender = host_find(&de->hosts, m->family, &m->source);
		if (sender) {
			host_tot_inc(&sender->tot.bounces, 1);
			sprt_observe(&sender->sprt, &de->sprt, SPRT_BOUNCE, 1);
		}
	}
	detect_compromised_account_bounce(de, m, tx);
	if (de->on[ALERT_BOUNCE_STORM])
		fire(de, m, tx,
		     window_sum_last(&m->w[ACCOUNT_W_BOUNCES], &de->aw[ACCOUNT_W_BOUNCES],
				     tx->ts_ns, de->p.bs_window));
}

void detect_bounce_storm_tx(struct detect_engine *de, const struct smtp_tx *tx)
{
	bool home_server = detect_is_home(de, &tx->resp_h);

	if (!(tx->flags & SMTP_TX_F_BOUNCE) || (tx->flags & SMTP_TX_F_SESSION))
		return;
	for (unsigned int i = 0; i < tx->n_rcpt_stored && i < SMTP_TX_MAX_RCPT; i++) {
		const struct smtp_rcpt *r = &tx->rcpt[i];
		struct detect_addr ad;

		/* 0: no reply seen (one-sided capture): the message went through. */
		if (r->code && (r->code < 200 || r->code >= 300))
			continue;
		detect_split_addr(smtp_tx_str(tx, r->addr), r->addr.len, &ad);
		if (!ad.len || (!home_server && !detect_is_home_domain(de, ad.dom, ad.dom_len)))
			continue;
		one_bounce(de, tx, &ad);
	}
}
