// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/sigs.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>

#include "common/clock.h"
#include "common/hash.h"
#include "common/nodump.h"
#include "sensor/sigs_file.h"
#include "sensor/sigs_gate.h"
#include "sensor/sigs_lit.h"

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
#define SIGS_DEFAULT_STREAMS 1024
#define SIGS_URL_GATES	     8 /* distinct gate literals of the URL rules; more: no gate */

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
	uint32_t min_width;  /* no rule matches fewer bytes: a shorter input is not scanned */
	/* URL scope, see sigs_url_gates(): without any gate literal in a URL,
	 * base (the rules with no gate; NULL if none) is scanned instead of db. */
	bool gated;
	uint8_t n_gates;
	struct sigs_gate *line_gate; /* command and reply scopes: NULL scans every line */
	bool gate_first;	     /* line_gate is cheaper than the verdict cache */
	struct sigs_gate *url_any;   /* URL scope: rules gated by one of a set of literals */
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

/* ---- the match callback ---- */

/* Names of 63 bytes or more share the last bit; the compare tells them apart. */
static inline unsigned int sigs_len_bit(size_t n)
{
	return n < 63 ? (unsigned int)n : 63;
}

static bool sigs_name_eq(const char *lower, size_t n, const char *name, size_t name_len)
{
	if (n != name_len)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lower[i])
			return false;
	}
	return true;
}

/* Hand one match of rule idx, ending at to, to the caller: from a scan or the cache. */
static void sigs_report(struct sigs_scan *sc, unsigned int idx, uint64_t to)
{
	const struct sigs_rt *r = &sc->db->rules[idx];
	struct sigs_match m = {
		.id = r->id,
		.scope = sc->scope,
		.sig_class = r->sig_class,
		.severity = r->severity,
		.end = to,
	};

	if (sc->data && to > sc->base && to - sc->base <= sc->len) {
		size_t e = (size_t)(to - sc->base);
		size_t b = e > SIGS_CTX_MAX ? e - SIGS_CTX_MAX : 0;

		m.ctx = sc->data + b;
		m.ctx_len = (uint32_t)(e - b);
	}
	sc->cb(sc->arg, &m);
	sc->n++;
}

static int sigs_on_match(unsigned int idx, unsigned long long from, unsigned long long to,
			 unsigned int flags, void *ctx)
{
	struct sigs_scan *sc = ctx;
	const struct sigs_rt *r;

	(void)from;
	(void)flags;
	if (idx >= sc->db->n)
		return 0;
	r = &sc->db->rules[idx];
	if (r->header_len && !sigs_name_eq(r->header, r->header_len, sc->hname, sc->hname_len))
		return 0;
	if (sc->n < SIGS_VERDICT_HITS && idx <= UINT16_MAX && to <= UINT16_MAX)
		sc->hit[sc->n] = (struct sigs_verdict_hit){(uint16_t)idx, (uint16_t)to};
	else
		sc->hit_lost = true;
	sigs_report(sc, idx, to);
	return 0;
}

/* ---- building a set ---- */

static unsigned int sigs_hs_flags(uint8_t f)
{
	unsigned int hf = HS_FLAG_SINGLEMATCH; /* one report per rule per scan/stream */

	if (f & SIGS_F_CASELESS)
		hf |= HS_FLAG_CASELESS;
	if (f & SIGS_F_DOTALL)
		hf |= HS_FLAG_DOTALL;
	if (f & SIGS_F_MULTILINE)
		hf |= HS_FLAG_MULTILINE;
	if (f & SIGS_F_UTF8)
		hf |= HS_FLAG_UTF8;
	return hf;
}

static int sigs_compile_error(const struct sigs_file *sf, const uint32_t *src, uint32_t n,
			      unsigned int scope, hs_compile_error_t *ce, struct errbuf *eb)
{
	int err;

	if (ce && ce->expression >= 0 && (uint32_t)ce->expression < n) {
		const struct sigs_file_rule *r = &sf->rules[src[ce->expression]];

		err = errbuf_set(eb, -EINVAL, "%s:%u: id %u: Hyperscan: %s", r->file, r->line,
				 r->id, ce->message);
	} else {
		err = errbuf_set(eb, -EINVAL, "%s rules: Hyperscan: %s",
				 sigs_file_scope_name(scope), ce ? ce->message : "compile failed");
	}
	hs_free_compile_error(ce);
	return err;
}

/* Fill the arrays hs_compile_multi() takes for one scope; n is their length. */
static void sigs_collect(const struct sigs_file *sf, unsigned int scope, const char **expr,
			 unsigned int *flags, unsigned int *ids, uint32_t *src, struct sigs_rt *rt)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < sf->n_rules; i++) {
		const struct sigs_file_rule *r = &sf->rules[i];

		if (r->scope != scope)
			continue;
		expr[k] = r->pattern;
		flags[k] = sigs_hs_flags(r->flags);
		ids[k] = k;
		src[k] = i;
		rt[k] = (struct sigs_rt){
			.id = r->id,
			.sig_class = r->sig_class,
			.severity = r->severity,
			.header = r->header,
			.header_len = (uint8_t)(r->header ? strlen(r->header) : 0),
		};
		k++;
	}
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
 * (vectored costs 2-7 times more: no small-block engine there).
 */
