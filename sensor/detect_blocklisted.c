// SPDX-License-Identifier: BSD-3-Clause
/*
 * blocklisted: a foreign server's 4xx/5xx reply to a home client names a
 * blocklist. Both the built-in reply phrases (reply_text.c) and BLOCKLIST
 * signatures lead here, always: the phrases keep the detector working when
 * no rule files are loaded, the rules add what the phrases miss, and each
 * transaction counts once whichever saw it, so together they never count
 * twice. A blocklist reply from a home server to a foreign client is not an
 * alert (that is the home server doing its job) but still scores the client.
 */
#include <string.h>

#include "sensor/detect_int.h"

void detect_blocklisted_init(struct detect_engine *de, const struct detect_cfg *cfg)
{
	de->p.bl_min_replies = (uint32_t)detect_param(cfg, ALERT_BLOCKLISTED, "min_replies");
	de->p.bl_window = (uint32_t)detect_param(cfg, ALERT_BLOCKLISTED, "window");
}

void detect_blocklisted_reply(struct detect_engine *de, const struct event_hdr *e, uint32_t depth,
			      const char *text, size_t len, uint32_t sig_id)
{
	bool ours = detect_is_home(de, &e->client) && !detect_is_home(de, &e->server);
	struct host *c = detect_client(de, e);
	struct detect_evidence *ev;
	char sid[16];
	struct alert *a;
	uint32_t n;
	char w[16];

	ev = detect_evidence_get(de, &c->addr, ALERT_BLOCKLISTED, 0, e->ts_ns);
	if (sig_id) {
		snprintf(sid, sizeof(sid), "%u", sig_id);
		detect_evidence_note(ev, "sig_id", sid, strlen(sid));
	}
	if (!detect_evidence_tx_first(ev, e->uid, depth))
		return;
	host_tot_inc(&c->tot.blocklist, 1);
	sprt_observe(&c->sprt, &de->sprt, SPRT_BLOCKLIST, 1);
	if (!ours || !de->on[ALERT_BLOCKLISTED])
		return;
	n = detect_count(de, c, HOST_W_BLOCKLIST, e->ts_ns);
	detect_evidence_note(ev, "reply", text, len);
	detect_note_addr(ev, "server", e->family, &e->server);
	detect_evidence_uid(ev, e->uid);
	if (n < de->p.bl_min_replies)
		return;
	a = detect_alert_crossed(de, ALERT_BLOCKLISTED, c, e->ts_ns, "blocklist_replies", n,
				 de->p.bl_min_replies, de->p.bl_window);
	snprintf(a->message, sizeof(a->message),
		 "blocklisted: %u transaction(s) refused by foreign servers naming a blocklist "
		 "within %s",
		 n, detect_span_str(de->p.bl_window, w, sizeof(w)));
	detect_alert_fire(de, a, ev);
}
