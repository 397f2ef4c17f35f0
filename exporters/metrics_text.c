// SPDX-License-Identifier: BSD-3-Clause
/*
 * The sensor's exposition: one prefix (relaywatch_), counters with _total,
 * base units (bytes, seconds), a `worker` label on everything a worker owns
 * (so a lossy or overloaded queue shows), no address in any label except the
 * bounded top-N gauge. Tables map a family to a uint64_t field of a stats
 * struct; a row without a name is another sample of the family above.
 */
#include <stddef.h>
#include <string.h>

#include "common/prom.h"
#include "exporters/metrics_int.h"
#include "rw_config.h"
#if HAVE_COLLECTOR
#include "exporters/export_pb.h"
#endif

#define P "relaywatch_"
#define C PROM_COUNTER
#define G PROM_GAUGE

struct row {
	const char *name; /* NULL: one more sample of the family above */
	const char *help;
	enum prom_type type;
	size_t off; /* of a uint64_t in the stats struct */
	const char *label, *value;
	double scale; /* 0: 1 */
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- table rendering ---- */

static double field(const void *base, const struct row *r)
{
	uint64_t v;

	memcpy(&v, (const char *)base + r->off, sizeof(v));
	return r->scale ? (double)v * r->scale : (double)v;
}

/* One sample per object of `objs` (stride bytes apart), labelled obj_label="0".."n-1"
 * when obj_label is set. */
static void rows_write(struct prom *p, const struct row *rows, size_t n, const void *objs,
		       size_t stride, unsigned int n_objs, const char *obj_label)
{
	char id[16];

	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		if (r->name)
			prom_family(p, r->name, r->type, r->help);
		for (unsigned int o = 0; o < n_objs; o++) {
			struct prom_label l[2];
			unsigned int nl = 0;

			if (obj_label) {
				snprintf(id, sizeof(id), "%u", o);
				l[nl++] = (struct prom_label){obj_label, id};
			}
			if (r->label)
				l[nl++] = (struct prom_label){r->label, r->value};
			prom_sample(p, l, nl, field((const char *)objs + o * stride, r));
		}
	}
}

/* ---- workers ---- */

