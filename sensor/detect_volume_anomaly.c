// SPDX-License-Identifier: BSD-3-Clause
/*
 * volume_anomaly: a host sending messages or recipients at many times its
 * own usual rate. The usual rate is an exponentially weighted baseline
 * (baseline.h) that leaves out the window being judged; nothing is judged
 * before the baseline is baseline_min_age old, and small absolute numbers
 * (min_messages, min_rcpts) never alert, however large the factor.
 */
#include <string.h>

#include "sensor/detect_int.h"

void detect_volume_anomaly_init(struct detect_engine *de, const struct detect_cfg *cfg)
{
	const enum alert_kind k = ALERT_VOLUME_ANOMALY;

	de->p.va_factor = detect_param(cfg, k, "factor");
	de->p.va_min_messages = (uint32_t)detect_param(cfg, k, "min_messages");
	de->p.va_min_rcpts = (uint32_t)detect_param(cfg, k, "min_rcpts");
	de->p.va_window = (uint32_t)detect_param(cfg, k, "window");
	de->p.va_min_age = (uint32_t)detect_param(cfg, k, "baseline_min_age");
	de->host_base.halflife_s = detect_param(cfg, k, "baseline_halflife");
}

void detect_volume_anomaly_tx(struct detect_engine *de, const struct smtp_tx *tx, struct host *c)
{
	uint32_t win = de->p.va_window, msgs, rcpts;
	uint64_t ts = tx->ts_ns;
	double bm, br, f = de->p.va_factor;
	struct detect_evidence *ev;
	bool hit_m, hit_r;
	struct alert *a;
	char w[16];

	if (!de->on[ALERT_VOLUME_ANOMALY] || (tx->flags & SMTP_TX_F_SESSION) ||
	    baseline_age(&c->msgs_base, ts) < de->p.va_min_age)
		return;
	msgs = window_sum(&c->w[HOST_W_MSGS], &de->hw[HOST_W_MSGS], ts);
	rcpts = window_sum_last(&c->w[HOST_W_RCPT], &de->hw[HOST_W_RCPT], ts, win);
	bm = baseline_rate_before(&c->msgs_base, &de->host_base, ts, win, msgs) * win;
	br = baseline_rate_before(&c->rcpts_base, &de->host_base, ts, win, rcpts) * win;
	hit_m = msgs >= de->p.va_min_messages && msgs >= f * bm;
	hit_r = rcpts >= de->p.va_min_rcpts && rcpts >= f * br;
	if (!hit_m && !hit_r)
		return;
	/* Every message of the burst past the threshold adds its flow; the
	 * first few say where it goes and as whom. */
	ev = detect_evidence_get(de, &c->addr, ALERT_VOLUME_ANOMALY, 0, ts);
	detect_note_addr(ev, "server", tx->family, &tx->resp_h);
	detect_evidence_note(ev, "mailfrom", smtp_tx_str(tx, tx->f[SMTP_F_MAILFROM]),
			     tx->f[SMTP_F_MAILFROM].len);
	if (tx->n_rcpt_stored)
		detect_evidence_note(ev, "rcpt", smtp_tx_str(tx, tx->rcpt[0].addr),
				     tx->rcpt[0].addr.len);
	detect_evidence_uid(ev, tx->uid);
	a = detect_alert_begin(de, ALERT_VOLUME_ANOMALY, c->family, &c->addr, NULL, ts);
	alert_add_counter(a, "messages", msgs,
			  f * bm > de->p.va_min_messages ? f * bm : de->p.va_min_messages, win);
	alert_add_counter(a, "baseline_messages", bm, 0, win);
	alert_add_counter(a, "recipients", rcpts,
			  f * br > de->p.va_min_rcpts ? f * br : de->p.va_min_rcpts, win);
	alert_add_counter(a, "baseline_recipients", br, 0, win);
	snprintf(a->message, sizeof(a->message),
		 "volume anomaly: %u messages and %u recipients within %s, usually %.1f and %.1f",
		 msgs, rcpts, detect_span_str(win, w, sizeof(w)), bm, br);
	detect_alert_fire(de, a, ev);
}
