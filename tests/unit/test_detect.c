// SPDX-License-Identifier: BSD-3-Clause
/*
 * The detection engine driven by events built the way the SMTP parser
 * emits them (sensor/event.h): for every detector one case that must fire
 * on the right host/account with the right kind, and near misses that must
 * not, with home_domains configured and with home_net alone.
 */
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

static void on_alert(void *arg, const struct alert *a)
{
	struct fx *f = arg;

	if (f->n < sizeof(f->got) / sizeof(f->got[0]))
		f->got[f->n++] = *a;
}

typedef void tune_fn(struct config *cfg);

static struct fx *fx_new_tuned(bool domains, tune_fn *tune)
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

static struct fx *fx_new(bool domains)
{
	return fx_new_tuned(domains, NULL);
}

static void fx_free(struct fx *f)
{
	detect_engine_destroy(f->de);
	config_fini(&f->cfg);
	free(f);
}

/* ---- events as the parser builds them ---- */

static void hdr(struct fx *f, struct event_hdr *h, enum event_type type, size_t len,
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

static void ev_open(struct fx *f, const char *uid, const char *cli, const char *srv, uint16_t port)
{
	struct event_session_open e;

	memset(&e, 0, sizeof(e));
	hdr(f, &e.h, EV_SESSION_OPEN, sizeof(e), uid, cli, srv, port);
	detect_engine_event(f->de, &e.h);
}

static void ev_banner(struct fx *f, const char *uid, const char *cli, const char *srv,
		      uint16_t code, const char *text)
{
	struct event_banner e;

	memset(&e, 0, sizeof(e));
	hdr(f, &e.h, EV_BANNER, sizeof(e), uid, cli, srv, 25);
	e.code = code;
	e.text_len = event_copy_text(e.text, sizeof(e.text), text, strlen(text));
	detect_engine_event(f->de, &e.h);
}

static void ev_auth(struct fx *f, const char *uid, const char *cli, const char *srv,
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
static void parse_reply(const char *reply, uint16_t *code, uint8_t enh[3], uint16_t *detail,
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

static void ev_rcpt(struct fx *f, const char *uid, const char *cli, const char *srv, uint32_t depth,
		    const char *from, const char *rcpt, const char *reply, bool auth)
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

static void ev_sig(struct fx *f, const char *uid, const char *cli, const char *srv, uint32_t depth,
		   uint32_t sig_id, enum event_sig_class cls, uint8_t severity,
		   enum event_sig_scope scope, const char *snippet)
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

static struct smtp_tx *tx_new(struct fx *f, const char *uid, const char *cli, const char *srv,
			      uint32_t depth, const char *mailfrom)
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

static void tx_rcpt(struct smtp_tx *tx, const char *addr, uint16_t code)
{
	assert_true(smtp_tx_add_rcpt(tx, addr, strlen(addr)));
	tx->rcpt[tx->n_rcpt_stored - 1].code = code;
	if (code >= 200 && code < 300)
		tx->n_rcpt_accepted++;
	else
		tx->n_rcpt_rejected++;
}

static void tx_auth(struct smtp_tx *tx, const char *user)
{
	tx->auth_result = SMTP_AUTH_SUCCESS;
	tx->flags |= SMTP_TX_F_AUTH;
	smtp_tx_set(tx, SMTP_F_AUTH_USER, user, strlen(user));
}

static void tx_send(struct fx *f)
{
	txe.h.len = (uint32_t)(offsetof(struct event_tx, tx) + smtp_tx_wire_size(&txe.tx));
	detect_engine_event(f->de, &txe.h);
}

/* ---- looking at the alerts ---- */

static bool addr_is(const struct alert *a, const char *host)
{
	union pkt_addr x;
	uint8_t fam;

	assert_true(netset_parse_addr(host, &x, &fam));
	return memcmp(x.b, a->host.b, 16) == 0;
}

/* The latest alert (or update) of a kind, optionally for a host / account. */
static const struct alert *find(const struct fx *f, enum alert_kind k, const char *host,
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

static unsigned int count_kind(const struct fx *f, enum alert_kind k)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < f->n; i++)
		n += f->got[i].kind == k;
	return n;
}

static double counter(const struct alert *a, const char *name)
{
	for (uint32_t i = 0; i < a->n_counters; i++)
		if (strcmp(a->counters[i].name, name) == 0)
			return a->counters[i].value;
	fail_msg("no counter %s", name);
	return -1;
}

static bool has_example(const struct alert *a, const char *field, const char *value)
{
	for (uint32_t i = 0; i < a->n_examples; i++)
		if (strcmp(a->examples[i].field, field) == 0 &&
		    strcmp(a->examples[i].value, value) == 0)
			return true;
	return false;
}

static bool has_uid(const struct alert *a, const char *uid)
{
	for (uint32_t i = 0; i < a->n_uids; i++)
		if (strcmp(a->uids[i], uid) == 0)
			return true;
	return false;
}

/* A foreign client hands the MX a message for someone at another domain. */
static void relay_in(struct fx *f, const char *uid, const char *cli, const char *rcpt)
{
	ev_open(f, uid, cli, SRV, 25);
	ev_banner(f, uid, cli, SRV, 220, "mx.example.net ESMTP Postfix");
	ev_rcpt(f, uid, cli, SRV, 1, "promo@spam.example", rcpt, "250 2.1.5 Ok", false);
}

/* ---- open_relay ---- */

static void open_relay_confirmed(bool domains)
{
	struct fx *f = fx_new(domains);
	const struct alert *a;

	relay_in(f, "Cin1", EXT, "victim@gmail.example");
	f->t += 30 * S;
	ev_open(f, "Cout1", SRV, MX1, 25);
	ev_rcpt(f, "Cout1", SRV, MX1, 1, "promo@spam.example", "victim@gmail.example",
		"250 2.1.5 Ok", false);
	a = find(f, ALERT_OPEN_RELAY, SRV, "");
	assert_non_null(a);
	assert_int_equal(a->severity, ALERT_SEV_CRITICAL);
	assert_true(counter(a, "relayed_copies") == 1);
	assert_true(has_uid(a, "Cin1") && has_uid(a, "Cout1"));
	assert_true(has_example(a, "relayed_rcpt", "victim@gmail.example"));
	assert_true(has_example(a, "foreign_client", EXT));
	/* the server is a server: sending out is not direct-to-MX */
	assert_int_equal(count_kind(f, ALERT_DIRECT_MX_BOT), 0);
	assert_int_equal(f->n, 1);
	assert_int_equal(detect_engine_stats(f->de)->relay_copies, 1);
	fx_free(f);
}

static void test_open_relay_fires_on_a_relayed_copy(void **state)
{
	(void)state;
	open_relay_confirmed(true);
	open_relay_confirmed(false);
}

/* A correctly configured server refuses; a forwarder sends the mail on to
 * another address; a list server sends after AUTH. None is a relay. */
static void open_relay_near_misses(bool domains)
{
	struct fx *f = fx_new(domains);

	ev_open(f, "Cref", EXT, SRV, 25);
	ev_banner(f, "Cref", EXT, SRV, 220, "mx.example.net ESMTP");
	ev_rcpt(f, "Cref", EXT, SRV, 1, "promo@spam.example", "victim@gmail.example",
		"554 5.7.1 <victim@gmail.example>: Relay access denied", false);
	/* forwarder: alias at home, forwarded to the owner's mailbox elsewhere */
	relay_in(f, "Cfw1", "203.0.113.50", "alias@example.net");
	f->t += M;
	ev_open(f, "Cfw2", SRV, MX1, 25);
	ev_rcpt(f, "Cfw2", SRV, MX1, 1, "SRS0=ab=cd=gmail.example=x@example.net",
		"alias.owner@gmail.example", "250 2.1.5 Ok", false);
	/* a roaming user: a foreign address, but logged in; the copy leaves */
	ev_auth(f, "Croam", "203.0.113.77", SRV, SMTP_AUTH_SUCCESS, "alice@example.net");
	ev_rcpt(f, "Croam", "203.0.113.77", SRV, 1, "alice@example.net", "friend@gmail.example",
		"250 2.1.5 Ok", true);
	ev_rcpt(f, "Croam2", SRV, MX1, 1, "alice@example.net", "friend@gmail.example",
		"250 2.1.5 Ok", false);
	/* a mailing list: members submit after AUTH, the server sends to many */
	for (int i = 0; i < 30; i++) {
		char rcpt[64];

		snprintf(rcpt, sizeof(rcpt), "member%d@domain%d.example", i, i);
		ev_auth(f, "Clist", PC, SRV, SMTP_AUTH_SUCCESS, "list@example.net");
		ev_rcpt(f, "Clist", PC, SRV, 1, "list@example.net", rcpt, "250 2.1.5 Ok", true);
		ev_rcpt(f, "Clout", SRV, MX1, 1, "list@example.net", rcpt, "250 2.1.5 Ok", false);
	}
	assert_int_equal(count_kind(f, ALERT_OPEN_RELAY), 0);
	assert_int_equal(count_kind(f, ALERT_DIRECT_MX_BOT), 0);
	fx_free(f);
}

static void test_open_relay_near_misses(void **state)
{
	(void)state;
	open_relay_near_misses(true);
	open_relay_near_misses(false);
}

/* A copy leaving after relay_window is not tied to the accepted mail; the
 * domain that never left is learned as hosted by the server. */
static void test_open_relay_window_and_learning(void **state)
{
	struct fx *f = fx_new(false);

	(void)state;
	ev_open(f, "Cvis", SRV, MX1, 25); /* the server's outbound is visible */
	relay_in(f, "Cin2", EXT, "info@customer.example");
	f->t += 11 * M;
	detect_engine_tick(f->de, f->t);
	ev_rcpt(f, "Cout2", SRV, MX1, 1, "x@spam.example", "info@customer.example", "250 2.1.5 Ok",
		false);
	assert_int_equal(count_kind(f, ALERT_OPEN_RELAY), 0);
	assert_int_equal(detect_engine_stats(f->de)->domains_learned, 1);
	fx_free(f);
}

/* Gateway -> internal relay -> Internet: the relay is the gateway's. */
static void test_open_relay_through_an_internal_hop(void **state)
{
	struct fx *f = fx_new(false);
	const struct alert *a;

	(void)state;
	relay_in(f, "Chop1", EXT, "victim@gmail.example");
	f->t += 10 * S;
	ev_rcpt(f, "Chop2", SRV, RELAY, 1, "promo@spam.example", "victim@gmail.example",
		"250 2.1.5 Ok", false);
	f->t += 10 * S;
	ev_rcpt(f, "Chop3", RELAY, MX1, 1, "promo@spam.example", "victim@gmail.example",
		"250 2.1.5 Ok", false);
	a = find(f, ALERT_OPEN_RELAY, SRV, "");
	assert_non_null(a);
	assert_true(has_uid(a, "Chop1") && has_uid(a, "Chop3"));
	assert_null(find(f, ALERT_OPEN_RELAY, RELAY, NULL));
	fx_free(f);
}

/* Outbound not visible: many unrelated foreign domains accepted from
 * foreign clients is a probable relay, one severity lower. */
static void open_relay_heuristic(bool domains)
{
	struct fx *f = fx_new(domains);
	const struct alert *a;
	char rcpt[64];

	for (int i = 0; i < 19; i++) {
		snprintf(rcpt, sizeof(rcpt), "user%d@target%d.example", i, i);
		relay_in(f, "Cheu", EXT, rcpt);
	}
	/* home-domain recipients never count */
	for (int i = 0; i < 10; i++) {
		snprintf(rcpt, sizeof(rcpt), "user%d@example.net", i);
		relay_in(f, "Cheu", EXT, rcpt);
	}
	assert_int_equal(count_kind(f, ALERT_OPEN_RELAY), domains ? 0 : 1);
	if (!domains)
		assert_true(counter(find(f, ALERT_OPEN_RELAY, SRV, ""), "foreign_domains") == 20);
	relay_in(f, "Cheu", EXT, "last@target19.example");
	a = find(f, ALERT_OPEN_RELAY, SRV, "");
	assert_non_null(a);
	assert_int_equal(a->severity, ALERT_SEV_HIGH);
	assert_non_null(strstr(a->message, "unconfirmed"));
	assert_true(has_example(a, "rcpt_domain", "target0.example"));
	fx_free(f);
}

static void test_open_relay_heuristic_without_outbound_view(void **state)
{
	(void)state;
	open_relay_heuristic(true);
	open_relay_heuristic(false);
}

/* Near misses of the heuristic: the server's outbound is in view (only a
 * copy counts then), or the sender writes to its own domain. */
static void test_open_relay_heuristic_near_misses(void **state)
{
	struct fx *f = fx_new(false);
	char rcpt[64], from[64];

	(void)state;
	ev_open(f, "Cvis", SRV, MX1, 25);
	for (int i = 0; i < 30; i++) {
		snprintf(rcpt, sizeof(rcpt), "user%d@target%d.example", i, i);
		relay_in(f, "Cvis2", EXT, rcpt);
	}
	assert_int_equal(count_kind(f, ALERT_OPEN_RELAY), 0);
	fx_free(f);

	f = fx_new(false);
	for (int i = 0; i < 30; i++) {
		snprintf(rcpt, sizeof(rcpt), "user%d@target%d.example", i, i);
		snprintf(from, sizeof(from), "news@target%d.example", i);
		ev_rcpt(f, "Cown", EXT, SRV, 1, from, rcpt, "250 2.1.5 Ok", false);
	}
	assert_int_equal(count_kind(f, ALERT_OPEN_RELAY), 0);
	fx_free(f);
}

/* ---- relay_probe ---- */

static void relay_probe(bool domains)
{
	struct fx *f = fx_new(domains);
	const struct alert *a;

	for (uint32_t d = 1; d <= 3; d++) {
		ev_rcpt(f, "Cprobe", EXT, SRV, d, "test@probe.example", "check@relay-test.example",
			"554 5.7.1 <check@relay-test.example>: Relay access denied", false);
		/* the rule matching the same reply does not count again */
		ev_sig(f, "Cprobe", EXT, SRV, d, 1001, EV_SIGCLASS_RELAY_DENIED, 2, EV_SCOPE_REPLY,
		       "Relay access denied");
		if (d == 2)
			assert_int_equal(count_kind(f, ALERT_RELAY_PROBE), 0);
		f->t += S;
	}
	a = find(f, ALERT_RELAY_PROBE, EXT, "");
	assert_non_null(a);
	assert_true(counter(a, "relay_denied") == 3);
	assert_true(counter(a, "refusing_servers") == 1);
	assert_true(has_example(a, "server", SRV));
	assert_int_equal(count_kind(f, ALERT_OPEN_RELAY), 0);
	fx_free(f);
}

static void test_relay_probe_fires_on_repeated_refusals(void **state)
{
	(void)state;
	relay_probe(true);
	relay_probe(false);
}

/* What postfix and smtplib really send: one session, MAIL / RCPT refused /
 * RSET three times. trans_depth stays 1 (no message was answered), and each
 * transaction's record (EV_TX) goes by before the next MAIL: three refused
 * transactions, a probe. The same reply seen again before the record (its
 * signature) still counts once. */
static void test_relay_probe_counts_transactions_split_by_rset(void **state)
{
	struct fx *f = fx_new(false);
	const struct alert *a;
	struct smtp_tx *tx;

	(void)state;
	for (int i = 0; i < 3; i++) {
		ev_rcpt(f, "Crset", EXT, SRV, 1, "probe@probe.example", "check@relay-test.example",
			"554 5.7.1 <check@relay-test.example>: Relay access denied", false);
		ev_sig(f, "Crset", EXT, SRV, 1, 1001, EV_SIGCLASS_RELAY_DENIED, 2, EV_SCOPE_REPLY,
		       "Relay access denied");
		if (i < 2)
			assert_int_equal(count_kind(f, ALERT_RELAY_PROBE), 0);
		tx = tx_new(f, "Crset", EXT, SRV, 1, "probe@probe.example");
		tx->flags = 0; /* no DATA: ended by RSET */
		tx->data_code = 0;
		tx_rcpt(tx, "check@relay-test.example", 554);
		tx_send(f);
		f->t += S;
	}
	a = find(f, ALERT_RELAY_PROBE, EXT, "");
	assert_non_null(a);
	assert_true(counter(a, "relay_denied") == 3);
	fx_free(f);
}

/* One message with three refused recipients is one refused transaction: a
 * misconfigured client, not a probe. A blocklist reply with 5.7.1 is not a
 * relay refusal either. */
static void test_relay_probe_near_misses(void **state)
{
	struct fx *f = fx_new(false);

	(void)state;
	for (int i = 0; i < 3; i++)
		ev_rcpt(f, "Cmis", EXT, SRV, 1, "me@home.example", "friend@other.example",
			"554 5.7.1 <friend@other.example>: Relay access denied", false);
	ev_rcpt(f, "Cmis2", EXT, SRV, 1, "me@home.example", "friend@other.example",
		"554 5.7.1 <friend@other.example>: Relay access denied", false);
	for (uint32_t d = 1; d <= 3; d++)
		ev_rcpt(f, "Cbl", PC, MX1, d, "me@example.net", "x@gmail.example",
			"554 5.7.1 Service unavailable; Client host [198.51.100.77] blocked using "
			"zen.spamhaus.org",
			false);
	assert_int_equal(count_kind(f, ALERT_RELAY_PROBE), 0);
	fx_free(f);
}

/* ---- auth_bruteforce and auth_spray ---- */

static void auth_bruteforce(bool domains)
{
	struct fx *f = fx_new(domains);
	const struct alert *a;

	for (int i = 0; i < 10; i++) {
		ev_auth(f, "Cbf", EXT, SRV, SMTP_AUTH_FAILURE, i % 2 ? "admin" : "info");
		f->t += 2 * S;
	}
	a = find(f, ALERT_AUTH_BRUTEFORCE, EXT, "");
	assert_non_null(a);
	assert_true(counter(a, "auth_failures") == 10);
	assert_true(has_example(a, "user", "admin") && has_example(a, "user", "info"));
	assert_int_equal(count_kind(f, ALERT_AUTH_SPRAY), 0);
	fx_free(f);
}

static void test_auth_bruteforce_fires_on_many_failures(void **state)
{
	(void)state;
	auth_bruteforce(true);
	auth_bruteforce(false);
}

/* A user who mistypes the password twice, then gets it right. */
static void test_auth_mistyped_password_is_nothing(void **state)
{
	struct fx *f = fx_new(true);

	(void)state;
	ev_auth(f, "Ctypo", PC, SRV, SMTP_AUTH_FAILURE, "alice@example.net");
	ev_auth(f, "Ctypo", PC, SRV, SMTP_AUTH_FAILURE, "alice@example.net");
	ev_auth(f, "Ctypo", PC, SRV, SMTP_AUTH_SUCCESS, "alice@example.net");
	assert_int_equal(f->n, 0);
	fx_free(f);
}

static void auth_spray(bool domains)
{
	static const char *const users[] = {"alice", "bob", "carol", "dave", "erin"};
	struct fx *f = fx_new(domains);
	const struct alert *a;

	for (int i = 0; i < 5; i++)
		ev_auth(f, "Cspray", EXT, SRV, SMTP_AUTH_FAILURE, users[i]);
	a = find(f, ALERT_AUTH_SPRAY, EXT, "");
	assert_non_null(a);
	assert_true(counter(a, "distinct_users") == 5);
	assert_true(has_example(a, "user", "carol"));
	assert_int_equal(count_kind(f, ALERT_AUTH_BRUTEFORCE), 0);
	fx_free(f);
}

static void test_auth_spray_fires_on_many_user_names(void **state)
{
	(void)state;
	auth_spray(true);
	auth_spray(false);
}

static void tune_spray_eight_failures(struct config *cfg)
{
	cfg->detectors[ALERT_AUTH_SPRAY].p[detect_param_index(ALERT_AUTH_SPRAY, "min_failures")] =
		8;
}

/* With min_failures above min_users, five names failing once each are not
 * enough; three more failures are. */
static void test_auth_spray_needs_both_names_and_failures(void **state)
{
	static const char *const users[] = {"alice", "bob", "carol", "dave", "erin"};
	struct fx *f = fx_new_tuned(false, tune_spray_eight_failures);

	(void)state;
	for (int i = 0; i < 5; i++)
		ev_auth(f, "Cspray", EXT, SRV, SMTP_AUTH_FAILURE, users[i]);
	assert_int_equal(count_kind(f, ALERT_AUTH_SPRAY), 0);
	for (int i = 0; i < 3; i++)
		ev_auth(f, "Cspray", EXT, SRV, SMTP_AUTH_FAILURE, users[i]);
	assert_true(counter(find(f, ALERT_AUTH_SPRAY, EXT, ""), "auth_failures") == 8);
	fx_free(f);
}

/* A NAT with many users who log in fine, and four names failing. */
static void test_auth_spray_near_misses(void **state)
{
	static const char *const users[] = {"alice", "bob", "carol", "dave", "erin", "frank"};
	struct fx *f = fx_new(true);

	(void)state;
	for (int i = 0; i < 6; i++)
		ev_auth(f, "Cnat", EXT, SRV, SMTP_AUTH_SUCCESS, users[i]);
	for (int i = 0; i < 4; i++)
		ev_auth(f, "Cfour", "203.0.113.99", SRV, SMTP_AUTH_FAILURE, users[i]);
	assert_int_equal(count_kind(f, ALERT_AUTH_SPRAY), 0);
	assert_int_equal(count_kind(f, ALERT_AUTH_BRUTEFORCE), 0);
	fx_free(f);
}

/* ---- compromised_account ---- */

static void compromised_sources(bool domains)
{
	struct fx *f = fx_new(domains);
	const struct alert *a;
	char src[32];

	for (int i = 1; i <= 5; i++) {
		snprintf(src, sizeof(src), "203.0.113.%d", 100 + i);
		ev_auth(f, "Cbot", src, SRV, SMTP_AUTH_SUCCESS, "alice@example.net");
		if (i == 4)
			assert_int_equal(count_kind(f, ALERT_COMPROMISED_ACCOUNT), 0);
		f->t += M;
	}
	a = find(f, ALERT_COMPROMISED_ACCOUNT, SRV, "alice@example.net");
	assert_non_null(a);
	assert_true(counter(a, "auth_sources") == 5);
	assert_true(has_example(a, "source", "203.0.113.101"));
	fx_free(f);
}

/* Phone, laptop, home and office: four sources are a person. */
static void test_compromised_account_from_many_sources(void **state)
{
	(void)state;
	compromised_sources(true);
	compromised_sources(false);
}

/* One authenticated message from user to n recipients. */
static void auth_msg(struct fx *f, const char *user, uint32_t depth, int n)
{
	struct smtp_tx *tx = tx_new(f, "Csub", PC, SRV, depth, "bob@example.net");
	char rcpt[64];

	tx_auth(tx, user);
	for (int i = 0; i < n; i++) {
		snprintf(rcpt, sizeof(rcpt), "r%d@dest%d.example", i, i % 7);
		tx_rcpt(tx, rcpt, 250);
	}
	tx_send(f);
}

/* Eight hours of 5 recipients an hour, then 300 in half an hour. */
static void test_compromised_account_rate_above_own_baseline(void **state)
{
	struct fx *f = fx_new(true);
	const struct alert *a;

	(void)state;
	for (int h = 0; h < 8; h++) {
		auth_msg(f, "bob", 1, 5);
		f->t += H;
	}
	for (int i = 0; i < 6; i++) {
		auth_msg(f, "bob", 1, 50);
		f->t += 5 * M;
	}
	a = find(f, ALERT_COMPROMISED_ACCOUNT, SRV, "bob");
	assert_non_null(a);
	assert_true(counter(a, "recipients") >= 200);
	assert_true(counter(a, "baseline_recipients") < 10);
	fx_free(f);
}

/* The same burst with two hours of history says nothing yet; a list owner
 * who always sends 300 an hour is normal for itself. */
static void test_compromised_account_rate_near_misses(void **state)
{
	struct fx *f = fx_new(false);

	(void)state;
	for (int h = 0; h < 2; h++) {
		auth_msg(f, "young", 1, 5);
		f->t += H;
	}
	for (int i = 0; i < 6; i++) {
		auth_msg(f, "young", 1, 50);
		f->t += 5 * M;
	}
	for (int h = 0; h < 10; h++)
		for (int i = 0; i < 6; i++) {
			auth_msg(f, "lists", 1, 50);
			f->t += 10 * M;
		}
	assert_int_equal(count_kind(f, ALERT_COMPROMISED_ACCOUNT), 0);
	fx_free(f);
}

static void bounce(struct fx *f, const char *from_mta, const char *to, uint32_t depth)
{
	struct smtp_tx *tx = tx_new(f, "Cbnc", from_mta, SRV, depth, "");

	smtp_tx_set(tx, SMTP_F_SUBJECT, "Undelivered Mail Returned to Sender", 35);
	tx_rcpt(tx, to, 250);
	tx_send(f);
}

/* Bounces back to the address a user sends as count against the user. */
static void compromised_bounces(bool domains)
{
	struct fx *f = fx_new(domains);
	struct smtp_tx *tx = tx_new(f, "Csent", PC, SRV, 1, "carol@example.net");
	const struct alert *a;

	tx_auth(tx, "carol");
	tx_rcpt(tx, "someone@gmail.example", 250);
	tx_send(f);
	for (uint32_t i = 0; i < 20; i++) {
		bounce(f, i % 2 ? MX1 : "192.0.2.81", "carol@example.net", i + 1);
		f->t += 10 * S;
	}
	a = find(f, ALERT_COMPROMISED_ACCOUNT, SRV, "carol");
	assert_non_null(a);
	assert_true(counter(a, "bounces_to_sender") == 20);
	assert_true(has_example(a, "mailbox", "carol@example.net"));
	a = find(f, ALERT_BOUNCE_STORM, SRV, "carol@example.net");
	assert_non_null(a);
	assert_true(counter(a, "bounces") == 20);
	fx_free(f);
}

static void test_compromised_account_bounces_back(void **state)
{
	(void)state;
	compromised_bounces(true);
	compromised_bounces(false);
}

/* ---- direct_mx_bot ---- */

static void direct_mx(bool domains, const char *pc, const char *prefix)
{
	struct fx *f = fx_new(domains);
	const struct alert *a;
	char mx[64];

	for (int i = 1; i <= 10; i++) {
		snprintf(mx, sizeof(mx), "%s%d", prefix, i);
		ev_open(f, "Cbot", pc, mx, 25);
		if (i == 9)
			assert_int_equal(f->n, 0);
	}
	a = find(f, ALERT_DIRECT_MX_BOT, pc, "");
	assert_non_null(a);
	assert_true(counter(a, "foreign_mx_servers") == 10);
	fx_free(f);
}

static void test_direct_mx_bot_fires_on_many_foreign_mx(void **state)
{
	(void)state;
	direct_mx(true, PC, "192.0.2.");
	direct_mx(false, PC, "192.0.2.");
	direct_mx(false, "2001:db8:100::77", "2001:db8:ffff::");
}

/* A learned mail server, a PC that retries one MX, a PC that uses its
 * provider's submission port, nine servers: none is a bot. */
static void test_direct_mx_bot_near_misses(void **state)
{
	struct fx *f = fx_new(false);
	char mx[32];

	(void)state;
	ev_banner(f, "Cin", EXT, SRV, 220, "mx.example.net ESMTP");
	for (int i = 1; i <= 20; i++) {
		snprintf(mx, sizeof(mx), "192.0.2.%d", i);
		ev_open(f, "Cmta", SRV, mx, 25);
		ev_open(f, "Cretry", PC, MX1, 25);
		ev_open(f, "Csubm", PC2, mx, 587);
		if (i < 10)
			ev_open(f, "Cnine", "198.51.100.79", mx, 25);
	}
	assert_int_equal(count_kind(f, ALERT_DIRECT_MX_BOT), 0);
	assert_int_equal(detect_engine_stats(f->de)->servers_learned, 1);
	fx_free(f);
}

/* With mail_servers configured, the list is the truth: a host that answers
 * SMTP but is not listed is not a server. */
static void tune_mail_servers(struct config *cfg)
{
	struct errbuf eb;

	assert_int_equal(netset_add_cidr(&cfg->mail_servers, "198.51.100.26", &eb), 0);
	netset_finish(&cfg->mail_servers);
}

static void test_direct_mx_bot_configured_servers_only(void **state)
{
	struct fx *f = fx_new_tuned(false, tune_mail_servers);
	char mx[32];

	(void)state;
	ev_banner(f, "Cin", EXT, SRV, 220, "rogue ESMTP");
	for (int i = 1; i <= 10; i++) {
		snprintf(mx, sizeof(mx), "192.0.2.%d", i);
		ev_open(f, "Crogue", SRV, mx, 25);
		ev_open(f, "Cok", RELAY, mx, 25);
	}
	assert_non_null(find(f, ALERT_DIRECT_MX_BOT, SRV, ""));
	assert_null(find(f, ALERT_DIRECT_MX_BOT, RELAY, NULL));
	fx_free(f);
}

/* ---- direct_mx_bot from the XDP pre-filter's counters (live AF_XDP) ---- */

/* A snapshot of the BPF map's running totals for one source, as main_xdp.c
 * hands it over once a second. */
static void xdp_src(struct fx *f, const char *host, uint64_t syns, uint64_t flows)
{
	union pkt_addr a;
	uint8_t fam;

	assert_true(netset_parse_addr(host, &a, &fam));
	detect_engine_src_counters(f->de, fam, &a, syns, flows, flows * 12, flows * 9000, f->t);
}

/* Encrypted sessions give user space no server list worth counting: the
 * connection rate the pre-filter counted is the evidence. The totals grow
 * between snapshots; only the growth within the window counts. */
static void test_direct_mx_bot_from_xdp_connection_rate(void **state)
{
	struct fx *f = fx_new(false);
	const struct alert *a;

	(void)state;
	for (int i = 1; i <= 9; i++) {
		f->t += 10 * S;
		xdp_src(f, PC, i * 12, i * 11); /* 99 connections after the 9th */
	}
	assert_int_equal(f->n, 0);
	f->t += 10 * S;
	xdp_src(f, PC, 120, 110);
	a = find(f, ALERT_DIRECT_MX_BOT, PC, "");
	assert_non_null(a);
	assert_true(counter(a, "xdp_smtp_flows") == 110);
	assert_true(counter(a, "xdp_smtp_syns") == 120);
	assert_non_null(strstr(a->message, "XDP pre-filter"));
	fx_free(f);
}

/* The same totals repeated, a slow client over hours, a learned mail server,
 * a foreign source, a map entry that restarted from zero: no alert. */
static void test_direct_mx_bot_xdp_near_misses(void **state)
{
	struct fx *f = fx_new(false);

	(void)state;
	ev_banner(f, "Cin", EXT, SRV, 220, "mx.example.net ESMTP");
	for (int i = 1; i <= 40; i++) {
		f->t += 10 * M;
		xdp_src(f, PC, 50, 50);		 /* no growth after the first */
		xdp_src(f, PC2, i * 12, i * 12); /* 12 per 10 min: 72 an hour */
		xdp_src(f, SRV, i * 500, i * 500);
		xdp_src(f, EXT, i * 500, i * 500);
		xdp_src(f, "198.51.100.79", i < 20 ? 60 : 30, i < 20 ? 60 : 30);
	}
	assert_int_equal(count_kind(f, ALERT_DIRECT_MX_BOT), 0);
	fx_free(f);
}

/* ---- blocklisted ---- */

static void blocklisted(bool domains)
{
	struct fx *f = fx_new(domains);
	const struct alert *a;

	/* reply text alone (signatures off) */
	ev_rcpt(f, "Cbl1", PC, MX1, 1, "x@example.net", "y@gmail.example",
		"554 5.7.1 Service unavailable; Client host [198.51.100.77] blocked using "
		"zen.spamhaus.org",
		false);
	a = find(f, ALERT_BLOCKLISTED, PC, "");
	assert_non_null(a);
	assert_true(counter(a, "blocklist_replies") == 1);
	assert_true(has_example(a, "server", MX1));
	/* a signature alone */
	ev_sig(f, "Cbl2", PC2, MX1, 1, 3005, EV_SIGCLASS_BLOCKLIST, 3, EV_SCOPE_REPLY,
	       "550 5.7.1 on our block list (S3150)");
	a = find(f, ALERT_BLOCKLISTED, PC2, "");
	assert_non_null(a);
	assert_true(has_example(a, "sig_id", "3005"));
	/* the greeting itself */
	ev_banner(f, "Cbl3", "198.51.100.80", MX1, 554,
		  "mx.gmail.example 554 Your IP is listed at bl.spamcop.net");
	assert_non_null(find(f, ALERT_BLOCKLISTED, "198.51.100.80", ""));
	fx_free(f);
}

static void test_blocklisted_fires_on_text_signature_and_banner(void **state)
{
	(void)state;
	blocklisted(true);
	blocklisted(false);
}

/* Text and signature on the same reply count once; the home server
 * refusing a listed foreign client is not an alert; an unknown user is not
 * a blocklist. */
static void test_blocklisted_near_misses(void **state)
{
	struct fx *f = fx_new(false);
	const char *bl = "554 5.7.1 Client host [203.0.113.5] blocked using zen.spamhaus.org";

	(void)state;
	ev_rcpt(f, "Cbl", PC, MX1, 1, "x@example.net", "y@gmail.example", bl, false);
	ev_sig(f, "Cbl", PC, MX1, 1, 3005, EV_SIGCLASS_BLOCKLIST, 3, EV_SCOPE_REPLY, bl + 4);
	f->t += 6 * M;
	detect_engine_flush(f->de);
	assert_true(counter(find(f, ALERT_BLOCKLISTED, PC, ""), "blocklist_replies") == 1);
	f->n = 0;
	ev_rcpt(f, "Cin", EXT, SRV, 1, "x@spam.example", "y@example.net", bl, false);
	ev_sig(f, "Cin", EXT, SRV, 1, 3005, EV_SIGCLASS_BLOCKLIST, 3, EV_SCOPE_REPLY, bl);
	ev_rcpt(f, "Cuu", PC2, MX1, 1, "x@example.net", "gone@gmail.example",
		"550 5.1.1 <gone@gmail.example>: Recipient address rejected: User unknown", false);
	assert_int_equal(count_kind(f, ALERT_BLOCKLISTED), 0);
	fx_free(f);
}

/* ---- recipient_harvest ---- */

static void harvest_run(struct fx *f, const char *cli, int n, int unknown)
{
	char rcpt[64];

	for (int i = 0; i < n; i++) {
		snprintf(rcpt, sizeof(rcpt), "guess%d@example.net", i);
		ev_rcpt(f, "Chv", cli, SRV, 1, "x@spam.example", rcpt,
			i < unknown ? "550 5.1.1 <guess@example.net>: Recipient address rejected: "
				      "User unknown in virtual mailbox table"
				    : "250 2.1.5 Ok",
			false);
	}
}

static void harvest(bool domains)
{
	struct fx *f = fx_new(domains);
	const struct alert *a;

	harvest_run(f, EXT, 20, 12);
	a = find(f, ALERT_RECIPIENT_HARVEST, EXT, "");
	assert_non_null(a);
	assert_true(counter(a, "rcpts") == 20);
	assert_true(counter(a, "unknown_rcpts") == 12);
	assert_true(has_example(a, "rcpt", "guess0@example.net"));
	fx_free(f);
}

static void test_recipient_harvest_fires_on_mostly_unknown(void **state)
{
	(void)state;
	harvest(true);
	harvest(false);
}

/* A few stale addresses in a list run; all unknown but too few to judge. */
static void test_recipient_harvest_near_misses(void **state)
{
	struct fx *f = fx_new(true);

	(void)state;
	harvest_run(f, EXT, 20, 2);
	harvest_run(f, "203.0.113.6", 10, 10);
	/* the same unknown user without an enhanced code, text only */
	ev_rcpt(f, "Cplain", "203.0.113.7", SRV, 1, "x@y.example", "nobody@example.net",
		"550 No such user here", false);
	assert_int_equal(count_kind(f, ALERT_RECIPIENT_HARVEST), 0);
	fx_free(f);
}

/* ---- bounce_storm ---- */

static void test_bounce_storm_near_misses(void **state)
{
	struct fx *f = fx_new(true);
	struct smtp_tx *tx;

	(void)state;
	for (uint32_t i = 0; i < 5; i++)
		bounce(f, MX1, "postmaster@example.net", i + 1);
	/* bounces between two foreign hosts for a foreign address */
	for (uint32_t i = 0; i < 30; i++) {
		tx = tx_new(f, "Cfar", EXT, MX1, i + 1, "");
		tx_rcpt(tx, "someone@gmail.example", 250);
		tx_send(f);
	}
	assert_int_equal(count_kind(f, ALERT_BOUNCE_STORM), 0);
	fx_free(f);
}

static void bounce_storm(bool domains)
{
	struct fx *f = fx_new(domains);
	const struct alert *a;

	for (uint32_t i = 0; i < 20; i++) {
		bounce(f, i % 3 ? MX1 : "192.0.2.90", "postmaster@example.net", i + 1);
		f->t += 5 * S;
	}
	a = find(f, ALERT_BOUNCE_STORM, SRV, "postmaster@example.net");
	assert_non_null(a);
	assert_true(counter(a, "bounces") == 20);
	assert_true(has_example(a, "bounce_from", "192.0.2.90"));
	/* nobody sends as postmaster: no account to blame */
	assert_int_equal(count_kind(f, ALERT_COMPROMISED_ACCOUNT), 0);
	fx_free(f);
}

static void test_bounce_storm_fires_on_backscatter(void **state)
{
	(void)state;
	bounce_storm(true);
	bounce_storm(false);
}

/* ---- mass_recipients ---- */

static void mass_msg(struct fx *f, int to, int cc, const char *user)
{
	struct smtp_tx *tx = tx_new(f, "Cmass", PC, SRV, 1, "dave@example.net");
	char a[64];

	if (user)
		tx_auth(tx, user);
	for (int i = 0; i < to; i++) {
		snprintf(a, sizeof(a), "customer%d@c%d.example", i, i);
		smtp_tx_add_to(tx, a, strlen(a));
	}
	for (int i = 0; i < cc; i++) {
		snprintf(a, sizeof(a), "cc%d@c.example", i);
		smtp_tx_add_cc(tx, a, strlen(a));
	}
	tx_rcpt(tx, "customer0@c0.example", 250);
	tx_send(f);
}

static void test_mass_recipients_fires_on_a_bcc_mistake(void **state)
{
	for (int d = 0; d < 2; d++) {
		struct fx *f = fx_new(d);
		const struct alert *a;

		(void)state;
		mass_msg(f, 80, 30, "dave");
		a = find(f, ALERT_MASS_RECIPIENTS, PC, "dave");
		assert_non_null(a);
		assert_true(counter(a, "header_addresses") == 110);
		assert_true(has_example(a, "to", "customer0@c0.example"));
		assert_true(has_uid(a, "Cmass"));
		fx_free(f);
	}
}

/* Forty in To and ten in Cc; a list server sending one copy per member. */
static void test_mass_recipients_near_misses(void **state)
{
	struct fx *f = fx_new(true);

	(void)state;
	mass_msg(f, 40, 10, NULL);
	for (int i = 0; i < 100; i++)
		mass_msg(f, 1, 0, "list");
	assert_int_equal(count_kind(f, ALERT_MASS_RECIPIENTS), 0);
	fx_free(f);
}

/* A copy of the 110-address message that CLI passes on to a foreign MX; its
 * Received: path names the customer PC it came from. */
static void mass_copy(struct fx *f, const char *uid, const char *cli)
{
	struct smtp_tx *tx = tx_new(f, uid, cli, MX1, 1, "dave@example.net");
	char a[64];

	for (int i = 0; i < 110; i++) {
		snprintf(a, sizeof(a), "customer%d@c%d.example", i, i);
		smtp_tx_add_to(tx, a, strlen(a));
	}
	assert_true(smtp_tx_add_path(tx, MX1, strlen(MX1)));
	assert_true(smtp_tx_add_path(tx, cli, strlen(cli)));
	assert_true(smtp_tx_add_path(tx, PC, strlen(PC)));
	tx_rcpt(tx, "customer0@c0.example", 250);
	tx_send(f);
}

/* The customer's own message alerts; the home relay (a mail server: it was
 * seen answering) sending the copy on does not. A home host that is not a
 * mail server still does, Received: headers or not. */
static void test_mass_recipients_not_on_the_relaying_server(void **state)
{
	for (int d = 0; d < 2; d++) {
		struct fx *f = fx_new(d);

		(void)state;
		ev_banner(f, "Cbanner", PC, RELAY, 220, "relay.example.net ESMTP Postfix");
		mass_msg(f, 80, 30, "dave");
		mass_copy(f, "Ccopy", RELAY);
		assert_non_null(find(f, ALERT_MASS_RECIPIENTS, PC, "dave"));
		assert_null(find(f, ALERT_MASS_RECIPIENTS, RELAY, NULL));
		mass_copy(f, "Cpc2", PC2);
		assert_non_null(find(f, ALERT_MASS_RECIPIENTS, PC2, NULL));
		fx_free(f);
	}
}

/* ---- spoofed_home_domain ---- */

static struct smtp_tx *inbound_msg(struct fx *f, const char *cli, const char *from)
{
	struct smtp_tx *tx = tx_new(f, "Cspoof", cli, SRV, 1, from);

	smtp_tx_set(tx, SMTP_F_HELO, "bulk.example", 12);
	tx_rcpt(tx, "staff@example.net", 250);
	return tx;
}

static void test_spoofed_home_domain_with_configured_domains(void **state)
{
	struct fx *f = fx_new(true);
	const struct alert *a;

	(void)state;
	inbound_msg(f, EXT, "ceo@example.net");
	tx_send(f);
	a = find(f, ALERT_SPOOFED_HOME_DOMAIN, EXT, "");
	assert_non_null(a);
	assert_true(has_example(a, "mailfrom", "ceo@example.net"));
	assert_true(has_example(a, "helo", "bulk.example"));
	fx_free(f);
}

/* Logged in; forwarded back home through a home host (Received path); a
 * foreign sender domain; a home client. None is spoofing. */
static void test_spoofed_home_domain_near_misses(void **state)
{
	struct fx *f = fx_new(true);
	struct smtp_tx *tx;

	(void)state;
	tx = inbound_msg(f, EXT, "ceo@example.net");
	tx_auth(tx, "ceo");
	tx_send(f);
	tx = inbound_msg(f, "203.0.113.60", "ceo@example.net");
	smtp_tx_add_path(tx, SRV, strlen(SRV));
	smtp_tx_add_path(tx, "203.0.113.60", 12);
	smtp_tx_add_path(tx, "198.51.100.25", 13);
	tx_send(f);
	inbound_msg(f, EXT, "news@shop.example");
	tx_send(f);
	inbound_msg(f, PC, "ceo@example.net");
	tx_send(f);
	assert_int_equal(count_kind(f, ALERT_SPOOFED_HOME_DOMAIN), 0);
	fx_free(f);
}

/* home_net only: nothing is a home domain until one is learned (accepted
 * from outside, never left again), then spoofing it alerts. */
static void test_spoofed_home_domain_learned(void **state)
{
	struct fx *f = fx_new(false);

	(void)state;
	inbound_msg(f, EXT, "ceo@example.net");
	tx_send(f);
	assert_int_equal(count_kind(f, ALERT_SPOOFED_HOME_DOMAIN), 0);
	ev_open(f, "Cvis", SRV, MX1, 25);
	ev_rcpt(f, "Cin", "203.0.113.40", SRV, 1, "friend@gmail.example", "staff@example.net",
		"250 2.1.5 Ok", false);
	f->t += 11 * M;
	detect_engine_tick(f->de, f->t);
	assert_int_equal(detect_engine_stats(f->de)->domains_learned, 1);
	inbound_msg(f, EXT, "ceo@example.net");
	tx_send(f);
	assert_non_null(find(f, ALERT_SPOOFED_HOME_DOMAIN, EXT, ""));
	fx_free(f);
}

/* ---- content_signature ---- */

static void test_content_signature_fires_at_severity(void **state)
{
	for (int d = 0; d < 2; d++) {
		struct fx *f = fx_new(d);
		const struct alert *a;

		(void)state;
		ev_sig(f, "Csig", EXT, SRV, 1, 2001, EV_SIGCLASS_PHISH, 3, EV_SCOPE_URL,
		       "http://paypal.example.login-verify.example/");
		a = find(f, ALERT_CONTENT_SIGNATURE, EXT, "");
		assert_non_null(a);
		assert_int_equal(a->severity, ALERT_SEV_HIGH);
		assert_true(has_example(a, "sig_id", "2001"));
		assert_true(
			has_example(a, "snippet", "http://paypal.example.login-verify.example/"));
		fx_free(f);
	}
}

static void tune_three_hits(struct config *cfg)
{
	cfg->detectors[ALERT_CONTENT_SIGNATURE]
		.p[detect_param_index(ALERT_CONTENT_SIGNATURE, "min_hits")] = 3;
}

/* Below min_severity, reply classes that have their own detectors, and a
 * rule that needs three hits before the third. */
static void test_content_signature_near_misses(void **state)
{
	struct fx *f = fx_new(true);

	(void)state;
	ev_sig(f, "Clow", EXT, SRV, 1, 2002, EV_SIGCLASS_SPAM, 1, EV_SCOPE_BODY, "cheap meds");
	ev_sig(f, "Cuu", EXT, SRV, 1, 2003, EV_SIGCLASS_USER_UNKNOWN, 3, EV_SCOPE_REPLY, "unknown");
	assert_int_equal(f->n, 0);
	fx_free(f);

	f = fx_new_tuned(true, tune_three_hits);
	ev_sig(f, "C3", EXT, SRV, 1, 2004, EV_SIGCLASS_MAILER, 2, EV_SCOPE_HEADER, "X-Mailer: kit");
	ev_sig(f, "C3", EXT, SRV, 2, 2004, EV_SIGCLASS_MAILER, 2, EV_SCOPE_HEADER, "X-Mailer: kit");
	assert_int_equal(count_kind(f, ALERT_CONTENT_SIGNATURE), 0);
	ev_sig(f, "C3", EXT, SRV, 3, 2004, EV_SIGCLASS_MAILER, 2, EV_SCOPE_HEADER, "X-Mailer: kit");
	assert_true(counter(find(f, ALERT_CONTENT_SIGNATURE, EXT, ""), "sig_hits") == 3);
	fx_free(f);
}

/* ---- volume_anomaly ---- */

static void volume_history(struct fx *f, const char *host, int hours, int per_hour)
{
	for (int h = 0; h < hours; h++)
		for (int i = 0; i < per_hour; i++) {
			struct smtp_tx *tx = tx_new(f, "Cvol", host, SRV, 1, "pc@example.net");

			tx_rcpt(tx, "friend@gmail.example", 250);
			tx_send(f);
			f->t += H / (uint64_t)per_hour;
		}
}

static void volume_burst(struct fx *f, const char *host, int n)
{
	for (int i = 0; i < n; i++) {
		struct smtp_tx *tx = tx_new(f, "Cburst", host, SRV, 1, "pc@example.net");

		tx_rcpt(tx, "x@gmail.example", 250);
		tx_send(f);
		f->t += 5 * S;
	}
}

static void test_volume_anomaly_fires_far_above_baseline(void **state)
{
	for (int d = 0; d < 2; d++) {
		struct fx *f = fx_new(d);
		const struct alert *a;

		(void)state;
		volume_history(f, PC, 8, 1);
		volume_burst(f, PC, 60);
		a = find(f, ALERT_VOLUME_ANOMALY, PC, "");
		assert_non_null(a);
		assert_true(counter(a, "messages") >= 50);
		assert_true(counter(a, "baseline_messages") < 1);
		assert_true(has_example(a, "server", SRV));
		assert_true(has_example(a, "mailfrom", "pc@example.net"));
		assert_true(has_example(a, "rcpt", "x@gmail.example"));
		assert_true(has_uid(a, "Cburst"));
		fx_free(f);
	}
}

/* Too young a baseline; a host that always sends this much. */
static void test_volume_anomaly_near_misses(void **state)
{
	struct fx *f = fx_new(true);

	(void)state;
	volume_history(f, PC, 2, 1);
	volume_burst(f, PC, 60);
	volume_history(f, PC2, 8, 360);
	volume_burst(f, PC2, 60);
	assert_int_equal(count_kind(f, ALERT_VOLUME_ANOMALY), 0);
	fx_free(f);
}

/* ---- rate limiting, flush, bounds ---- */

/* One alert per host + kind per interval: repeats update it; the update
 * goes out after the interval (next firing or tick); the end of the run
 * emits the final counts once. */
static void test_alert_rate_limit_updates_and_final_flush(void **state)
{
	struct fx *f = fx_new(true);
	const struct detect_stats *st = detect_engine_stats(f->de);

	(void)state;
	for (int i = 0; i < 30; i++)
		ev_auth(f, "Crl", EXT, SRV, SMTP_AUTH_FAILURE, "admin");
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].seq, 0);
	assert_true(counter(&f->got[0], "auth_failures") == 10);
	assert_int_equal(st->alerts_suppressed, 20);
	f->t += 301 * S;
	detect_engine_tick(f->de, f->t);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->got[1].seq, 1);
	assert_true(counter(&f->got[1], "auth_failures") == 30);
	ev_auth(f, "Crl2", EXT, SRV, SMTP_AUTH_FAILURE, "root");
	ev_auth(f, "Crl2", EXT, SRV, SMTP_AUTH_FAILURE, "root");
	assert_int_equal(f->n, 2);
	detect_engine_flush(f->de);
	assert_int_equal(f->n, 3);
	assert_int_equal(f->got[2].seq, 2);
	assert_true(has_uid(&f->got[2], "Crl2"));
	assert_true(has_example(&f->got[2], "user", "root"));
	detect_engine_flush(f->de);
	assert_int_equal(f->n, 3);
	assert_int_equal(st->alerts, 1);
	assert_int_equal(st->alerts_by_kind[ALERT_AUTH_BRUTEFORCE], 1);
	fx_free(f);
}

