// SPDX-License-Identifier: BSD-3-Clause
#include "exporters/pb_conv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonw.h"
#include "exporters/export_json.h"
#include "exporters/relaywatch.pb-c.h"

/*
 * Worst case: a full smtp_tx arena where every byte is invalid UTF-8 and
 * becomes "\xNN" (as in smtp.json), plus pseudonyms longer than what they
 * replace. Everything a frame says is in here, so the frame stays far below
 * PB_CONV_FRAME_MAX.
 */
#define PB_CONV_SCRATCH (4 * SMTP_TX_ARENA + 8192)

struct pb_conv {
	struct pb_conv_cfg cfg;
	Relaywatch__Frame frame;
	union {
		struct {
			Relaywatch__Alert m;
			Relaywatch__Counter c[ALERT_MAX_COUNTERS];
			Relaywatch__Counter *cp[ALERT_MAX_COUNTERS];
			Relaywatch__Example e[ALERT_MAX_EXAMPLES];
			Relaywatch__Example *ep[ALERT_MAX_EXAMPLES];
			char *uids[ALERT_MAX_UIDS];
		} alert;
		struct {
			Relaywatch__Transaction m;
			Relaywatch__Recipient r[SMTP_TX_MAX_RCPT];
			Relaywatch__Recipient *rp[SMTP_TX_MAX_RCPT];
		} tx;
		Relaywatch__HostSummary summary;
		struct {
			Relaywatch__SensorHello m;
			char *home[PB_CONV_HOME_MAX];
		} hello;
	} u;
	size_t used;
	bool truncated;
	char scratch[PB_CONV_SCRATCH];
};

int pb_conv_create(const struct pb_conv_cfg *cfg, struct pb_conv **out)
{
	struct pb_conv *pc = calloc(1, sizeof(*pc));

	if (!pc)
		return -ENOMEM;
	if (cfg)
		pc->cfg = *cfg;
	*out = pc;
	return 0;
}

void pb_conv_destroy(struct pb_conv *pc)
{
	free(pc);
}

bool pb_conv_truncated(const struct pb_conv *pc)
{
	return pc->truncated;
}

/* ---- strings into the arena ---- */

static void reset(struct pb_conv *pc, const struct pb_conv_id *id)
{
	pc->used = 0;
	pc->truncated = false;
	relaywatch__frame__init(&pc->frame);
	pc->frame.run_id = id->run_id;
	pc->frame.seq = id->seq;
}

/* Room for one more byte and the NUL. */
static bool room(struct pb_conv *pc, size_t n)
{
	if (pc->used + n + 1 <= sizeof(pc->scratch))
		return true;
	pc->truncated = true;
	return false;
}

/* Valid UTF-8 copied as is; any other byte (NUL included) as the text \xNN,
 * the way smtp.json writes it, so both outputs agree on every value. */
static char *str(struct pb_conv *pc, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *start = pc->scratch + pc->used;
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;

	while (i < n) {
		size_t run = i, sl;

		/* Plain ASCII (no NUL) is nearly everything: copy it a run at a time. */
		while (run < n && (uint8_t)(p[run] - 1) < 0x7f)
			run++;
		if (run > i) {
			sl = room(pc, run - i) ? run - i : 0;
			memcpy(pc->scratch + pc->used, p + i, sl);
			pc->used += sl;
			if (!sl)
				break;
			i = run;
			continue;
		}
		sl = p[i] ? jsonw_utf8_seq_len(p + i, n - i) : 0;
		if (sl) {
			if (!room(pc, sl))
				break;
			memcpy(pc->scratch + pc->used, p + i, sl);
			pc->used += sl;
			i += sl;
			continue;
		}
		if (!room(pc, 4))
			break;
		pc->scratch[pc->used++] = '\\';
		pc->scratch[pc->used++] = 'x';
		pc->scratch[pc->used++] = hex[p[i] >> 4];
		pc->scratch[pc->used++] = hex[p[i] & 15];
		i++;
	}
	pc->scratch[pc->used++] = '\0';
	return start;
}

/* A NUL-terminated field of a fixed-size record; never reads past cap. */
static char *cstr(struct pb_conv *pc, const char *s, size_t cap)
{
	return str(pc, s, strnlen(s, cap));
}

static char *addr_text(struct pb_conv *pc, uint8_t family, const union pkt_addr *a)
{
	char buf[INET6_ADDRSTRLEN];

	if (family != 4 && family != 6)
		return (char *)"";
	if (!export_json_addr(family, a, buf, sizeof(buf)))
		return (char *)"";
	return cstr(pc, buf, sizeof(buf));
}

/* ---- frames ---- */

static long finish(struct pb_conv *pc, const struct pb_conv_id *id)
{
	size_t n;

	pc->frame.sensor_id = cstr(pc, id->sensor_id ? id->sensor_id : "", 256);
	n = relaywatch__frame__get_packed_size(&pc->frame);
	return n > PB_CONV_FRAME_MAX ? -E2BIG : (long)n;
}

