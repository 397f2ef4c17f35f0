// SPDX-License-Identifier: BSD-3-Clause
/*
 * direct_mx_bot: a home host that is not a mail server opens SMTP sessions
 * to many different foreign servers on port 25. A PC or a router has no
 * reason to talk to any MX; a spam bot delivers straight to them. Distinct
 * servers are counted (exact for a handful, HyperLogLog beyond), so
 * retries to one server do not add up. The XDP pre-filter's SYN count for
 * the host, when there is one, goes with the alert.
 *
 * Live AF_XDP adds a second way in: the pre-filter counts the connections
 * each source starts to any SMTP port, in the kernel, whether or not user
 * space can read the session (STARTTLS, port 465) or keeps up with it. It
 * knows no destinations, so it is a connection rate, not a fan-out: a home
 * host that is not a mail server starting min_xdp_flows of them within the
 * window is a bot too, with the same identity as the fan-out alert.
 */
#include <string.h>

#include "common/hash.h"
#include "sensor/detect_int.h"

void detect_direct_mx_bot_init(struct detect_engine *de, const struct detect_cfg *cfg)
{
	de->p.mx_min_servers = (uint32_t)detect_param(cfg, ALERT_DIRECT_MX_BOT, "min_servers");
	de->p.mx_window = (uint32_t)detect_param(cfg, ALERT_DIRECT_MX_BOT, "window");
	de->p.mx_min_xdp_flows = (uint32_t)detect_param(cfg, ALERT_DIRECT_MX_BOT, "min_xdp_flows");
	window_cfg_init(&de->mx_xdp_wc, de->p.mx_window);
}

/* Evidence sub-key of the XDP counter (the fan-out's is 0). */
#define MX_XDP_SUB 1

void detect_direct_mx_bot_xdp(struct detect_engine *de, struct host *h, uint32_t n, uint64_t ts_ns)
{
	struct detect_evidence *ev;
	uint32_t flows;
	struct alert *a;
	char w[16];

	if (!de->on[ALERT_DIRECT_MX_BOT] || !n || !(h->flags & HOST_F_HOME) ||
	    detect_is_mail_server(de, h))
		return;
	ev = detect_evidence_get(de, &h->addr, ALERT_DIRECT_MX_BOT, MX_XDP_SUB, ts_ns);
	flows = detect_window_add(de, &ev->w, &de->mx_xdp_wc, ts_ns, n);
	if (flows < de->p.mx_min_xdp_flows)
		return;
	a = detect_alert_crossed(de, ALERT_DIRECT_MX_BOT, h, ts_ns, "xdp_smtp_flows", flows,
				 de->p.mx_min_xdp_flows, de->p.mx_window);
	alert_add_counter(a, "xdp_smtp_syns", h->tot.xdp_syns, 0, 0);
	snprintf(a->message, sizeof(a->message),
		 "direct-to-MX: a host that is not a mail server started %u SMTP connections "
		 "within %s (counted by the XDP pre-filter)",
		 flows, detect_span_str(de->p.mx_window, w, sizeof(w)));
	detect_alert_fire(de, a, ev);
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
	host_tot_max(&c->tot.servers, n);
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