static void tune_tiny_tables(struct config *cfg)
{
	cfg->limits.hosts = 16;
	cfg->limits.accounts = 16;
}

static void test_engine_tables_bounded_and_evictions_counted(void **state)
{
	struct fx *f = fx_new_tuned(true, tune_tiny_tables);
	const struct detect_stats *st;
	char src[32];

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(src, sizeof(src), "203.0.113.%d", i);
		ev_auth(f, "Cev", src, SRV, SMTP_AUTH_SUCCESS, src);
	}
	st = detect_engine_stats(f->de);
	assert_int_equal(st->hosts, 16);
	assert_int_equal(st->hosts_evicted, 100 - 16);
	assert_int_equal(st->accounts, 16);
	assert_int_equal(st->accounts_evicted, 100 - 16);
	assert_true(st->host_bytes > 0 && st->host_bytes < 1024);
	assert_true(st->account_bytes > 0 && st->account_bytes < 512);
	fx_free(f);
}

/* Short records and transactions whose strings point outside their arena
 * are counted and dropped, never read. */
static void test_engine_drops_malformed_events(void **state)
{
	struct fx *f = fx_new(true);
	struct event_rcpt r;
	struct smtp_tx *tx;

	(void)state;
	memset(&r, 0, sizeof(r));
	hdr(f, &r.h, EV_RCPT, 32, "Cbad", EXT, SRV, 25);
	detect_engine_event(f->de, &r.h);
	tx = tx_new(f, "Cbad", EXT, SRV, 1, "x@example.net");
	tx_rcpt(tx, "y@example.net", 250);
	tx->rcpt[0].addr.off = SMTP_TX_ARENA - 2;
	tx_send(f);
	tx = tx_new(f, "Cbad", EXT, SRV, 1, "x@example.net");
	tx->n_rcpt_stored = SMTP_TX_MAX_RCPT + 1;
	tx_send(f);
	r.h.type = EV_TYPE_COUNT;
	detect_engine_event(f->de, &r.h);
	assert_int_equal(detect_engine_stats(f->de)->bad_events, 4);
	assert_int_equal(detect_engine_stats(f->de)->events, 0);
	fx_free(f);
}

