// SPDX-License-Identifier: BSD-3-Clause
/*
 * open_relay: a home server that takes mail from a foreign, unauthenticated
 * client for a foreign domain and sends it on to a foreign server.
 *
 * Proof by correlation: each recipient a home server S accepts that way is
 * remembered (pending table). If S itself then connects out as a client
 * and sends that same address to a foreign server within relay_window, the
 * copy left again: relayed. A hop to another home server moves the pending
 * entry along (gateway -> outbound relay). A forwarder rewrites the address
 * (alias -> mailbox elsewhere), so it does not match.
 *
 * Learning: a pending recipient that never leaves within relay_window has a
 * domain S hosts; it is learned as a home domain, but only when S's own
 * outbound traffic is visible on this tap (S was seen as a client), since
 * otherwise "never left" cannot be told from "left out of sight".
 *
 * Heuristic: while S's outbound is not visible, only the spread is left:
 * many distinct foreign recipient domains accepted from foreign clients
 * with a foreign MAIL FROM in another domain. It alerts one severity lower
 * and says it is unconfirmed.
 */
#include <string.h>
#include <strings.h>

#include "common/hash.h"
#include "sensor/detect_int.h"

void detect_open_relay_init(struct detect_engine *de, const struct detect_cfg *cfg)
{
	de->p.or_min_relayed = (uint32_t)detect_param(cfg, ALERT_OPEN_RELAY, "min_relayed");
	de->p.or_relay_window_ns =
		(uint64_t)detect_param(cfg, ALERT_OPEN_RELAY, "relay_window") * DETECT_NS;
	de->p.or_min_domains = (uint32_t)detect_param(cfg, ALERT_OPEN_RELAY, "min_domains");
	de->p.or_window = (uint32_t)detect_param(cfg, ALERT_OPEN_RELAY, "window");
}

static uint64_t pend_key(const union pkt_addr *server, const struct detect_addr *rc)
{
	return hash_bytes(server->b, 16, detect_hash_lower(rc->s, rc->len, 0x2545f4914f6cdd1dull));
}

static bool pend_eq(const void *ent, const void *key)
{
	return ((const struct detect_pending *)ent)->key == *(const uint64_t *)key;
}

static struct detect_pending *pend_find(struct detect_engine *de, const union pkt_addr *server,
					const struct detect_addr *rc)
{
	uint64_t key = pend_key(server, rc);

	return lru_find(&de->pending, (uint32_t)key, pend_eq, &key);
}