#define W(f) offsetof(struct worker_stats, f)
static const struct row worker_rows[] = {
	{P "packets", "Packets a worker took from its queue.", C, W(pkts)},
	{P "bytes", "Wire bytes of the packets a worker took from its queue.", C, W(bytes)},
	{P "worker_skipped_packets", "Packets a worker did not parse, by reason.", C, W(other_port),
	 "reason", "other_port"},
	{NULL, NULL, C, W(l7_bypassed_pkts), "reason", "l7_bypassed"},
	{NULL, NULL, C, W(l7_ignored_pkts), "reason", "l7_declined"},
	{NULL, NULL, C, W(after_close_pkts), "reason", "after_close"},
	{NULL, NULL, C, W(no_flow_pkts), "reason", "no_flow"},
	{P "last_packet_timestamp_seconds", "Capture time of the last packet a worker saw.", G,
	 W(last_ts_ns), NULL, NULL, 1e-9},
	{P "decode_tcp_segments", "Frames decoded down to a TCP segment.", C, W(decode.ok)},
	{P "decode_headers", "Protocol headers met while decoding (outer and inner).", C,
	 W(decode.ipv4), "header", "ipv4"},
	{NULL, NULL, C, W(decode.ipv6), "header", "ipv6"},
	{NULL, NULL, C, W(decode.vlan), "header", "vlan"},
	{NULL, NULL, C, W(decode.mpls), "header", "mpls"},
	{NULL, NULL, C, W(decode.gre), "header", "gre"},
	{NULL, NULL, C, W(decode.erspan), "header", "erspan"},
	{NULL, NULL, C, W(decode.vxlan), "header", "vxlan"},
	{NULL, NULL, C, W(decode.ipip), "header", "ipip"},
	{P "decode_payload_snapped", "TCP segments whose payload the capture cut short.", C,
	 W(decode.payload_snapped)},
	{P "flows_created", "TCP flows created.", C, W(flow.created)},
	{P "flows_evicted", "Flows dropped to make room: the flow table was full.", C,
	 W(flow.evicted)},
	{P "flows_expired", "Flows ended by timeout, by state.", C, W(flow.expired_idle), "state",
	 "idle"},
	{NULL, NULL, C, W(flow.expired_closed), "state", "closed"},
	{P "flows_reused", "Flow entries taken over by a new connection on the same ports.", C,
	 W(flow.reused)},
	{P "flows_one_sided", "Flows that ended with one direction seen.", C, W(flow.one_sided)},
	{P "flows_midstream", "Flows first seen without a SYN.", C, W(flow.midstream)},
	{P "flows_active", "Flows in the table now.", G, W(flow.active)},
	{P "reasm_segments", "TCP segments with payload.", C, W(reasm.segments)},
	{P "reasm_bytes", "Payload bytes delivered to the parser, by path.", C,
	 W(reasm.bytes_in_order), "path", "in_order"},
	{NULL, NULL, C, W(reasm.bytes_buffered), "path", "buffered"},
	{P "reasm_out_of_order_segments", "Segments that arrived early.", C, W(reasm.ooo_segments)},
	{P "reasm_retransmits", "Segments already delivered.", C, W(reasm.retransmits)},
	{P "reasm_overlaps", "Segments partly already delivered or buffered.", C,
	 W(reasm.overlaps)},
	{P "reasm_gaps", "Stream holes given up on.", C, W(reasm.gaps)},
	{P "reasm_gap_bytes", "Bytes missing in the holes given up on.", C, W(reasm.gap_bytes)},
	{P "reasm_cap_hits", "Gaps forced by a reassembly memory cap, by cap.", C,
	 W(reasm.flow_cap_hits), "cap", "per_flow"},
	{NULL, NULL, C, W(reasm.total_cap_hits), "cap", "per_worker"},
	{NULL, NULL, C, W(reasm.side_cap_hits), "cap", "side_slots"},
	{P "reasm_midstream_directions", "Stream directions started without a SYN.", C,
	 W(reasm.midstream)},
	{P "reasm_bypassed_bytes", "Payload bytes skipped on bypassed flows (TLS, not SMTP).", C,
	 W(reasm.bypassed_bytes)},
	{P "reasm_buffered_bytes", "Out-of-order bytes held now.", G, W(reasm.buffered_now)},
	{P "reasm_buffer_segments", "Reassembly buffer segments held now.", G,
	 W(reasm.segs_in_use)},
	{P "reasm_side_slots",
	 "Out-of-order, hold and gap state slots held now (taken only while needed).", G,
	 W(reasm.sides_in_use)},
	{P "reasm_held_segments",
	 "In-order segments held back until the peer bytes they acknowledge were delivered.", C,
	 W(reasm.held_segments)},
	{P "reasm_holds_given_up",
	 "Holds released without the peer bytes (hold budget spent, or no room to wait).", C,
	 W(reasm.holds_given_up)},
};
#undef W

/* Decode verdicts other than OK: malformed frames are drops, the rest skips. */
static void write_decode_reasons(struct prom *p, const struct metrics *m, bool drops)
{
	char id[16];

	prom_family(
		p, drops ? P "decode_drops" : P "decode_skips", PROM_COUNTER,
		drops ? "Malformed frames dropped by the decoder, by reason."
		      : "Well-formed frames that are not ours (not IP, not TCP...), by reason.");
	for (int r = 0; r < DECODE_R_COUNT; r++) {
		if (decode_reason_is_drop(r) != drops)
			continue;
		for (unsigned int w = 0; w < m->n_workers; w++) {
			struct prom_label l[2] = {{"worker", id},
						  {"reason", decode_reason_name(r)}};

			snprintf(id, sizeof(id), "%u", w);
			prom_sample(p, l, 2, (double)m->ws[w].decode.reason[r]);
		}
	}
}

