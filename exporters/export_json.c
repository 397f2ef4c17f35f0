// SPDX-License-Identifier: BSD-3-Clause
#include "exporters/export_json.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/jsonw.h"
#include "sensor/privacy.h"

struct export_json {
	const struct privacy *ips; /* privacy.pseudonymize_ips; NULL: addresses as seen */
	FILE *smtp;
	FILE *alerts;
	char *line;
	struct export_json_stats st;
};

const char *export_json_addr(uint8_t family, const union pkt_addr *a, char *buf, size_t cap)
{
	if (family == 4)
		return inet_ntop(AF_INET, &a->b[12], buf, (socklen_t)cap);
	return inet_ntop(AF_INET6, a->b, buf, (socklen_t)cap);
}

static void kv_field(struct jsonw *w, const struct smtp_tx *tx, const char *key, enum smtp_field f)
{
	if (smtp_tx_has(tx, f))
		jsonw_kv_str(w, key, smtp_tx_str(tx, tx->f[f]), tx->f[f].len);
}

/* A value that may name IP addresses (HELO literals, Received:, replies, the
 * path): with pseudonymize_ips each one is written as its pseudonym. */
static void str_ips(struct jsonw *w, const struct privacy *ips, const char *s, size_t n)
{
	char buf[EXPORT_JSON_IPS_MAX];

	if (!ips) {
		jsonw_str(w, s, n);
		return;
	}
	jsonw_str(w, buf, privacy_text_ips(ips, s, n, buf, sizeof(buf)));
}

static void kv_field_ips(struct jsonw *w, const struct smtp_tx *tx, const char *key,
			 enum smtp_field f, const struct privacy *ips)
{
	if (!smtp_tx_has(tx, f))
		return;
	jsonw_key(w, key);
	str_ips(w, ips, smtp_tx_str(tx, tx->f[f]), tx->f[f].len);
}

static void kv_list(struct jsonw *w, const struct smtp_tx *tx, const char *key,
		    const struct smtp_str *list, unsigned int n, const struct privacy *ips)
{
	if (n == 0)
		return;
	jsonw_key(w, key);
	jsonw_arr_open(w);
	for (unsigned int i = 0; i < n; i++)
		str_ips(w, ips, smtp_tx_str(tx, list[i]), list[i].len);
	jsonw_arr_close(w);
}

static void put_identity(struct jsonw *w, const struct smtp_tx *tx, const struct privacy *ips)
{
	char a[INET6_ADDRSTRLEN];

	jsonw_kv_double(w, "ts", (double)tx->ts_ns / 1e9, 6);
	jsonw_kv_cstr(w, "uid", tx->uid);
	jsonw_kv_cstr(w, "id.orig_h", privacy_ip_text(ips, tx->family, &tx->orig_h, a, sizeof(a)));
	jsonw_kv_u64(w, "id.orig_p", tx->orig_p);
	jsonw_kv_cstr(w, "id.resp_h", privacy_ip_text(ips, tx->family, &tx->resp_h, a, sizeof(a)));
	jsonw_kv_u64(w, "id.resp_p", tx->resp_p);
	if (tx->vlan)
		jsonw_kv_u64(w, "vlan", tx->vlan);
	if (!(tx->flags & SMTP_TX_F_SESSION))
		jsonw_kv_u64(w, "trans_depth", tx->trans_depth);
}

