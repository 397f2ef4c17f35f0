// SPDX-License-Identifier: BSD-3-Clause
/*
 * bench_pipeline's report: memory per tracked flow, the per-stage table for
 * people, the checks against the generator's manifest, the bodies against
 * raw hs_scan and memcpy, the summary and the one JSON line (prefix "JSON ").
 * What is measured is told at the top of bench_pipeline.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench/bench_pipeline_int.h"
#include "common/jsonw.h"

/* ---- report ---- */

/*
 * A session's HELO, banner and last reply live in the worker's string arena,
 * in slots as big as each value needs, equal values of all sessions in one
 * slot. What a session costs there is measured on the capture when the
 * session pool was at its fullest (smtp_ctx_str_held(), sampled as each
 * session ends): the bytes of the arena's slots in use then, a shared value
 * counted once, plus those sessions' share of the interning table (made for
 * max_sessions), over the sessions in use then (the fullest SMTP stage run).
 */
void bench_measure_mem(struct bench_mem *m, const struct bench_stage_result *res)
{
	struct flow_table_cfg fc;
	struct flow_table *ft;

	for (int s = BENCH_SMTP; s < BENCH_STAGE_COUNT; s++)
		if (res[s].done && res[s].med.str_sessions)
			m->smtp_strings =
				(double)res[s].med.str_held_bytes / res[s].med.str_sessions;

	flow_table_cfg_default(&fc);
	m->flow_entry = sizeof(struct flow);
	m->smtp_session = smtp_session_size();
	if (flow_table_create(&fc, &ft) == 0) {
		m->flow_table_per_flow = (double)flow_table_mem_bytes(ft) / flow_table_capacity(ft);
		flow_table_destroy(ft);
	}
}

/* Bytes per tracked SMTP flow before DATA: flow entry and index, idle session, its strings. */
static double bench_per_flow(const struct bench_mem *m)
{
	return m->flow_table_per_flow + (double)m->smtp_session + m->smtp_strings;
}

long bench_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static double bench_gbps(uint64_t bytes, double secs)
{
	return secs > 0 ? (double)bytes * 8 / secs / 1e9 : 0;
}

/* The fullest stage measured (the last one run); NULL when none was. */
static const struct bench_run *bench_fullest(const struct bench_stage_result *res)
{
	const struct bench_run *r = NULL;

	for (int s = 0; s < BENCH_STAGE_COUNT; s++)
		if (res[s].done)
			r = &res[s].med;
	return r;
}

/*
 * How N workers share the work, by CPU time: the busiest worker is what the
 * run waits for. sum/max is the speedup over one worker at the per-packet
 * cost these workers had; with the one-worker run's CPU time (run_bench.sh)
 * it gives the scaling without the time other processes of this system take
 * (a hypervisor's steal time still counts where it is not reported).
 */
static void bench_print_balance(const struct bench_opts *o, const struct bench_stage_result *res)
{
	const struct bench_run *r = bench_fullest(res);

	if (o->workers < 2)
		return;
	if (!r || r->max_cpu_secs <= 0)
		return;
	printf("balance: the busiest of %u workers ran %.1f%% of their CPU time (even: %.1f%%); "
	       "sum/max %.2f; the busiest worker %.6f s (median), %.6f s (fastest run)\n",
	       o->workers, 100 * r->max_cpu_secs / r->cpu_secs, 100.0 / o->workers,
	       r->cpu_secs / r->max_cpu_secs, r->max_cpu_secs, r->best_max_cpu_secs);
}

void bench_print_table(const struct bench_opts *o, const struct bench_cap *cap,
		       const struct bench_stage_result *res)
{
	double prev = 0;

	printf("%-10s %9s %9s %11s %12s %12s %9s %10s\n", "stage", "ns/pkt", "Mpps/core",
	       "Gbit/s/core", "sessions/s", "stage ns/pkt", "cpu/wall", "aggr Gb/s");
	for (int s = 0; s < BENCH_STAGE_COUNT; s++) {
		const struct bench_run *r = &res[s].med;
		double ns = r->cpu_secs * 1e9 / (double)(cap->pkts ? cap->pkts : 1);

		if (!res[s].done)
			continue;
		printf("%-10s %9.1f %9.3f %11.3f %12.0f %+12.1f %9.2f %10.3f\n",
		       bench_stage_names[s], ns, cap->pkts / r->cpu_secs / 1e6,
		       bench_gbps(cap->wire_bytes, r->cpu_secs),
		       s >= BENCH_SMTP ? r->ss.sessions / r->cpu_secs : 0, prev ? ns - prev : ns,
		       r->lane_secs > 0 ? r->cpu_secs / r->lane_secs : 0,
		       bench_gbps(cap->wire_bytes, r->wall_secs));
		prev = ns;
	}
	printf("method: each stage adds one part of the pipeline to the row above (decode: every\n"
	       "  packet stops after decode; +flow: flow table, L7 declines the flow; +reasm: "
	       "bytes\n"
	       "  reassembled and handed to an L7 that reads nothing; +smtp: the SMTP parser, "
	       "events\n"
	       "  drained unread; +sigs: with the Hyperscan rules; +detector: the detector thread\n"
	       "  runs the detection engine). 'stage ns/pkt' is the difference to the row above.\n"
	       "  Per-core figures divide by the CPU time of the %u worker threads (each pinned "
	       "to\n"
	       "  a CPU; CLOCK_THREAD_CPUTIME_ID), so time lost to other processes on a shared\n"
	       "  machine does not count; cpu/wall shows how much of their wall time they ran.\n"
	       "  'aggr' divides by wall time until the last worker and the consumer are done.\n"
	       "  Medians of %u runs.\n",
	       o->workers, o->runs);
	bench_print_balance(o, res);
}

