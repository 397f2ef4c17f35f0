// SPDX-License-Identifier: BSD-3-Clause
/*
 * spoofed_home_domain: a foreign client, not logged in, gets a home server
 * to accept a message whose MAIL FROM is in a home domain (configured, or
 * learned as hosted). Mail forwarded back home by an outside forwarder
 * without SRS looks the same, except that its Received: path shows it
 * passed through a home host first: such messages are left out.
 */
#include <string.h>

#include "sensor/detect_int.h"

void detect_spoofed_home_domain_init(struct detect_engine *de, const struct detect_cfg *cfg)
{
	de->p.sf_min_messages =
		(uint32_t)detect_param(cfg, ALERT_SPOOFED_HOME_DOMAIN, "min_messages");
	de->p.sf_window = (uint32_t)detect_param(cfg, ALERT_SPOOFED_HOME_DOMAIN, "window");
}

/* path[0] and path[1] are the server and the client; then Received: IPs. */
static bool came_through_home(const struct detect_engine *de, const struct smtp_tx *tx)
{
	for (unsigned int i = 2; i < tx->n_path && i < SMTP_TX_MAX_PATH; i++) {
		char buf[64];
		union pkt_addr a;
		uint8_t fam;
		size_t n = detect_clamp(tx->path[i].len, sizeof(buf));

		memcpy(buf, smtp_tx_str(tx, tx->path[i]), n);
		buf[n] = '\0';
		if (netset_parse_addr(buf, &a, &fam) && detect_is_home(de, &a))
			return true;
	}
	return false;
}

static bool accepted(const struct smtp_tx *tx)
{
	return (!tx->mail_code || (tx->mail_code >= 200 && tx->mail_code < 300)) &&
	       tx->n_rcpt_accepted > 0;
}

void detect_spoofed_home_domain_tx(struct detect_engine *de, const struct smtp_tx *tx,
				   struct host *c)
{
	const struct smtp_str *ms = &tx->f[SMTP_F_MAILFROM];
	struct detect_evidence *ev;
	struct detect_addr mf;
	struct alert *a;
	uint32_t n;
	char w[16];

	if (!de->on[ALERT_SPOOFED_HOME_DOMAIN] || (c->flags & HOST_F_HOME) ||
	    (tx->flags & (SMTP_TX_F_SESSION | SMTP_TX_F_BOUNCE)) ||
	    tx->auth_result == SMTP_AUTH_SUCCESS || !detect_is_home(de, &tx->resp_h) ||
	    !accepted(tx))
		return;
	detect_split_addr(smtp_tx_str(tx, *ms), ms->len, &mf);
	if (!mf.dom_len || !detect_is_home_domain(de, mf.dom, mf.dom_len) ||
	    came_through_home(de, tx))
		return;
	n = detect_count(de, c, HOST_W_SPOOFED, tx->ts_ns);
	ev = detect_evidence_get(de, &c->addr, ALERT_SPOOFED_HOME_DOMAIN, 0, tx->ts_ns);
	detect_evidence_note(ev, "mailfrom", mf.s, mf.len);
	if (tx->f[SMTP_F_HELO].len)
		detect_evidence_note(ev, "helo", smtp_tx_str(tx, tx->f[SMTP_F_HELO]),
				     tx->f[SMTP_F_HELO].len);
	detect_evidence_uid(ev, tx->uid);
	if (n < de->p.sf_min_messages)
		return;
	a = detect_alert_crossed(de, ALERT_SPOOFED_HOME_DOMAIN, c, tx->ts_ns, "spoofed_messages", n,
				 de->p.sf_min_messages, de->p.sf_window);
	snprintf(a->message, sizeof(a->message),
		 "spoofed home domain: %u message(s) from an unauthenticated foreign client with "
		 "MAIL FROM in a home domain accepted within %s",
		 n, detect_span_str(de->p.sf_window, w, sizeof(w)));
	detect_alert_fire(de, a, ev);
}
