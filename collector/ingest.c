// SPDX-License-Identifier: BSD-3-Clause
#include "collector/ingest.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/jsonw.h"

#define INGEST_STRING_MAX 8192 /* longer text fields are cut at a character boundary */

static const char *const type_names[INGEST_TYPE_COUNT] = {
	[INGEST_HELLO] = "hello",
	[INGEST_ALERT] = "alert",
	[INGEST_SUMMARY] = "summary",
	[INGEST_TX] = "transaction",
};

const char *ingest_type_name(enum ingest_type t)
{
	return (unsigned int)t < INGEST_TYPE_COUNT ? type_names[t] : "unknown";
}

enum ingest_type ingest_type_of(const Relaywatch__Frame *f)
{
	switch (f->body_case) {
	case RELAYWATCH__FRAME__BODY_HELLO:
		return INGEST_HELLO;
	case RELAYWATCH__FRAME__BODY_ALERT:
		return INGEST_ALERT;
	case RELAYWATCH__FRAME__BODY_SUMMARY:
		return INGEST_SUMMARY;
	default:
		return INGEST_TX;
	}
}

const char *ingest_sensor_id(const Relaywatch__Frame *f)
{
	if (f->body_case == RELAYWATCH__FRAME__BODY_HELLO && f->hello->sensor_id[0])
		return f->hello->sensor_id;
	return f->sensor_id;
}

/* ---- normalising strings in place ---- */

/*
 * Invalid UTF-8 and control bytes become '?', one byte for one, so the text
 * can go to PostgreSQL, JSON and HTML as it is; the length is capped at a
 * character boundary. Empty strings may be protobuf-c's shared constant:
 * they are never written.
 */
static void clean_string(char *s)
{
	size_t n = strlen(s), i = 0;

	while (i < n) {
		size_t sl = jsonw_utf8_seq_len((const uint8_t *)s + i, n - i);

		if (i + (sl ? sl : 1) > INGEST_STRING_MAX) {
			s[i] = '\0';
			return;
		}
		if (sl == 1 && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f))
			s[i] = ' ';
		else if (sl == 0)
			s[i] = '?';
		i += sl ? sl : 1;
	}
}

static void clean_message(ProtobufCMessage *m, unsigned int depth);

static void clean_field(ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd, unsigned int depth)
{
	char *base = (char *)m;
	size_t n = 1;
	void **vals = (void **)(base + fd->offset);

	if (fd->type != PROTOBUF_C_TYPE_STRING && fd->type != PROTOBUF_C_TYPE_MESSAGE)
		return;
	if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		if (*(uint32_t *)(base + fd->quantifier_offset) != fd->id)
			return;
	}
	if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
		n = *(size_t *)(base + fd->quantifier_offset);
		vals = *(void ***)(base + fd->offset);
	}
	for (size_t i = 0; i < n && vals; i++) {
		if (!vals[i])
			continue;
		if (fd->type == PROTOBUF_C_TYPE_STRING)
			clean_string(vals[i]);
		else
			clean_message(vals[i], depth + 1);
	}
}

static void clean_message(ProtobufCMessage *m, unsigned int depth)
{
	if (depth > 4)
		return; /* the schema is 3 deep */
	for (unsigned int i = 0; i < m->descriptor->n_fields; i++)
		clean_field(m, &m->descriptor->fields[i], depth);
}

/* ---- field checks ---- */

static bool sensor_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > INGEST_SENSOR_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ' ' || s[i] == '?')
			return false; /* cleaning turned a control or bad byte into these */
	return true;
}

/*
 * An address in canonical text (so "::ffff:0a00:0001" and "::ffff:10.0.0.1"
 * are one host), or an opaque pseudonym: printable, no spaces, bounded.
 */
bool ingest_host_normalise(char *s)
{
	unsigned char bin[16];
	char canon[INET6_ADDRSTRLEN];
	size_t n = strlen(s);

	if (n == 0 || n >= INGEST_HOST_MAX)
		return false;
	if (inet_pton(AF_INET, s, bin) == 1 || inet_pton(AF_INET6, s, bin) == 1) {
		int af = strchr(s, ':') ? AF_INET6 : AF_INET;

		if (inet_ntop(af, bin, canon, sizeof(canon)) && strlen(canon) <= n)
			memcpy(s, canon, strlen(canon) + 1);
		return true;
	}
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)s[i]) || s[i] == '<' || s[i] == '>' || s[i] == '"')
			return false;
	return true;
}

static bool kind_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > INGEST_KIND_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static bool severity_ok(const char *s)
{
	static const char *const names[] = {"info", "low", "medium", "high", "critical"};

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return true;
	return false;
}

