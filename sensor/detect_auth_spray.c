// SPDX-License-Identifier: BSD-3-Clause
/*
 * auth_spray: one source trying many user names (password spraying, or a
 * list of leaked credentials being tested). Needs both many distinct names
 * and enough failures: a NAT with a few users who all log in fine is not a
 * spray.
 */
#include <string.h>

#include "sensor/detect_int.h"

void detect_auth_spray_init(struct detect_engine *de, const struct detect_cfg *cfg)
{
	de->p.sp_min_users = (uint32_t)detect_param(cfg, ALERT_AUTH_SPRAY, "min_users");
	de->p.sp_min_failures = (uint32_t)detect_param(cfg, ALERT_AUTH_SPRAY, "min_failures");
	de->p.sp_window = (uint32_t)detect_param(cfg, ALERT_AUTH_SPRAY, "window");
}

void detect_auth_spray_fail(struct detect_engine *de, const struct event_auth *au, struct host *c)
{
	struct distinct *d = &c->d[HOST_D_USERS];
	uint32_t span = de->hd_span[HOST_D_USERS];
	size_t ul = detect_clamp(au->user_len, sizeof(au->user));
	uint64_t ts = au->h.ts_ns;
	struct detect_evidence *ev;
	uint32_t users, fails;
	struct alert *a;
	char w[16];

	if (!de->on[ALERT_AUTH_SPRAY] || ul == 0)
		return;
	if (distinct_add(d, de->pool, span, ts, detect_hash_lower(au->user, ul, 0x1f83d9ab))) {
		ev = detect_evidence_get(de, &c->addr, ALERT_AUTH_SPRAY, 0, ts);
		detect_evidence_note(ev, "user", au->user, ul);
		detect_evidence_uid(ev, au->h.uid);
	}
	users = distinct_count(d, de->pool, span, ts);
	fails = window_sum_last(&c->w[HOST_W_AUTH_FAIL], &de->hw[HOST_W_AUTH_FAIL], ts,
				de->p.sp_window);
	if (users < de->p.sp_min_users || fails < de->p.sp_min_failures)
		return;
	ev = detect_evidence_get(de, &c->addr, ALERT_AUTH_SPRAY, 0, ts);
	a = detect_alert_crossed(de, ALERT_AUTH_SPRAY, c, ts, "distinct_users", users,
				 de->p.sp_min_users, de->p.sp_window);
	alert_add_counter(a, "auth_failures", fails, de->p.sp_min_failures, de->p.sp_window);
	alert_add_example(a, "user", au->user, ul);
	alert_add_uid(a, au->h.uid);
	snprintf(a->message, sizeof(a->message),
		 "AUTH spraying: %u user names tried, %u failures within %s", users, fails,
		 detect_span_str(de->p.sp_window, w, sizeof(w)));
	detect_alert_fire(de, a, ev);
}