static unsigned int sigs_scope_mode(unsigned int scope)
{
	if (scope == EV_SCOPE_BODY)
		return HS_MODE_STREAM;
	return scope == EV_SCOPE_URL ? HS_MODE_VECTORED : HS_MODE_BLOCK;
}

/*
 * The fewest bytes any rule of a scope can match (Hyperscan's own analysis):
 * a line shorter than that cannot match and is not scanned. 0 when unknown.
 */
static uint32_t sigs_min_width(const char *const *expr, const unsigned int *flags, uint32_t n)
{
	uint32_t min = UINT32_MAX;

	for (uint32_t i = 0; i < n && min; i++) {
		hs_expr_info_t *info = NULL;
		hs_compile_error_t *ce = NULL;

		if (hs_expression_info(expr[i], flags[i], &info, &ce) != HS_SUCCESS) {
			hs_free_compile_error(ce);
			return 0;
		}
		if (info->min_width < min)
			min = info->min_width;
		free(info);
	}
	return min == UINT32_MAX ? 0 : min;
}

/* Bytes nearly every URL holds (or a host or path word may): a literal of them gates nothing. */
static bool sigs_url_lit_common(const struct sigs_lit *lit)
{
	static const char *const starts[] = {"https://", "http://", "ftp://", "www."};

	for (unsigned int k = 0; k < sizeof(starts) / sizeof(starts[0]); k++)
		if (sigs_lit_in(lit, (const uint8_t *)starts[k], strlen(starts[k])))
			return true;
	if (lit->len >= 3)
		return false;
	for (unsigned int i = 0; i < lit->len; i++)
		if (!strchr("@!$'*,;\\^`|", lit->s[i]))
			return true;
	return false;
}

/*
 * The gate of one URL rule: its longest required literal (sigs_lit.h) of 3
 * bytes or more, or a shorter one of bytes URLs seldom hold ("@"), leaving
 * out those within the starts url.c gives every URL ("https://", "www."),
 * which are in nearly all of them and would open the gate always. False:
 * the rule has none.
 */
static bool sigs_url_gate_pick(const char *expr, unsigned int flags, struct sigs_lit *gate)
{
	struct sigs_lit lit[8];
	unsigned int n = sigs_lit_required(expr, flags, lit, 8);

	gate->len = 0;
	for (unsigned int i = 0; i < n; i++)
		if (!sigs_url_lit_common(&lit[i]) && lit[i].len > gate->len)
			*gate = lit[i];
	return gate->len > 0;
}

/*
 * The other gate of a URL rule without one literal: a set of literals, one
 * of which every match holds (sigs_lit_any(): a brand among 25, a hosting
 * domain among 22), each of 3 bytes or more and none common. Stored at set;
 * returns how many, 0 for none.
 */
static unsigned int sigs_url_gate_set(const char *expr, unsigned int flags, struct sigs_lit *set,
				      unsigned int max)
{
	unsigned int n = sigs_lit_any(expr, flags, set, max);

	for (unsigned int i = 0; i < n; i++)
		if (set[i].len < 3 || sigs_url_lit_common(&set[i]))
			return 0;
	return n;
}

/* The rules at ids[0..n) of the URL scope compiled into *out (NULL for none); false on failure. */
static bool sigs_url_sub(const char *const *expr, const unsigned int *flags,
			 const unsigned int *ids, uint32_t n, const char **sx, unsigned int *sf,
			 hs_database_t **out)
{
	hs_compile_error_t *ce = NULL;
	bool ok;

	for (uint32_t k = 0; k < n; k++) {
		sx[k] = expr[ids[k]];
		sf[k] = flags[ids[k]];
	}
	ok = !n || hs_compile_multi(sx, sf, ids, n, sigs_scope_mode(EV_SCOPE_URL), NULL, out,
				    &ce) == HS_SUCCESS;
	hs_free_compile_error(ce);
	return ok;
}

/*
 * URL rules all start with "^https?://", so each starts work on every URL;
 * most of them (the punycode homographs) cannot match without "xn--". Each
 * rule with a gate literal (sigs_url_gate_pick()) or a gate set
 * (sigs_url_gate_set(), all sets looked for through one sigs_gate bitmap) is
 * left out of a second database, base, scanned when a URL holds no gate: a
 * rule left out cannot match there, so base reports what db would. With a
 * gate literal in the URL db is scanned; else with a piece of a gate set,
 * mid (base and the rules with a set: the bitmap also lets through what
 * merely shares a piece, and the punycode rules cost most of db). Any
 * failure leaves the scope ungated. Returns the number of rules gated.
 */