static enum ingest_status check_body(Relaywatch__Frame *f)
{
	switch (f->body_case) {
	case RELAYWATCH__FRAME__BODY_HELLO:
		if (f->hello->sensor_id[0] && !sensor_id_ok(f->hello->sensor_id))
			return INGEST_ERR_SENSOR_ID;
		return INGEST_OK;
	case RELAYWATCH__FRAME__BODY_ALERT:
		/* A NaN score would bind as NULL and poison every combined score. */
		if (!ingest_host_normalise(f->alert->host) || !kind_ok(f->alert->kind) ||
		    !severity_ok(f->alert->severity) || !isfinite(f->alert->score))
			return INGEST_REJECT_FIELD;
		break;
	case RELAYWATCH__FRAME__BODY_SUMMARY:
		if (!ingest_host_normalise(f->summary->host) || !isfinite(f->summary->score))
			return INGEST_REJECT_FIELD;
		break;
	case RELAYWATCH__FRAME__BODY_TX:
		/* Addresses may be pseudonyms or empty; only normalise real ones. */
		if (f->tx->client[0])
			ingest_host_normalise(f->tx->client);
		if (f->tx->server[0])
			ingest_host_normalise(f->tx->server);
		break;
	default:
		return INGEST_ERR_NO_BODY;
	}
	return f->seq == 0 ? INGEST_REJECT_FIELD : INGEST_OK;
}

enum ingest_status ingest_decode(const uint8_t *buf, size_t len, Relaywatch__Frame **out)
{
	Relaywatch__Frame *f;
	enum ingest_status st;

	*out = NULL;
	f = relaywatch__frame__unpack(NULL, len, buf);
	if (!f)
		return INGEST_ERR_PROTOBUF;
	if (f->body_case == RELAYWATCH__FRAME__BODY__NOT_SET) {
		relaywatch__frame__free_unpacked(f, NULL);
		return INGEST_ERR_NO_BODY;
	}
	clean_message(&f->base, 0);
	if (f->sensor_id[0] && !sensor_id_ok(f->sensor_id)) {
		relaywatch__frame__free_unpacked(f, NULL);
		return INGEST_ERR_SENSOR_ID;
	}
	st = check_body(f);
	if (st < 0) {
		relaywatch__frame__free_unpacked(f, NULL);
		return st;
	}
	*out = f;
	return st;
}

void ingest_free(Relaywatch__Frame *f)
{
	if (f)
		relaywatch__frame__free_unpacked(f, NULL);
}

/* ---- frames to rows ---- */

#define INGEST_VALUE_JSON_MAX 400 /* an example or address in evidence JSON */

/* Appends text to a bounded buffer; stops quietly when full. */
static void cat(char *buf, size_t cap, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (*len + 1 >= cap)
		return;
	if (n > cap - 1 - *len)
		n = cap - 1 - *len;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
}

/* Length of s cut to at most max bytes, not inside a UTF-8 sequence. */
static size_t cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* One small object formatted apart, added only when it still fits whole. */
static bool raw_if_fits(struct jsonw *w, const struct jsonw *item, size_t reserve)
{
	if (item->overflow || w->len + item->len + reserve >= w->cap)
		return false;
	jsonw_raw(w, item->buf, item->len);
	return true;
}

static void evidence_counters(struct jsonw *w, const Relaywatch__Alert *a, char *text, size_t cap,
			      size_t *tl)
{
	char tmp[512], line[256];
	struct jsonw item;

	jsonw_key(w, "counters");
	jsonw_arr_open(w);
	for (size_t i = 0; i < a->n_counters && i < INGEST_MAX_EVIDENCE; i++) {
		const Relaywatch__Counter *c = a->counters[i];

		jsonw_init(&item, tmp, sizeof(tmp));
		jsonw_obj_open(&item);
		jsonw_kv_str(&item, "name", c->name, cut(c->name, 64));
		jsonw_kv_double(&item, "value", c->value, 3);
		jsonw_kv_double(&item, "threshold", c->threshold, 3);
		jsonw_kv_u64(&item, "window", c->window_s);
		jsonw_obj_close(&item);
		if (!raw_if_fits(w, &item, 256))
			break;
		snprintf(line, sizeof(line), "%s%.*s=%g (threshold %g%s%.0u%s)", i ? ", " : "",
			 (int)cut(c->name, 64), c->name, c->value, c->threshold,
			 c->window_s ? " in " : "", c->window_s, c->window_s ? "s" : "");
		cat(text, cap, tl, line);
	}
	jsonw_arr_close(w);
}

