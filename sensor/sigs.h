/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sigs: Hyperscan content signatures over SMTP command lines, reply lines,
 * header fields, URLs (block mode) and decoded message bodies (stream mode).
 * Rules come from rules files (sigs_file.h, rules/README.md). A match reaches
 * the caller as (id, scope, class, severity) through a callback, at most once
 * per rule per line, header field or message (HS_FLAG_SINGLEMATCH).
 *
 * Owns: struct sigs, the handle that publishes the current compiled set
 * (atomic generation; a set is freed when its last user lets go), created and
 * reloaded by the control thread; struct sigs_worker, one per worker thread,
 * with its Hyperscan scratch and a fixed pool of body streams opened at create,
 * so scanning never allocates. A worker adopts a new set only inside
 * sigs_worker_housekeep(); bodies already open finish on the set they began on.
 */
#ifndef RELAYWATCH_SENSOR_SIGS_H
#define RELAYWATCH_SENSOR_SIGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"
#include "sensor/event.h"

/*
 * Use. Control thread: sigs_create(), sigs_load() at start and again on SIGHUP
 * (a bad file leaves the running set alone), sigs_destroy() after the workers.
 * Worker: sigs_worker_create() at set-up; sigs_worker_housekeep() from the l7
 * housekeep hook; sigs_scan_line() per command/reply line and URL,
 * sigs_scan_header() per header field; sigs_body_open() when a message body
 * starts, sigs_body_feed() per decoded piece, sigs_body_close() at its end (or
 * when the session dies). Matches come back through the sigs_match_fn given.
 */

#define SIGS_CTX_MAX 64 /* bytes of input before a match end handed with it */

struct sigs;
struct sigs_worker;
struct sigs_stream;

struct sigs_match {
	uint32_t id;
	uint8_t scope;	    /* enum event_sig_scope */
	uint8_t sig_class;  /* enum event_sig_class */
	uint8_t severity;   /* enum alert_severity */
	uint64_t end;	    /* offset past the match: in the line, or in the body */
	const uint8_t *ctx; /* up to SIGS_CTX_MAX bytes of this call's input that */
	uint32_t ctx_len;   /* end at the match; len 0 when it ended earlier */
};

/*
 * Called during a scan; m and its ctx are valid for the call only. It must not
 * call back into sigs with the same worker (the scratch is in use).
 */
typedef void sigs_match_fn(void *arg, const struct sigs_match *m);

struct sigs_worker_cfg {
	uint32_t max_streams; /* bodies scanned at once (default 1024) */
};

/* Of the current set; any thread. */
struct sigs_info {
	uint64_t generation; /* 0: nothing loaded yet */
	uint32_t rules;
	uint32_t per_scope[EV_SCOPE_COUNT];
	uint32_t per_class[EV_SIGCLASS_COUNT];
	uint32_t url_gated;	/* URL rules scanned only on URLs holding their literal */
	uint32_t lines_gated;	/* bit per scope (command, reply) whose lines pass sigs_gate.h */
	uint64_t db_bytes;	/* compiled databases */
	uint64_t stream_bytes;	/* state of one body stream */
	uint64_t scratch_bytes; /* one worker's scratch for this set */
	uint64_t compile_ns;	/* parse + compile, monotonic clock */
	uint32_t sets_live;	/* sets not yet freed (the current one and draining ones) */
};

/* All uint64_t: published with stats.h. */
struct sigs_worker_stats {
	uint64_t generation;	/* set in use */
	uint64_t switches;	/* new sets adopted */
	uint64_t switch_failed; /* no memory for a new set's scratch/streams: kept old */
	uint64_t scans;		/* lines, header fields and URLs scanned */
	uint64_t body_bytes;
	uint64_t matches; /* callbacks made */
	uint64_t streams_opened;
	uint64_t streams_open;	  /* gauge */
	uint64_t streams_no_slot; /* pool empty: that body was not scanned */
	uint64_t streams_cut;	  /* a body still open when a second reload came: cut */
	uint64_t scan_errors;	  /* Hyperscan errors (a bug if not 0) */
	uint64_t scratch_bytes;
	uint64_t stream_pool_bytes;
};

/* ---- control thread ---- */

/* An empty handle: scans match nothing until a load succeeds. */
int sigs_create(struct sigs **out);
/* After every worker of this handle was destroyed. NULL is fine. */
void sigs_destroy(struct sigs *s);

/*
 * Parse and compile a complete new set from files or directories (*.rules in
 * name order) and publish it. On any error the current set stays, and eb says
 * "file:line: what" (or the Hyperscan message for the rule). -ENOTSUP when the
 * CPU cannot run Hyperscan (it needs SSSE3).
 */
int sigs_load(struct sigs *s, const char *const *paths, unsigned int n, struct errbuf *eb);
/* The same from memory (tests, fuzzing); name is used in messages. */
int sigs_load_text(struct sigs *s, const char *name, const char *text, size_t len,
		   struct errbuf *eb);
uint64_t sigs_generation(const struct sigs *s);
void sigs_info(struct sigs *s, struct sigs_info *out);
/* Copy the message of rule id of the current set into buf; -ENOENT if none. */
int sigs_rule_msg(struct sigs *s, uint32_t id, char *buf, size_t cap);

/* ---- worker thread ---- */

void sigs_worker_cfg_default(struct sigs_worker_cfg *cfg);
/* Scratch and a body stream pool for the current set; at worker set-up. */
int sigs_worker_create(struct sigs *s, const struct sigs_worker_cfg *cfg, struct sigs_worker **out);
/* Closes any body still open (no callbacks). NULL is fine. */
void sigs_worker_destroy(struct sigs_worker *w);
/*
 * The worker's safe point (allocation allowed): adopt a newer set, reopen
 * streams returned since, free a drained old set. True when it switched.
 */
bool sigs_worker_housekeep(struct sigs_worker *w);
void sigs_worker_stats(const struct sigs_worker *w, struct sigs_worker_stats *out);

/*
 * One command line, reply line ("550-5.7.1 text", without CR LF) or URL.
 * scope is EV_SCOPE_COMMAND, EV_SCOPE_REPLY or EV_SCOPE_URL. Returns the
 * number of callbacks made.
 */
unsigned int sigs_scan_line(struct sigs_worker *w, enum event_sig_scope scope, const uint8_t *p,
			    size_t n, sigs_match_fn *cb, void *arg);
/* One unfolded header field: name without the colon, value without it either. */
unsigned int sigs_scan_header(struct sigs_worker *w, const char *name, size_t name_len,
			      const uint8_t *value, size_t value_len, sigs_match_fn *cb, void *arg);
/*
 * May sigs_scan_header() scan a field of this name and value length? false
 * only when it would not (no header rule names a field of that length, none
 * sees every field, or the value is shorter than every rule): the cheap
 * first tests, so that a caller need not build its callback's state for
 * most fields of a message.
 */
bool sigs_header_may_scan(const struct sigs_worker *w, size_t name_len, size_t value_len);

/*
 * Decoded body text of one message, fed in pieces split anywhere. open takes
 * a stream from the pool: NULL when no body rules are loaded or the pool is
 * empty (counted); feed and close accept NULL. Every stream opened must be
 * closed; close reports matches anchored at the end, then returns the stream.
 */
struct sigs_stream *sigs_body_open(struct sigs_worker *w, sigs_match_fn *cb, void *arg);
void sigs_body_feed(struct sigs_worker *w, struct sigs_stream *st, const uint8_t *p, size_t n);
void sigs_body_close(struct sigs_worker *w, struct sigs_stream *st);

#endif /* RELAYWATCH_SENSOR_SIGS_H */
