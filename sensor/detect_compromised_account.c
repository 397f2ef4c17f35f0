// SPDX-License-Identifier: BSD-3-Clause
/*
 * compromised_account: an AUTH user whose password is in the wrong hands.
 * Three signs, any one is enough:
 *  - it logs in successfully from many source addresses within the window
 *    (a botnet shares stolen credentials; people have a few devices);
 *  - it sends to far more recipients than its own baseline, once the
 *    baseline is old enough to mean something;
 *  - many bounces come back to the mailbox it sends as (its spam bounces).
 * The alert's host is the home server it logs in to (the one relaying the
 * spam), the account is the user name.
 */
#include <string.h>

#include "common/hash.h"
#include "sensor/detect_int.h"

void detect_compromised_account_init(struct detect_engine *de, const struct detect_cfg *cfg)
{
	const enum alert_kind k = ALERT_COMPROMISED_ACCOUNT;

	de->p.ca_min_sources = (uint32_t)detect_param(cfg, k, "min_sources");
	de->p.ca_rate_factor = detect_param(cfg, k, "rate_factor");
	de->p.ca_min_rcpts = (uint32_t)detect_param(cfg, k, "min_rcpts");
	de->p.ca_min_bounces = (uint32_t)detect_param(cfg, k, "min_bounces");
	de->p.ca_window = (uint32_t)detect_param(cfg, k, "window");
	de->p.ca_min_age = (uint32_t)detect_param(cfg, k, "baseline_min_age");
}

static struct alert *begin(struct detect_engine *de, struct account *u, uint64_t ts)
{
	u->kinds |= 1u << ALERT_COMPROMISED_ACCOUNT;
	return detect_alert_begin(de, ALERT_COMPROMISED_ACCOUNT, u->family, &u->server, u->name,
				  ts);
}

void detect_compromised_account_auth(struct detect_engine *de, const struct event_auth *au)
{
	size_t ul = detect_clamp(au->user_len, sizeof(au->user));
	uint32_t span = de->acct_sources_span;
	uint64_t ts = au->h.ts_ns;
	struct detect_evidence *ev;
	struct account *u;
	uint32_t sources;
	bool created;
	struct alert *a;
	char w[16];

	if (ul == 0)
		return;
	u = account_get(&de->accounts, ACCOUNT_USER, au->user, ul, ts, &created);
	u->family = au->h.family;
	u->server = au->h.server;
	u->source = au->h.client;
	host_tot_inc(&u->tot_auth_ok, 1);
	if (!distinct_add(&u->sources, de->pool, span, ts,
			  hash_bytes(au->h.client.b, 16, 0x6a09e667f3bcc908ull)) ||
	    !de->on[ALERT_COMPROMISED_ACCOUNT])
		return;
	ev = detect_evidence_get(de, &au->h.server, ALERT_COMPROMISED_ACCOUNT, u->key, ts);
	detect_note_addr(ev, "source", au->h.family, &au->h.client);
	detect_evidence_uid(ev, au->h.uid);
	sources = distinct_count(&u->sources, de->pool, span, ts);
	if (sources < de->p.ca_min_sources)
		return;
	a = begin(de, u, ts);
	alert_add_counter(a, "auth_sources", sources, de->p.ca_min_sources, de->p.ca_window);
	snprintf(a->message, sizeof(a->message),
		 "compromised account: %s logged in from %u addresses within %s", u->name, sources,
		 detect_span_str(de->p.ca_window, w, sizeof(w)));
	detect_alert_fire(de, a, ev);
}