static uint32_t sigs_url_gates(struct sigs_db *d, const char *const *expr,
			       const unsigned int *flags, uint32_t n)
{
	const char **sx = calloc(n, sizeof(*sx));
	unsigned int *sf = calloc(n, sizeof(*sf));
	unsigned int *bids = calloc(n, sizeof(*bids));
	unsigned int *mids = calloc(n, sizeof(*mids));
	struct sigs_lit *set = calloc((size_t)n * SIGS_LIT_ANY_MAX, sizeof(*set));
	uint32_t nb = 0, nm = 0, nset = 0;
	bool ok = sx && sf && bids && mids && set;

	d->n_gates = 0;
	for (uint32_t i = 0; ok && i < n; i++) {
		struct sigs_lit g;
		unsigned int k = 0;

		if (sigs_url_gate_pick(expr[i], flags[i], &g)) {
			while (k < d->n_gates &&
			       (d->gate[k].len != g.len || memcmp(d->gate[k].s, g.s, g.len)))
				k++;
			if (k < SIGS_URL_GATES) {
				d->gate[k] = g;
				d->n_gates = (uint8_t)(k == d->n_gates ? k + 1 : d->n_gates);
				continue;
			}
		} else if ((k = sigs_url_gate_set(expr[i], flags[i], set + nset,
						  SIGS_LIT_ANY_MAX))) {
			nset += k;
			mids[nm++] = i;
			continue;
		}
		bids[nb++] = i;
		mids[nm++] = i;
	}
	if (ok && nset)
		d->url_any = sigs_gate_of_lits(set, nset);
	ok = ok && nb < n && (!nset || d->url_any) &&
	     sigs_url_sub(expr, flags, bids, nb, sx, sf, &d->base) &&
	     (!nset || nm == n || sigs_url_sub(expr, flags, mids, nm, sx, sf, &d->mid));
	if (!ok) {
		d->n_gates = 0;
		sigs_gate_free(d->url_any);
		d->url_any = NULL;
		hs_free_database(d->base);
		hs_free_database(d->mid);
		d->base = d->mid = NULL;
	}
	d->gated = ok;
	free(sx);
	free(sf);
	free(bids);
	free(mids);
	free(set);
	return d->gated ? n - nb : 0;
}

static int sigs_compile_scope(struct sigs_set *set, unsigned int scope, uint32_t n,
			      struct errbuf *eb)
{
	unsigned int mode = sigs_scope_mode(scope);
	const char **expr = calloc(n, sizeof(*expr));
	unsigned int *flags = calloc(n, sizeof(*flags));
	unsigned int *ids = calloc(n, sizeof(*ids));
	uint32_t *src = calloc(n, sizeof(*src));
	struct sigs_rt *rt = calloc(n, sizeof(*rt));
	hs_compile_error_t *ce = NULL;
	hs_database_t *db = NULL;
	int err = 0;

	if (!expr || !flags || !ids || !src || !rt) {
		err = errbuf_set(eb, -ENOMEM, "signatures: out of memory");
		goto out;
	}
	sigs_collect(&set->src, scope, expr, flags, ids, src, rt);
	if (hs_compile_multi(expr, flags, ids, n, mode, NULL, &db, &ce) != HS_SUCCESS) {
		err = sigs_compile_error(&set->src, src, n, scope, ce, eb);
		goto out;
	}
	set->db[scope] = (struct sigs_db){.db = db, .rules = rt, .n = n};
	set->db[scope].min_width = sigs_min_width(expr, flags, n);
	if (scope == EV_SCOPE_URL)
		set->info.url_gated = sigs_url_gates(&set->db[scope], expr, flags, n);
	if (scope == EV_SCOPE_COMMAND || scope == EV_SCOPE_REPLY)
		set->db[scope].line_gate = sigs_gate_build(expr, flags, n);
	if (set->db[scope].line_gate) {
		set->info.lines_gated |= 1u << scope;
		set->db[scope].gate_first = sigs_gate_cheap(set->db[scope].line_gate);
	}
	for (uint32_t i = 0; i < n; i++) {
		set->db[scope].any_field |= rt[i].header_len == 0;
		set->db[scope].field_lens |= UINT64_C(1) << sigs_len_bit(rt[i].header_len);
	}
	rt = NULL;
out:
	free(expr);
	free(flags);
	free(ids);
	free(src);
	free(rt);
	return err;
}

static void sigs_set_free(struct sigs_set *set)
{
	for (unsigned int i = 0; i < EV_SCOPE_COUNT; i++) {
		hs_free_database(set->db[i].db);
		hs_free_database(set->db[i].base);
		sigs_gate_free(set->db[i].line_gate);
		sigs_gate_free(set->db[i].url_any);
		hs_free_database(set->db[i].mid);
		free(set->db[i].rules);
	}
	sigs_file_fini(&set->src);
	if (set->owner)
		atomic_fetch_sub(&set->owner->sets_live, 1);
	free(set);
}