size_t pb_conv_pack(struct pb_conv *pc, uint8_t *out)
{
	return relaywatch__frame__pack(&pc->frame, out);
}

static void alert_evidence(struct pb_conv *pc, const struct alert *a)
{
	Relaywatch__Alert *m = &pc->u.alert.m;
	unsigned int n;

	n = a->n_counters < ALERT_MAX_COUNTERS ? a->n_counters : ALERT_MAX_COUNTERS;
	for (unsigned int i = 0; i < n; i++) {
		Relaywatch__Counter *c = &pc->u.alert.c[i];

		relaywatch__counter__init(c);
		c->name = cstr(pc, a->counters[i].name, sizeof(a->counters[i].name));
		c->value = a->counters[i].value;
		c->threshold = a->counters[i].threshold;
		c->window_s = a->counters[i].window_s;
		pc->u.alert.cp[i] = c;
	}
	m->n_counters = n;
	m->counters = pc->u.alert.cp;

	n = a->n_examples < ALERT_MAX_EXAMPLES ? a->n_examples : ALERT_MAX_EXAMPLES;
	for (unsigned int i = 0; i < n; i++) {
		Relaywatch__Example *e = &pc->u.alert.e[i];

		relaywatch__example__init(e);
		e->field = cstr(pc, a->examples[i].field, sizeof(a->examples[i].field));
		e->value = cstr(pc, a->examples[i].value, sizeof(a->examples[i].value));
		pc->u.alert.ep[i] = e;
	}
	m->n_examples = n;
	m->examples = pc->u.alert.ep;

	n = a->n_uids < ALERT_MAX_UIDS ? a->n_uids : ALERT_MAX_UIDS;
	for (unsigned int i = 0; i < n; i++)
		pc->u.alert.uids[i] = cstr(pc, a->uids[i], sizeof(a->uids[i]));
	m->n_uids = n;
	m->uids = pc->u.alert.uids;
}

long pb_conv_alert(struct pb_conv *pc, const struct pb_conv_id *id, const struct alert *a)
{
	Relaywatch__Alert *m = &pc->u.alert.m;

	reset(pc, id);
	relaywatch__alert__init(m);
	m->ts_ns = a->ts_ns;
	m->first_ns = a->first_ns;
	m->kind = (char *)alert_kind_name(a->kind);
	m->severity = (char *)alert_severity_name(a->severity);
	m->host = addr_text(pc, a->family, &a->host);
	m->account = cstr(pc, a->account, sizeof(a->account));
	m->score = a->score;
	m->message = cstr(pc, a->message, sizeof(a->message));
	m->seq = a->seq;
	alert_evidence(pc, a);
	pc->frame.body_case = RELAYWATCH__FRAME__BODY_ALERT;
	pc->frame.alert = m;
	return finish(pc, id);
}

long pb_conv_summary(struct pb_conv *pc, const struct pb_conv_id *id,
		     const struct detect_host_summary *hs, uint64_t ts_ns, uint32_t period_s)
{
	Relaywatch__HostSummary *m = &pc->u.summary;

	reset(pc, id);
	relaywatch__host_summary__init(m);
	m->ts_ns = ts_ns;
	m->period_s = period_s;
	m->host = addr_text(pc, hs->family, &hs->addr);
	m->home = hs->home;
	m->mail_server = hs->mail_server;
	m->sessions = hs->sessions_out;
	m->sessions_served = hs->sessions_in;
	m->messages = hs->msgs;
	m->recipients = hs->rcpts;
	m->rcpt_rejected = hs->rcpts_rejected;
	m->auth_success = hs->auth_ok;
	m->auth_failure = hs->auth_fail;
	m->distinct_servers = hs->distinct_servers;
	m->distinct_rcpt_domains = hs->distinct_rcpt_domains;
	m->bounces_received = hs->bounces;
	m->blocklist_replies = hs->blocklist_replies;
	m->signature_hits = hs->sig_hits;
	m->score = hs->score;
	m->first_seen_ns = hs->first_ns;
	m->last_seen_ns = hs->last_ns;
	pc->frame.body_case = RELAYWATCH__FRAME__BODY_SUMMARY;
	pc->frame.summary = m;
	return finish(pc, id);
}

