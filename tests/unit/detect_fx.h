/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * detect_fx: what the detection engine's tests share (test_detect*.c): the
 * addresses and times, the fixture (an engine on a test configuration that
 * keeps the alerts it emits), events built the way the SMTP parser builds
 * them, and lookups in the alerts. Header-only, as pkt_build.h; test-only.
 */
#ifndef RELAYWATCH_TESTS_DETECT_FX_H
#define RELAYWATCH_TESTS_DETECT_FX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/config.h"
#include "sensor/detect.h"
#include "sensor/event.h"
#include "sensor/netset.h"

#define S  1000000000ull
#define M  (60 * S)
#define H  (3600 * S)
#define T0 (1699995600ull * S)

/* home_net 198.51.100.0/24 and 2001:db8:100::/48; example.net is home */
#define SRV   "198.51.100.25" /* home mail server (MX) */
#define RELAY "198.51.100.26" /* home outbound relay */
#define PC    "198.51.100.77" /* home PC */
#define PC2   "198.51.100.78"
#define EXT   "203.0.113.5" /* foreign client */
#define MX1   "192.0.2.80"  /* foreign mail server */

struct fx {
	struct config cfg;
	struct detect_engine *de;
	struct alert got[256];
	unsigned int n;
	uint64_t t;
	bool domains;
};

static inline void on_alert(void *arg, const struct alert *a)
{
	struct fx *f = arg;

	if (f->n < sizeof(f->got) / sizeof(f->got[0]))
		f->got[f->n++] = *a;
}

typedef void tune_fn(struct config *cfg);

static inline struct fx *fx_new_tuned(bool domains, tune_fn *tune)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct errbuf eb;

	assert_non_null(f);
	assert_int_equal(config_init(&f->cfg), 0);
	assert_int_equal(netset_add_cidr(&f->cfg.home_net, "198.51.100.0/24", &eb), 0);
	assert_int_equal(netset_add_cidr(&f->cfg.home_net, "2001:db8:100::/48", &eb), 0);
	netset_finish(&f->cfg.home_net);
	if (domains) {
		assert_int_equal(domset_add(&f->cfg.home_domains, "example.net", &eb), 0);
		domset_finish(&f->cfg.home_domains);
	}
	f->cfg.limits.hosts = 4096;
	f->cfg.limits.accounts = 4096;
	if (tune)
		tune(&f->cfg);
	assert_int_equal(detect_engine_create(&f->cfg, on_alert, f, &f->de), 0);
	f->t = T0;
	f->domains = domains;
	return f;
}

static inline struct fx *fx_new(bool domains)
{
	return fx_new_tuned(domains, NULL);
}

static inline void fx_free(struct fx *f)
{
	detect_engine_destroy(f->de);
	config_fini(&f->cfg);
	free(f);
}

/* ---- events as the parser builds them ---- */

static inline void hdr(struct fx *f, struct event_hdr *h, enum event_type type, size_t len,
		       const char *uid, const char *cli, const char *srv, uint16_t sport)
{
	uint8_t fam;

	memset(h, 0, sizeof(*h));
	h->type = (uint16_t)type;
	h->len = (uint32_t)len;
	h->ts_ns = f->t;
	snprintf(h->uid, sizeof(h->uid), "%s", uid);
	assert_true(netset_parse_addr(cli, &h->client, &fam));
	assert_true(netset_parse_addr(srv, &h->server, &h->family));
	h->client_port = 40000;
	h->server_port = sport;
}

static inline void ev_open(struct fx *f, const char *uid, const char *cli, const char *srv,
			   uint16_t port)
{
	struct event_session_open e;

	memset(&e, 0, sizeof(e));
	hdr(f, &e.h, EV_SESSION_OPEN, sizeof(e), uid, cli, srv, port);
	detect_engine_event(f->de, &e.h);
}

