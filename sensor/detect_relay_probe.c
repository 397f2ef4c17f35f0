// SPDX-License-Identifier: BSD-3-Clause
/*
 * relay_probe: a client asks servers to relay for strangers and is refused
 * ("554 5.7.1 Relay access denied", a RELAY_DENIED signature). Counted per
 * transaction, so the reply text and a signature on the same reply, or
 * several refused recipients of one message, count once: one refused
 * message is a misconfigured client, several are a probe. Distinct refusing
 * servers tell a scan from one confused client.
 */
#include <string.h>

#include "common/hash.h"
#include "sensor/detect_int.h"

void detect_relay_probe_init(struct detect_engine *de, const struct detect_cfg *cfg)
{
	de->p.rp_min_denied = (uint32_t)detect_param(cfg, ALERT_RELAY_PROBE, "min_denied");
	de->p.rp_min_servers = (uint32_t)detect_param(cfg, ALERT_RELAY_PROBE, "min_servers");
	de->p.rp_window = (uint32_t)detect_param(cfg, ALERT_RELAY_PROBE, "window");
}

void detect_relay_probe_denied(struct detect_engine *de, const struct event_hdr *e, uint32_t depth,
			       struct host *c, const char *text, size_t len)
{
	struct distinct *d = &c->d[HOST_D_REFUSERS];
	uint32_t span = de->hd_span[HOST_D_REFUSERS];
	struct detect_evidence *ev;
	uint32_t denied, servers;
	struct alert *a;
	char w[16];

	ev = detect_evidence_get(de, &c->addr, ALERT_RELAY_PROBE, 0, e->ts_ns);
	if (!detect_evidence_tx_first(ev, e->uid, depth))
		return;
	sprt_observe(&c->sprt, &de->sprt, SPRT_RELAY_DENIED, 1);
	denied = detect_count(de, c, HOST_W_DENIED, e->ts_ns);
	if (distinct_add(d, de->pool, span, e->ts_ns, hash_bytes(e->server.b, 16, 0x5be0cd19))) {
		detect_note_addr(ev, "server", e->family, &e->server);
		host_tot_max(&c->tot.servers, distinct_count(d, de->pool, span, e->ts_ns));
	}
	detect_evidence_note(ev, "reply", text, len);
	detect_evidence_uid(ev, e->uid);
	if (!de->on[ALERT_RELAY_PROBE])
		return;
	servers = distinct_count(d, de->pool, span, e->ts_ns);
	if (denied < de->p.rp_min_denied || servers < de->p.rp_min_servers)
		return;
	a = detect_alert_crossed(de, ALERT_RELAY_PROBE, c, e->ts_ns, "relay_denied", denied,
				 de->p.rp_min_denied, de->p.rp_window);
	alert_add_counter(a, "refusing_servers", servers, de->p.rp_min_servers, de->p.rp_window);
	snprintf(a->message, sizeof(a->message),
		 "relay probing: %u transaction(s) refused for relaying by %u server(s) within %s",
		 denied, servers, detect_span_str(de->p.rp_window, w, sizeof(w)));
	detect_alert_fire(de, a, ev);
}