/* XDP per-source counters: kept for home hosts (the fan-out of a bot goes
 * with its alert); unknown foreign sources do not take table space. */
static void test_engine_xdp_source_counters(void **state)
{
	struct fx *f = fx_new(false);
	union pkt_addr a;
	uint8_t fam;
	char mx[32];

	(void)state;
	assert_true(netset_parse_addr("203.0.113.200", &a, &fam));
	detect_engine_src_counters(f->de, 4, &a, 5000, 5000, 10000, 600000, f->t);
	assert_int_equal(detect_engine_stats(f->de)->hosts, 0);
	assert_true(netset_parse_addr(PC, &a, &fam));
	detect_engine_src_counters(f->de, 4, &a, 800, 790, 2000, 90000, f->t);
	for (int i = 1; i <= 10; i++) {
		snprintf(mx, sizeof(mx), "192.0.2.%d", i);
		ev_open(f, "Cbot", PC, mx, 25);
	}
	assert_true(counter(find(f, ALERT_DIRECT_MX_BOT, PC, ""), "xdp_smtp_syns") == 800);
	fx_free(f);
}

/* ---- host totals for the periodic summaries ---- */

static bool host_summary(const struct fx *f, const char *host, struct detect_host_summary *out)
{
	union pkt_addr x;
	uint32_t cur = 0;
	uint8_t fam;

	assert_true(netset_parse_addr(host, &x, &fam));
	while (detect_engine_host_next(f->de, &cur, out))
		if (memcmp(out->addr.b, x.b, 16) == 0)
			return true;
	return false;
}

