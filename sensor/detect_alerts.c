// SPDX-License-Identifier: BSD-3-Clause
/*
 * Evidence and alerts: the examples and flows gathered while a detector's
 * counters climb, and the alert table that turns repeated firing into one
 * alert per host + kind (+ account) per alert interval. A repeat within the
 * interval updates the held alert (counts, more examples and flows) and
 * marks it changed; the update goes out with seq + 1 once the interval has
 * passed (on the next firing or tick), when the identity is evicted, and
 * at the end of the run.
 */
#include <string.h>

#include "common/hash.h"
#include "sensor/detect_int.h"

#define ALERT_STATES 4096

static uint32_t clamp_u32(uint64_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : (uint32_t)v;
}

static void emit(struct detect_engine *de, const struct alert *a)
{
	if (de->emit)
		de->emit(de->emit_arg, a);
}

/* Send the held update of an identity that changed since it was emitted. */
static void emit_update(struct detect_engine *de, struct detect_alert_state *st, uint64_t now)
{
	st->a.seq++;
	st->last_emit_ns = now;
	st->dirty = false;
	de->st.alerts_updated++;
	emit(de, &st->a);
}

static void state_evict(void *arg, void *ent)
{
	struct detect_engine *de = arg;
	struct detect_alert_state *st = ent;

	/* Its final counts must not be lost with it. */
	if (st->dirty)
		emit_update(de, st, de->now_ns);
	de->st.alert_states_evicted++;
}

int detect_alerts_init(struct detect_engine *de)
{
	int err;

	/* Evidence for one host in 64 at the same time is plenty: most hosts
	 * never produce any. About 600 bytes each. */
	err = lru_init(&de->evidence, clamp_u32(de->hosts.lru.cap / 64, 4096, 65536),
		       sizeof(struct detect_evidence), NULL, NULL);
	if (err)
		return err;
	return lru_init(&de->alerts, ALERT_STATES, sizeof(struct detect_alert_state), state_evict,
			de);
}

void detect_alerts_fini(struct detect_engine *de)
{
	lru_fini(&de->evidence);
	lru_fini(&de->alerts);
}

/* ---- evidence ---- */

static uint64_t ident_key(const union pkt_addr *host, unsigned int kind, uint64_t sub)
{
	struct {
		uint8_t addr[16];
		uint64_t sub;
		uint32_t kind;
	} k;

	memset(&k, 0, sizeof(k));
	memcpy(k.addr, host->b, 16);
	k.sub = sub;
	k.kind = kind;
	return hash_bytes(&k, sizeof(k), 0x510e527fade682d1ull);
}

static bool evidence_eq(const void *ent, const void *key)
{
	return ((const struct detect_evidence *)ent)->key == *(const uint64_t *)key;
}

struct detect_evidence *detect_evidence_get(struct detect_engine *de, const union pkt_addr *host,
					    enum alert_kind kind, uint64_t sub, uint64_t now_ns)
{
	uint64_t key = ident_key(host, kind, sub);
	struct detect_evidence *ev = lru_find(&de->evidence, (uint32_t)key, evidence_eq, &key);

	if (ev) {
		lru_touch_at(&de->evidence, ev, (uint32_t)(now_ns / DETECT_NS));
	} else {
		ev = lru_add(&de->evidence, (uint32_t)key, NULL);
		ev->key = key;
		ev->first_ns = now_ns;
	}
	if (now_ns > ev->last_ns)
		ev->last_ns = now_ns;
	return ev;
}

void detect_evidence_note(struct detect_evidence *ev, const char *field, const char *value,
			  size_t len)
{
	size_t n = detect_clamp(len, DETECT_EV_EXAMPLE_LEN);

	if (!ev || ev->n_ex >= DETECT_EV_EXAMPLES || n == 0)
		return;
	for (unsigned int i = 0; i < ev->n_ex; i++)
		if (strcmp(ev->ex[i].field, field) == 0 && strlen(ev->ex[i].value) == n &&
		    memcmp(ev->ex[i].value, value, n) == 0)
			return;
	snprintf(ev->ex[ev->n_ex].field, sizeof(ev->ex[0].field), "%s", field);
	memcpy(ev->ex[ev->n_ex].value, value, n);
	ev->ex[ev->n_ex].value[n] = '\0';
	ev->n_ex++;
}