static void put_rcpts(struct jsonw *w, const struct smtp_tx *tx)
{
	char status[24];

	if (tx->n_rcpt_stored == 0)
		return;
	jsonw_key(w, "rcptto");
	jsonw_arr_open(w);
	for (unsigned int i = 0; i < tx->n_rcpt_stored; i++)
		jsonw_str(w, smtp_tx_str(tx, tx->rcpt[i].addr), tx->rcpt[i].addr.len);
	jsonw_arr_close(w);
	/* Per-recipient replies: which were accepted and with what code. */
	jsonw_key(w, "rcpt_replies");
	jsonw_arr_open(w);
	for (unsigned int i = 0; i < tx->n_rcpt_stored; i++) {
		const struct smtp_rcpt *r = &tx->rcpt[i];

		jsonw_obj_open(w);
		jsonw_kv_str(w, "addr", smtp_tx_str(tx, r->addr), r->addr.len);
		if (r->code) {
			jsonw_kv_u64(w, "code", r->code);
			jsonw_kv_bool(w, "accepted", r->code >= 200 && r->code < 300);
		}
		if (r->enh_class) {
			snprintf(status, sizeof(status), "%u.%u.%u", r->enh_class, r->enh_subject,
				 r->enh_detail);
			jsonw_kv_cstr(w, "status", status);
		}
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
}

static void put_message(struct jsonw *w, const struct smtp_tx *tx, const struct privacy *ips)
{
	kv_field(w, tx, "date", SMTP_F_DATE);
	kv_field(w, tx, "from", SMTP_F_FROM);
	kv_list(w, tx, "to", tx->to, tx->n_to_stored, NULL);
	kv_list(w, tx, "cc", tx->cc, tx->n_cc_stored, NULL);
	kv_field(w, tx, "reply_to", SMTP_F_REPLY_TO);
	kv_field(w, tx, "msg_id", SMTP_F_MSG_ID);
	kv_field(w, tx, "in_reply_to", SMTP_F_IN_REPLY_TO);
	kv_field(w, tx, "subject", SMTP_F_SUBJECT);
	kv_field_ips(w, tx, "x_originating_ip", SMTP_F_X_ORIGINATING_IP, ips);
	kv_field_ips(w, tx, "first_received", SMTP_F_FIRST_RECEIVED, ips);
	kv_field_ips(w, tx, "second_received", SMTP_F_SECOND_RECEIVED, ips);
}

static void put_session(struct jsonw *w, const struct smtp_tx *tx, const struct privacy *ips)
{
	kv_field_ips(w, tx, "last_reply", SMTP_F_LAST_REPLY, ips);
	kv_list(w, tx, "path", tx->path, tx->n_path, ips);
	kv_field(w, tx, "user_agent", SMTP_F_USER_AGENT);
	jsonw_kv_bool(w, "tls", tx->flags & SMTP_TX_F_TLS);
	kv_field(w, tx, "auth_mech", SMTP_F_AUTH_MECH);
	kv_field(w, tx, "auth_user", SMTP_F_AUTH_USER);
	if (tx->auth_result != SMTP_AUTH_NONE)
		jsonw_kv_cstr(w, "auth_result", smtp_auth_result_name(tx->auth_result));
	if (tx->auth_attempts) {
		jsonw_kv_u64(w, "auth_attempts", tx->auth_attempts);
		jsonw_kv_u64(w, "auth_failures", tx->auth_failures);
	}
	kv_field(w, tx, "tls_sni", SMTP_F_TLS_SNI);
	kv_field(w, tx, "tls_ja4", SMTP_F_TLS_JA4);
	if (tx->tls_version_hi)
		jsonw_kv_u64(w, "tls_version", 0x0300u | tx->tls_version_hi);
	kv_field_ips(w, tx, "server_banner", SMTP_F_SERVER_BANNER, ips);
}

static void put_counts(struct jsonw *w, const struct smtp_tx *tx)
{
	if (tx->flags & SMTP_TX_F_SESSION) {
		jsonw_kv_bool(w, "session_only", true);
		return;
	}
	jsonw_kv_bool(w, "is_bounce", tx->flags & SMTP_TX_F_BOUNCE);
	if (tx->mail_code)
		jsonw_kv_u64(w, "mail_code", tx->mail_code);
	jsonw_kv_u64(w, "rcpt_count", tx->n_rcpt);
	jsonw_kv_u64(w, "rcpt_accepted", tx->n_rcpt_accepted);
	jsonw_kv_u64(w, "rcpt_rejected", tx->n_rcpt_rejected);
	if (tx->data_code)
		jsonw_kv_u64(w, "data_code", tx->data_code);
	if (tx->flags & SMTP_TX_F_DATA) {
		jsonw_kv_u64(w, "msg_size", tx->msg_size);
		jsonw_kv_u64(w, "header_count", tx->header_count);
		jsonw_kv_u64(w, "received_count", tx->received_count);
		jsonw_kv_u64(w, "to_count", tx->n_to);
		jsonw_kv_u64(w, "cc_count", tx->n_cc);
		jsonw_kv_bool(w, "dkim", tx->flags & SMTP_TX_F_DKIM);
		jsonw_kv_bool(w, "complete", tx->flags & SMTP_TX_F_COMPLETE);
	}
}

/* Conditions an analyst wants to see, only when they hold. */
static void put_flags(struct jsonw *w, const struct smtp_tx *tx)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{SMTP_TX_F_BDAT, "bdat"},
		{SMTP_TX_F_PIPELINED, "pipelined"},
		{SMTP_TX_F_GAP, "gap"},
		{SMTP_TX_F_MIDSTREAM, "midstream"},
		{SMTP_TX_F_ONE_SIDED, "one_sided"},
		{SMTP_TX_F_TRUNCATED, "truncated"},
		{SMTP_TX_F_PROXY, "proxied"},
		{SMTP_TX_F_HDR_TRUNC, "headers_truncated"},
		{SMTP_TX_F_IMPLICIT_TLS, "implicit_tls"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (tx->flags & names[i].bit)
			jsonw_kv_bool(w, names[i].name, true);
}

long export_json_format_tx(const struct smtp_tx *tx, const struct privacy *ips, char *buf,
			   size_t cap)
{
	struct jsonw w;

	jsonw_init(&w, buf, cap);
	jsonw_obj_open(&w);
	put_identity(&w, tx, ips);
	kv_field_ips(&w, tx, "helo", SMTP_F_HELO, ips);
	if (!(tx->flags & SMTP_TX_F_SESSION) &&
	    (smtp_tx_has(tx, SMTP_F_MAILFROM) || (tx->flags & SMTP_TX_F_BOUNCE)))
		jsonw_kv_str(&w, "mailfrom", smtp_tx_str(tx, tx->f[SMTP_F_MAILFROM]),
			     tx->f[SMTP_F_MAILFROM].len);
	put_rcpts(&w, tx);
	put_message(&w, tx, ips);
	put_session(&w, tx, ips);
	put_counts(&w, tx);
	put_flags(&w, tx);
	jsonw_obj_close(&w);
	return jsonw_finish_line(&w);
}

static FILE *open_out(const char *dir, const char *name, struct errbuf *eb, int *err)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f) {
		*err = errbuf_set(eb, -errno, "%s: %s", path, strerror(errno));
		return NULL;
	}
	setvbuf(f, NULL, _IOFBF, 1u << 20);
	return f;
}

