// SPDX-License-Identifier: BSD-3-Clause
/*
 * content_signature: Hyperscan rules over commands, replies, headers,
 * decoded bodies and URLs (classes other than the blocklist, relay-denied
 * and unknown-user replies, which feed their own detectors). A rule at or
 * above min_severity alerts once it has hit min_hits times for the same
 * client within the window; the alert is the higher of the detector's and
 * the rule's severity. Spam, phishing and spam-kit rules also score the
 * client.
 */
#include <string.h>

#include "sensor/detect_int.h"

void detect_content_signature_init(struct detect_engine *de, const struct detect_cfg *cfg)
{
	de->p.cs_min_severity =
		(uint32_t)detect_param(cfg, ALERT_CONTENT_SIGNATURE, "min_severity");
	de->p.cs_min_hits = (uint32_t)detect_param(cfg, ALERT_CONTENT_SIGNATURE, "min_hits");
	de->p.cs_window = (uint32_t)detect_param(cfg, ALERT_CONTENT_SIGNATURE, "window");
}

static const char *scope_name(uint8_t s)
{
	static const char *const n[EV_SCOPE_COUNT] = {"command", "reply", "header", "body", "url"};

	return s < EV_SCOPE_COUNT ? n[s] : "unknown";
}

static const char *class_name(uint8_t c)
{
	static const char *const n[EV_SIGCLASS_COUNT] = {
		"other", "blocklist", "relay_denied", "spam", "phish", "mailer", "user_unknown",
	};

	return c < EV_SIGCLASS_COUNT ? n[c] : "other";
}

void detect_content_signature_hit(struct detect_engine *de, const struct event_sig *s,
				  struct host *c)
{
	size_t sl = detect_clamp(s->snippet_len, sizeof(s->snippet));
	uint64_t ts = s->h.ts_ns;
	struct detect_evidence *ev;
	struct alert *a;
	char sid[16];
	uint32_t hits;

	if (s->severity < de->p.cs_min_severity)
		return;
	host_tot_inc(&c->tot.sig_hits, 1);
	if (s->sig_class == EV_SIGCLASS_SPAM || s->sig_class == EV_SIGCLASS_PHISH ||
	    s->sig_class == EV_SIGCLASS_MAILER)
		sprt_observe(&c->sprt, &de->sprt, SPRT_SIG_HIT, 1);
	if (!de->on[ALERT_CONTENT_SIGNATURE])
		return;
	/* One evidence record per client and rule: its hits and snippets. */
	ev = detect_evidence_get(de, &c->addr, ALERT_CONTENT_SIGNATURE, (uint64_t)s->sig_id + 1,
				 ts);
	hits = detect_window_add(de, &ev->w, &de->cs_wc, ts, 1);
	detect_evidence_note(ev, "snippet", s->snippet, sl);
	detect_evidence_uid(ev, s->h.uid);
	if (hits < de->p.cs_min_hits)
		return;
	a = detect_alert_crossed(de, ALERT_CONTENT_SIGNATURE, c, ts, "sig_hits", hits,
				 de->p.cs_min_hits, de->p.cs_window);
	if (s->severity > a->severity && s->severity <= ALERT_SEV_CRITICAL)
		a->severity = s->severity;
	snprintf(sid, sizeof(sid), "%u", s->sig_id);
	alert_add_example(a, "sig_id", sid, strlen(sid));
	alert_add_example(a, "scope", scope_name(s->scope), strlen(scope_name(s->scope)));
	alert_add_example(a, "class", class_name(s->sig_class), strlen(class_name(s->sig_class)));
	snprintf(a->message, sizeof(a->message), "signature %u (%s, %s) matched %u time(s)",
		 s->sig_id, class_name(s->sig_class), scope_name(s->scope), hits);
	detect_alert_fire(de, a, ev);
}