static inline void ev_banner(struct fx *f, const char *uid, const char *cli, const char *srv,
			     uint16_t code, const char *text)
{
	struct event_banner e;

	memset(&e, 0, sizeof(e));
	hdr(f, &e.h, EV_BANNER, sizeof(e), uid, cli, srv, 25);
	e.code = code;
	e.text_len = event_copy_text(e.text, sizeof(e.text), text, strlen(text));
	detect_engine_event(f->de, &e.h);
}

static inline void ev_auth(struct fx *f, const char *uid, const char *cli, const char *srv,
			   enum smtp_auth_result res, const char *user)
{
	struct event_auth e;

	memset(&e, 0, sizeof(e));
	hdr(f, &e.h, EV_AUTH, sizeof(e), uid, cli, srv, 587);
	e.result = (uint8_t)res;
	e.code = res == SMTP_AUTH_SUCCESS ? 235 : 535;
	e.mech_len = event_copy_text(e.mech, sizeof(e.mech), "PLAIN", 5);
	e.user_len = event_copy_text(e.user, sizeof(e.user), user, strlen(user));
	detect_engine_event(f->de, &e.h);
}

/* "554 5.7.1 text": code, enhanced code, and the text after the code. */
static inline void parse_reply(const char *reply, uint16_t *code, uint8_t enh[3], uint16_t *detail,
			       const char **text)
{
	unsigned int a, b, c;

	*code = (uint16_t)strtoul(reply, NULL, 10);
	*text = reply[3] ? reply + 4 : reply + 3;
	enh[0] = enh[1] = 0;
	*detail = 0;
	if (sscanf(*text, "%u.%u.%u", &a, &b, &c) == 3) {
		enh[0] = (uint8_t)a;
		enh[1] = (uint8_t)b;
		*detail = (uint16_t)c;
	}
}

static inline void ev_rcpt(struct fx *f, const char *uid, const char *cli, const char *srv,
			   uint32_t depth, const char *from, const char *rcpt, const char *reply,
			   bool auth)
{
	struct event_rcpt e;
	const char *text;
	uint8_t enh[3];

	memset(&e, 0, sizeof(e));
	hdr(f, &e.h, EV_RCPT, sizeof(e), uid, cli, srv, 25);
	parse_reply(reply, &e.code, enh, &e.enh_detail, &text);
	e.enh_class = enh[0];
	e.enh_subject = enh[1];
	e.authenticated = auth;
	e.trans_depth = depth;
	e.mailfrom_len = event_copy_text(e.mailfrom, sizeof(e.mailfrom), from, strlen(from));
	e.rcpt_len = event_copy_text(e.rcpt, sizeof(e.rcpt), rcpt, strlen(rcpt));
	e.text_len = event_copy_text(e.text, sizeof(e.text), text, strlen(text));
	detect_engine_event(f->de, &e.h);
}

static inline void ev_sig(struct fx *f, const char *uid, const char *cli, const char *srv,
			  uint32_t depth, uint32_t sig_id, enum event_sig_class cls,
			  uint8_t severity, enum event_sig_scope scope, const char *snippet)
{
	struct event_sig e;

	memset(&e, 0, sizeof(e));
	hdr(f, &e.h, EV_SIG, sizeof(e), uid, cli, srv, 25);
	e.sig_id = sig_id;
	e.sig_class = (uint8_t)cls;
	e.severity = severity;
	e.scope = (uint8_t)scope;
	e.trans_depth = depth;
	e.snippet_len = event_copy_text(e.snippet, sizeof(e.snippet), snippet, strlen(snippet));
	detect_engine_event(f->de, &e.h);
}

static struct event_tx txe;

static inline struct smtp_tx *tx_new(struct fx *f, const char *uid, const char *cli,
				     const char *srv, uint32_t depth, const char *mailfrom)
{
	struct smtp_tx *tx = &txe.tx;

	hdr(f, &txe.h, EV_TX, sizeof(txe), uid, cli, srv, 25);
	smtp_tx_init(tx, NULL, f->t);
	memcpy(tx->uid, txe.h.uid, sizeof(tx->uid));
	tx->family = txe.h.family;
	tx->orig_h = txe.h.client;
	tx->resp_h = txe.h.server;
	tx->orig_p = 40000;
	tx->resp_p = 25;
	tx->trans_depth = depth;
	tx->mail_code = 250;
	tx->data_code = 250;
	tx->flags = SMTP_TX_F_DATA | SMTP_TX_F_COMPLETE;
	if (mailfrom[0])
		smtp_tx_set(tx, SMTP_F_MAILFROM, mailfrom, strlen(mailfrom));
	else
		tx->flags |= SMTP_TX_F_BOUNCE;
	return tx;
}