int export_json_open(const char *dir, struct export_json **out, struct errbuf *eb)
{
	struct export_json *ej;
	int err = 0;

	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return errbuf_set(eb, -errno, "%s: %s", dir, strerror(errno));
	ej = calloc(1, sizeof(*ej));
	if (!ej)
		return -ENOMEM;
	ej->line = malloc(EXPORT_JSON_LINE_MAX);
	if (!ej->line) {
		err = -ENOMEM;
		goto err_free;
	}
	ej->smtp = open_out(dir, "smtp.json", eb, &err);
	if (!ej->smtp)
		goto err_free;
	ej->alerts = open_out(dir, "alerts.json", eb, &err);
	if (!ej->alerts)
		goto err_close_smtp;
	*out = ej;
	return 0;

err_close_smtp:
	fclose(ej->smtp);
err_free:
	free(ej->line);
	free(ej);
	return err;
}

static void write_line(struct export_json *ej, FILE *f, const char *line, size_t len)
{
	if (fwrite(line, 1, len, f) != len)
		ej->st.write_errors++;
}

void export_json_tx(struct export_json *ej, const struct smtp_tx *tx)
{
	long n = export_json_format_tx(tx, ej->ips, ej->line, EXPORT_JSON_LINE_MAX);

	if (n < 0) {
		ej->st.overflow++;
		return;
	}
	write_line(ej, ej->smtp, ej->line, (size_t)n);
	ej->st.tx_lines++;
}

void export_json_alert_line(struct export_json *ej, const char *line, size_t len)
{
	write_line(ej, ej->alerts, line, len);
	ej->st.alert_lines++;
}

int export_json_flush(struct export_json *ej)
{
	int err = 0;

	if (fflush(ej->smtp) != 0 || fflush(ej->alerts) != 0) {
		ej->st.write_errors++;
		err = -errno;
	}
	return err;
}

void export_json_set_privacy(struct export_json *ej, const struct privacy *ips)
{
	ej->ips = ips;
}

const struct export_json_stats *export_json_stats(const struct export_json *ej)
{
	return &ej->st;
}

void export_json_close(struct export_json *ej)
{
	if (!ej)
		return;
	if (fclose(ej->smtp) != 0)
		ej->st.write_errors++;
	if (fclose(ej->alerts) != 0)
		ej->st.write_errors++;
	free(ej->line);
	free(ej);
}