static void sigs_put(struct sigs_set *set)
{
	if (set && atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) == 1)
		sigs_set_free(set);
}

/* Sizes for sigs_info(); a throwaway scratch also proves one can be made. */
static int sigs_measure(struct sigs_set *set, struct errbuf *eb)
{
	struct sigs_info *in = &set->info;
	hs_scratch_t *scratch = NULL;
	size_t sz;

	for (unsigned int i = 0; i < EV_SCOPE_COUNT; i++) {
		if (!set->db[i].db)
			continue;
		if (hs_database_size(set->db[i].db, &sz) == HS_SUCCESS)
			in->db_bytes += sz;
		if (hs_alloc_scratch(set->db[i].db, &scratch) != HS_SUCCESS ||
		    (set->db[i].base &&
		     hs_alloc_scratch(set->db[i].base, &scratch) != HS_SUCCESS) ||
		    (set->db[i].mid && hs_alloc_scratch(set->db[i].mid, &scratch) != HS_SUCCESS)) {
			hs_free_scratch(scratch);
			return errbuf_set(eb, -ENOMEM, "signatures: cannot allocate scratch");
		}
		if (set->db[i].base && hs_database_size(set->db[i].base, &sz) == HS_SUCCESS)
			in->db_bytes += sz;
		if (set->db[i].mid && hs_database_size(set->db[i].mid, &sz) == HS_SUCCESS)
			in->db_bytes += sz;
	}
	if (scratch && hs_scratch_size(scratch, &sz) == HS_SUCCESS)
		in->scratch_bytes = sz;
	hs_free_scratch(scratch);
	if (set->db[EV_SCOPE_BODY].db &&
	    hs_stream_size(set->db[EV_SCOPE_BODY].db, &sz) == HS_SUCCESS)
		in->stream_bytes = sz;
	return 0;
}

/* Compile sf (moved into the set on success, emptied either way). */
static int sigs_set_build(struct sigs *s, struct sigs_file *sf, uint64_t t0, struct sigs_set **out,
			  struct errbuf *eb)
{
	struct sigs_set *set = calloc(1, sizeof(*set));
	int err = 0;

	if (!set) {
		sigs_file_fini(sf);
		return errbuf_set(eb, -ENOMEM, "signatures: out of memory");
	}
	set->src = *sf;
	sigs_file_init(sf);
	atomic_init(&set->refs, 1);
	for (uint32_t i = 0; i < set->src.n_rules; i++) {
		set->info.per_scope[set->src.rules[i].scope]++;
		set->info.per_class[set->src.rules[i].sig_class]++;
	}
	set->info.rules = set->src.n_rules;
	for (unsigned int sc = 0; !err && sc < EV_SCOPE_COUNT; sc++)
		if (set->info.per_scope[sc])
			err = sigs_compile_scope(set, sc, set->info.per_scope[sc], eb);
	if (!err)
		err = sigs_measure(set, eb);
	if (err) {
		sigs_set_free(set);
		return err;
	}
	set->info.compile_ns = clock_mono_ns() - t0;
	set->owner = s;
	atomic_fetch_add(&s->sets_live, 1);
	*out = set;
	return 0;
}

/* ---- the handle ---- */