#define S(f) offsetof(struct smtp_stats, f)
static const struct row smtp_rows[] = {
	{P "smtp_sessions", "SMTP sessions opened.", C, S(sessions)},
	{P "smtp_sessions_active", "SMTP sessions being parsed now.", G, S(sessions_active)},
	{P "smtp_not_smtp_flows", "Flows on other ports probed and found not to be SMTP.", C,
	 S(not_smtp)},
	{P "smtp_transactions", "Mail transactions (MAIL FROM to the end of the data or RSET).", C,
	 S(transactions)},
	{P "smtp_session_records", "Sessions that ended without a transaction.", C,
	 S(session_records)},
	{P "smtp_commands", "Client commands, by verb.", C, S(cmd_helo), "command", "helo"},
	{NULL, NULL, C, S(cmd_ehlo), "command", "ehlo"},
	{NULL, NULL, C, S(cmd_auth), "command", "auth"},
	{NULL, NULL, C, S(cmd_mail), "command", "mail"},
	{NULL, NULL, C, S(cmd_rcpt), "command", "rcpt"},
	{NULL, NULL, C, S(cmd_data), "command", "data"},
	{NULL, NULL, C, S(cmd_bdat), "command", "bdat"},
	{NULL, NULL, C, S(cmd_rset), "command", "rset"},
	{NULL, NULL, C, S(cmd_noop), "command", "noop"},
	{NULL, NULL, C, S(cmd_vrfy), "command", "vrfy"},
	{NULL, NULL, C, S(cmd_expn), "command", "expn"},
	{NULL, NULL, C, S(cmd_starttls), "command", "starttls"},
	{NULL, NULL, C, S(cmd_quit), "command", "quit"},
	{NULL, NULL, C, S(cmd_unknown), "command", "unknown"},
	{P "smtp_replies", "Server replies, by class.", C, S(replies_2xx), "class", "2xx"},
	{NULL, NULL, C, S(replies_3xx), "class", "3xx"},
	{NULL, NULL, C, S(replies_4xx), "class", "4xx"},
	{NULL, NULL, C, S(replies_5xx), "class", "5xx"},
	{NULL, NULL, C, S(replies_bad), "class", "malformed"},
	{P "smtp_replies_unmatched", "Replies with no command waiting for them.", C,
	 S(replies_unmatched)},
	{P "smtp_auth_attempts", "AUTH exchanges started.", C, S(auth_attempts)},
	{P "smtp_auth", "AUTH exchanges finished, by result.", C, S(auth_success), "result",
	 "success"},
	{NULL, NULL, C, S(auth_failure), "result", "failure"},
	{P "smtp_auth_bad_base64", "AUTH payloads that were not base64.", C, S(auth_bad_base64)},
	{P "smtp_messages", "Message contents completed (DATA or BDAT).", C, S(messages)},
	{P "smtp_message_bytes", "Message bytes, after dot-unstuffing.", C, S(message_bytes)},
	{P "smtp_recipients", "Recipients (RCPT TO).", C, S(recipients)},
	{P "smtp_tls_sessions", "Sessions that went encrypted (STARTTLS or implicit TLS).", C,
	 S(tls_sessions)},
	{P "smtp_tls_client_hellos", "TLS ClientHellos parsed.", C, S(tls_hellos)},
	{P "smtp_anomalies", "Protocol oddities the parser got past, by kind.", C,
	 S(pipeline_overflow), "kind", "pipeline_overflow"},
	{NULL, NULL, C, S(line_too_long), "kind", "line_too_long"},
	{NULL, NULL, C, S(bare_lf), "kind", "bare_lf"},
	{NULL, NULL, C, S(nul_bytes), "kind", "nul_bytes"},
	{NULL, NULL, C, S(gaps), "kind", "stream_gap"},
	{NULL, NULL, C, S(lines_skipped), "kind", "line_skipped"},
	{P "smtp_truncated_records", "Records cut short at a size cap, by part.", C,
	 S(tx_truncated), "part", "transaction"},
	{NULL, NULL, C, S(header_truncated), "part", "header"},
	{P "smtp_pool_exhausted", "Work not done because a fixed pool was empty, by pool.", C,
	 S(sessions_no_slot), "pool", "session"},
	{NULL, NULL, C, S(tx_no_slot), "pool", "transaction"},
	{NULL, NULL, C, S(buf_no_slot), "pool", "buffer"},
	{P "event_ring_drops", "Events lost: the worker's ring to the detector was full.", C,
	 S(events_dropped)},
	{P "smtp_string_bytes",
	 "Bytes of the string arena held now (HELO, banner, last reply; a shared value once).", G,
	 S(string_bytes)},
	{P "smtp_strings_shared", "Session strings that shared the slot of an equal value.", C,
	 S(strings_shared)},
};
#undef S

