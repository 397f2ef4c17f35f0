// SPDX-License-Identifier: BSD-3-Clause
/*
 * direct_mx_bot: a home host that is not a mail server opens SMTP sessions
 * to many different foreign servers on port 25. A PC or a router has no
 * reason to talk to any MX; a spam bot delivers straight to them. Distinct
 * servers are counted (exact for a handful, HyperLogLog beyond), so
 * retries to one server do not add up. The XDP pre-filter's SYN count for
 * the host, when there is one, goes with the alert.
 */
#include <string.h>

#include "common/hash.h"
#include "sensor/detect_int.h"

void detect_direct_mx_bot_init(struct detect_engine *de, const struct detect_cfg *cfg)
{
	de->p.mx_min_servers = (uint32_t)detect_param(cfg, ALERT_DIRECT_MX_BOT, "min_servers");
	de->p.mx_window = (uint32_t)detect_param(cfg, ALERT_DIRECT_MX_BOT, "window");
}

void detect_direct_mx_bot_open(struct detect_engine *de, const struct event_hdr *e, struct host *c)
{
	struct distinct *d = &c->d[HOST_D_MX];
	uint32_t span = de->hd_span[HOST_D_MX], n;
	struct detect_evidence *ev;
	struct alert *a;
	char w[16];

	if (!de->on[ALERT_DIRECT_MX_BOT] || !(c->flags & HOST_F_HOME) || e->server_port != 25 ||
	    detect_is_home(de, &e->server) || detect_is_mail_server(de, c))
		return;
	if (!distinct_add(d, de->pool, span, e->ts_ns, hash_bytes(e->server.b, 16, 0x9b05688c)))
		return;
	ev = detect_evidence_get(de, &c->addr, ALERT_DIRECT_MX_BOT, 0, e->ts_ns);
	detect_note_addr(ev, "server", e->family, &e->server);
	detect_evidence_uid(ev, e->uid);
	n = distinct_count(d, de->pool, span, e->ts_ns);
	if (n < de->p.mx_min_servers)
		return;
	a = detect_alert_crossed(de, ALERT_DIRECT_MX_BOT, c, e->ts_ns, "foreign_mx_servers", n,
				 de->p.mx_min_servers, de->p.mx_window);
	if (c->tot.xdp_syns)
		alert_add_counter(a, "xdp_smtp_syns", c->tot.xdp_syns, 0, 0);
	snprintf(a->message, sizeof(a->message),
		 "direct-to-MX: a host that is not a mail server reached %u foreign SMTP servers "
		 "on port 25 within %s",
		 n, detect_span_str(de->p.mx_window, w, sizeof(w)));
	detect_alert_fire(de, a, ev);
}