/* A home PC: five foreign MX is below direct_mx_bot's threshold, so only
 * the summary carries it; a blocklist reply, bounces of its mail. */
static void totals_client(struct fx *f)
{
	const char *bl = "554 5.7.1 Client host [198.51.100.77] blocked using zen.spamhaus.org";
	struct smtp_tx *tx;
	char mx[32];

	/* five foreign MX (one of them twice), min_servers is 10 */
	for (int i = 1; i <= 6; i++) {
		snprintf(mx, sizeof(mx), "192.0.2.%d", i == 6 ? 1 : i);
		ev_open(f, "Cmx", PC, mx, 25);
	}
	ev_rcpt(f, "Cd", PC, MX1, 1, "pc@example.net", "a@one.example", "250 2.1.5 Ok", false);
	ev_rcpt(f, "Cd", PC, MX1, 1, "pc@example.net", "b@two.example", "250 2.1.5 Ok", false);
	ev_rcpt(f, "Cd", PC, MX1, 1, "pc@example.net", "c@one.example", "250 2.1.5 Ok", false);
	ev_rcpt(f, "Cd", PC, MX1, 1, "pc@example.net", "d@three.example", "550 5.1.1 User unknown",
		false);
	/* one transaction refused by text and by the rule: once */
	ev_rcpt(f, "Cbl", PC, MX1, 1, "pc@example.net", "y@gmail.example", bl, false);
	ev_sig(f, "Cbl", PC, MX1, 1, 3005, EV_SIGCLASS_BLOCKLIST, 3, EV_SCOPE_REPLY, bl + 4);
	/* it sends as carol; two bounces come back to carol */
	tx = tx_new(f, "Csent", PC, SRV, 1, "carol@example.net");
	tx_auth(tx, "carol");
	tx_rcpt(tx, "someone@gmail.example", 250);
	tx_send(f);
	bounce(f, MX1, "carol@example.net", 1);
	bounce(f, MX1, "carol@example.net", 2);
}