static void write_rings(struct prom *p, const struct metrics *m)
{
	char id[16];
	struct prom_label l = {"worker", id};

	prom_family(p, P "event_ring_used_bytes", PROM_GAUGE,
		    "Bytes waiting in a worker's event ring for the detector.");
	for (unsigned int w = 0; w < m->n_workers; w++) {
		snprintf(id, sizeof(id), "%u", w);
		prom_sample(p, &l, 1, (double)msgring_used(m->wk[w].ring));
	}
	prom_family(p, P "event_ring_capacity_bytes", PROM_GAUGE, "Size of a worker's event ring.");
	for (unsigned int w = 0; w < m->n_workers; w++) {
		snprintf(id, sizeof(id), "%u", w);
		prom_sample(p, &l, 1, (double)msgring_capacity(m->wk[w].ring));
	}
}

static void write_workers(struct prom *p, struct metrics *m)
{
	for (unsigned int w = 0; w < m->n_workers; w++) {
		worker_stats_read(m->wk[w].w, &m->ws[w]);
		if (m->wk[w].smtp)
			smtp_ctx_stats_read(m->wk[w].smtp, &m->ss[w]);
		else
			memset(&m->ss[w], 0, sizeof(m->ss[w]));
	}
	prom_gauge(p, P "workers", "Worker threads (one per queue).", m->n_workers);
	rows_write(p, worker_rows, N_OF(worker_rows), m->ws, sizeof(m->ws[0]), m->n_workers,
		   "worker");
	write_decode_reasons(p, m, true);
	write_decode_reasons(p, m, false);
	rows_write(p, smtp_rows, N_OF(smtp_rows), m->ss, sizeof(m->ss[0]), m->n_workers, "worker");
	if (m->n_workers && m->wk[0].ring)
		write_rings(p, m);
}

/* ---- the capture ---- */

#define Q(f) offsetof(struct source_stats, f)
static const struct row source_rows[] = {
	{P "capture_packets", "Packets the capture delivered.", C, Q(pkts)},
	{P "capture_bytes", "Bytes of the packets the capture delivered.", C, Q(bytes)},
	{P "capture_drops", "Packets lost before a worker saw them, by where.", C, Q(nic_missed),
	 "reason", "nic_missed"},
	{NULL, NULL, C, Q(nic_errors), "reason", "nic_errors"},
	{NULL, NULL, C, Q(ring_full), "reason", "ring_full"},
	{NULL, NULL, C, Q(fill_empty), "reason", "fill_empty"},
	{NULL, NULL, C, Q(no_socket), "reason", "no_socket"},
	{NULL, NULL, C, Q(steer_full), "reason", "steer_full"},
	{NULL, NULL, C, Q(multiseg_dropped), "reason", "multiseg_dropped"},
	{P "capture_snapped_packets", "Frames captured shorter than they were on the wire.", C,
	 Q(snapped)},
	{P "capture_multiseg_copied", "DPDK: chained mbufs copied into one buffer.", C,
	 Q(multiseg_copied)},
	{P "capture_file_read_bytes", "Capture file bytes read so far.", C, Q(file_bytes_read)},
	{P "capture_file_size_bytes", "Size of the capture file being read.", G,
	 Q(file_bytes_total)},
};
#undef Q

/* Per receive queue: a row without a name is one more reason of the family above. */
#define QS(f) offsetof(struct source_queue_stats, f)
static const struct row queue_rows[] = {
	{P "capture_queue_packets", "Packets a receive queue handed over.", C, QS(pkts)},
	{P "capture_queue_nic_packets", "Packets the driver counted on a receive queue.", C,
	 QS(nic_pkts)},
	{P "capture_queue_nic_errors", "Errors the driver counted on a receive queue.", C,
	 QS(nic_errors)},
	{P "capture_queue_drops",
	 "Packets a receive queue lost before a worker saw them, by where (AF_XDP; DPDK counts "
	 "these per port only).",
	 C, QS(nic_missed), "reason", "nic_missed"},
	{NULL, NULL, C, QS(ring_full), "reason", "ring_full"},
	{NULL, NULL, C, QS(fill_empty), "reason", "fill_empty"},
};
#undef QS

