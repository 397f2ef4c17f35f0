// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/summary.h"

#include <errno.h>
#include <string.h>

#include "common/jsonw.h"

static void print_reasons(FILE *f, const struct decode_stats *d)
{
	bool any = false;

	for (int r = 0; r < DECODE_R_COUNT; r++) {
		if (!d->reason[r])
			continue;
		fprintf(f, "%s %s %llu", any ? "," : "  not decoded:", decode_reason_name(r),
			(unsigned long long)d->reason[r]);
		any = true;
	}
	if (any)
		fputc('\n', f);
}

/* Losses and copies only some sources have (DPDK), and the per-queue split. */
static void print_source_extra(FILE *f, const struct source_stats *src)
{
	if (src->nic_errors)
		fprintf(f, "  NIC receive errors: %llu\n", (unsigned long long)src->nic_errors);
	if (src->multiseg_copied || src->multiseg_dropped)
		fprintf(f, "  chained frames: %llu linearised, %llu dropped\n",
			(unsigned long long)src->multiseg_copied,
			(unsigned long long)src->multiseg_dropped);
	for (unsigned int i = 0; src->n_q > 1 && i < src->n_q; i++)
		fprintf(f, "%s %u/%u %llu%s", i ? "," : "  packets per port/queue:", src->q[i].port,
			src->q[i].queue, (unsigned long long)src->q[i].pkts,
			i + 1 == src->n_q ? "\n" : "");
}

void summary_print(FILE *f, const struct summary *s)
{
	const struct worker_stats *w = &s->wk;
	double secs = s->wall_secs > 0 ? s->wall_secs : 1e-9;

	fprintf(f, "relaywatch: %llu packets, %.1f MB in %.2f s (%.0f pkt/s, %.3f Gbit/s)\n",
		(unsigned long long)w->pkts, (double)w->bytes / 1e6, s->wall_secs,
		(double)w->pkts / secs, (double)w->bytes * 8 / secs / 1e9);
	fprintf(f,
		"  flows: %llu created, %llu evicted, %llu idle-expired, %llu one-sided, "
		"%llu mid-stream\n",
		(unsigned long long)w->flow.created, (unsigned long long)w->flow.evicted,
		(unsigned long long)w->flow.expired_idle, (unsigned long long)w->flow.one_sided,
		(unsigned long long)w->flow.midstream);
	fprintf(f,
		"  SMTP: %llu sessions, %llu transactions, %llu messages, %llu recipients, "
		"%llu AUTH (%llu failed), %llu TLS\n",
		(unsigned long long)s->smtp.sessions, (unsigned long long)s->smtp.transactions,
		(unsigned long long)s->smtp.messages, (unsigned long long)s->smtp.recipients,
		(unsigned long long)s->smtp.auth_attempts, (unsigned long long)s->smtp.auth_failure,
		(unsigned long long)s->smtp.tls_sessions);
	fprintf(f,
		"  reassembly: %llu gaps (%llu bytes), %llu out-of-order segments, "
		"%llu cap hits\n",
		(unsigned long long)w->reasm.gaps, (unsigned long long)w->reasm.gap_bytes,
		(unsigned long long)w->reasm.ooo_segments,
		(unsigned long long)(w->reasm.flow_cap_hits + w->reasm.total_cap_hits));
	print_reasons(f, &w->decode);
	if (w->other_port)
		fprintf(f, "  TCP on other ports skipped: %llu packets\n",
			(unsigned long long)w->other_port);
	if (s->src.nic_missed || s->src.ring_full || s->src.fill_empty || s->src.steer_full ||
	    s->src.no_socket)
		fprintf(f,
			"  lost before the workers: nic %llu, ring %llu, fill %llu, steer %llu, "
			"no socket %llu\n",
			(unsigned long long)s->src.nic_missed, (unsigned long long)s->src.ring_full,
			(unsigned long long)s->src.fill_empty,
			(unsigned long long)s->src.steer_full,
			(unsigned long long)s->src.no_socket);
	print_source_extra(f, &s->src);
	for (unsigned int i = 0; i < s->n_xdp; i++)
		fprintf(f, "%s %s %llu%s", i ? "," : "  XDP pre-filter:", s->xdp_names[i],
			(unsigned long long)s->xdp_pkts[i], i + 1 == s->n_xdp ? "\n" : "");
	if (s->events_dropped || s->smtp.sessions_no_slot)
		fprintf(f,
			"  lost in the sensor: %llu events (ring full), %llu sessions (no slot)\n",
			(unsigned long long)s->events_dropped,
			(unsigned long long)s->smtp.sessions_no_slot);
	fprintf(f, "  memory: %.1f MB in tables; %zu bytes per flow, %zu per idle SMTP session\n",
		(double)s->mem_bytes / 1e6, s->flow_bytes, s->session_bytes);
}

static void json_u64s(struct jsonw *w, const char *key, const char *const *names, const uint64_t *v,
		      size_t n)
{
	jsonw_key(w, key);
	jsonw_obj_open(w);
	for (size_t i = 0; i < n; i++)
		jsonw_kv_u64(w, names[i], v[i]);
	jsonw_obj_close(w);
}

