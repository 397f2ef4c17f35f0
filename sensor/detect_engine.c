// SPDX-License-Identifier: BSD-3-Clause
/*
 * The detection engine: event dispatch, who is home and who is a mail
 * server, the per-host bookkeeping every detector shares (totals, windows,
 * baselines, SPRT), and the tables' life cycle. What each detector concludes
 * is in detect_<kind>.c; evidence, rate limiting and emission in
 * detect_alerts.c.
 */
#include "sensor/detect.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "sensor/detect_int.h"

#define MIN_TABLE	    16 /* one event touches at most four entries of a table */
#define ALERT_STATES	    4096
#define TICK_BUDGET	    512
#define EVENT_EXPIRE_BUDGET 4

static uint32_t clamp_u32(uint64_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : (uint32_t)v;
}

static uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* ---- roles and names ---- */

bool detect_is_home(const struct detect_engine *de, const union pkt_addr *a)
{
	return netset_contains(de->home_net, a);
}

bool detect_engine_home_configured(const struct detect_engine *de)
{
	return !netset_is_empty(de->home_net);
}

bool detect_is_mail_server(const struct detect_engine *de, const struct host *h)
{
	/* A configured list is the whole truth; without one, banners teach. */
	if (!netset_is_empty(&de->cfg->mail_servers))
		return (h->flags & HOST_F_CFG_SERVER) != 0;
	return (h->flags & HOST_F_SERVER) != 0;
}

static bool domain_eq(const void *ent, const void *key)
{
	return ((const struct detect_domain *)ent)->key == *(const uint64_t *)key;
}

bool detect_is_home_domain(const struct detect_engine *de, const char *dom, size_t len)
{
	uint64_t k;

	if (len == 0)
		return false;
	if (domset_contains(&de->cfg->home_domains, dom, len))
		return true;
	if (de->domains.count == 0)
		return false;
	k = detect_hash_lower(dom, len, 0);
	/* Lookup only: the table is not reordered, so a const engine is fine. */
	return lru_find((struct lru *)&de->domains, (uint32_t)k, domain_eq, &k) != NULL;
}

size_t detect_clamp(size_t len, size_t cap)
{
	return len < cap ? len : cap ? cap - 1 : 0;
}

void detect_split_addr(const char *s, size_t len, struct detect_addr *out)
{
	const char *at = NULL;

	while (len && (*s == ' ' || *s == '<')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '>'))
		len--;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '@')
			at = s + i;
	out->s = s;
	out->len = len;
	out->dom = at ? at + 1 : s + len;
	out->dom_len = at ? (size_t)(s + len - at - 1) : 0;
}

