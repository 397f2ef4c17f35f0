// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/sigs_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"

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

/*
 * The rules at ids[0..n) of the URL scope compiled into *out (NULL for none);
 * false on failure. In block mode, unlike db: for these few rules it costs
 * less than vectored (callgrind, short-spam's URLs: base 764 instructions a
 * URL against 973, mid 3 860 against 4 650), for all of them more.
 */
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
	ok = !n || hs_compile_multi(sx, sf, ids, n, HS_MODE_BLOCK, NULL, out, &ce) == HS_SUCCESS;
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
	/* Without a finder (too many literals) the gates and the bitmap still work. */
	if (ok)
		d->url_find = sigs_url_find_build(d->gate, d->n_gates, set, nset);
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

/*
 * The field names d's rules name, each once: sigs_field_wanted() compares a
 * field's name with these rather than with every rule's (the stock rules
 * name X-Mailer eight times, and every Received field has its length).
 * Rule names are lower case already, so equal names are equal strings.
 */
static void sigs_field_names(struct sigs_db *d)
{
	d->n_names = 0;
	for (uint32_t i = 0; i < d->n; i++) {
		const struct sigs_rt *r = &d->rules[i];
		uint8_t k = 0;

		if (!r->header_len)
			continue;
		while (k < d->n_names && (d->name_len[k] != r->header_len ||
					  memcmp(d->name[k], r->header, r->header_len)))
			k++;
		if (k < d->n_names)
			continue;
		if (d->n_names == SIGS_FIELD_NAMES) {
			d->n_names = 0; /* too many: every rule is asked */
			return;
		}
		d->name[k] = r->header;
		d->name_len[k] = r->header_len;
		d->n_names++;
	}
}

/*
 * The gate of the header rules that see a field named name (name_len bytes;
 * 0: a name none of them names): those naming it and those of every field.
 * NULL when one of them cannot be gated, or there are none. sx and sf have
 * room for d->n entries.
 */
static struct sigs_gate *sigs_field_gate(const struct sigs_db *d, const char *const *expr,
					 const unsigned int *flags, const char *name,
					 uint8_t name_len, const char **sx, unsigned int *sf)
{
	uint32_t m = 0;

	for (uint32_t i = 0; i < d->n; i++) {
		const struct sigs_rt *r = &d->rules[i];

		if (r->header_len &&
		    (r->header_len != name_len || memcmp(r->header, name, name_len)))
			continue;
		sx[m] = expr[i];
		sf[m++] = flags[i];
	}
	return m ? sigs_gate_build(sx, sf, m) : NULL;
}

/*
 * Gates for the header scope (sigs_gate.h), one per field name the rules
 * name (sigs_field_names()) and one for the other names when a rule sees
 * every field: a Subject whose rules all need a literal it lacks is not
 * scanned. A field's gate reads only the rules that may report on it (the
 * match callback drops the others), so it answers as the whole scope's
 * would. None past SIGS_FIELD_NAMES names; any failure leaves that name
 * ungated.
 */
static void sigs_field_gates(struct sigs_db *d, const char *const *expr, const unsigned int *flags)
{
	const char **sx = calloc(d->n, sizeof(*sx));
	unsigned int *sf = calloc(d->n, sizeof(*sf));

	for (uint8_t k = 0; sx && sf && k < d->n_names; k++)
		d->name_gate[k] =
			sigs_field_gate(d, expr, flags, d->name[k], d->name_len[k], sx, sf);
	if (sx && sf && d->n_names && d->any_field)
		d->any_gate = sigs_field_gate(d, expr, flags, "", 0, sx, sf);
	free(sx);
	free(sf);
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
	sigs_field_names(&set->db[scope]);
	if (scope == EV_SCOPE_HEADER)
		sigs_field_gates(&set->db[scope], expr, flags);
	rt = NULL;
out:
	free(expr);
	free(flags);
	free(ids);
	free(src);
	free(rt);
	return err;
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
int sigs_set_build(struct sigs *s, struct sigs_file *sf, uint64_t t0, struct sigs_set **out,
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