static void json_workers(struct jsonw *w, const struct summary *s)
{
	jsonw_key(w, "workers");
	jsonw_arr_open(w);
	for (unsigned int i = 0; i < s->n_workers; i++) {
		jsonw_obj_open(w);
		jsonw_kv_u64(w, "pkts", s->per_worker_pkts[i]);
		jsonw_kv_u64(w, "flows", s->per_worker_flows[i]);
		jsonw_kv_u64(w, "flows_one_sided", s->per_worker_one_sided[i]);
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
}

/* Per receive queue, for sources that count per queue (DPDK). */
static void json_queues(struct jsonw *w, const struct source_stats *src)
{
	if (!src->n_q)
		return;
	jsonw_key(w, "queues");
	jsonw_arr_open(w);
	for (unsigned int i = 0; i < src->n_q; i++) {
		jsonw_obj_open(w);
		jsonw_kv_u64(w, "port", src->q[i].port);
		jsonw_kv_u64(w, "queue", src->q[i].queue);
		jsonw_kv_u64(w, "pkts", src->q[i].pkts);
		jsonw_kv_u64(w, "bytes", src->q[i].bytes);
		jsonw_kv_u64(w, "nic_pkts", src->q[i].nic_pkts);
		jsonw_kv_u64(w, "nic_errors", src->q[i].nic_errors);
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
}

/* Every cut, cap and oddity of the flow, reassembly and SMTP layers: what a
 * hostile or broken peer cost, by name (the stress tests assert on them). */
static void json_cuts(struct jsonw *w, const struct summary *s)
{
	const struct worker_stats *wk = &s->wk;
	const struct smtp_stats *sm = &s->smtp;
	const struct {
		const char *key;
		uint64_t v;
	} kv[] = {
		{"flows_expired_closed", wk->flow.expired_closed},
		{"flows_reused", wk->flow.reused},
		{"after_close_pkts", wk->after_close_pkts},
		{"no_flow_pkts", wk->no_flow_pkts},
		{"l7_ignored_pkts", wk->l7_ignored_pkts},
		{"l7_bypassed_pkts", wk->l7_bypassed_pkts},
		{"reasm_retransmits", wk->reasm.retransmits},
		{"reasm_overlaps", wk->reasm.overlaps},
		{"reasm_bytes_buffered", wk->reasm.bytes_buffered},
		{"smtp_not_smtp", sm->not_smtp},
		{"smtp_tx_no_slot", sm->tx_no_slot},
		{"smtp_buf_no_slot", sm->buf_no_slot},
		{"smtp_tx_truncated", sm->tx_truncated},
		{"smtp_header_truncated", sm->header_truncated},
		{"smtp_message_bytes", sm->message_bytes},
		{"smtp_bare_lf", sm->bare_lf},
		{"smtp_nul_bytes", sm->nul_bytes},
		{"smtp_auth_bad_base64", sm->auth_bad_base64},
		{"smtp_replies_unmatched", sm->replies_unmatched},
		{"smtp_replies_bad", sm->replies_bad},
		{"smtp_gaps", sm->gaps},
		{"smtp_lines_skipped", sm->lines_skipped},
		{"smtp_events_dropped", sm->events_dropped},
	};

	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		jsonw_kv_u64(w, kv[i].key, kv[i].v);
}

/* The detector thread's bounded tables: what they hold, what they dropped. */
static void json_detection(struct jsonw *w, const struct detect_stats *de)
{
	jsonw_kv_u64(w, "hosts", de->hosts);
	jsonw_kv_u64(w, "hosts_evicted", de->hosts_evicted);
	jsonw_kv_u64(w, "accounts", de->accounts);
	jsonw_kv_u64(w, "accounts_evicted", de->accounts_evicted);
	jsonw_kv_u64(w, "alert_states_evicted", de->alert_states_evicted);
	jsonw_kv_u64(w, "evidence_evicted", de->evidence_evicted);
	jsonw_kv_u64(w, "domains_evicted", de->domains_evicted);
	jsonw_kv_u64(w, "relay_pending_evicted", de->relay_pending_evicted);
	jsonw_kv_u64(w, "sketches_reclaimed", de->sketches_reclaimed);
	jsonw_kv_u64(w, "detector_bad_events", de->bad_events);
	jsonw_kv_u64(w, "detector_late_events", de->late_events);
	jsonw_kv_u64(w, "detector_mem_bytes", de->mem_bytes);
}

static void json_decode(struct jsonw *w, const struct decode_stats *d)
{
	const char *names[DECODE_R_COUNT];

	for (int r = 0; r < DECODE_R_COUNT; r++)
		names[r] = decode_reason_name(r);
	json_u64s(w, "decode_drops", names, d->reason, DECODE_R_COUNT);
}

int summary_write_json(const char *path, const struct summary *s)
{
	static char buf[64 * 1024];
	const struct worker_stats *wk = &s->wk;
	struct jsonw w;
	long n;
	FILE *f;

	jsonw_init(&w, buf, sizeof(buf));
	jsonw_obj_open(&w);
	jsonw_kv_u64(&w, "packets", wk->pkts);
	jsonw_kv_u64(&w, "bytes", wk->bytes);
	jsonw_kv_double(&w, "wall_secs", s->wall_secs, 3);
	json_decode(&w, &wk->decode);
	jsonw_kv_u64(&w, "other_port_pkts", wk->other_port);
	jsonw_kv_u64(&w, "flows_created", wk->flow.created);
	jsonw_kv_u64(&w, "flows_evicted", wk->flow.evicted);
	jsonw_kv_u64(&w, "flows_expired_idle", wk->flow.expired_idle);
	jsonw_kv_u64(&w, "flows_one_sided", wk->flow.one_sided);
	jsonw_kv_u64(&w, "flows_midstream", wk->flow.midstream);
	jsonw_kv_u64(&w, "reasm_gaps", wk->reasm.gaps);
	jsonw_kv_u64(&w, "reasm_gap_bytes", wk->reasm.gap_bytes);
	jsonw_kv_u64(&w, "reasm_ooo_segments", wk->reasm.ooo_segments);
	jsonw_kv_u64(&w, "reasm_flow_cap_hits", wk->reasm.flow_cap_hits);
	jsonw_kv_u64(&w, "reasm_total_cap_hits", wk->reasm.total_cap_hits);
	jsonw_kv_u64(&w, "smtp_sessions", s->smtp.sessions);
	jsonw_kv_u64(&w, "smtp_sessions_no_slot", s->smtp.sessions_no_slot);
	jsonw_kv_u64(&w, "smtp_transactions", s->smtp.transactions);
	jsonw_kv_u64(&w, "smtp_session_records", s->smtp.session_records);
	jsonw_kv_u64(&w, "smtp_commands", s->smtp.commands);
	jsonw_kv_u64(&w, "smtp_unknown_commands", s->smtp.cmd_unknown);
	jsonw_kv_u64(&w, "smtp_line_too_long", s->smtp.line_too_long);
	jsonw_kv_u64(&w, "smtp_pipeline_overflow", s->smtp.pipeline_overflow);
	jsonw_kv_u64(&w, "smtp_messages", s->smtp.messages);
	jsonw_kv_u64(&w, "smtp_recipients", s->smtp.recipients);
	jsonw_kv_u64(&w, "smtp_auth_attempts", s->smtp.auth_attempts);
	jsonw_kv_u64(&w, "smtp_auth_failures", s->smtp.auth_failure);
	jsonw_kv_u64(&w, "smtp_tls_sessions", s->smtp.tls_sessions);
	json_cuts(&w, s);
	jsonw_kv_u64(&w, "events_dropped", s->events_dropped);
	jsonw_kv_u64(&w, "detector_events", s->det.events);
	jsonw_kv_u64(&w, "alerts", s->det.alerts);
	json_detection(&w, &s->de);
	jsonw_kv_u64(&w, "src_nic_missed", s->src.nic_missed);
	jsonw_kv_u64(&w, "src_ring_full", s->src.ring_full);
	jsonw_kv_u64(&w, "src_fill_empty", s->src.fill_empty);
	jsonw_kv_u64(&w, "src_steer_full", s->src.steer_full);
	jsonw_kv_u64(&w, "src_no_socket", s->src.no_socket);
	jsonw_kv_u64(&w, "src_pkts", s->src.pkts);
	jsonw_kv_u64(&w, "src_nic_errors", s->src.nic_errors);
	jsonw_kv_u64(&w, "src_multiseg_copied", s->src.multiseg_copied);
	jsonw_kv_u64(&w, "src_multiseg_dropped", s->src.multiseg_dropped);
	json_queues(&w, &s->src);
	if (s->n_xdp)
		json_u64s(&w, "xdp", s->xdp_names, s->xdp_pkts, s->n_xdp);
	jsonw_kv_u64(&w, "mem_bytes", s->mem_bytes);
	jsonw_kv_u64(&w, "flow_bytes", s->flow_bytes);
	jsonw_kv_u64(&w, "session_bytes", s->session_bytes);
	json_workers(&w, s);
	jsonw_obj_close(&w);
	n = jsonw_finish_line(&w);
	if (n < 0)
		return -ENOSPC;
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fwrite(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) == 0 ? 0 : -errno;
}

void summary_progress(FILE *f, uint64_t done, uint64_t total, double secs)
{
	double rate = secs > 0 ? (double)done / secs : 0;
	double left = rate > 0 && total > done ? (double)(total - done) / rate : 0;
	double pct = total ? 100.0 * (double)done / (double)total : 0;

	/* A pipe has no size: how much came through, no share and no ETA. */
	if (!total)
		fprintf(f, "\r %.1f MB  %.1f MB/s ", (double)done / 1e6, rate / 1e6);
	else
		fprintf(f, "\r %5.1f%% %.1f/%.1f MB  %.1f MB/s  ETA %d:%02d ", pct,
			(double)done / 1e6, (double)total / 1e6, rate / 1e6, (int)left / 60,
			(int)left % 60);
	fflush(f);
}