void detect_evidence_uid(struct detect_evidence *ev, const char *uid)
{
	if (!ev || !uid[0] || ev->n_uids >= DETECT_EV_UIDS)
		return;
	for (unsigned int i = 0; i < ev->n_uids; i++)
		if (strcmp(ev->uids[i], uid) == 0)
			return;
	snprintf(ev->uids[ev->n_uids++], FLOW_UID_LEN + 1, "%s", uid);
}

static uint32_t tx_key(const char *uid, uint32_t depth)
{
	return (uint32_t)hash_bytes(uid, strnlen(uid, FLOW_UID_LEN), depth) | 1u;
}

bool detect_evidence_tx_first(struct detect_evidence *ev, const char *uid, uint32_t depth)
{
	uint32_t k = tx_key(uid, depth);

	for (unsigned int i = 0; i < DETECT_EV_TXS; i++)
		if (ev->tx[i] == k)
			return false;
	ev->tx[ev->tx_at++ % DETECT_EV_TXS] = k;
	return true;
}

/*
 * trans_depth counts answered messages (Zeek), so the transaction after a
 * RSET in the same session has the same uid and depth as the refused one
 * before it: once a transaction's record went by, it no longer counts as
 * seen. Looks only; evidence that does not exist is not made.
 */
void detect_evidence_tx_end(struct detect_engine *de, const union pkt_addr *host,
			    enum alert_kind kind, const char *uid, uint32_t depth)
{
	uint64_t key = ident_key(host, kind, 0);
	struct detect_evidence *ev = lru_find(&de->evidence, (uint32_t)key, evidence_eq, &key);
	uint32_t k = tx_key(uid, depth);

	for (unsigned int i = 0; ev && i < DETECT_EV_TXS; i++)
		if (ev->tx[i] == k)
			ev->tx[i] = 0;
}

/* ---- alerts ---- */

/*
 * The ranking score: what fired, weighted by severity (1, 2, 4, 8, 16 from
 * info to critical: a critical finding outweighs a high one together with
 * a full SPRT decision), plus the SPRT sum up to its decision bound (being
 * far past the bound says no more than being past it).
 */
double detect_kinds_score(const struct detect_engine *de, uint32_t kinds)
{
	static const double weight[] = {1, 2, 4, 8, 16}; /* info .. critical */
	double s = 0;

	for (int k = 0; k < ALERT_KIND_COUNT; k++)
		if (kinds & (1u << k))
			s += weight[de->sev[k] <= ALERT_SEV_CRITICAL ? de->sev[k] : 0];
	return s;
}

double detect_host_score(const struct detect_engine *de, const struct host *h)
{
	double sprt = sprt_score(&h->sprt);

	return (sprt < de->sprt.upper ? sprt : de->sprt.upper) + detect_kinds_score(de, h->kinds);
}

struct alert *detect_alert_begin(struct detect_engine *de, enum alert_kind kind, uint8_t family,
				 const union pkt_addr *host, const char *account, uint64_t now_ns)
{
	struct alert *a = &de->scratch;

	memset(a, 0, sizeof(*a));
	a->ts_ns = now_ns > de->now_ns ? now_ns : de->now_ns;
	a->first_ns = now_ns;
	a->kind = (uint8_t)kind;
	a->severity = de->sev[kind];
	a->family = family;
	a->host = *host;
	if (account)
		snprintf(a->account, sizeof(a->account), "%s", account);
	return a;
}

struct alert *detect_alert_crossed(struct detect_engine *de, enum alert_kind kind,
				   const struct host *h, uint64_t now_ns, const char *counter,
				   double value, double threshold, uint32_t window_s)
{
	struct alert *a = detect_alert_begin(de, kind, h->family, &h->addr, NULL, now_ns);

	alert_add_counter(a, counter, value, threshold, window_s);
	return a;
}