void bench_print_checks(const struct bench_cap *cap, const struct bench_stage_result *res,
			const struct bench_mem *m)
{
	int top = -1;

	for (int s = 0; s < BENCH_STAGE_COUNT; s++)
		if (res[s].done && s >= BENCH_SMTP)
			top = s;
	if (top >= 0) {
		const struct bench_run *r = &res[top].med;

		printf("parsed (%s): %lu SMTP sessions (capture holds %lu), %lu messages (holds "
		       "%lu),"
		       " %lu transactions, %lu events (%lu dropped), %lu alerts\n",
		       bench_stage_names[top], (unsigned long)r->ss.sessions,
		       (unsigned long)cap->exp_sessions, (unsigned long)r->ss.messages,
		       (unsigned long)cap->exp_messages, (unsigned long)r->ss.transactions,
		       (unsigned long)r->events, (unsigned long)r->events_dropped,
		       (unsigned long)r->alerts);
		printf("cuts: flows evicted %lu, SMTP sessions without a slot %lu, reassembly caps "
		       "%lu+%lu, gaps %lu, decode drops see relaywatch -r\n",
		       (unsigned long)r->ws.flow.evicted, (unsigned long)r->ss.sessions_no_slot,
		       (unsigned long)r->ws.reasm.flow_cap_hits,
		       (unsigned long)r->ws.reasm.total_cap_hits, (unsigned long)r->ws.reasm.gaps);
	}
	printf("memory: flow entry %zu B, flow table %.0f B per flow (index included), idle SMTP "
	       "session %zu B, its strings %.1f B (arena, shared values once, at the fullest): "
	       "%.0f B per "
	       "tracked SMTP flow before DATA\n",
	       m->flow_entry, m->flow_table_per_flow, m->smtp_session, m->smtp_strings,
	       bench_per_flow(m));
	printf("peak RSS %.1f MiB (capture preloaded: %.1f MiB)\n", m->peak_rss_kb / 1024.0,
	       m->preload_rss_kb / 1024.0);
}

void bench_print_bodies(const struct bench_cap *cap, const struct bench_stage_result *res,
			const struct bench_bodies_result *b)
{
	int top = res[BENCH_DETECT].done ? BENCH_DETECT : res[BENCH_SIGS].done ? BENCH_SIGS : -1;
	double secs = top >= 0 ? res[top].med.cpu_secs : 0;

	if (!b->bytes || !b->hs_secs) {
		printf("bodies: none decoded in this capture: no hs_scan / memcpy comparison\n");
		return;
	}
	printf("bodies: %.1f MiB decoded in %lu messages, attachments included (%.1f MiB text "
	       "parts, all the sensor's body rules read); raw hs_scan of the body rules over all "
	       "of it %.3f Gbit/s (%lu matches), memcpy %.3f Gbit/s\n",
	       b->bytes / 1048576.0, (unsigned long)b->msgs, b->text_bytes / 1048576.0,
	       bench_gbps(b->bytes, b->hs_secs), (unsigned long)b->matches,
	       bench_gbps(b->bytes, b->memcpy_secs));
	if (top >= 0)
		printf("pipeline (%s, per core) over the same body bytes: %.3f Gbit/s = %.3f x raw "
		       "hs_scan, %.4f x memcpy\n",
		       bench_stage_names[top], bench_gbps(b->bytes, secs), b->hs_secs / secs,
		       b->memcpy_secs / secs);
}