static void write_queues(struct prom *p, const struct source_stats *st)
{
	char port[8], queue[8];

	for (size_t r = 0; r < N_OF(queue_rows); r++) {
		const struct row *row = &queue_rows[r];

		if (row->name)
			prom_family(p, row->name, row->type, row->help);
		for (unsigned int i = 0; i < st->n_q && i < SOURCE_MAX_QUEUES; i++) {
			struct prom_label l[3] = {
				{"port", port}, {"queue", queue}, {row->label, row->value}};

			snprintf(port, sizeof(port), "%u", st->q[i].port);
			snprintf(queue, sizeof(queue), "%u", st->q[i].queue);
			prom_sample(p, l, row->label ? 3 : 2, field(&st->q[i], row));
		}
	}
}

static void write_xdp(struct prom *p, const struct metrics *m)
{
	unsigned int n = atomic_load_explicit(&m->n_xdp, memory_order_acquire);

	prom_family(p, P "xdp_packets", PROM_COUNTER,
		    "Packets the XDP pre-filter saw, by verdict (live AF_XDP).");
	for (unsigned int i = 0; i < n; i++) {
		struct prom_label l = {"verdict", m->xdp_names[i]};

		prom_sample(p, &l, 1,
			    (double)atomic_load_explicit(&m->xdp_pkts[i], memory_order_relaxed));
	}
	prom_family(p, P "xdp_bytes", PROM_COUNTER, "Bytes the XDP pre-filter saw, by verdict.");
	for (unsigned int i = 0; i < n; i++) {
		struct prom_label l = {"verdict", m->xdp_names[i]};

		prom_sample(p, &l, 1,
			    (double)atomic_load_explicit(&m->xdp_bytes[i], memory_order_relaxed));
	}
}

static void write_source(struct prom *p, struct metrics *m)
{
	if (m->cfg.src) {
		m->cfg.src->ops->stats(m->cfg.src, &m->src);
		if (m->cfg.steer) {
			m->cfg.steer->ops->stats(m->cfg.steer, &m->steer);
			m->src.steer_full += m->steer.steer_full;
		}
		rows_write(p, source_rows, N_OF(source_rows), &m->src, 0, 1, NULL);
		write_queues(p, &m->src);
	}
	write_xdp(p, m);
	prom_gauge(p, P "capture_finished", "1 once the input has ended (a capture file read).",
		   atomic_load_explicit(&m->input_done, memory_order_relaxed) ? 1 : 0);
}

/* ---- the detector and the engine ---- */

#define D(f) offsetof(struct detector_stats, f)
static const struct row detector_rows[] = {
	{P "detector_transactions", "Transaction records the detector handed on.", C,
	 D(transactions)},
	{P "detector_out_of_order_events", "Events older than the last one processed.", C,
	 D(out_of_order)},
	{P "detector_hold_timeouts", "Times the detector stopped waiting for a lagging worker.", C,
	 D(hold_timeouts)},
	{P "detector_bad_events", "Malformed event records.", C, D(bad_events)},
	{P "detector_last_event_timestamp_seconds", "Capture time of the last event processed.", G,
	 D(last_ts_ns), NULL, NULL, 1e-9},
};
#undef D

