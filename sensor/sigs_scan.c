// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/sigs_int.h"

#include <limits.h>
#include <string.h>

#include "common/hash.h"

/* ---- the match callback ---- */

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

/* Does v hold this key (its bytes, scope and field name's length), whatever its tag? */
static bool sigs_verdict_key_is(const struct sigs_verdict *v, unsigned int scope, size_t name_len,
				const uint8_t *key, size_t len)
{
	return v->len == len && v->scope == scope && v->name_len == name_len &&
	       sigs_key_eq(v->key, key, len);
}

static bool sigs_verdict_has(const struct sigs_verdict *v, uint64_t tag, unsigned int scope,
			     size_t name_len, const uint8_t *key, size_t len)
{
	return v->tag == tag && sigs_verdict_key_is(v, scope, name_len, key, len);
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

/*
 * Header rules that name their field: a field no rule names has nothing to
 * scan. *gate is the gate of the rules that see the field (sigs_field_gates();
 * NULL: none, the field is scanned).
 */
/* Does some rule name a field of this name's length? (one bit a length) */
static inline bool sigs_field_len_named(const struct sigs_db *db, size_t name_len)
{
	return db->field_lens >> sigs_len_bit(name_len) & 1;
}

static bool sigs_field_wanted(const struct sigs_db *db, const char *name, size_t name_len,
			      const struct sigs_gate **gate)
{
	/* Past the named fields only the rules of every field see one. */
	*gate = db->any_gate;
	if (db->any_field && !db->n_names)
		return true;
	/* Rules name a few fields (Subject, X-Mailer...): most fields of a
	 * message have a length none of them has, ruled out in one test. */
	if (!sigs_field_len_named(db, name_len))
		return db->any_field;
	if (db->n_names) {
		for (unsigned int k = 0; k < db->n_names; k++) {
			if (sigs_name_eq(db->name[k], db->name_len[k], name, name_len)) {
				*gate = db->name_gate[k];
				return true;
			}
		}
		return db->any_field;
	}
	for (uint32_t i = 0; i < db->n; i++)
		if (sigs_name_eq(db->rules[i].header, db->rules[i].header_len, name, name_len))
			return true;
	return false;
}

/* The database a URL is scanned with (sigs_url_gates()); NULL: no rule can match. */
static const hs_database_t *sigs_url_db(const struct sigs_db *db, const struct sigs_scan *sc)
{
	if (db->url_find) {
		enum sigs_url_hit k = sigs_url_find(db->url_find, sc->data, sc->len);

		if (k == SIGS_URL_GATE)
			return db->db;
		if (k == SIGS_URL_SET)
			return db->mid ? db->mid : db->db;
		return db->base;
	}
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
	if (sigs_scope_mode(sc->scope) == HS_MODE_VECTORED && hdb == db->db)
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

/*
 * The rest of a block scan once its key is known: v is the key's cache slot
 * and tag its hash (v NULL: too long to be cached, never kept).
 */
static unsigned int sigs_block_keyed(struct sigs_worker *w, const struct sigs_db *db,
				     unsigned int scope, struct sigs_scan *sc,
				     struct sigs_verdict *v, uint64_t tag, const uint8_t *key,
				     size_t len)
{
	sc->db = db;
	sc->scope = (uint8_t)scope;
	if (v && sigs_verdict_has(v, tag, scope, sc->hname_len, key, len)) {
		for (unsigned int i = 0; i < v->n; i++)
			sigs_report(sc, v->hit[i].idx, v->hit[i].end);
		w->st.matches += sc->n;
		return sc->n;
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

static unsigned int sigs_block(struct sigs_worker *w, const struct sigs_db *db, unsigned int scope,
			       struct sigs_scan *sc)
{
	struct sigs_verdict *v = NULL;
	uint8_t buf[SIGS_VERDICT_MAX];
	const uint8_t *key = NULL;
	uint64_t tag = 0;
	size_t len = 0;

	/* A cheap gate goes first: a line it rules out needs no hash and no cache slot. */
	if (db->gate_first && !sigs_gate_may_match(db->line_gate, sc->data, sc->len))
		return 0;
	if (sigs_verdict_key(sc, buf, &key, &len)) {
		tag = hash_bytes(key, len, scope);
		v = &w->verdict[tag & (SIGS_VERDICT_SLOTS - 1)];
	}
	return sigs_block_keyed(w, db, scope, sc, v, tag, key, len);
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

/*
 * A server reply line: nearly all are repeats the cache answered before
 * ("250 2.1.5 Ok", a greeting, the same rejection), and nearly all of those
 * matched nothing. Such a line is answered from its slot before a scan's
 * view is set up; any other goes on with the hash already made. A reply
 * scope whose gate runs first takes the general path.
 *
 * Most often the line is the last one of its length again (each RCPT's
 * "250 2.1.5 Ok"): the slot that one took is tried before the hash. A key
 * equal to the line in any slot is the line's own verdict (the slot of a
 * key is its hash's, so it is the slot the hash would name), and an empty
 * slot (a new set empties them) never equals a line, which is never empty.
 */
static unsigned int sigs_scan_reply(struct sigs_worker *w, const struct sigs_db *db,
				    const uint8_t *p, size_t n, sigs_match_fn *cb, void *arg)
{
	struct sigs_verdict *v = NULL;
	struct sigs_scan sc;
	uint64_t tag = 0;

	if (n <= SIGS_VERDICT_MAX) {
		v = &w->verdict[w->reply_slot[n]];
		if (v->n == 0 && sigs_verdict_key_is(v, EV_SCOPE_REPLY, 0, p, n))
			return 0;
		tag = hash_bytes(p, n, EV_SCOPE_REPLY);
		w->reply_slot[n] = (uint16_t)(tag & (SIGS_VERDICT_SLOTS - 1));
		v = &w->verdict[tag & (SIGS_VERDICT_SLOTS - 1)];
		if (v->n == 0 && sigs_verdict_has(v, tag, EV_SCOPE_REPLY, 0, p, n))
			return 0;
	}
	sigs_scan_init(&sc, cb, arg, p, n, NULL, 0);
	return sigs_block_keyed(w, db, EV_SCOPE_REPLY, &sc, v, tag, p, n);
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
	if (scope == EV_SCOPE_REPLY && !db->gate_first)
		return sigs_scan_reply(w, db, p, n, cb, arg);
	sigs_scan_init(&sc, cb, arg, p, n, NULL, 0);
	return sigs_block(w, db, scope, &sc);
}

bool sigs_header_may_scan(const struct sigs_worker *w, size_t name_len, size_t value_len)
{
	const struct sigs_db *db = sigs_db_for(w, EV_SCOPE_HEADER, value_len);

	/* sigs_field_wanted()'s tests before it compares names. */
	return db && (db->any_field || sigs_field_len_named(db, name_len));
}

unsigned int sigs_scan_header(struct sigs_worker *w, const char *name, size_t name_len,
			      const uint8_t *value, size_t value_len, sigs_match_fn *cb, void *arg)
{
	const struct sigs_db *db = sigs_db_for(w, EV_SCOPE_HEADER, value_len);
	const struct sigs_gate *gate;
	struct sigs_scan sc;

	/* Most fields are ones no rule names: ruled out before the view is set up. */
	if (!db || !sigs_field_wanted(db, name, name_len, &gate))
		return 0;
	/* And most of the others hold no literal their rules need. */
	if (gate && !sigs_gate_may_match(gate, value, value_len))
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
