// SPDX-License-Identifier: BSD-3-Clause
#include "exporters/alert_json.h"

#include <string.h>

#include "common/jsonw.h"

/* Fields are filled with snprintf, but a length bound costs nothing. */
#define KV_FIXED(w, key, arr) jsonw_kv_str(w, key, arr, strnlen(arr, sizeof(arr)))

/* Detectors write addresses into messages and examples ("server 192.0.2.7"):
 * with pseudonymize_ips each one goes out as its pseudonym. */
static void kv_fixed_ips(struct jsonw *w, const char *key, const char *arr, size_t cap,
			 const struct privacy *ips)
{
	char buf[ALERT_MESSAGE_MAX];

	_Static_assert(ALERT_MESSAGE_MAX >= ALERT_EXAMPLE_MAX, "buf holds either field");
	jsonw_kv_str(w, key, buf, privacy_text_ips(ips, arr, strnlen(arr, cap), buf, cap));
}

static void put_counters(struct jsonw *w, const struct alert *a)
{
	jsonw_key(w, "counters");
	jsonw_arr_open(w);
	for (uint32_t i = 0; i < a->n_counters && i < ALERT_MAX_COUNTERS; i++) {
		const struct alert_counter *c = &a->counters[i];

		jsonw_obj_open(w);
		KV_FIXED(w, "name", c->name);
		jsonw_kv_double(w, "value", c->value, 3);
		jsonw_kv_double(w, "threshold", c->threshold, 3);
		jsonw_kv_u64(w, "window", c->window_s);
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
}

static void put_examples(struct jsonw *w, const struct alert *a, const struct privacy *ips)
{
	jsonw_key(w, "examples");
	jsonw_arr_open(w);
	for (uint32_t i = 0; i < a->n_examples && i < ALERT_MAX_EXAMPLES; i++) {
		jsonw_obj_open(w);
		KV_FIXED(w, "field", a->examples[i].field);
		kv_fixed_ips(w, "value", a->examples[i].value, sizeof(a->examples[i].value), ips);
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
}

long alert_json_format(const struct alert *a, const struct privacy *ips, char *buf, size_t cap)
{
	char host[64];
	struct jsonw w;

	jsonw_init(&w, buf, cap);
	jsonw_obj_open(&w);
	jsonw_kv_double(&w, "ts", (double)a->ts_ns / 1e9, 6);
	jsonw_kv_double(&w, "first_ts", (double)a->first_ns / 1e9, 6);
	jsonw_kv_cstr(&w, "kind", alert_kind_name(a->kind));
	jsonw_kv_cstr(&w, "severity", alert_severity_name(a->severity));
	jsonw_kv_cstr(&w, "host", privacy_ip_text(ips, a->family, &a->host, host, sizeof(host)));
	if (a->account[0])
		KV_FIXED(&w, "account", a->account);
	jsonw_kv_double(&w, "score", a->score, 2);
	kv_fixed_ips(&w, "message", a->message, sizeof(a->message), ips);
	put_counters(&w, a);
	put_examples(&w, a, ips);
	jsonw_key(&w, "uids");
	jsonw_arr_open(&w);
	for (uint32_t i = 0; i < a->n_uids && i < ALERT_MAX_UIDS; i++)
		jsonw_str(&w, a->uids[i], strnlen(a->uids[i], sizeof(a->uids[i])));
	jsonw_arr_close(&w);
	jsonw_kv_u64(&w, "seq", a->seq);
	jsonw_obj_close(&w);
	return jsonw_finish_line(&w);
}