uint64_t detect_hash_lower(const char *s, size_t len, uint64_t seed)
{
	char low[256];

	if (len > sizeof(low))
		len = sizeof(low);
	for (size_t i = 0; i < len; i++)
		low[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
	return hash_bytes(low, len, seed);
}

const char *detect_addr_str(uint8_t family, const union pkt_addr *a, char *buf, size_t cap)
{
	const char *r = family == 4 ? inet_ntop(AF_INET, &a->b[12], buf, (socklen_t)cap)
				    : inet_ntop(AF_INET6, a->b, buf, (socklen_t)cap);

	return r ? r : "?";
}

struct host *detect_host(struct detect_engine *de, uint8_t family, const union pkt_addr *a,
			 uint64_t ts)
{
	bool created;
	struct host *h = host_get(&de->hosts, family, a, ts, &created);

	if (created) {
		if (detect_is_home(de, a))
			h->flags |= HOST_F_HOME;
		if (netset_contains(&de->cfg->mail_servers, a))
			h->flags |= HOST_F_CFG_SERVER;
	}
	return h;
}

struct host *detect_client(struct detect_engine *de, const struct event_hdr *e)
{
	return detect_host(de, e->family, &e->client, e->ts_ns);
}

struct host *detect_server(struct detect_engine *de, const struct event_hdr *e)
{
	return detect_host(de, e->family, &e->server, e->ts_ns);
}

const char *detect_span_str(uint32_t secs, char *buf, size_t cap)
{
	if (secs % 86400 == 0)
		snprintf(buf, cap, "%ud", secs / 86400);
	else if (secs % 3600 == 0)
		snprintf(buf, cap, "%uh", secs / 3600);
	else if (secs % 60 == 0)
		snprintf(buf, cap, "%um", secs / 60);
	else
		snprintf(buf, cap, "%us", secs);
	return buf;
}

bool detect_addr_is_set(const union pkt_addr *a)
{
	return (a->q[0] | a->q[1]) != 0;
}

void detect_note_addr(struct detect_evidence *ev, const char *field, uint8_t family,
		      const union pkt_addr *a)
{
	char buf[INET6_ADDRSTRLEN];
	const char *s = detect_addr_str(family, a, buf, sizeof(buf));

	detect_evidence_note(ev, field, s, strlen(s));
}

/* ---- event handlers ---- */

uint32_t detect_window_add(struct detect_engine *de, struct window *w, const struct window_cfg *c,
			   uint64_t ts_ns, uint32_t n)
{
	if (!window_add(w, c, ts_ns, n))
		de->st.late_events++;
	return window_sum(w, c, ts_ns);
}

uint32_t detect_count(struct detect_engine *de, struct host *h, enum host_win w, uint64_t ts_ns)
{
	return detect_window_add(de, &h->w[w], &de->hw[w], ts_ns, 1);
}

static void on_session_open(struct detect_engine *de, const struct event_hdr *e)
{
	struct host *c = detect_client(de, e);

	host_tot_inc(&c->tot.sessions_out, 1);
	if (c->flags & HOST_F_HOME)
		c->flags |= HOST_F_CLIENT;
	if (detect_is_home(de, &e->server))
		host_tot_inc(&detect_server(de, e)->tot.sessions_in, 1);
	detect_direct_mx_bot_open(de, e, c);
}

static void on_banner(struct detect_engine *de, const struct event_banner *b)
{
	struct reply_code rc = {.code = b->code};
	size_t n = detect_clamp(b->text_len, sizeof(b->text));

	if (b->code >= 200 && b->code < 300) {
		struct host *s;

		if (!detect_is_home(de, &b->h.server))
			return;
		s = detect_server(de, &b->h);
		if (!(s->flags & HOST_F_SERVER)) {
			s->flags |= HOST_F_SERVER;
			de->st.servers_learned++;
		}
		return;
	}
	if (reply_text_classify(&rc, b->text, n) == REPLY_TEXT_BLOCKLIST)
		detect_blocklisted_reply(de, &b->h, 0, b->text, n, 0);
}

static void on_auth(struct detect_engine *de, const struct event_auth *a)
{
	struct host *c = detect_client(de, &a->h);

	if (a->result == SMTP_AUTH_FAILURE) {
		host_tot_inc(&c->tot.auth_fail, 1);
		detect_count(de, c, HOST_W_AUTH_FAIL, a->h.ts_ns);
		sprt_observe(&c->sprt, &de->sprt, SPRT_AUTH_FAIL, 1);
		detect_auth_bruteforce_fail(de, a, c);
		detect_auth_spray_fail(de, a, c);
	} else if (a->result == SMTP_AUTH_SUCCESS) {
		host_tot_inc(&c->tot.auth_ok, 1);
		sprt_observe(&c->sprt, &de->sprt, SPRT_AUTH_OK, 1);
		detect_compromised_account_auth(de, a);
	}
}

/* Accepted, rejected, unknown: what one recipient says about its sender.
 * Relay and blocklist replies are scored by their detectors, once per
 * transaction. Temporary failures (greylisting) say nothing either way. */
static void rcpt_sprt(struct detect_engine *de, struct host *c, const struct event_rcpt *r,
		      enum reply_text_class cls)
{
	struct detect_addr ad;

	if (r->code >= 200 && r->code < 300) {
		detect_split_addr(r->rcpt, detect_clamp(r->rcpt_len, sizeof(r->rcpt)), &ad);
		sprt_observe(&c->sprt, &de->sprt, SPRT_RCPT_ACCEPTED, 1);
		if (ad.dom_len) {
			bool fresh = host_note_domain(c, detect_hash_lower(ad.dom, ad.dom_len, 7));

			if (fresh)
				host_tot_inc(&c->tot.rcpt_domains, 1);
			sprt_observe(&c->sprt, &de->sprt, fresh ? SPRT_NEW_DOMAIN : SPRT_OLD_DOMAIN,
				     1);
		}
	} else if (r->code >= 500 && r->code < 600) {
		if (cls == REPLY_TEXT_USER_UNKNOWN)
			sprt_observe(&c->sprt, &de->sprt, SPRT_RCPT_UNKNOWN, 1);
		else if (cls == REPLY_TEXT_NONE)
			sprt_observe(&c->sprt, &de->sprt, SPRT_RCPT_REJECTED, 1);
	}
}

static void on_rcpt(struct detect_engine *de, const struct event_rcpt *r)
{
	struct reply_code rc = {r->code, r->enh_class, r->enh_subject, r->enh_detail};
	size_t tl = detect_clamp(r->text_len, sizeof(r->text));
	enum reply_text_class cls = reply_text_classify(&rc, r->text, tl);
	struct host *c = detect_client(de, &r->h);

	host_tot_inc(&c->tot.rcpts, 1);
	if (r->code >= 400)
		host_tot_inc(&c->tot.rcpts_rejected, 1);
	detect_count(de, c, HOST_W_RCPT, r->h.ts_ns);
	baseline_add(&c->rcpts_base, &de->host_base, r->h.ts_ns, 1);
	rcpt_sprt(de, c, r, cls);
	detect_recipient_harvest_rcpt(de, r, c, cls);
	if (cls == REPLY_TEXT_RELAY_DENIED)
		detect_relay_probe_denied(de, &r->h, r->trans_depth, c, r->text, tl);
	else if (cls == REPLY_TEXT_BLOCKLIST)
		detect_blocklisted_reply(de, &r->h, r->trans_depth, r->text, tl, 0);
	detect_open_relay_rcpt(de, r, c);
}

static void on_reply(struct detect_engine *de, const struct event_reply *r)
{
	struct reply_code rc = {r->code, r->enh_class, r->enh_subject, r->enh_detail};
	size_t tl = detect_clamp(r->text_len, sizeof(r->text));
	enum reply_text_class cls = reply_text_classify(&rc, r->text, tl);

	if (cls == REPLY_TEXT_BLOCKLIST)
		detect_blocklisted_reply(de, &r->h, r->trans_depth, r->text, tl, 0);
	else if (cls == REPLY_TEXT_RELAY_DENIED && r->cmd == EV_CMD_RCPT)
		detect_relay_probe_denied(de, &r->h, r->trans_depth, detect_client(de, &r->h),
					  r->text, tl);
}

static void on_sig(struct detect_engine *de, const struct event_sig *s)
{
	size_t n = detect_clamp(s->snippet_len, sizeof(s->snippet));

	switch (s->sig_class) {
	case EV_SIGCLASS_BLOCKLIST:
		detect_blocklisted_reply(de, &s->h, s->trans_depth, s->snippet, n, s->sig_id);
		break;
	case EV_SIGCLASS_RELAY_DENIED:
		detect_relay_probe_denied(de, &s->h, s->trans_depth, detect_client(de, &s->h),
					  s->snippet, n);
		break;
	case EV_SIGCLASS_USER_UNKNOWN:
		/* EV_RCPT carries every recipient with its reply and is counted
		 * there; counting the rule too would count twice. */
		break;
	default:
		detect_content_signature_hit(de, s, detect_client(de, &s->h));
		break;
	}
}

static void on_tx(struct detect_engine *de, const struct event_tx *et)
{
	const struct smtp_tx *tx = &et->tx;
	struct host *c = detect_client(de, &et->h);

	if (!(tx->flags & SMTP_TX_F_SESSION) && tx->trans_depth > 0) {
		host_tot_inc(&c->tot.msgs, 1);
		detect_count(de, c, HOST_W_MSGS, et->h.ts_ns);
		baseline_add(&c->msgs_base, &de->host_base, et->h.ts_ns, 1);
		detect_evidence_tx_end(de, &c->addr, ALERT_RELAY_PROBE, et->h.uid, tx->trans_depth);
		detect_evidence_tx_end(de, &c->addr, ALERT_BLOCKLISTED, et->h.uid, tx->trans_depth);
	}
	detect_mass_recipients_tx(de, tx, c);
	detect_spoofed_home_domain_tx(de, tx, c);
	detect_bounce_storm_tx(de, tx);
	detect_compromised_account_tx(de, tx);
	detect_volume_anomaly_tx(de, tx, c);
}

/* The parser writes whole records; a short one or a transaction whose
 * strings point past its arena would make us read outside the event. */
static bool tx_valid(const struct smtp_tx *tx)
{
	if (tx->arena_used > SMTP_TX_ARENA || tx->n_rcpt_stored > SMTP_TX_MAX_RCPT ||
	    tx->n_to_stored > SMTP_TX_MAX_HDR_ADDRS || tx->n_cc_stored > SMTP_TX_MAX_HDR_ADDRS ||
	    tx->n_path > SMTP_TX_MAX_PATH)
		return false;
	for (int i = 0; i < SMTP_F_COUNT; i++)
		if ((uint32_t)tx->f[i].off + tx->f[i].len > tx->arena_used)
			return false;
	for (unsigned int i = 0; i < tx->n_rcpt_stored; i++)
		if ((uint32_t)tx->rcpt[i].addr.off + tx->rcpt[i].addr.len > tx->arena_used)
			return false;
	for (unsigned int i = 0; i < tx->n_to_stored; i++)
		if ((uint32_t)tx->to[i].off + tx->to[i].len > tx->arena_used)
			return false;
	for (unsigned int i = 0; i < tx->n_path; i++)
		if ((uint32_t)tx->path[i].off + tx->path[i].len > tx->arena_used)
			return false;
	return true;
}

static bool event_valid(const struct event_hdr *e)
{
	static const uint32_t min_len[EV_TYPE_COUNT] = {
		[EV_SESSION_OPEN] = sizeof(struct event_session_open),
		[EV_BANNER] = sizeof(struct event_banner),
		[EV_AUTH] = sizeof(struct event_auth),
		[EV_RCPT] = sizeof(struct event_rcpt),
		[EV_REPLY] = sizeof(struct event_reply),
		[EV_SIG] = sizeof(struct event_sig),
		[EV_TX] = offsetof(struct event_tx, tx) + offsetof(struct smtp_tx, arena),
		[EV_SESSION_CLOSE] = sizeof(struct event_session_close),
	};
	const struct event_tx *et = (const struct event_tx *)e;

	if (e->type == 0 || e->type >= EV_TYPE_COUNT || e->len < min_len[e->type])
		return false;
	if (e->type != EV_TX)
		return true;
	return offsetof(struct event_tx, tx) + et->tx.wire_size <= e->len &&
	       offsetof(struct smtp_tx, arena) + (size_t)et->tx.arena_used <= et->tx.wire_size &&
	       tx_valid(&et->tx);
}

void detect_engine_event(struct detect_engine *de, const struct event_hdr *e)
{
	if (!event_valid(e)) {
		de->st.bad_events++;
		return;
	}
	if (e->ts_ns > de->now_ns)
		de->now_ns = e->ts_ns;
	de->st.events++;
	switch (e->type) {
	case EV_SESSION_OPEN:
		on_session_open(de, e);
		break;
	case EV_BANNER:
		on_banner(de, (const struct event_banner *)e);
		break;
	case EV_AUTH:
		on_auth(de, (const struct event_auth *)e);
		break;
	case EV_RCPT:
		on_rcpt(de, (const struct event_rcpt *)e);
		break;
	case EV_REPLY:
		on_reply(de, (const struct event_reply *)e);
		break;
	case EV_SIG:
		on_sig(de, (const struct event_sig *)e);
		break;
	case EV_TX:
		on_tx(de, (const struct event_tx *)e);
		break;
	default:
		break;
	}
	/* A little expiry per event keeps the pending table current between ticks. */
	detect_open_relay_expire(de, de->now_ns, EVENT_EXPIRE_BUDGET);
}

void detect_engine_tick(struct detect_engine *de, uint64_t now_ns)
{
	if (now_ns > de->now_ns)
		de->now_ns = now_ns;
	detect_open_relay_expire(de, de->now_ns, TICK_BUDGET);
	detect_alerts_tick(de, de->now_ns, TICK_BUDGET);
}

void detect_engine_flush(struct detect_engine *de)
{
	detect_alerts_flush(de);
}

void detect_engine_src_counters(struct detect_engine *de, uint8_t family, const union pkt_addr *src,
				uint64_t smtp_syns, uint64_t flows, uint64_t pkts, uint64_t bytes,
				uint64_t ts_ns)
{
	uint32_t now_flows = flows > UINT32_MAX ? UINT32_MAX : (uint32_t)flows;
	struct host *h;

	/* Foreign sources are noted only when already known: a flood of
	 * spoofed SYNs must not push real hosts out of the table. */
	if (!detect_is_home(de, src)) {
		h = host_find(&de->hosts, family, src);
		if (!h)
			return;
	} else {
		h = detect_host(de, family, src, ts_ns);
	}
	/* The BPF map holds running totals: keep the latest snapshot and count
	 * what it grew by. A total that went down was evicted from the LRU map
	 * and started again from zero. */
	h->tot.xdp_syns = smtp_syns > UINT32_MAX ? UINT32_MAX : (uint32_t)smtp_syns;
	detect_direct_mx_bot_xdp(
		de, h, now_flows >= h->tot.xdp_flows ? now_flows - h->tot.xdp_flows : now_flows,
		ts_ns);
	h->tot.xdp_flows = now_flows;
}

const struct detect_stats *detect_engine_stats(const struct detect_engine *de)
{
	struct detect_stats *st = (struct detect_stats *)&de->st;

	st->hosts = host_count(&de->hosts);
	st->hosts_evicted = host_evicted(&de->hosts);
	st->accounts = account_count(&de->accounts);
	st->accounts_evicted = account_evicted(&de->accounts);
	st->relay_pending = de->pending.count;
	st->relay_pending_evicted = de->pending.evicted;
	st->domains_evicted = de->domains.evicted;
	st->evidence_evicted = de->evidence.evicted;
	st->sketches_reclaimed = distinct_pool_stats(de->pool)->reclaimed;
	return st;
}

/* ---- life cycle ---- */

/* Windows shared by several detectors span the longest of them; the
 * shorter ones read their part with window_sum_last(). */
static void setup_spans(struct detect_engine *de)
{
	const struct detect_p *p = &de->p;

	window_cfg_init(&de->hw[HOST_W_AUTH_FAIL], max_u32(p->bf_window, p->sp_window));
	window_cfg_init(&de->hw[HOST_W_DENIED], p->rp_window);
	window_cfg_init(&de->hw[HOST_W_RCPT], max_u32(p->hv_window, p->va_window));
	window_cfg_init(&de->hw[HOST_W_UNKNOWN], p->hv_window);
	window_cfg_init(&de->hw[HOST_W_BLOCKLIST], p->bl_window);
	window_cfg_init(&de->hw[HOST_W_MSGS], p->va_window);
	window_cfg_init(&de->hw[HOST_W_SPOOFED], p->sf_window);
	window_cfg_init(&de->hw[HOST_W_RELAYED], p->or_window);
	de->hd_span[HOST_D_USERS] = p->sp_window;
	de->hd_span[HOST_D_REFUSERS] = p->rp_window;
	de->hd_span[HOST_D_MX] = p->mx_window;
	de->hd_span[HOST_D_FDOMAINS] = p->or_window;
	window_cfg_init(&de->aw[ACCOUNT_W_RCPTS], p->ca_window);
	window_cfg_init(&de->aw[ACCOUNT_W_BOUNCES], max_u32(p->bs_window, p->ca_window));
	de->acct_sources_span = p->ca_window;
	window_cfg_init(&de->cs_wc, p->cs_window);
	de->acct_base = de->host_base;
}

static void setup_detectors(struct detect_engine *de, const struct detect_cfg *cfg)
{
	for (int k = 0; k < ALERT_KIND_COUNT; k++) {
		de->on[k] = cfg[k].enabled;
		de->sev[k] = cfg[k].severity;
	}
	detect_open_relay_init(de, cfg);
	detect_relay_probe_init(de, cfg);
	detect_auth_bruteforce_init(de, cfg);
	detect_auth_spray_init(de, cfg);
	detect_compromised_account_init(de, cfg);
	detect_direct_mx_bot_init(de, cfg);
	detect_blocklisted_init(de, cfg);
	detect_recipient_harvest_init(de, cfg);
	detect_bounce_storm_init(de, cfg);
	detect_mass_recipients_init(de, cfg);
	detect_spoofed_home_domain_init(de, cfg);
	detect_content_signature_init(de, cfg);
	detect_volume_anomaly_init(de, cfg);
	setup_spans(de);
	/* 1 false positive in 1000 decisions, 1 miss in 100 (see sprt.c). */
	sprt_cfg_init(&de->sprt, 0.001, 0.01);
}

static int setup_tables(struct detect_engine *de, const struct config_limits *lim)
{
	uint32_t nh = max_u32(lim->hosts, MIN_TABLE), na = max_u32(lim->accounts, MIN_TABLE);
	int err;

	/* One sketch pair (2 KiB) per 256 entries: only hosts that talk to
	 * more than a handful of peers need one. */
	err = distinct_pool_create(clamp_u32(((uint64_t)nh + na) / 256, 256, 1u << 20), &de->pool);
	if (!err)
		err = host_table_init(&de->hosts, nh, de->pool);
	if (!err)
		err = account_table_init(&de->accounts, na, de->pool);
	if (!err)
		err = lru_init(&de->pending, clamp_u32(nh / 16, 4096, 262144),
			       sizeof(struct detect_pending), NULL, NULL);
	if (!err)
		err = lru_init(&de->domains, clamp_u32(nh / 64, 1024, 65536),
			       sizeof(struct detect_domain), NULL, NULL);
	if (!err)
		err = detect_alerts_init(de);
	if (err)
		return err;
	de->st.host_bytes = lru_entry_bytes(&de->hosts.lru);
	de->st.account_bytes = lru_entry_bytes(&de->accounts.lru);
	de->st.mem_bytes = sizeof(*de) + distinct_pool_mem_bytes(de->pool) +
			   lru_mem_bytes(&de->hosts.lru) + lru_mem_bytes(&de->accounts.lru) +
			   lru_mem_bytes(&de->pending) + lru_mem_bytes(&de->domains) +
			   lru_mem_bytes(&de->evidence) + lru_mem_bytes(&de->alerts);
	return 0;
}

int detect_engine_create(const struct config *cfg, detect_emit_fn *emit, void *arg,
			 struct detect_engine **out)
{
	struct detect_engine *de = calloc(1, sizeof(*de));
	int err;

	if (!de)
		return -ENOMEM;
	de->cfg = cfg;
	de->emit = emit;
	de->emit_arg = arg;
	de->alert_interval_ns = (uint64_t)cfg->alert_interval_s * DETECT_NS;
	/* Empty means nothing is home: the home-only detectors stay quiet
	 * (deploy/relaywatch.yaml says so to the operator). */
	de->home_net = &cfg->home_net;
	setup_detectors(de, cfg->detectors);
	err = setup_tables(de, &cfg->limits);
	if (err) {
		detect_engine_destroy(de);
		return err;
	}
	*out = de;
	return 0;
}

void detect_engine_destroy(struct detect_engine *de)
{
	if (!de)
		return;
	detect_alerts_fini(de);
	lru_fini(&de->domains);
	lru_fini(&de->pending);
	account_table_fini(&de->accounts);
	host_table_fini(&de->hosts);
	distinct_pool_destroy(de->pool);
	free(de);
}

/* ---- reading ---- */

bool detect_engine_host_next(const struct detect_engine *de, uint32_t *cursor,
			     struct detect_host_summary *out)
{
	for (; *cursor < de->hosts.lru.high; (*cursor)++) {
		const struct host *h = lru_at(&de->hosts.lru, *cursor);

		if (!h)
			continue;
		memset(out, 0, sizeof(*out));
		out->addr = h->addr;
		out->family = h->family;
		out->home = h->flags & HOST_F_HOME;
		out->mail_server = detect_is_mail_server(de, h);
		out->kinds = h->kinds;
		out->first_ns = (uint64_t)h->first_s * DETECT_NS;
		out->last_ns = (uint64_t)h->last_s * DETECT_NS;
		out->sprt = sprt_score(&h->sprt);
		out->sprt_crossings = h->sprt.crossings;
		out->score = detect_host_score(de, h);
		out->sessions_out = h->tot.sessions_out;
		out->sessions_in = h->tot.sessions_in;
		out->msgs = h->tot.msgs;
		out->rcpts = h->tot.rcpts;
		out->rcpts_rejected = h->tot.rcpts_rejected;
		out->auth_ok = h->tot.auth_ok;
		out->auth_fail = h->tot.auth_fail;
		out->alerts = h->tot.alerts;
		out->xdp_syns = h->tot.xdp_syns;
		out->xdp_flows = h->tot.xdp_flows;
		out->blocklist_replies = h->tot.blocklist;
		out->sig_hits = h->tot.sig_hits;
		out->bounces = h->tot.bounces;
		out->distinct_servers = h->tot.servers;
		out->distinct_rcpt_domains = h->tot.rcpt_domains;
		(*cursor)++;
		return true;
	}
	return false;
}

bool detect_engine_account_next(const struct detect_engine *de, uint32_t *cursor,
				struct detect_account_summary *out)
{
	for (; *cursor < de->accounts.lru.high; (*cursor)++) {
		const struct account *a = lru_at(&de->accounts.lru, *cursor);

		if (!a)
			continue;
		memset(out, 0, sizeof(*out));
		memcpy(out->name, a->name, sizeof(out->name));
		out->name[sizeof(out->name) - 1] = '\0';
		out->type = account_type_name(a->type);
		out->family = a->family;
		out->server = a->server;
		out->source = a->source;
		out->kinds = a->kinds;
		out->first_ns = (uint64_t)a->first_s * DETECT_NS;
		out->last_ns = (uint64_t)a->last_s * DETECT_NS;
		out->score = detect_kinds_score(de, a->kinds);
		out->auth_ok = a->tot_auth_ok;
		out->msgs = a->tot_msgs;
		out->rcpts = a->tot_rcpts;
		out->bounces = a->tot_bounces;
		(*cursor)++;
		return true;
	}
	return false;
}
