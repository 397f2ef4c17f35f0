// SPDX-License-Identifier: BSD-3-Clause
/*
 * auth_bruteforce: many failed AUTH (535) from one source. The failures are
 * counted by the engine (shared with auth_spray); this names the source
 * once the count reaches min_failures within the window, with the user
 * names it tried and the servers it tried them on.
 */
#include <string.h>

#include "sensor/detect_int.h"

void detect_auth_bruteforce_init(struct detect_engine *de, const struct detect_cfg *cfg)
{
	de->p.bf_min_failures = (uint32_t)detect_param(cfg, ALERT_AUTH_BRUTEFORCE, "min_failures");
	de->p.bf_window = (uint32_t)detect_param(cfg, ALERT_AUTH_BRUTEFORCE, "window");
}

void detect_auth_bruteforce_fail(struct detect_engine *de, const struct event_auth *au,
				 struct host *c)
{
	uint64_t ts = au->h.ts_ns;
	struct detect_evidence *ev;
	struct alert *a;
	uint32_t fails;
	char w[16];

	if (!de->on[ALERT_AUTH_BRUTEFORCE])
		return;
	ev = detect_evidence_get(de, &c->addr, ALERT_AUTH_BRUTEFORCE, 0, ts);
	detect_evidence_note(ev, "user", au->user, detect_clamp(au->user_len, sizeof(au->user)));
	detect_note_addr(ev, "server", au->h.family, &au->h.server);
	detect_evidence_uid(ev, au->h.uid);
	fails = window_sum_last(&c->w[HOST_W_AUTH_FAIL], &de->hw[HOST_W_AUTH_FAIL], ts,
				de->p.bf_window);
	if (fails < de->p.bf_min_failures)
		return;
	a = detect_alert_crossed(de, ALERT_AUTH_BRUTEFORCE, c, ts, "auth_failures", fails,
				 de->p.bf_min_failures, de->p.bf_window);
	if (au->mech_len)
		alert_add_example(a, "mech", au->mech,
				  detect_clamp(au->mech_len, sizeof(au->mech)));
	alert_add_uid(a, au->h.uid);
	snprintf(a->message, sizeof(a->message), "AUTH brute force: %u failed logins within %s",
		 fails, detect_span_str(de->p.bf_window, w, sizeof(w)));
	detect_alert_fire(de, a, ev);
}