#define E(f) offsetof(struct detect_stats, f)
static const struct row engine_rows[] = {
	{P "detect_hosts", "Hosts in the detection table.", G, E(hosts)},
	{P "detect_accounts", "Accounts (AUTH users, mailboxes) in the detection table.", G,
	 E(accounts)},
	{P "detect_evictions", "Entries dropped from a full detection table, by table.", C,
	 E(hosts_evicted), "table", "hosts"},
	{NULL, NULL, C, E(accounts_evicted), "table", "accounts"},
	{NULL, NULL, C, E(alert_states_evicted), "table", "alert_states"},
	{NULL, NULL, C, E(evidence_evicted), "table", "evidence"},
	{NULL, NULL, C, E(domains_evicted), "table", "domains"},
	{NULL, NULL, C, E(relay_pending_evicted), "table", "relay_pending"},
	{P "detect_servers_learned", "Home hosts seen answering SMTP.", C, E(servers_learned)},
	{P "detect_domains_learned", "Domains learned as hosted by a home server.", C,
	 E(domains_learned)},
	{P "detect_relay_pending", "Accepted recipients waiting for a relayed copy.", G,
	 E(relay_pending)},
	{P "detect_relay_copies", "Accepted recipients seen leaving again (relayed).", C,
	 E(relay_copies)},
	{P "detect_sketches_reclaimed", "Distinct-count sketches taken back from idle hosts.", C,
	 E(sketches_reclaimed)},
	{P "detect_events", "Events the detection engine processed.", C, E(events)},
	{P "detect_dropped_events", "Events the detection engine could not use, by reason.", C,
	 E(bad_events), "reason", "malformed"},
	{NULL, NULL, C, E(late_events), "reason", "late"},
	{P "detect_memory_bytes", "Memory of the detection tables, allocated at start.", G,
	 E(mem_bytes)},
	{P "alert_updates", "Updates of alerts already raised (counts moved on).", C,
	 E(alerts_updated)},
	{P "alerts_suppressed", "Repeats folded into updates by the per-host rate limit.", C,
	 E(alerts_suppressed)},
};
#undef E

#define J(f) offsetof(struct export_json_stats, f)
static const struct row json_rows[] = {
	{P "json_log_lines", "Lines written to the JSON logs, by log.", C, J(tx_lines), "log",
	 "smtp"},
	{NULL, NULL, C, J(alert_lines), "log", "alerts"},
	{P "json_log_write_errors", "Failed writes to the JSON logs.", C, J(write_errors)},
	{P "json_log_oversized_records", "Records too large for one JSON line (not written).", C,
	 J(overflow)},
};
#undef J

static void write_detector(struct prom *p, const struct metrics *m)
{
	struct detector_stats ds;

	if (!m->cfg.det)
		return;
	detector_stats_read(m->cfg.det, &ds);
	prom_family(p, P "detector_events", PROM_COUNTER,
		    "Events taken from the worker rings, by type.");
	for (int t = 1; t < EV_TYPE_COUNT; t++) {
		struct prom_label l = {"type", event_type_name(t)};

		prom_sample(p, &l, 1, (double)ds.events_by_type[t]);
	}
	rows_write(p, detector_rows, N_OF(detector_rows), &ds, 0, 1, NULL);
}

static void write_engine(struct prom *p, struct metrics *m)
{
	struct detect_stats es;
	struct export_json_stats js;

	memset(&es, 0, sizeof(es));
	if (atomic_load_explicit(&m->engine_seen, memory_order_acquire))
		stats_read(&es, m->mirror_detect_stats, sizeof(es));
	prom_family(p, P "alerts", PROM_COUNTER, "New alerts raised, by kind.");
	for (int k = 0; k < ALERT_KIND_COUNT; k++) {
		struct prom_label l = {"kind", alert_kind_name(k)};

		prom_sample(p, &l, 1, (double)es.alerts_by_kind[k]);
	}
	rows_write(p, engine_rows, N_OF(engine_rows), &es, 0, 1, NULL);
	if (atomic_load_explicit(&m->json_seen, memory_order_acquire)) {
		stats_read(&js, m->mirror_export_json_stats, sizeof(js));
		rows_write(p, json_rows, N_OF(json_rows), &js, 0, 1, NULL);
	}
}

static void write_top(struct prom *p, struct metrics *m)
{
	struct metrics_top top[METRICS_TOP_N];
	unsigned int n;
	char rank[16];

	pthread_mutex_lock(&m->top_lock);
	memcpy(top, m->top, sizeof(top));
	n = m->n_top;
	pthread_mutex_unlock(&m->top_lock);
	prom_family(p, P "top_host_score", PROM_GAUGE,
		    "Score of the highest-scoring hosts (bounded: the top 10 only).");
	for (unsigned int i = 0; i < n && i < METRICS_TOP_N; i++) {
		struct prom_label l[2] = {{"rank", rank}, {"host", top[i].host}};

		snprintf(rank, sizeof(rank), "%u", i + 1);
		prom_sample(p, l, 2, top[i].score);
	}
}

