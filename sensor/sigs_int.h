/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sigs internals shared by sigs.c (the handle: load, publish, reference
 * counts), sigs_build.c (compiling a set), sigs_worker.c (a worker's scratch,
 * stream pool and reload) and sigs_scan.c (the match callback, block scans
 * with the verdict cache, body streams). Not for other modules.
 */
#ifndef RELAYWATCH_SENSOR_SIGS_INT_H
#define RELAYWATCH_SENSOR_SIGS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <hs.h>

#include "sensor/sigs.h"
#include "sensor/sigs_file.h"
#include "sensor/sigs_gate.h"
#include "sensor/sigs_lit.h"
#include "sensor/sigs_url.h"

/*
 * Body streams. hs_open_stream() mallocs the stream state, which the packet
 * path must not do, so each worker opens max_streams streams at set-up and
 * hands them out; a finished message gives its stream back through
 * hs_reset_stream(), which reports end-anchored matches and rewinds the state
 * in place. Measured with the default rules (bench/bench_sigs, one core):
 * reset 32 ns, open+close 46 ns per message, 138 bytes of state per stream,
 * so 1024 streams cost about 140 KiB. The pool is there for the no-allocation
 * rule, not for speed; when it is empty the body goes unscanned and counted.
 *
 * Reload. A set is reference counted: the handle holds one reference for the
 * current set, each worker one for the set it scans with and one for the set
 * its older bodies still run on. Workers poll the handle's generation with one
 * atomic load per housekeeping pass and take the mutex only to pick up a new
 * set. Whoever drops the last reference frees the set (a worker, inside its
 * housekeeping, or the control thread).
 */
#define SIGS_URL_GATES 8 /* distinct gate literals of the URL rules; more: no gate */
/* Distinct field names of the header rules kept in a list; more: every rule is asked. */
#define SIGS_FIELD_NAMES 8

/* What a Hyperscan match id (the index within its scope) stands for. */
struct sigs_rt {
	uint32_t id;
	uint8_t sig_class;
	uint8_t severity;
	uint8_t header_len; /* 0: any header field */
	const char *header; /* lower case, owned by the set's sigs_file */
};

struct sigs_db {
	hs_database_t *db; /* NULL: no rules in this scope */
	struct sigs_rt *rules;
	uint32_t n;
	bool any_field;	     /* header scope: some rule sees every field */
	uint64_t field_lens; /* header scope: bit sigs_len_bit() of each rule's field name */
	/* Header scope: the field names the rules name, each once (rules[]' own
	 * strings); 0 when there are more than SIGS_FIELD_NAMES. */
	uint8_t n_names;
	uint8_t name_len[SIGS_FIELD_NAMES];
	const char *name[SIGS_FIELD_NAMES];
	/* Header scope, with the names: the gate of the rules that see a field
	 * named name[k] (its own and those of every field), and of those that
	 * see every field (for other names); NULL scans every such field. */
	struct sigs_gate *name_gate[SIGS_FIELD_NAMES];
	struct sigs_gate *any_gate;
	uint32_t min_width; /* no rule matches fewer bytes: a shorter input is not scanned */
	/* URL scope, see sigs_url_gates(): without any gate literal in a URL,
	 * base (the rules with no gate; NULL if none) is scanned instead of db. */
	bool gated;
	uint8_t n_gates;
	struct sigs_gate *line_gate; /* command and reply scopes: NULL scans every line */
	bool gate_first;	     /* line_gate is cheaper than the verdict cache */
	struct sigs_gate *url_any;   /* URL scope: rules gated by one of a set of literals */
	/* URL scope: gate[] and the sets' literals found in one pass; NULL: none. */
	struct sigs_url_find *url_find;
	hs_database_t *base;
	hs_database_t *mid; /* base and the rules url_any gates; NULL: none */
	struct sigs_lit gate[SIGS_URL_GATES];
};

/* One compiled, immutable rule set; shared by the handle and the workers. */
struct sigs_set {
	_Atomic uint32_t refs;
	uint64_t generation;
	struct sigs *owner;
	struct sigs_db db[EV_SCOPE_COUNT];
	struct sigs_file src; /* messages and header names live here */
	struct sigs_info info;
};

struct sigs {
	pthread_mutex_t lock; /* guards cur while a reference is taken or swapped */
	struct sigs_set *cur;
	_Atomic uint64_t generation; /* of cur: workers poll it without the lock */
	_Atomic uint32_t sets_live;
};

enum sigs_slot_state {
	SLOT_STALE = 0, /* not handed out; its stream must be (re)opened on cur */
	SLOT_IDLE,	/* in the free stack, stream open on cur and reset */
	SLOT_OPEN,	/* handed out, scanning on slot->set */
	SLOT_CUT,	/* handed out, but its set was retired: feeds are ignored */
};

struct sigs_stream {
	hs_stream_t *hs;
	struct sigs_set *set; /* the set hs belongs to */
	sigs_match_fn *cb;
	void *arg;
	uint64_t offset; /* body bytes fed so far */
	uint8_t state;	 /* enum sigs_slot_state */
};