static void bench_json_stages(struct jsonw *w, const struct bench_report *rp)
{
	jsonw_key(w, "stages");
	jsonw_arr_open(w);
	for (int s = 0; s < BENCH_STAGE_COUNT; s++) {
		const struct bench_run *r = &rp->res[s].med;

		if (!rp->res[s].done)
			continue;
		jsonw_obj_open(w);
		jsonw_kv_cstr(w, "stage", bench_stage_names[s]);
		jsonw_kv_double(w, "ns_per_pkt", r->cpu_secs * 1e9 / rp->cap->pkts, 2);
		jsonw_kv_double(w, "mpps_per_core", rp->cap->pkts / r->cpu_secs / 1e6, 4);
		jsonw_kv_double(w, "gbps_per_core", bench_gbps(rp->cap->wire_bytes, r->cpu_secs),
				4);
		jsonw_kv_double(w, "gbps_aggregate", bench_gbps(rp->cap->wire_bytes, r->wall_secs),
				4);
		jsonw_kv_double(w, "sessions_per_s_per_core", r->ss.sessions / r->cpu_secs, 1);
		jsonw_kv_double(w, "cpu_per_wall", r->cpu_secs / r->lane_secs, 3);
		jsonw_kv_double(w, "cpu_secs", r->cpu_secs, 6);
		jsonw_kv_double(w, "max_worker_cpu_secs", r->max_cpu_secs, 6);
		jsonw_kv_double(w, "max_worker_cpu_secs_fastest", r->best_max_cpu_secs, 6);
		jsonw_kv_u64(w, "smtp_sessions", r->ss.sessions);
		jsonw_kv_u64(w, "messages", r->ss.messages);
		jsonw_kv_u64(w, "events_dropped", r->events_dropped);
		jsonw_kv_u64(w, "flows_evicted", r->ws.flow.evicted);
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
}

/* One line per run for run_bench.sh's table: the fullest stage measured. */
void bench_print_summary(const struct bench_report *rp)
{
	const struct bench_bodies_result *b = rp->bodies;
	const struct bench_run *r = bench_fullest(rp->res);
	double secs;

	if (!r)
		return;
	secs = r->cpu_secs;
	printf("summary %-10s w=%u %7.3f Mpps/core %7.3f Gbit/s/core %9.0f sessions/s/core "
	       "aggr %6.3f Gbit/s  x hs_scan %.3f  x memcpy %.4f  %4.0f B/flow  RSS %5.0f MiB  "
	       "busiest worker %.6f s fastest %.6f s\n",
	       rp->o->label ? rp->o->label : rp->cap->profile, rp->o->workers,
	       rp->cap->pkts / secs / 1e6, bench_gbps(rp->cap->wire_bytes, secs),
	       r->ss.sessions / secs, bench_gbps(rp->cap->wire_bytes, r->wall_secs),
	       b->bytes ? b->hs_secs / secs : 0, b->bytes ? b->memcpy_secs / secs : 0,
	       bench_per_flow(rp->mem), rp->mem->peak_rss_kb / 1024.0, r->max_cpu_secs,
	       r->best_max_cpu_secs);
}

void bench_print_json(const struct bench_report *rp)
{
	static char buf[16384];
	const struct bench_bodies_result *b = rp->bodies;
	int top = rp->res[BENCH_DETECT].done ? BENCH_DETECT : BENCH_SIGS;
	double secs = rp->res[top].med.cpu_secs;
	struct jsonw w;

	jsonw_init(&w, buf, sizeof(buf));
	jsonw_obj_open(&w);
	jsonw_kv_cstr(&w, "capture", rp->o->path);
	jsonw_kv_cstr(&w, "profile", rp->o->label ? rp->o->label : rp->cap->profile);
	jsonw_kv_u64(&w, "workers", rp->o->workers);
	jsonw_kv_u64(&w, "runs", rp->o->runs);
	jsonw_kv_u64(&w, "packets", rp->cap->pkts);
	jsonw_kv_u64(&w, "wire_bytes", rp->cap->wire_bytes);
	bench_json_stages(&w, rp);
	jsonw_kv_u64(&w, "body_bytes", b->bytes);
	jsonw_kv_double(&w, "hs_scan_gbps", bench_gbps(b->bytes, b->hs_secs), 4);
	jsonw_kv_double(&w, "memcpy_gbps", bench_gbps(b->bytes, b->memcpy_secs), 4);
	jsonw_kv_double(&w, "ratio_to_hs_scan", b->hs_secs && secs ? b->hs_secs / secs : 0, 4);
	jsonw_kv_double(&w, "ratio_to_memcpy", b->memcpy_secs && secs ? b->memcpy_secs / secs : 0,
			5);
	jsonw_kv_double(&w, "bytes_per_flow_before_data", bench_per_flow(rp->mem), 0);
	jsonw_kv_double(&w, "smtp_string_bytes_per_session", rp->mem->smtp_strings, 1);
	jsonw_kv_u64(&w, "peak_rss_kb", (uint64_t)rp->mem->peak_rss_kb);
	jsonw_kv_u64(&w, "expected_smtp_sessions", rp->cap->exp_sessions);
	jsonw_obj_close(&w);
	if (jsonw_finish_line(&w) > 0)
		printf("JSON %s", buf);
}