static void write_sigs(struct prom *p, const struct metrics *m)
{
	uint32_t n = atomic_load_explicit(&m->n_sigs, memory_order_acquire);
	struct sigs_info si;
	char id[16];

	prom_family(p, P "signature_matches", PROM_COUNTER,
		    "Content signature matches, by signature id (\"other\" past 512 ids).");
	for (uint32_t i = 0; i < n; i++) {
		struct prom_label l = {"sig_id", id};

		snprintf(id, sizeof(id), "%u", m->sig_id[i]);
		prom_sample(p, &l, 1,
			    (double)atomic_load_explicit(&m->sig_count[i], memory_order_relaxed));
	}
	if (atomic_load_explicit(&m->sig_other, memory_order_relaxed)) {
		struct prom_label l = {"sig_id", "other"};

		prom_sample(p, &l, 1,
			    (double)atomic_load_explicit(&m->sig_other, memory_order_relaxed));
	}
	if (!m->cfg.sigs)
		return;
	sigs_info(m->cfg.sigs, &si);
	prom_gauge(p, P "signature_rules", "Rules in the signature set in use.", si.rules);
	prom_gauge(p, P "signature_set_generation",
		   "Signature sets loaded so far (a SIGHUP that loads adds one).", si.generation);
}

/* ---- limits: every cap the tables were made with, to draw usage against ---- */

static void write_limits(struct prom *p, const struct metrics *m)
{
	const struct plan *pl = m->cfg.plan;
	const struct config *c = m->cfg.cfg;

	if (pl) {
		prom_gauge(p, P "limit_flows_per_worker", "Flow table size per worker.",
			   pl->flow.capacity);
		prom_gauge(p, P "limit_flow_idle_timeout_seconds", "Idle flows end after this.",
			   pl->flow.idle_timeout_ms / 1e3);
		prom_gauge(p, P "limit_flow_embryonic_timeout_seconds",
			   "Flows without payload end after this.",
			   pl->flow.embryonic_timeout_ms / 1e3);
		prom_gauge(p, P "limit_flow_closed_timeout_seconds",
			   "Flows closed both ways end after this.",
			   pl->flow.closed_timeout_ms / 1e3);
		prom_gauge(p, P "limit_reasm_flow_bytes",
			   "Out-of-order bytes buffered per flow direction.", pl->reasm.flow_bytes);
		prom_gauge(p, P "limit_reasm_worker_bytes",
			   "Out-of-order bytes buffered per worker.",
			   (double)pl->reasm.total_bytes);
		prom_gauge(p, P "limit_smtp_sessions_per_worker",
			   "Concurrent SMTP sessions per worker.", pl->smtp.max_sessions);
		prom_gauge(p, P "limit_smtp_line_bytes", "Longest command or reply line kept.",
			   pl->smtp.max_line);
		prom_gauge(p, P "limit_smtp_header_bytes", "Message header bytes parsed.",
			   pl->smtp.max_header_bytes);
		prom_gauge(p, P "limit_smtp_pipeline_commands",
			   "Commands awaiting a reply, per session.", pl->smtp.max_pipeline);
		prom_gauge(p, P "limit_event_ring_bytes",
			   "Event ring size per worker (as configured).",
			   (double)pl->event_ring_bytes);
	}
	if (!c)
		return;
	prom_gauge(p, P "limit_hosts", "Hosts the detection engine keeps.", c->limits.hosts);
	prom_gauge(p, P "limit_accounts", "Accounts the detection engine keeps.",
		   c->limits.accounts);
	prom_gauge(p, P "limit_alert_interval_seconds",
		   "One alert per host and kind per this long; the rest are updates.",
		   c->alert_interval_s);
	if (m->cfg.pb)
		prom_gauge(p, P "limit_spool_bytes",
			   "Spool size for frames the collector has not acked.",
			   (double)c->collector.spool_max_bytes);
}

/* ---- the collector client ---- */