/* Recipients far above the user's own rate. */
static void check_rate(struct detect_engine *de, struct account *u, const struct smtp_tx *tx)
{
	uint64_t ts = tx->ts_ns;
	uint32_t n = window_sum(&u->w[ACCOUNT_W_RCPTS], &de->aw[ACCOUNT_W_RCPTS], ts);
	double base, bar;
	struct alert *a;
	char w[16];

	if (n < de->p.ca_min_rcpts || baseline_age(&u->rcpt_base, ts) < de->p.ca_min_age)
		return;
	base = baseline_rate_before(&u->rcpt_base, &de->acct_base, ts, de->p.ca_window, n) *
	       de->p.ca_window;
	bar = de->p.ca_rate_factor * base;
	if (n < bar)
		return;
	a = begin(de, u, ts);
	alert_add_counter(a, "recipients", n, bar > de->p.ca_min_rcpts ? bar : de->p.ca_min_rcpts,
			  de->p.ca_window);
	alert_add_counter(a, "baseline_recipients", base, 0, de->p.ca_window);
	alert_add_example(a, "mailfrom", smtp_tx_str(tx, tx->f[SMTP_F_MAILFROM]),
			  tx->f[SMTP_F_MAILFROM].len);
	alert_add_uid(a, tx->uid);
	snprintf(a->message, sizeof(a->message),
		 "compromised account: %s sent to %u recipients within %s, usually %.1f", u->name,
		 n, detect_span_str(de->p.ca_window, w, sizeof(w)), base);
	detect_alert_fire(de, a, NULL);
}

/* An authenticated message: the user's rate, and which mailbox it sends as. */
void detect_compromised_account_tx(struct detect_engine *de, const struct smtp_tx *tx)
{
	const struct smtp_str *us = &tx->f[SMTP_F_AUTH_USER];
	const struct smtp_str *ms = &tx->f[SMTP_F_MAILFROM];
	uint32_t n = tx->n_rcpt_accepted ? tx->n_rcpt_accepted : tx->n_rcpt;
	struct account *u, *m;
	struct detect_addr mf;
	bool created;

	if (tx->auth_result != SMTP_AUTH_SUCCESS || !us->len || (tx->flags & SMTP_TX_F_SESSION))
		return;
	u = account_get(&de->accounts, ACCOUNT_USER, smtp_tx_str(tx, *us), us->len, tx->ts_ns,
			&created);
	if (created) {
		u->family = tx->family;
		u->server = tx->resp_h;
		u->source = tx->orig_h;
	}
	host_tot_inc(&u->tot_msgs, 1);
	host_tot_inc(&u->tot_rcpts, n);
	detect_window_add(de, &u->w[ACCOUNT_W_RCPTS], &de->aw[ACCOUNT_W_RCPTS], tx->ts_ns, n);
	baseline_add(&u->rcpt_base, &de->acct_base, tx->ts_ns, n);
	detect_split_addr(smtp_tx_str(tx, *ms), ms->len, &mf);
	if (mf.dom_len) {
		uint64_t ukey = u->key;

		m = account_get(&de->accounts, ACCOUNT_MAILBOX, mf.s, mf.len, tx->ts_ns, &created);
		m->link = ukey;
		m->family = tx->family;
		m->source = tx->orig_h;
		u = account_find(&de->accounts, ukey);
		if (!u)
			return;
		u->link = m->key;
	}
	if (de->on[ALERT_COMPROMISED_ACCOUNT])
		check_rate(de, u, tx);
}

/* A bounce reached mailbox m; if a user sends as m, it counts against it. */
void detect_compromised_account_bounce(struct detect_engine *de, const struct account *m,
				       const struct smtp_tx *tx)
{
	uint64_t ts = tx->ts_ns;
	struct account *u;
	struct alert *a;
	uint32_t n;
	char w[16];

	if (!de->on[ALERT_COMPROMISED_ACCOUNT] || m->type != ACCOUNT_MAILBOX || !m->link)
		return;
	u = account_find(&de->accounts, m->link);
	if (!u || u->type != ACCOUNT_USER)
		return;
	n = window_sum_last(&m->w[ACCOUNT_W_BOUNCES], &de->aw[ACCOUNT_W_BOUNCES], ts,
			    de->p.ca_window);
	if (n < de->p.ca_min_bounces)
		return;
	a = begin(de, u, ts);
	alert_add_counter(a, "bounces_to_sender", n, de->p.ca_min_bounces, de->p.ca_window);
	alert_add_example(a, "mailbox", m->name, strlen(m->name));
	alert_add_uid(a, tx->uid);
	snprintf(a->message, sizeof(a->message),
		 "compromised account: %u bounces came back to %s (sent as by %s) within %s", n,
		 m->name, u->name, detect_span_str(de->p.ca_window, w, sizeof(w)));
	detect_alert_fire(de, a, NULL);
}