long pb_conv_hello(struct pb_conv *pc, const struct pb_conv_id *id, const struct pb_conv_hello *h)
{
	Relaywatch__SensorHello *m = &pc->u.hello.m;
	unsigned int n = h->n_home_net < PB_CONV_HOME_MAX ? h->n_home_net : PB_CONV_HOME_MAX;

	reset(pc, id);
	relaywatch__sensor_hello__init(m);
	m->sensor_id = cstr(pc, id->sensor_id ? id->sensor_id : "", 256);
	m->version = cstr(pc, h->version ? h->version : "", 64);
	m->config_digest = cstr(pc, h->config_digest ? h->config_digest : "", 128);
	m->started_ns = h->started_ns;
	for (unsigned int i = 0; i < n; i++)
		pc->u.hello.home[i] = cstr(pc, h->home_net[i], 64);
	m->n_home_net = n;
	m->home_net = pc->u.hello.home;
	pc->frame.body_case = RELAYWATCH__FRAME__BODY_HELLO;
	pc->frame.hello = m;
	return finish(pc, id);
}

/* ---- transactions ---- */

static char *tx_field(struct pb_conv *pc, const struct smtp_tx *tx, enum smtp_field f)
{
	size_t n;
	const char *s = smtp_tx_get(tx, f, &n);

	return n ? str(pc, s, n) : (char *)"";
}

/* Mailboxes and users are pseudonyms already when privacy.pseudonymize is on:
 * the worker made them (sensor/privacy.h), so they go as recorded. */
static char *tx_addr(struct pb_conv *pc, const struct smtp_tx *tx, struct smtp_str v)
{
	return v.len ? str(pc, smtp_tx_str(tx, v), v.len) : (char *)"";
}

static void tx_rcpts(struct pb_conv *pc, const struct smtp_tx *tx)
{
	Relaywatch__Transaction *m = &pc->u.tx.m;
	unsigned int n =
		tx->n_rcpt_stored < SMTP_TX_MAX_RCPT ? tx->n_rcpt_stored : SMTP_TX_MAX_RCPT;

	for (unsigned int i = 0; i < n; i++) {
		const struct smtp_rcpt *r = &tx->rcpt[i];
		Relaywatch__Recipient *pr = &pc->u.tx.r[i];
		char st[24];

		relaywatch__recipient__init(pr);
		pr->addr = tx_addr(pc, tx, r->addr);
		pr->code = r->code;
		if (r->enh_class) {
			snprintf(st, sizeof(st), "%u.%u.%u", r->enh_class, r->enh_subject,
				 r->enh_detail);
			pr->status = cstr(pc, st, sizeof(st));
		}
		pc->u.tx.rp[i] = pr;
	}
	m->n_rcpt = n;
	m->rcpt = pc->u.tx.rp;
}

static void tx_endpoints(struct pb_conv *pc, const struct smtp_tx *tx)
{
	Relaywatch__Transaction *m = &pc->u.tx.m;
	union pkt_addr c = tx->orig_h, s = tx->resp_h;

	if (pc->cfg.privacy && pc->cfg.pseudonymize_ips) {
		privacy_ip(pc->cfg.privacy, tx->family, &c, &c);
		privacy_ip(pc->cfg.privacy, tx->family, &s, &s);
	}
	m->client = addr_text(pc, tx->family, &c);
	m->client_port = tx->orig_p;
	m->server = addr_text(pc, tx->family, &s);
	m->server_port = tx->resp_p;
}

long pb_conv_tx(struct pb_conv *pc, const struct pb_conv_id *id, const struct smtp_tx *tx)
{
	Relaywatch__Transaction *m = &pc->u.tx.m;

	reset(pc, id);
	relaywatch__transaction__init(m);
	m->ts_ns = tx->ts_ns;
	m->uid = cstr(pc, tx->uid, sizeof(tx->uid));
	tx_endpoints(pc, tx);
	m->trans_depth = tx->trans_depth;
	m->helo = tx_field(pc, tx, SMTP_F_HELO);
	m->mailfrom = tx_addr(pc, tx, tx->f[SMTP_F_MAILFROM]);
	tx_rcpts(pc, tx);
	m->auth_mech = tx_field(pc, tx, SMTP_F_AUTH_MECH);
	m->auth_user = tx_addr(pc, tx, tx->f[SMTP_F_AUTH_USER]);
	if (tx->auth_result != SMTP_AUTH_NONE)
		m->auth_result = (char *)smtp_auth_result_name(tx->auth_result);
	m->msg_id = tx_field(pc, tx, SMTP_F_MSG_ID);
	m->from = tx_field(pc, tx, SMTP_F_FROM);
	if (!pc->cfg.drop_subject)
		m->subject = tx_field(pc, tx, SMTP_F_SUBJECT);
	m->to_count = tx->n_to;
	m->cc_count = tx->n_cc;
	m->msg_size = tx->msg_size;
	m->last_reply = tx_field(pc, tx, SMTP_F_LAST_REPLY);
	m->tls = (tx->flags & SMTP_TX_F_TLS) != 0;
	m->is_bounce = (tx->flags & SMTP_TX_F_BOUNCE) != 0;
	m->user_agent = tx_field(pc, tx, SMTP_F_USER_AGENT);
	pc->frame.body_case = RELAYWATCH__FRAME__BODY_TX;
	pc->frame.tx = m;
	return finish(pc, id);
}