static void evidence_examples(struct jsonw *w, const Relaywatch__Alert *a, char *text, size_t cap,
			      size_t *tl)
{
	char tmp[1024], line[512];
	struct jsonw item;

	jsonw_key(w, "examples");
	jsonw_arr_open(w);
	for (size_t i = 0; i < a->n_examples && i < INGEST_MAX_EVIDENCE; i++) {
		const Relaywatch__Example *e = a->examples[i];

		jsonw_init(&item, tmp, sizeof(tmp));
		jsonw_obj_open(&item);
		jsonw_kv_str(&item, "field", e->field, cut(e->field, 64));
		jsonw_kv_str(&item, "value", e->value, cut(e->value, INGEST_VALUE_JSON_MAX));
		jsonw_obj_close(&item);
		if (!raw_if_fits(w, &item, 256))
			break;
		snprintf(line, sizeof(line), "%s%.*s=%.*s", i ? ", " : "; ", (int)cut(e->field, 64),
			 e->field, (int)cut(e->value, 160), e->value);
		cat(text, cap, tl, line);
	}
	jsonw_arr_close(w);
}

static void evidence(const Relaywatch__Alert *a, struct ingest_scratch *sc)
{
	struct jsonw w;
	size_t tl = 0;

	sc->ev_text[0] = '\0';
	jsonw_init(&w, sc->ev_json, sizeof(sc->ev_json));
	jsonw_obj_open(&w);
	evidence_counters(&w, a, sc->ev_text, sizeof(sc->ev_text), &tl);
	evidence_examples(&w, a, sc->ev_text, sizeof(sc->ev_text), &tl);
	jsonw_key(&w, "uids");
	jsonw_arr_open(&w);
	for (size_t i = 0; i < a->n_uids && i < INGEST_MAX_EVIDENCE; i++)
		if (w.len + 128 < w.cap)
			jsonw_str(&w, a->uids[i], cut(a->uids[i], 64));
	jsonw_arr_close(&w);
	jsonw_obj_close(&w);
	if (jsonw_finish_line(&w) < 0)
		snprintf(sc->ev_json, sizeof(sc->ev_json), "{}");
	else
		sc->ev_json[w.len - 1] = '\0'; /* no newline in a column */
}

void ingest_alert_row(const Relaywatch__Frame *f, uint64_t recv_ns, struct ingest_scratch *sc,
		      struct store_alert *out)
{
	const Relaywatch__Alert *a = f->alert;

	evidence(a, sc);
	*out = (struct store_alert){
		.key = {f->sensor_id, f->run_id, f->seq},
		.recv_ns = recv_ns,
		.ts_ns = a->ts_ns,
		.first_ns = a->first_ns ? a->first_ns : a->ts_ns,
		.kind = a->kind,
		.severity = a->severity,
		.host = a->host,
		.account = a->account,
		.message = a->message,
		.score = a->score,
		.alert_seq = a->seq,
		.evidence_json = sc->ev_json,
		.evidence_text = sc->ev_text,
	};
}

static int store_summary_frame(struct store *st, const Relaywatch__Frame *f, uint64_t recv_ns)
{
	const Relaywatch__HostSummary *m = f->summary;
	struct store_summary s = {
		.key = {f->sensor_id, f->run_id, f->seq},
		.recv_ns = recv_ns,
		.ts_ns = m->ts_ns,
		.period_s = m->period_s,
		.host = m->host,
		.home = m->home,
		.mail_server = m->mail_server,
		.c = {m->sessions, m->sessions_served, m->messages, m->recipients, m->rcpt_rejected,
		      m->auth_success, m->auth_failure, m->distinct_servers,
		      m->distinct_rcpt_domains, m->bounces_received, m->blocklist_replies,
		      m->signature_hits},
		.score = m->score,
		.first_seen_ns = m->first_seen_ns,
		.last_seen_ns = m->last_seen_ns,
	};

	_Static_assert(STORE_SUM_COUNT == 12, "HostSummary counters and store columns agree");
	return store_put_summary(st, &s);
}

/* The recipient's domain, lower case, without brackets; "" when none. */
static void rcpt_domain(const char *addr, char *out, size_t cap)
{
	const char *at = strrchr(addr, '@');
	size_t n = 0;

	if (at) {
		for (at++; *at && *at != '>' && *at != ' ' && n + 1 < cap; at++)
			out[n++] = (char)tolower((unsigned char)*at);
	}
	out[n] = '\0';
}

static void tx_rcpts(const Relaywatch__Transaction *t, struct ingest_scratch *sc,
		     struct store_tx *row)
{
	char tmp[1024], line[320];
	struct jsonw w, item;
	size_t tl = 0;
	unsigned int n = 0;

