// SPDX-License-Identifier: BSD-3-Clause
/*
 * recipient_harvest: a client whose recipients are mostly unknown mailboxes
 * (550 5.1.1, or 550 with "user unknown" text): a dictionary attack or a
 * guessed list. The share matters, not the count, so a busy MTA with a few
 * stale addresses never qualifies; min_rcpts keeps tiny samples out.
 */
#include <string.h>

#include "sensor/detect_int.h"

void detect_recipient_harvest_init(struct detect_engine *de, const struct detect_cfg *cfg)
{
	de->p.hv_min_rcpts = (uint32_t)detect_param(cfg, ALERT_RECIPIENT_HARVEST, "min_rcpts");
	de->p.hv_ratio = detect_param(cfg, ALERT_RECIPIENT_HARVEST, "reject_ratio");
	de->p.hv_window = (uint32_t)detect_param(cfg, ALERT_RECIPIENT_HARVEST, "window");
}

void detect_recipient_harvest_rcpt(struct detect_engine *de, const struct event_rcpt *r,
				   struct host *c, enum reply_text_class cls)
{
	uint64_t ts = r->h.ts_ns;
	struct detect_evidence *ev = NULL;
	uint32_t tried, unknown;
	struct alert *a;
	char w[16];

	if (!de->on[ALERT_RECIPIENT_HARVEST])
		return;
	if (cls == REPLY_TEXT_USER_UNKNOWN) {
		detect_count(de, c, HOST_W_UNKNOWN, ts);
		ev = detect_evidence_get(de, &c->addr, ALERT_RECIPIENT_HARVEST, 0, ts);
		detect_evidence_note(ev, "rcpt", r->rcpt,
				     detect_clamp(r->rcpt_len, sizeof(r->rcpt)));
		detect_evidence_note(ev, "reply", r->text,
				     detect_clamp(r->text_len, sizeof(r->text)));
		detect_evidence_uid(ev, r->h.uid);
	}
	/* Judged on every recipient, since accepted ones complete the sample;
	 * cheap when there are too few unknowns to ever reach the share. */
	unknown = window_sum(&c->w[HOST_W_UNKNOWN], &de->hw[HOST_W_UNKNOWN], ts);
	if (unknown == 0 || (double)unknown < de->p.hv_ratio * de->p.hv_min_rcpts)
		return;
	tried = window_sum_last(&c->w[HOST_W_RCPT], &de->hw[HOST_W_RCPT], ts, de->p.hv_window);
	if (tried < de->p.hv_min_rcpts || (double)unknown < de->p.hv_ratio * tried)
		return;
	if (!ev)
		ev = detect_evidence_get(de, &c->addr, ALERT_RECIPIENT_HARVEST, 0, ts);
	a = detect_alert_crossed(de, ALERT_RECIPIENT_HARVEST, c, ts, "rcpts", tried,
				 de->p.hv_min_rcpts, de->p.hv_window);
	alert_add_counter(a, "unknown_rcpts", unknown, de->p.hv_ratio * tried, de->p.hv_window);
	alert_add_counter(a, "unknown_ratio", (double)unknown / tried, de->p.hv_ratio,
			  de->p.hv_window);
	snprintf(a->message, sizeof(a->message),
		 "recipient harvesting: %u of %u recipients unknown within %s", unknown, tried,
		 detect_span_str(de->p.hv_window, w, sizeof(w)));
	detect_alert_fire(de, a, ev);
}