static void merge(struct alert *dst, const struct alert *src)
{
	uint64_t first = dst->first_ns < src->first_ns ? dst->first_ns : src->first_ns;

	dst->ts_ns = src->ts_ns > dst->ts_ns ? src->ts_ns : dst->ts_ns;
	dst->first_ns = first;
	if (src->severity > dst->severity)
		dst->severity = src->severity;
	dst->score = src->score;
	memcpy(dst->message, src->message, sizeof(dst->message));
	dst->n_counters = src->n_counters;
	memcpy(dst->counters, src->counters, sizeof(dst->counters));
	for (uint32_t i = 0; i < src->n_examples; i++)
		alert_add_example(dst, src->examples[i].field, src->examples[i].value,
				  strlen(src->examples[i].value));
	for (uint32_t i = 0; i < src->n_uids; i++)
		alert_add_uid(dst, src->uids[i]);
}

static bool state_eq(const void *ent, const void *key)
{
	return ((const struct detect_alert_state *)ent)->key == *(const uint64_t *)key;
}

void detect_alert_fire(struct detect_engine *de, struct alert *a, const struct detect_evidence *ev)
{
	struct host *h = host_find(&de->hosts, a->family, &a->host);
	uint64_t key =
		ident_key(&a->host, a->kind,
			  a->account[0] ? detect_hash_lower(a->account, strlen(a->account), 0) : 0);
	struct detect_alert_state *st;

	if (ev) {
		if (ev->first_ns && ev->first_ns < a->first_ns)
			a->first_ns = ev->first_ns;
		for (unsigned int i = 0; i < ev->n_ex; i++)
			alert_add_example(a, ev->ex[i].field, ev->ex[i].value,
					  strlen(ev->ex[i].value));
		for (unsigned int i = 0; i < ev->n_uids; i++)
			alert_add_uid(a, ev->uids[i]);
	}
	if (h)
		h->kinds |= (uint16_t)(1u << a->kind);
	a->score = h ? detect_host_score(de, h) : detect_kinds_score(de, 1u << a->kind);

	st = lru_find(&de->alerts, (uint32_t)key, state_eq, &key);
	if (!st) {
		st = lru_add(&de->alerts, (uint32_t)key, NULL);
		st->key = key;
		st->a = *a;
		st->last_emit_ns = de->now_ns;
		de->st.alerts++;
		de->st.alerts_by_kind[a->kind]++;
		if (h)
			host_tot_inc(&h->tot.alerts, 1);
		emit(de, &st->a);
		return;
	}
	lru_touch(&de->alerts, st);
	merge(&st->a, a);
	if (de->now_ns - st->last_emit_ns >= de->alert_interval_ns) {
		emit_update(de, st, de->now_ns);
	} else {
		st->dirty = true;
		de->st.alerts_suppressed++;
	}
}

void detect_alerts_tick(struct detect_engine *de, uint64_t now_ns, uint32_t budget)
{
	uint32_t high = de->alerts.high;

	for (uint32_t n = 0; n < budget && n < high; n++) {
		struct detect_alert_state *st;

		if (de->alert_cursor >= high)
			de->alert_cursor = 0;
		st = lru_at(&de->alerts, de->alert_cursor++);
		if (st && st->dirty && now_ns - st->last_emit_ns >= de->alert_interval_ns)
			emit_update(de, st, now_ns);
	}
}

void detect_alerts_flush(struct detect_engine *de)
{
	for (uint32_t i = 0; i < de->alerts.high; i++) {
		struct detect_alert_state *st = lru_at(&de->alerts, i);

		if (st && st->dirty)
			emit_update(de, st, de->now_ns);
	}
}

bool detect_engine_alert_next(const struct detect_engine *de, uint32_t *cursor,
			      const struct alert **out)
{
	for (; *cursor < de->alerts.high; (*cursor)++) {
		const struct detect_alert_state *st = lru_at(&de->alerts, *cursor);

		if (st) {
			*out = &st->a;
			(*cursor)++;
			return true;
		}
	}
	return false;
}