static void test_host_summary_totals(void **state)
{
	struct fx *f = fx_new(true);
	struct detect_host_summary hs;

	(void)state;
	totals_client(f);
	/* spam rules at min_severity (2) count; a severity-1 rule does not */
	ev_sig(f, "Csp", EXT, SRV, 1, 2002, EV_SIGCLASS_SPAM, 2, EV_SCOPE_BODY, "cheap meds");
	ev_sig(f, "Csp", EXT, SRV, 1, 2003, EV_SIGCLASS_PHISH, 3, EV_SCOPE_URL, "http://x.example");
	ev_sig(f, "Csp", EXT, SRV, 1, 2004, EV_SIGCLASS_MAILER, 1, EV_SCOPE_HEADER, "X-Mailer: a");
	assert_int_equal(count_kind(f, ALERT_DIRECT_MX_BOT), 0);
	/* two home servers refuse to relay for EXT */
	ev_rcpt(f, "Cr1", EXT, SRV, 1, "t@probe.example", "c@relay-test.example",
		"554 5.7.1 Relay access denied", false);
	ev_rcpt(f, "Cr2", EXT, RELAY, 1, "t@probe.example", "c@relay-test.example",
		"554 5.7.1 Relay access denied", false);

	/* the windows pass: the sketches forget, the totals do not */
	f->t += 3 * H;
	ev_open(f, "Clate", PC, "192.0.2.9", 25);

	assert_true(host_summary(f, PC, &hs));
	assert_int_equal(hs.distinct_servers, 5);
	assert_int_equal(hs.distinct_rcpt_domains, 2);
	assert_int_equal(hs.blocklist_replies, 1);
	assert_int_equal(hs.bounces, 2);
	assert_int_equal(hs.sig_hits, 0);
	assert_true(host_summary(f, EXT, &hs));
	assert_int_equal(hs.sig_hits, 2);
	assert_int_equal(hs.distinct_servers, 2);
	assert_int_equal(hs.blocklist_replies, 0);
	assert_int_equal(hs.bounces, 0);
	assert_true(host_summary(f, MX1, &hs));
	assert_int_equal(hs.bounces + hs.blocklist_replies + hs.sig_hits + hs.distinct_servers, 0);
	fx_free(f);
}