/*
 * Verdicts of recent block scans: command and reply lines, URLs and header
 * fields up to SIGS_VERDICT_MAX bytes, with the matches each gave. They repeat
 * across sessions ("250 2.1.0 Ok", a server's greeting, the same rejection to
 * every spammer, a campaign's URLs, its Subject and X-Mailer), and a block
 * scan costs a thousand instructions for a short line and 6 000-18 000 for a
 * rejection that matches or a URL (callgrind, default rules), a lookup here
 * about a hundred. A scan's result depends only on the set, the scope, the
 * field name and the bytes, so a hit replays the recorded matches (rule and
 * end offset, in their order) through the same report as a scan; the context
 * handed with each is cut from the caller's bytes, equal to the recorded
 * ones. The cache is emptied when the worker adopts a new set. Direct-mapped:
 * a flood of distinct lines only costs misses.
 */
#define SIGS_VERDICT_SLOTS 1024 /* power of two; 128 KiB per worker */
#define SIGS_VERDICT_HITS  4	/* a scan with more matches is not kept */
#define SIGS_VERDICT_MAX   100	/* key bytes (header: name then value) */

struct sigs_verdict_hit {
	uint16_t idx; /* rule within the scope */
	uint16_t end; /* offset past the match in the line or value */
};

struct sigs_verdict {
	uint64_t tag;
	uint8_t len; /* key bytes; 0: empty */
	uint8_t scope;
	uint8_t name_len; /* header field name: the first name_len key bytes */
	uint8_t n;	  /* matches */
	struct sigs_verdict_hit hit[SIGS_VERDICT_HITS];
	uint8_t key[SIGS_VERDICT_MAX];
};

_Static_assert(sizeof(struct sigs_verdict) == 128, "two cache lines per entry");
_Static_assert(SIGS_VERDICT_SLOTS <= UINT16_MAX + 1, "a slot's index fits reply_slot[]");
_Static_assert(SIGS_VERDICT_MAX <= UINT8_MAX && SIGS_VERDICT_MAX <= UINT16_MAX,
	       "lengths and ends fit their fields");

struct sigs_worker {
	struct sigs *s;
	struct sigs_set *cur;
	struct sigs_set *old;  /* bodies opened before the last switch finish on it */
	hs_scratch_t *scratch; /* valid for cur, and for old while it drains */
	struct sigs_stream *slots;
	uint32_t *free_idx;
	uint32_t n_slots, n_free, n_stale, open_old;
	struct sigs_worker_stats st;
	/* Lines a client sent: kept out of core dumps like every stream buffer
	 * (a base64 AUTH line read as a command after a gap is scanned). */
	struct sigs_verdict *verdict;
	/* By length, the slot of the last reply line of that length that the
	 * cache answered or kept (sigs_scan_reply()). Indexes, not bytes. */
	uint16_t reply_slot[SIGS_VERDICT_MAX + 1];
};

/* One scan's view for the match callback. */
struct sigs_scan {
	const struct sigs_db *db;
	uint8_t scope;
	sigs_match_fn *cb;
	void *arg;
	const uint8_t *data; /* this call's input; NULL at end of stream */
	size_t len;
	uint64_t base;	   /* stream offset of data[0] */
	const char *hname; /* header scans: field name */
	size_t hname_len;
	unsigned int n;
	/* Block scans: the matches reported, for the verdict cache. */
	struct sigs_verdict_hit hit[SIGS_VERDICT_HITS];
	bool hit_lost; /* more than fit, or an end past UINT16_MAX */
};

/*
 * A cached key (SIGS_VERDICT_MAX bytes, whatever its length) equals p[0..n):
 * 8 to 16 bytes, most reply lines, as two overlapping words a side, so p is
 * never read past n; others by memcmp.
 */
static inline bool sigs_key_eq(const uint8_t key[SIGS_VERDICT_MAX], const uint8_t *p, size_t n)
{
	uint64_t a, b, c, d;

	if (n < 8 || n > 16)
		return memcmp(key, p, n) == 0;
	memcpy(&a, key, 8);
	memcpy(&b, p, 8);
	memcpy(&c, key + n - 8, 8);
	memcpy(&d, p + n - 8, 8);
	return ((a ^ b) | (c ^ d)) == 0;
}

/* Names of 63 bytes or more share the last bit; the compare tells them apart. */
static inline unsigned int sigs_len_bit(size_t n)
{
	return n < 63 ? (unsigned int)n : 63;
}

/*
 * Bodies are streams. URLs are scanned as one buffer too, but through a
 * vectored database: with the URL rules (all anchored at "^https?://", so
 * every rule starts work on every URL) Hyperscan runs it in 15 100
 * instructions a URL instead of 17 800 in block mode (callgrind, the 653
 * smtp-heavy URLs). A vector of one buffer is that buffer as a block, and
 * the matches (rules, ends, order) were the same on 203 424 URLs: every prefix
 * of the rule examples, the bench URLs and 200 000 mutations of the examples.
 * Lines and header fields stay in block mode, which is cheaper for them
 * (vectored costs 2-7 times more: no small-block engine there), and so do
 * the URL scope's smaller databases, base and mid (sigs_url_sub()).
 */
static inline unsigned int sigs_scope_mode(unsigned int scope)
{
	if (scope == EV_SCOPE_BODY)
		return HS_MODE_STREAM;
	return scope == EV_SCOPE_URL ? HS_MODE_VECTORED : HS_MODE_BLOCK;
}

/* sigs.c */
void sigs_set_free(struct sigs_set *set);
void sigs_put(struct sigs_set *set);
struct sigs_set *sigs_acquire(struct sigs *s);

/* sigs_build.c */
int sigs_set_build(struct sigs *s, struct sigs_file *sf, uint64_t t0, struct sigs_set **out,
		   struct errbuf *eb);

#endif