static inline void tx_rcpt(struct smtp_tx *tx, const char *addr, uint16_t code)
{
	assert_true(smtp_tx_add_rcpt(tx, addr, strlen(addr)));
	tx->rcpt[tx->n_rcpt_stored - 1].code = code;
	if (code >= 200 && code < 300)
		tx->n_rcpt_accepted++;
	else
		tx->n_rcpt_rejected++;
}

static inline void tx_auth(struct smtp_tx *tx, const char *user)
{
	tx->auth_result = SMTP_AUTH_SUCCESS;
	tx->flags |= SMTP_TX_F_AUTH;
	smtp_tx_set(tx, SMTP_F_AUTH_USER, user, strlen(user));
}

static inline void tx_send(struct fx *f)
{
	txe.h.len = (uint32_t)(offsetof(struct event_tx, tx) + smtp_tx_wire_size(&txe.tx));
	detect_engine_event(f->de, &txe.h);
}

/* ---- looking at the alerts ---- */

static inline bool addr_is(const struct alert *a, const char *host)
{
	union pkt_addr x;
	uint8_t fam;

	assert_true(netset_parse_addr(host, &x, &fam));
	return memcmp(x.b, a->host.b, 16) == 0;
}

/* The latest alert (or update) of a kind, optionally for a host / account. */
static inline const struct alert *find(const struct fx *f, enum alert_kind k, const char *host,
				       const char *account)
{
	for (unsigned int i = f->n; i-- > 0;) {
		const struct alert *a = &f->got[i];

		if (a->kind == k && (!host || addr_is(a, host)) &&
		    (!account || strcmp(a->account, account) == 0))
			return a;
	}
	return NULL;
}

static inline unsigned int count_kind(const struct fx *f, enum alert_kind k)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < f->n; i++)
		n += f->got[i].kind == k;
	return n;
}

static inline double counter(const struct alert *a, const char *name)
{
	for (uint32_t i = 0; i < a->n_counters; i++)
		if (strcmp(a->counters[i].name, name) == 0)
			return a->counters[i].value;
	fail_msg("no counter %s", name);
	return -1;
}

static inline bool has_example(const struct alert *a, const char *field, const char *value)
{
	for (uint32_t i = 0; i < a->n_examples; i++)
		if (strcmp(a->examples[i].field, field) == 0 &&
		    strcmp(a->examples[i].value, value) == 0)
			return true;
	return false;
}

static inline bool has_uid(const struct alert *a, const char *uid)
{
	for (uint32_t i = 0; i < a->n_uids; i++)
		if (strcmp(a->uids[i], uid) == 0)
			return true;
	return false;
}

/* A foreign client hands the MX a message for someone at another domain. */
static inline void relay_in(struct fx *f, const char *uid, const char *cli, const char *rcpt)
{
	ev_open(f, uid, cli, SRV, 25);
	ev_banner(f, uid, cli, SRV, 220, "mx.example.net ESMTP Postfix");
	ev_rcpt(f, uid, cli, SRV, 1, "promo@spam.example", rcpt, "250 2.1.5 Ok", false);
}

static inline void bounce(struct fx *f, const char *from_mta, const char *to, uint32_t depth)
{
	struct smtp_tx *tx = tx_new(f, "Cbnc", from_mta, SRV, depth, "");

	smtp_tx_set(tx, SMTP_F_SUBJECT, "Undelivered Mail Returned to Sender", 35);
	tx_rcpt(tx, to, 250);
	tx_send(f);
}

#endif