/* A home server taking mail for foreign domains from foreign clients: the
 * recipient domains it accepted, below the open relay heuristic. */
static void test_host_summary_server_domains(void **state)
{
	struct fx *f = fx_new(false);
	struct detect_host_summary hs;
	char rcpt[64];

	(void)state;
	for (int i = 0; i < 8; i++) {
		snprintf(rcpt, sizeof(rcpt), "user%d@target%d.example", i, i % 4);
		relay_in(f, "Cheu", EXT, rcpt);
	}
	assert_int_equal(count_kind(f, ALERT_OPEN_RELAY), 0);
	assert_true(host_summary(f, SRV, &hs));
	assert_int_equal(hs.distinct_rcpt_domains, 4);
	assert_int_equal(hs.distinct_servers, 0);
	fx_free(f);
}

/* Without home_net nothing is home: a relayed copy and a bot go unjudged,
 * and the engine says home_net is missing; per-source detectors still work. */
static void test_engine_without_home_net(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char mx[32];

	(void)state;
	assert_non_null(f);
	assert_int_equal(config_init(&f->cfg), 0);
	assert_int_equal(detect_engine_create(&f->cfg, on_alert, f, &f->de), 0);
	f->t = T0;
	assert_false(detect_engine_home_configured(f->de));
	relay_in(f, "Cin", EXT, "victim@gmail.example");
	ev_rcpt(f, "Cout", SRV, MX1, 1, "a@spam.example", "victim@gmail.example", "250 2.1.5 Ok",
		false);
	for (int i = 1; i <= 10; i++) {
		snprintf(mx, sizeof(mx), "192.0.2.%d", i);
		ev_open(f, "Cbot", PC, mx, 25);
	}
	for (int i = 0; i < 10; i++)
		ev_auth(f, "Cbf", EXT, SRV, SMTP_AUTH_FAILURE, "admin");
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].kind, ALERT_AUTH_BRUTEFORCE);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_relay_fires_on_a_relayed_copy),
		cmocka_unit_test(test_open_relay_near_misses),
		cmocka_unit_test(test_open_relay_window_and_learning),
		cmocka_unit_test(test_open_relay_through_an_internal_hop),
		cmocka_unit_test(test_open_relay_heuristic_without_outbound_view),
		cmocka_unit_test(test_open_relay_heuristic_near_misses),
		cmocka_unit_test(test_relay_probe_fires_on_repeated_refusals),
		cmocka_unit_test(test_relay_probe_counts_transactions_split_by_rset),
		cmocka_unit_test(test_relay_probe_near_misses),
		cmocka_unit_test(test_auth_bruteforce_fires_on_many_failures),
		cmocka_unit_test(test_auth_mistyped_password_is_nothing),
		cmocka_unit_test(test_auth_spray_fires_on_many_user_names),
		cmocka_unit_test(test_auth_spray_near_misses),
		cmocka_unit_test(test_auth_spray_needs_both_names_and_failures),
		cmocka_unit_test(test_compromised_account_from_many_sources),
		cmocka_unit_test(test_compromised_account_rate_above_own_baseline),
		cmocka_unit_test(test_compromised_account_rate_near_misses),
		cmocka_unit_test(test_compromised_account_bounces_back),
		cmocka_unit_test(test_direct_mx_bot_fires_on_many_foreign_mx),
		cmocka_unit_test(test_direct_mx_bot_near_misses),
		cmocka_unit_test(test_direct_mx_bot_from_xdp_connection_rate),
		cmocka_unit_test(test_direct_mx_bot_xdp_near_misses),
		cmocka_unit_test(test_direct_mx_bot_configured_servers_only),
		cmocka_unit_test(test_blocklisted_fires_on_text_signature_and_banner),
		cmocka_unit_test(test_blocklisted_near_misses),
		cmocka_unit_test(test_recipient_harvest_fires_on_mostly_unknown),
		cmocka_unit_test(test_recipient_harvest_near_misses),
		cmocka_unit_test(test_bounce_storm_fires_on_backscatter),
		cmocka_unit_test(test_bounce_storm_near_misses),
		cmocka_unit_test(test_mass_recipients_fires_on_a_bcc_mistake),
		cmocka_unit_test(test_mass_recipients_near_misses),
		cmocka_unit_test(test_mass_recipients_not_on_the_relaying_server),
		cmocka_unit_test(test_spoofed_home_domain_with_configured_domains),
		cmocka_unit_test(test_spoofed_home_domain_near_misses),
		cmocka_unit_test(test_spoofed_home_domain_learned),
		cmocka_unit_test(test_content_signature_fires_at_severity),
		cmocka_unit_test(test_content_signature_near_misses),
		cmocka_unit_test(test_volume_anomaly_fires_far_above_baseline),
		cmocka_unit_test(test_volume_anomaly_near_misses),
		cmocka_unit_test(test_alert_rate_limit_updates_and_final_flush),
		cmocka_unit_test(test_engine_tables_bounded_and_evictions_counted),
		cmocka_unit_test(test_engine_drops_malformed_events),
		cmocka_unit_test(test_engine_xdp_source_counters),
		cmocka_unit_test(test_engine_without_home_net),
		cmocka_unit_test(test_host_summary_totals),
		cmocka_unit_test(test_host_summary_server_domains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