	sc->rcpt_text[0] = '\0';
	jsonw_init(&w, sc->rcpt_json, sizeof(sc->rcpt_json));
	jsonw_arr_open(&w);
	for (size_t i = 0; i < t->n_rcpt && n < INGEST_MAX_RCPT; i++) {
		const Relaywatch__Recipient *r = t->rcpt[i];

		rcpt_domain(r->addr, sc->domains[n], sizeof(sc->domains[n]));
		sc->rcpt[n] = (struct store_rcpt){r->addr, sc->domains[n], r->code, r->status};
		n++;
		jsonw_init(&item, tmp, sizeof(tmp));
		jsonw_obj_open(&item);
		jsonw_kv_str(&item, "addr", r->addr, cut(r->addr, INGEST_VALUE_JSON_MAX));
		jsonw_kv_u64(&item, "code", r->code);
		jsonw_kv_str(&item, "status", r->status, cut(r->status, 16));
		jsonw_obj_close(&item);
		raw_if_fits(&w, &item, 16);
		snprintf(line, sizeof(line), "%s%.*s %u%s%.*s", i ? ", " : "",
			 (int)cut(r->addr, 256), r->addr, r->code, r->status[0] ? " " : "",
			 (int)cut(r->status, 16), r->status);
		cat(sc->rcpt_text, sizeof(sc->rcpt_text), &tl, line);
	}
	jsonw_arr_close(&w);
	if (jsonw_finish_line(&w) < 0)
		snprintf(sc->rcpt_json, sizeof(sc->rcpt_json), "[]");
	else
		sc->rcpt_json[w.len - 1] = '\0';
	row->rcpt = sc->rcpt;
	row->n_rcpt = n;
	row->rcpt_json = sc->rcpt_json;
	row->rcpt_text = sc->rcpt_text;
}

static int store_tx_frame(struct store *st, const Relaywatch__Frame *f, uint64_t recv_ns,
			  struct ingest_scratch *sc)
{
	const Relaywatch__Transaction *t = f->tx;
	struct store_tx row = {
		.key = {f->sensor_id, f->run_id, f->seq},
		.recv_ns = recv_ns,
		.ts_ns = t->ts_ns,
		.uid = t->uid,
		.client = t->client,
		.server = t->server,
		.helo = t->helo,
		.mailfrom = t->mailfrom,
		.auth_mech = t->auth_mech,
		.auth_user = t->auth_user,
		.auth_result = t->auth_result,
		.msg_id = t->msg_id,
		.from = t->from,
		.subject = t->subject,
		.last_reply = t->last_reply,
		.user_agent = t->user_agent,
		.client_port = t->client_port,
		.server_port = t->server_port,
		.trans_depth = t->trans_depth,
		.to_count = t->to_count,
		.cc_count = t->cc_count,
		.msg_size = t->msg_size,
		.tls = t->tls,
		.is_bounce = t->is_bounce,
	};

	tx_rcpts(t, sc, &row);
	return store_put_tx(st, &row);
}

int ingest_store(struct store *st, const Relaywatch__Frame *f, uint64_t recv_ns,
		 struct ingest_scratch *sc)
{
	struct store_alert a;

	switch (f->body_case) {
	case RELAYWATCH__FRAME__BODY_ALERT:
		ingest_alert_row(f, recv_ns, sc, &a);
		return store_put_alert(st, &a);
	case RELAYWATCH__FRAME__BODY_SUMMARY:
		return store_summary_frame(st, f, recv_ns);
	case RELAYWATCH__FRAME__BODY_TX:
		return store_tx_frame(st, f, recv_ns, sc);
	default:
		return -EINVAL;
	}
}

int ingest_store_hello(struct store *st, const Relaywatch__Frame *f, const char *peer,
		       uint64_t recv_ns, struct ingest_scratch *sc)
{
	const Relaywatch__SensorHello *h = f->hello;
	struct store_sensor s;
	size_t len = 0;

	if (f->body_case != RELAYWATCH__FRAME__BODY_HELLO)
		return -EINVAL;
	sc->home_net[0] = '\0';
	for (size_t i = 0; i < h->n_home_net; i++) {
		if (i)
			cat(sc->home_net, sizeof(sc->home_net), &len, ",");
		cat(sc->home_net, sizeof(sc->home_net), &len, h->home_net[i]);
	}
	s = (struct store_sensor){
		.sensor_id = ingest_sensor_id(f),
		.version = h->version,
		.config_digest = h->config_digest,
		.home_net = sc->home_net,
		.peer = peer ? peer : "",
		.run_id = f->run_id,
		.started_ns = h->started_ns,
		.seen_ns = recv_ns,
	};
	return store_put_sensor(st, &s);
}