int sigs_create(struct sigs **out)
{
	struct sigs *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	if (pthread_mutex_init(&s->lock, NULL)) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void sigs_destroy(struct sigs *s)
{
	if (!s)
		return;
	sigs_put(s->cur);
	s->cur = NULL;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static struct sigs_set *sigs_acquire(struct sigs *s)
{
	struct sigs_set *set;

	pthread_mutex_lock(&s->lock);
	set = s->cur;
	if (set)
		atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&s->lock);
	return set;
}

static int sigs_check_platform(struct errbuf *eb)
{
	if (hs_valid_platform() != HS_SUCCESS)
		return errbuf_set(eb, -ENOTSUP,
				  "signatures: Hyperscan %s needs a CPU with SSSE3 and this one "
				  "lacks it; content signatures are off",
				  hs_version());
	return 0;
}

static int sigs_publish_file(struct sigs *s, struct sigs_file *sf, uint64_t t0, struct errbuf *eb)
{
	struct sigs_set *set = NULL, *old;
	int err = sigs_set_build(s, sf, t0, &set, eb);

	if (err)
		return err;
	pthread_mutex_lock(&s->lock);
	old = s->cur;
	set->generation = atomic_load_explicit(&s->generation, memory_order_relaxed) + 1;
	s->cur = set;
	atomic_store_explicit(&s->generation, set->generation, memory_order_release);
	pthread_mutex_unlock(&s->lock);
	sigs_put(old);
	return 0;
}

int sigs_load(struct sigs *s, const char *const *paths, unsigned int n, struct errbuf *eb)
{
	uint64_t t0 = clock_mono_ns();
	struct sigs_file sf;
	int err = sigs_check_platform(eb);

	if (err)
		return err;
	sigs_file_init(&sf);
	for (unsigned int i = 0; !err && i < n; i++)
		err = sigs_file_read_path(&sf, paths[i], eb);
	if (err) {
		sigs_file_fini(&sf);
		return err;
	}
	return sigs_publish_file(s, &sf, t0, eb);
}

int sigs_load_text(struct sigs *s, const char *name, const char *text, size_t len,
		   struct errbuf *eb)
{
	uint64_t t0 = clock_mono_ns();
	struct sigs_file sf;
	int err = sigs_check_platform(eb);

	if (err)
		return err;
	sigs_file_init(&sf);
	err = sigs_file_parse(&sf, name, text, len, eb);
	if (err) {
		sigs_file_fini(&sf);
		return err;
	}
	return sigs_publish_file(s, &sf, t0, eb);
}

uint64_t sigs_generation(const struct sigs *s)
{
	return atomic_load_explicit(&s->generation, memory_order_acquire);
}

void sigs_info(struct sigs *s, struct sigs_info *out)
{
	struct sigs_set *set = sigs_acquire(s);

	memset(out, 0, sizeof(*out));
	if (set) {
		*out = set->info;
		out->generation = set->generation;
	}
	out->sets_live = atomic_load(&s->sets_live);
	sigs_put(set);
}

int sigs_rule_msg(struct sigs *s, uint32_t id, char *buf, size_t cap)
{
	struct sigs_set *set = sigs_acquire(s);
	int err = -ENOENT;

	for (uint32_t i = 0; set && i < set->src.n_rules; i++) {
		if (set->src.rules[i].id != id)
			continue;
		snprintf(buf, cap, "%s", set->src.rules[i].msg);
		err = 0;
		break;
	}
	sigs_put(set);
	return err;
}

/* ---- the worker ---- */

void sigs_worker_cfg_default(struct sigs_worker_cfg *cfg)
{
	cfg->max_streams = SIGS_DEFAULT_STREAMS;
}

/* Grow the worker's scratch so it also serves every database of set. */
static int sigs_scratch_add(hs_scratch_t **scratch, const struct sigs_set *set)
{
	for (unsigned int i = 0; set && i < EV_SCOPE_COUNT; i++) {
		if (set->db[i].db && hs_alloc_scratch(set->db[i].db, scratch) != HS_SUCCESS)
			return -ENOMEM;
		if (set->db[i].base && hs_alloc_scratch(set->db[i].base, scratch) != HS_SUCCESS)
			return -ENOMEM;
		if (set->db[i].mid && hs_alloc_scratch(set->db[i].mid, scratch) != HS_SUCCESS)
			return -ENOMEM;
	}
	return 0;
}

static void sigs_slot_close(struct sigs_stream *sl)
{
	if (sl->hs)
		hs_close_stream(sl->hs, NULL, NULL, NULL);
	sl->hs = NULL;
	sl->set = NULL;
}

/* Open a stream on cur for every stale slot and put it in the free stack. */
static int sigs_pool_fill(struct sigs_worker *w)
{
	const hs_database_t *db = w->cur ? w->cur->db[EV_SCOPE_BODY].db : NULL;

	for (uint32_t i = 0; db && w->n_stale && i < w->n_slots; i++) {
		struct sigs_stream *sl = &w->slots[i];

		if (sl->state != SLOT_STALE)
			continue;
		sigs_slot_close(sl);
		if (hs_open_stream(db, 0, &sl->hs) != HS_SUCCESS) {
			sl->hs = NULL;
			return -ENOMEM;
		}
		sl->set = w->cur;
		sl->state = SLOT_IDLE;
		w->free_idx[w->n_free++] = i;
		w->n_stale--;
	}
	return 0;
}

/* A second set arrived while bodies still ran on the first: cut those bodies. */
static void sigs_cut_old(struct sigs_worker *w)
{
	for (uint32_t i = 0; i < w->n_slots; i++) {
		struct sigs_stream *sl = &w->slots[i];

		if (sl->set != w->old)
			continue;
		sigs_slot_close(sl);
		if (sl->state == SLOT_OPEN) {
			sl->state = SLOT_CUT;
			w->st.streams_cut++;
		}
	}
	w->open_old = 0;
	sigs_put(w->old);
	w->old = NULL;
}

/* Every body on old has closed: let it go and shrink the scratch to cur. */
static void sigs_drop_old(struct sigs_worker *w)
{
	hs_scratch_t *fresh = NULL;

	for (uint32_t i = 0; i < w->n_slots; i++)
		if (w->slots[i].set == w->old)
			sigs_slot_close(&w->slots[i]);
	sigs_put(w->old);
	w->old = NULL;
	if (sigs_scratch_add(&fresh, w->cur) == 0 && fresh) {
		hs_free_scratch(w->scratch);
		w->scratch = fresh;
	} else {
		hs_free_scratch(fresh);
	}
}

static int sigs_switch(struct sigs_worker *w)
{
	struct sigs_set *nset = sigs_acquire(w->s);

	if (!nset || nset == w->cur) {
		sigs_put(nset);
		return -EAGAIN;
	}
	if (w->old)
		sigs_cut_old(w);
	if (sigs_scratch_add(&w->scratch, nset)) {
		sigs_put(nset);
		w->st.switch_failed++;
		return -ENOMEM;
	}
	/* Idle streams belong to the outgoing set: reopen them on the new one. */
	for (uint32_t i = 0; i < w->n_free; i++)
		w->slots[w->free_idx[i]].state = SLOT_STALE;
	w->n_stale += w->n_free;
	w->n_free = 0;
	w->open_old = (uint32_t)w->st.streams_open;
	for (uint32_t i = 0; i < w->n_slots; i++)
		if (w->slots[i].state == SLOT_CUT)
			w->open_old--;
	w->old = w->cur;
	w->cur = nset;
	/* The verdicts and rule indexes of the old set mean nothing for the new one. */
	memset(w->verdict, 0, SIGS_VERDICT_SLOTS * sizeof(*w->verdict));
	w->st.generation = nset->generation;
	w->st.switches++;
	return 0;
}

bool sigs_worker_housekeep(struct sigs_worker *w)
{
	bool switched = false;

	if (atomic_load_explicit(&w->s->generation, memory_order_acquire) != w->st.generation)
		switched = sigs_switch(w) == 0;
	if (w->n_stale && sigs_pool_fill(w))
		w->st.switch_failed++;
	if (w->old && w->open_old == 0)
		sigs_drop_old(w);
	return switched;
}

int sigs_worker_create(struct sigs *s, const struct sigs_worker_cfg *cfg, struct sigs_worker **out)
{
	struct sigs_worker *w = calloc(1, sizeof(*w));
	uint32_t n = cfg && cfg->max_streams ? cfg->max_streams : SIGS_DEFAULT_STREAMS;

	if (!w)
		return -ENOMEM;
	w->s = s;
	w->slots = calloc(n, sizeof(*w->slots));
	w->free_idx = calloc(n, sizeof(*w->free_idx));
	w->verdict = nodump_alloc(SIGS_VERDICT_SLOTS * sizeof(*w->verdict));
	w->n_slots = n;
	w->n_stale = n;
	w->cur = sigs_acquire(s);
	w->st.generation = w->cur ? w->cur->generation : 0;
	if (!w->slots || !w->free_idx || !w->verdict || sigs_scratch_add(&w->scratch, w->cur) ||
	    sigs_pool_fill(w)) {
		sigs_worker_destroy(w);
		return -ENOMEM;
	}
	*out = w;
	return 0;
}

void sigs_worker_destroy(struct sigs_worker *w)
{
	if (!w)
		return;
	for (uint32_t i = 0; w->slots && i < w->n_slots; i++)
		sigs_slot_close(&w->slots[i]);
	hs_free_scratch(w->scratch);
	sigs_put(w->old);
	sigs_put(w->cur);
	free(w->slots);
	free(w->free_idx);
	nodump_free(w->verdict, SIGS_VERDICT_SLOTS * sizeof(*w->verdict));
	free(w);
}

void sigs_worker_stats(const struct sigs_worker *w, struct sigs_worker_stats *out)
{
	size_t sz = 0;

	*out = w->st;
	if (w->scratch && hs_scratch_size(w->scratch, &sz) == HS_SUCCESS)
		out->scratch_bytes = sz;
	if (w->cur)
		out->stream_pool_bytes = (uint64_t)w->cur->info.stream_bytes * w->n_slots;
}

/* ---- scanning ---- */

/*
 * The key of a scan: the line, or the header field's name and value one after
 * the other in buf. False when it is too long to be cached.
 */
static bool sigs_verdict_key(const struct sigs_scan *sc, uint8_t *buf, const uint8_t **key,
			     size_t *len)
{
	*len = sc->hname_len + sc->len;
	if (*len > SIGS_VERDICT_MAX)
		return false;
	*key = sc->data;
	if (sc->hname_len) {
		memcpy(buf, sc->hname, sc->hname_len);
		memcpy(buf + sc->hname_len, sc->data, sc->len);
		*key = buf;
	}
	return true;
}

static bool sigs_verdict_has(const struct sigs_verdict *v, uint64_t tag, unsigned int scope,
			     const struct sigs_scan *sc, const uint8_t *key, size_t len)
{
	return v->len == len && v->tag == tag && v->scope == scope &&
	       v->name_len == sc->hname_len && memcmp(v->key, key, len) == 0;
}

static void sigs_verdict_keep(struct sigs_verdict *v, uint64_t tag, unsigned int scope,
			      const struct sigs_scan *sc, const uint8_t *key, size_t len)
{
	v->tag = tag;
	v->len = (uint8_t)len;
	v->scope = (uint8_t)scope;
	v->name_len = (uint8_t)sc->hname_len;
	v->n = (uint8_t)sc->n;
	memcpy(v->hit, sc->hit, sc->n * sizeof(*sc->hit));
	memcpy(v->key, key, len);
}

/* Header rules that name their field: a field no rule names has nothing to scan. */
static bool sigs_field_wanted(const struct sigs_db *db, const struct sigs_scan *sc)
{
	if (db->any_field)
		return true;
	/* Rules name a few fields (Subject, X-Mailer...): most fields of a
	 * message have a length none of them has, ruled out in one test. */
	if (!(db->field_lens >> sigs_len_bit(sc->hname_len) & 1))
		return false;
	for (uint32_t i = 0; i < db->n; i++)
		if (sigs_name_eq(db->rules[i].header, db->rules[i].header_len, sc->hname,
				 sc->hname_len))
			return true;
	return false;
}

/* The database a URL is scanned with (sigs_url_gates()); NULL: no rule can match. */
static const hs_database_t *sigs_url_db(const struct sigs_db *db, const struct sigs_scan *sc)
{
	for (unsigned int i = 0; db->gated && i < db->n_gates; i++)
		if (sigs_lit_in(&db->gate[i], sc->data, sc->len))
			return db->db;
	if (db->url_any && sigs_gate_may_match(db->url_any, sc->data, sc->len))
		return db->mid ? db->mid : db->db;
	return db->gated ? db->base : db->db;
}

/* One buffer (sc->scope: a line, header field or URL), in the mode its scope was compiled in. */
static hs_error_t sigs_hs_block(const struct sigs_db *db, struct sigs_scan *sc,
				hs_scratch_t *scratch)
{
	const char *data = (const char *)sc->data;
	unsigned int len = (unsigned int)sc->len;
	const hs_database_t *hdb = db->db;

	if (sc->scope == EV_SCOPE_URL)
		hdb = sigs_url_db(db, sc);
	if (!hdb)
		return HS_SUCCESS;
	if (sigs_scope_mode(sc->scope) == HS_MODE_VECTORED)
		return hs_scan_vector(hdb, &data, &len, 1, 0, scratch, sigs_on_match, sc);
	return hs_scan(hdb, data, len, 0, scratch, sigs_on_match, sc);
}

/*
 * The database of scope when an input of n bytes may match in it, else NULL:
 * checked before sigs_block(), whose frame (a key buffer, the cache) an input
 * too short for every rule need not pay.
 */
static inline const struct sigs_db *sigs_db_for(const struct sigs_worker *w, unsigned int scope,
						size_t n)
{
	const struct sigs_db *db = w->cur ? &w->cur->db[scope] : NULL;

	return db && db->db && n != 0 && n >= db->min_width ? db : NULL;
}

static unsigned int sigs_block(struct sigs_worker *w, const struct sigs_db *db, unsigned int scope,
			       struct sigs_scan *sc)
{
	struct sigs_verdict *v = NULL;
	uint8_t buf[SIGS_VERDICT_MAX];
	const uint8_t *key;
	uint64_t tag = 0;
	size_t len;

	if (scope == EV_SCOPE_HEADER && !sigs_field_wanted(db, sc))
		return 0;
	/* A cheap gate goes first: a line it rules out needs no hash and no cache slot. */
	if (db->gate_first && !sigs_gate_may_match(db->line_gate, sc->data, sc->len))
		return 0;
	sc->db = db;
	sc->scope = (uint8_t)scope;
	if (sigs_verdict_key(sc, buf, &key, &len)) {
		tag = hash_bytes(key, len, scope);
		v = &w->verdict[tag & (SIGS_VERDICT_SLOTS - 1)];
		if (sigs_verdict_has(v, tag, scope, sc, key, len)) {
			for (unsigned int i = 0; i < v->n; i++)
				sigs_report(sc, v->hit[i].idx, v->hit[i].end);
			w->st.matches += sc->n;
			return sc->n;
		}
	}
	/* Lines are cut at a few KiB by the parser; the clamp only keeps the cast honest. */
	if (sc->len > UINT_MAX)
		sc->len = UINT_MAX;
	/* A line no rule can match gives the verdict of a scan that found nothing. */
	if (db->line_gate && !db->gate_first &&
	    !sigs_gate_may_match(db->line_gate, sc->data, sc->len)) {
		if (v)
			sigs_verdict_keep(v, tag, scope, sc, key, len);
		return 0;
	}
	w->st.scans++;
	if (sigs_hs_block(db, sc, w->scratch) != HS_SUCCESS)
		w->st.scan_errors++;
	else if (v && !sc->hit_lost)
		sigs_verdict_keep(v, tag, scope, sc, key, len);
	w->st.matches += sc->n;
	return sc->n;
}

/*
 * A block scan's view. hit[] is left as it is: only its first n entries are
 * read, each after it was written, and zeroing it cost a fifth of a cached
 * line's price.
 */
static void sigs_scan_init(struct sigs_scan *sc, sigs_match_fn *cb, void *arg, const uint8_t *p,
			   size_t n, const char *hname, size_t hname_len)
{
	sc->db = NULL;
	sc->scope = 0;
	sc->cb = cb;
	sc->arg = arg;
	sc->data = p;
	sc->len = n;
	sc->base = 0;
	sc->hname = hname;
	sc->hname_len = hname_len;
	sc->n = 0;
	sc->hit_lost = false;
}

unsigned int sigs_scan_line(struct sigs_worker *w, enum event_sig_scope scope, const uint8_t *p,
			    size_t n, sigs_match_fn *cb, void *arg)
{
	const struct sigs_db *db;
	struct sigs_scan sc;

	if (scope != EV_SCOPE_COMMAND && scope != EV_SCOPE_REPLY && scope != EV_SCOPE_URL)
		return 0;
	db = sigs_db_for(w, scope, n);
	if (!db)
		return 0;
	sigs_scan_init(&sc, cb, arg, p, n, NULL, 0);
	return sigs_block(w, db, scope, &sc);
}

unsigned int sigs_scan_header(struct sigs_worker *w, const char *name, size_t name_len,
			      const uint8_t *value, size_t value_len, sigs_match_fn *cb, void *arg)
{
	const struct sigs_db *db = sigs_db_for(w, EV_SCOPE_HEADER, value_len);
	struct sigs_scan sc;

	if (!db)
		return 0;
	sigs_scan_init(&sc, cb, arg, value, value_len, name, name_len);
	return sigs_block(w, db, EV_SCOPE_HEADER, &sc);
}

struct sigs_stream *sigs_body_open(struct sigs_worker *w, sigs_match_fn *cb, void *arg)
{
	struct sigs_stream *sl;

	if (!w->cur || !w->cur->db[EV_SCOPE_BODY].db)
		return NULL;
	if (w->n_free == 0) {
		w->st.streams_no_slot++;
		return NULL;
	}
	sl = &w->slots[w->free_idx[--w->n_free]];
	sl->state = SLOT_OPEN;
	sl->cb = cb;
	sl->arg = arg;
	sl->offset = 0;
	w->st.streams_opened++;
	w->st.streams_open++;
	return sl;
}

void sigs_body_feed(struct sigs_worker *w, struct sigs_stream *st, const uint8_t *p, size_t n)
{
	struct sigs_scan sc = {.cb = st ? st->cb : NULL, .arg = st ? st->arg : NULL};

	if (!st || st->state != SLOT_OPEN || n == 0)
		return;
	sc.db = &st->set->db[EV_SCOPE_BODY];
	sc.scope = EV_SCOPE_BODY;
	while (n > 0) {
		unsigned int chunk = n > UINT_MAX ? UINT_MAX : (unsigned int)n;

		sc.data = p;
		sc.len = chunk;
		sc.base = st->offset;
		if (hs_scan_stream(st->hs, (const char *)p, chunk, 0, w->scratch, sigs_on_match,
				   &sc) != HS_SUCCESS)
			w->st.scan_errors++;
		st->offset += chunk;
		w->st.body_bytes += chunk;
		p += chunk;
		n -= chunk;
	}
	w->st.matches += sc.n;
}

void sigs_body_close(struct sigs_worker *w, struct sigs_stream *st)
{
	struct sigs_scan sc = {.scope = EV_SCOPE_BODY};

	if (!st)
		return;
	w->st.streams_open--;
	if (st->state == SLOT_CUT) {
		st->state = SLOT_STALE;
		w->n_stale++;
		return;
	}
	sc.db = &st->set->db[EV_SCOPE_BODY];
	sc.cb = st->cb;
	sc.arg = st->arg;
	sc.base = st->offset;
	/* Reset rather than close: end-anchored matches are reported, nothing is freed. */
	if (hs_reset_stream(st->hs, 0, w->scratch, sigs_on_match, &sc) != HS_SUCCESS)
		w->st.scan_errors++;
	w->st.matches += sc.n;
	if (st->set == w->cur) {
		st->state = SLOT_IDLE;
		w->free_idx[w->n_free++] = (uint32_t)(st - w->slots);
	} else {
		st->state = SLOT_STALE;
		w->n_stale++;
		w->open_old--;
	}
}