#if HAVE_COLLECTOR
#define X(f) offsetof(struct export_pb_stats, f)
static const struct row export_rows[] = {
	{P "export_spool_bytes", "Bytes of frames the collector has not acknowledged yet.", G,
	 X(spool_bytes)},
	{P "export_spool_frames", "Frames the collector has not acknowledged yet.", G,
	 X(spool_frames)},
	{P "export_spool_recovered_frames", "Frames read back from an earlier run's spool.", C,
	 X(spool_recovered)},
	{P "export_spool_damaged_files", "Spool files cut short or failing a CRC.", C,
	 X(spool_damaged_files)},
	{P "export_spool_write_errors", "Failed spool writes (the frame stays in memory).", C,
	 X(spool_write_errors)},
	{P "export_frames_sent", "Frames sent to the collector (first time).", C, X(frames_sent)},
	{P "export_frames_resent", "Frames sent again after a reconnect.", C, X(frames_resent)},
	{P "export_frames_acked", "Frames the collector acknowledged.", C, X(frames_acked)},
	{P "export_sent_bytes", "Bytes sent to the collector.", C, X(bytes_sent)},
	{P "export_acks", "Acks received from the collector.", C, X(acks)},
	{P "export_connect_attempts", "Connection attempts to the collector.", C,
	 X(connect_attempts)},
	{P "export_sessions", "Connections that got as far as sending.", C, X(sessions)},
	{P "export_reconnects", "Sessions after the first.", C, X(reconnects)},
	{P "export_connected", "1 while connected to the collector.", G, X(connected)},
	{P "export_in_flight_frames", "Frames sent and not acknowledged yet.", G, X(in_flight)},
};
#undef X

static const char *const export_types[SPOOL_CLASS_COUNT] = {"alert", "transaction", "summary"};

static void export_by_type(struct prom *p, const char *label, const char *value, const uint64_t *v)
{
	for (int c = 0; c < SPOOL_CLASS_COUNT; c++) {
		struct prom_label l[2] = {{"type", export_types[c]}, {label, value}};

		prom_sample(p, l, value ? 2 : 1, (double)v[c]);
	}
}

static void write_export(struct prom *p, const struct metrics *m)
{
	struct export_pb_stats st;

	if (!m->cfg.pb)
		return;
	export_pb_stats_read(m->cfg.pb, &st);
	prom_family(p, P "export_frames_enqueued", PROM_COUNTER,
		    "Frames handed to the collector client, by type.");
	export_by_type(p, NULL, NULL, st.enqueued);
	prom_family(p, P "export_frames_dropped", PROM_COUNTER,
		    "Frames lost before the collector got them, by type and reason.");
	export_by_type(p, "reason", "handoff_full", st.handoff_full);
	export_by_type(p, "reason", "too_big", st.too_big);
	export_by_type(p, "reason", "spool_evicted", st.spool_evicted);
	export_by_type(p, "reason", "spool_refused", st.spool_refused);
	rows_write(p, export_rows, N_OF(export_rows), &st, 0, 1, NULL);
	prom_family(p, P "export_failures", PROM_COUNTER,
		    "Failed connections or sessions to the collector, by reason.");
	for (int f = 0; f < EXPORT_PB_FAIL_COUNT; f++) {
		struct prom_label l = {"reason", export_pb_fail_name(f)};

		prom_sample(p, &l, 1, (double)st.failures[f]);
	}
}
#else
static void write_export(struct prom *p, const struct metrics *m)
{
}
#endif

static void write_info(struct prom *p, const struct metrics *m)
{
	struct prom_label l[2] = {{"version", RELAYWATCH_VERSION},
				  {"mode", m->cfg.mode ? m->cfg.mode : ""}};

	prom_family(p, P "build_info", PROM_GAUGE, "Always 1; the version and capture mode.");
	prom_sample(p, l, 2, 1);
	prom_gauge(p, P "start_time_seconds", "When this sensor started (Unix time).",
		   (double)m->cfg.start_real_ns / 1e9);
}

int metrics_write(struct metrics *m, FILE *f)
{
	struct prom p;

	prom_init(&p, f);
	write_info(&p, m);
	write_source(&p, m);
	write_workers(&p, m);
	write_detector(&p, m);
	write_engine(&p, m);
	write_top(&p, m);
	write_sigs(&p, m);
	write_limits(&p, m);
	write_export(&p, m);
	return prom_finish(&p);
}