static void copy_cut(char *dst, size_t cap, const char *s, size_t n)
{
	n = detect_clamp(n, cap);
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static struct detect_pending *pend_add(struct detect_engine *de, const union pkt_addr *server,
				       const struct detect_addr *rc, uint64_t ts)
{
	uint64_t key = pend_key(server, rc);
	struct detect_pending *p = lru_find(&de->pending, (uint32_t)key, pend_eq, &key);

	if (p) {
		/* The same recipient again: the newer copy is the one to wait for. */
		lru_touch(&de->pending, p);
	} else {
		p = lru_add(&de->pending, (uint32_t)key, NULL);
		p->key = key;
		p->server = *server;
		copy_cut(p->rcpt, sizeof(p->rcpt), rc->s, rc->len);
		if (rc->dom_len < sizeof(p->dom))
			copy_cut(p->dom, sizeof(p->dom), rc->dom, rc->dom_len);
	}
	p->ts_ns = ts;
	return p;
}

static void fire(struct detect_engine *de, struct host *s, const struct detect_evidence *ev,
		 uint64_t ts, bool confirmed)
{
	uint32_t relayed = window_sum(&s->w[HOST_W_RELAYED], &de->hw[HOST_W_RELAYED], ts);
	uint32_t doms =
		distinct_count(&s->d[HOST_D_FDOMAINS], de->pool, de->hd_span[HOST_D_FDOMAINS], ts);
	struct alert *a = detect_alert_begin(de, ALERT_OPEN_RELAY, s->family, &s->addr, NULL, ts);
	char w[16];

	detect_span_str(de->p.or_window, w, sizeof(w));
	if (confirmed) {
		alert_add_counter(a, "relayed_copies", relayed, de->p.or_min_relayed,
				  de->p.or_window);
		snprintf(a->message, sizeof(a->message),
			 "open relay: %u recipient(s) accepted from foreign unauthenticated "
			 "clients left again for foreign servers within %s",
			 relayed, w);
	} else {
		if (a->severity > ALERT_SEV_LOW)
			a->severity--;
		snprintf(a->message, sizeof(a->message),
			 "probable open relay (unconfirmed, outbound not visible): accepted mail "
			 "for %u foreign domains from foreign unauthenticated clients within %s",
			 doms, w);
	}
	if (!confirmed)
		alert_add_counter(a, "foreign_domains", doms, de->p.or_min_domains,
				  de->p.or_window);
	detect_alert_fire(de, a, ev);
}

/* A home host H, as a client, sends a recipient it accepted earlier. */
static void outbound(struct detect_engine *de, const struct event_rcpt *r, struct host *h,
		     const struct detect_addr *rc, bool to_home)
{
	struct detect_pending *p = pend_find(de, &h->addr, rc), *o;
	struct detect_pending hop;
	struct detect_evidence *ev;
	uint32_t relayed;
	struct host *s;

	if (!p || (r->h.ts_ns > p->ts_ns && r->h.ts_ns - p->ts_ns > de->p.or_relay_window_ns))
		return;
	if (to_home) {
		/* An internal hop: wait for the copy at the next server. */
		if (r->code && (r->code < 200 || r->code >= 300))
			return;
		hop = *p;
		detect_server(de, &r->h)->flags |= HOST_F_PENDING;
		o = pend_add(de, &r->h.server, rc, hop.ts_ns);
		memcpy(o->uid, hop.uid, sizeof(o->uid));
		o->origin = hop.origin;
		o->client = hop.client;
		o->family = hop.family;
		return;
	}
	de->st.relay_copies++;
	s = detect_host(de, p->family, &p->origin, r->h.ts_ns);
	relayed = detect_count(de, s, HOST_W_RELAYED, r->h.ts_ns);
	ev = detect_evidence_get(de, &s->addr, ALERT_OPEN_RELAY, 0, r->h.ts_ns);
	detect_evidence_note(ev, "relayed_rcpt", p->rcpt, strlen(p->rcpt));
	detect_note_addr(ev, "foreign_client", p->family, &p->client);
	detect_evidence_uid(ev, p->uid);
	detect_evidence_uid(ev, r->h.uid);
	/* Counted once: the copy and where it came from are done with. */
	if (memcmp(&p->origin, &p->server, sizeof(p->origin)) != 0) {
		o = pend_find(de, &p->origin, rc);
		if (o)
			lru_del(&de->pending, o);
	}
	lru_del(&de->pending, p);
	if (de->on[ALERT_OPEN_RELAY] && relayed >= de->p.or_min_relayed)
		fire(de, s, ev, r->h.ts_ns, true);
}

static bool same_domain(const struct detect_addr *a, const struct detect_addr *b)
{
	return a->dom_len == b->dom_len && strncasecmp(a->dom, b->dom, a->dom_len) == 0;
}

static void heuristic(struct detect_engine *de, const struct event_rcpt *r, struct host *s,
		      const struct detect_addr *rc)
{
	struct distinct *d = &s->d[HOST_D_FDOMAINS];
	uint32_t span = de->hd_span[HOST_D_FDOMAINS];
	struct detect_evidence *ev;
	struct detect_addr mf;
	uint32_t doms;

	detect_split_addr(r->mailfrom, detect_clamp(r->mailfrom_len, sizeof(r->mailfrom)), &mf);
	if (!mf.dom_len || same_domain(&mf, rc) || detect_is_home_domain(de, mf.dom, mf.dom_len))
		return;
	/* With its outbound in view, only a relayed copy is evidence. */
	if ((s->flags & HOST_F_CLIENT) || !de->on[ALERT_OPEN_RELAY])
		return;
	if (!distinct_add(d, de->pool, span, r->h.ts_ns,
			  detect_hash_lower(rc->dom, rc->dom_len, 0x61c8864680b583ebull)))
		return;
	ev = detect_evidence_get(de, &s->addr, ALERT_OPEN_RELAY, 0, r->h.ts_ns);
	detect_evidence_note(ev, "rcpt_domain", rc->dom, rc->dom_len);
	detect_evidence_uid(ev, r->h.uid);
	doms = distinct_count(d, de->pool, span, r->h.ts_ns);
	host_tot_max(&s->tot.rcpt_domains, doms);
	if (doms >= de->p.or_min_domains)
		fire(de, s, ev, r->h.ts_ns, false);
}

/* S at home accepted rc from a foreign, unauthenticated client. */
static void inbound(struct detect_engine *de, const struct event_rcpt *r,
		    const struct detect_addr *rc)
{
	struct detect_pending *p;
	struct host *s;

	if (!rc->dom_len || detect_is_home_domain(de, rc->dom, rc->dom_len))
		return;
	s = detect_server(de, &r->h);
	s->flags |= HOST_F_PENDING;
	p = pend_add(de, &s->addr, rc, r->h.ts_ns);
	p->origin = s->addr;
	p->client = r->h.client;
	p->family = r->h.family;
	memcpy(p->uid, r->h.uid, sizeof(p->uid));
	p->uid[FLOW_UID_LEN] = '\0';
	heuristic(de, r, s, rc);
}

void detect_open_relay_rcpt(struct detect_engine *de, const struct event_rcpt *r,
			    struct host *client)
{
	bool server_home = detect_is_home(de, &r->h.server);
	struct detect_addr rc;

	detect_split_addr(r->rcpt, detect_clamp(r->rcpt_len, sizeof(r->rcpt)), &rc);
	if (!rc.len)
		return;
	if (client->flags & HOST_F_HOME) {
		/* Only a host that took in foreign mail can send a copy on. */
		if (client->flags & HOST_F_PENDING)
			outbound(de, r, client, &rc, server_home);
		return;
	}
	if (server_home && r->code >= 200 && r->code < 300 && !r->authenticated)
		inbound(de, r, &rc);
}

static bool domain_eq(const void *ent, const void *key)
{
	return ((const struct detect_domain *)ent)->key == *(const uint64_t *)key;
}

/* A pending recipient that never left: its domain is hosted at home. */
static void learn(struct detect_engine *de, const struct detect_pending *p, uint64_t now)
{
	const struct host *s = host_find(&de->hosts, p->family, &p->server);
	size_t n = strlen(p->dom);
	struct detect_domain *d;
	uint64_t k;

	if (!s || !(s->flags & HOST_F_CLIENT) || n == 0)
		return;
	k = detect_hash_lower(p->dom, n, 0);
	d = lru_find(&de->domains, (uint32_t)k, domain_eq, &k);
	if (d) {
		d->hits++;
		return;
	}
	d = lru_add(&de->domains, (uint32_t)k, NULL);
	d->key = k;
	d->server = p->server;
	d->family = p->family;
	d->learned_s = (uint32_t)(now / DETECT_NS);
	copy_cut(d->name, sizeof(d->name), p->dom, n);
	de->st.domains_learned++;
}

void detect_open_relay_expire(struct detect_engine *de, uint64_t now_ns, uint32_t budget)
{
	for (uint32_t i = 0; i < budget; i++) {
		struct detect_pending *p = lru_oldest(&de->pending);

		if (!p || now_ns < p->ts_ns || now_ns - p->ts_ns <= de->p.or_relay_window_ns)
			return;
		learn(de, p, now_ns);
		lru_del(&de->pending, p);
	}
}
