// SPDX-License-Identifier: BSD-3-Clause
#include "collector/rows_json.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void rows_json_time(uint64_t ns, char *buf, size_t cap, int ms)
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;

	if (!ns || !gmtime_r(&s, &tm)) {
		if (cap)
			buf[0] = '\0';
		return;
	}
	if (ms)
		snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (unsigned int)(ns / 1000000ull % 1000));
	else
		snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void rows_json_kv_time(struct jsonw *w, const char *key, uint64_t ns)
{
	char t[40];

	rows_json_time(ns, t, sizeof(t), 1);
	if (t[0])
		jsonw_kv_cstr(w, key, t);
	else
		jsonw_key(w, key), jsonw_null(w);
}

void rows_json_kv_hex(struct jsonw *w, const char *key, uint64_t v)
{
	char t[24];

	snprintf(t, sizeof(t), "%016llx", (unsigned long long)v);
	jsonw_kv_cstr(w, key, t);
}

/* Evidence was stored as one JSON object: its members go in as they are. */
static void evidence_members(struct jsonw *w, const char *ev)
{
	static const char *const keys[] = {"counters", "examples", "uids"};
	size_t n = strlen(ev);

	/* Members, not a value: jsonw_raw() only adds the comma before them. */
	if (n > 2 && ev[0] == '{' && ev[n - 1] == '}') {
		jsonw_raw(w, ev + 1, n - 2);
		return;
	}
	for (unsigned int i = 0; i < 3; i++) {
		jsonw_key(w, keys[i]);
		jsonw_arr_open(w);
		jsonw_arr_close(w);
	}
}

void rows_json_alert(struct jsonw *w, const struct store_alert *a)
{
	jsonw_obj_open(w);
	rows_json_kv_time(w, "ts", a->ts_ns);
	rows_json_kv_time(w, "first_ts", a->first_ns);
	jsonw_kv_cstr(w, "kind", a->kind);
	jsonw_kv_cstr(w, "severity", a->severity);
	jsonw_kv_cstr(w, "host", a->host);
	jsonw_kv_cstr(w, "account", a->account);
	jsonw_kv_double(w, "score", a->score, 2);
	jsonw_kv_cstr(w, "message", a->message);
	evidence_members(w, a->evidence_json);
	jsonw_kv_u64(w, "seq", a->alert_seq);
	jsonw_kv_cstr(w, "sensor", a->key.sensor_id);
	rows_json_kv_hex(w, "run_id", a->key.run_id);
	jsonw_kv_u64(w, "frame_seq", a->key.seq);
	rows_json_kv_time(w, "received", a->recv_ns);
	jsonw_obj_close(w);
}

void rows_json_summary(struct jsonw *w, const struct store_summary *s)
{
	jsonw_obj_open(w);
	rows_json_kv_time(w, "ts", s->ts_ns);
	jsonw_kv_u64(w, "period_s", s->period_s);
	jsonw_kv_cstr(w, "host", s->host);
	jsonw_kv_bool(w, "home", s->home);
	jsonw_kv_bool(w, "mail_server", s->mail_server);
	for (int i = 0; i < STORE_SUM_COUNT; i++)
		jsonw_kv_u64(w, store_sum_names[i], s->c[i]);
	jsonw_kv_double(w, "score", s->score, 2);
	rows_json_kv_time(w, "first_seen", s->first_seen_ns);
	rows_json_kv_time(w, "last_seen", s->last_seen_ns);
	jsonw_kv_cstr(w, "sensor", s->key.sensor_id);
	rows_json_kv_hex(w, "run_id", s->key.run_id);
	jsonw_obj_close(w);
}

void rows_json_tx(struct jsonw *w, const struct store_tx *t)
{
	jsonw_obj_open(w);
	rows_json_kv_time(w, "ts", t->ts_ns);
	jsonw_kv_cstr(w, "uid", t->uid);
	jsonw_kv_cstr(w, "sensor", t->key.sensor_id);
	jsonw_kv_cstr(w, "client", t->client);
	jsonw_kv_u64(w, "client_port", t->client_port);
	jsonw_kv_cstr(w, "server", t->server);
	jsonw_kv_u64(w, "server_port", t->server_port);
	jsonw_kv_u64(w, "trans_depth", t->trans_depth);
	jsonw_kv_cstr(w, "helo", t->helo);
	jsonw_kv_cstr(w, "mailfrom", t->mailfrom);
	jsonw_key(w, "rcpt");
	if (t->rcpt_json[0] == '[')
		jsonw_raw(w, t->rcpt_json, strlen(t->rcpt_json));
	else
		jsonw_arr_open(w), jsonw_arr_close(w);
	jsonw_kv_u64(w, "rcpt_count", t->n_rcpt);
	jsonw_kv_cstr(w, "auth_mech", t->auth_mech);
	jsonw_kv_cstr(w, "auth_user", t->auth_user);
	jsonw_kv_cstr(w, "auth_result", t->auth_result);
	jsonw_kv_cstr(w, "msg_id", t->msg_id);
	jsonw_kv_cstr(w, "from", t->from);
	jsonw_kv_cstr(w, "subject", t->subject);
	jsonw_kv_u64(w, "to_count", t->to_count);
	jsonw_kv_u64(w, "cc_count", t->cc_count);
	jsonw_kv_u64(w, "msg_size", t->msg_size);
	jsonw_kv_cstr(w, "last_reply", t->last_reply);
	jsonw_kv_bool(w, "tls", t->tls);
	jsonw_kv_bool(w, "is_bounce", t->is_bounce);
	jsonw_kv_cstr(w, "user_agent", t->user_agent);
	jsonw_obj_close(w);
}

char *rows_json_render(rows_json_fn *fn, void *arg, size_t *len)
{
	for (size_t cap = 64u << 10; cap <= ROWS_JSON_MAX_DOC; cap *= 2) {
		char *buf = malloc(cap);
		struct jsonw w;
		long n;

		if (!buf)
			return NULL;
		jsonw_init(&w, buf, cap);
		fn(&w, arg);
		n = jsonw_finish_line(&w);
		if (n >= 0) {
			*len = (size_t)n;
			return buf;
		}
		free(buf);
	}
	return NULL;
}
