// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/sigs_url.h"

#include <stdlib.h>

#include "sensor/sigs_lit.h"

#define SIGS_URL_LITS	 128 /* literals of 3 bytes or more; more: no finder */
#define SIGS_URL_SHORT	 8   /* gate literals shorter than 3 bytes ("@") */
#define SIGS_URL_BUCKETS 256 /* lit[] ranges by the low byte of the hash */

struct sigs_url_lit {
	uint16_t tri; /* hash of the first 3 bytes */
	uint8_t kind; /* enum sigs_url_hit */
	struct sigs_lit lit;
};

struct sigs_url_find {
	uint64_t tri[SIGS_LIT_TRI_WORDS]; /* the literals' first 3 bytes (sigs_lit.h) */
	unsigned int n, n_short;
	/* lit[] in order of the low byte of tri: those of byte b are
	 * lit[at[b]..at[b + 1]), so a hit compares one or two, not all. */
	uint8_t at[SIGS_URL_BUCKETS + 1];
	struct sigs_url_lit lit[SIGS_URL_LITS];
	struct sigs_lit short_gate[SIGS_URL_SHORT];
};

static bool sigs_url_add(struct sigs_url_find *f, const struct sigs_lit *l, uint8_t kind)
{
	struct sigs_url_lit *e;

	if (l->len < 3) {
		if (kind != SIGS_URL_GATE || l->len == 0 || f->n_short == SIGS_URL_SHORT)
			return false;
		f->short_gate[f->n_short++] = *l;
		return true;
	}
	if (f->n == SIGS_URL_LITS)
		return false;
	e = &f->lit[f->n++];
	e->lit = *l;
	e->kind = kind;
	e->tri = (uint16_t)sigs_lit_tri_set(f->tri, (uint8_t)l->s[0], (uint8_t)l->s[1],
					    (uint8_t)l->s[2]);
	return true;
}

/* Sort lit[] by bucket (insertion: at most SIGS_URL_LITS) and mark where each starts. */
static void sigs_url_order(struct sigs_url_find *f)
{
	for (unsigned int i = 1; i < f->n; i++) {
		struct sigs_url_lit e = f->lit[i];
		unsigned int j = i;

		for (; j > 0 && (f->lit[j - 1].tri & 255) > (e.tri & 255); j--)
			f->lit[j] = f->lit[j - 1];
		f->lit[j] = e;
	}
	for (unsigned int b = 0, i = 0; b <= SIGS_URL_BUCKETS; b++) {
		while (i < f->n && (f->lit[i].tri & 255) < b)
			i++;
		f->at[b] = (uint8_t)i;
	}
}

struct sigs_url_find *sigs_url_find_build(const struct sigs_lit *gate, unsigned int n_gate,
					  const struct sigs_lit *set, unsigned int n_set)
{
	struct sigs_url_find *f = calloc(1, sizeof(*f));
	bool ok = f != NULL;

	for (unsigned int i = 0; ok && i < n_gate; i++)
		ok = sigs_url_add(f, &gate[i], SIGS_URL_GATE);
	for (unsigned int i = 0; ok && i < n_set; i++)
		ok = sigs_url_add(f, &set[i], SIGS_URL_SET);
	if (!ok) {
		free(f);
		return NULL;
	}
	sigs_url_order(f);
	return f;
}

void sigs_url_find_free(struct sigs_url_find *f)
{
	free(f);
}

/* The strongest kind of the literals whose first 3 bytes hash to h and that start at p[at]. */
static unsigned int sigs_url_at(const struct sigs_url_find *f, uint32_t h, const uint8_t *p,
				size_t at, size_t n)
{
	unsigned int best = SIGS_URL_NONE;

	for (unsigned int i = f->at[h & 255]; i < f->at[(h & 255) + 1]; i++) {
		const struct sigs_url_lit *e = &f->lit[i];
		size_t k = 0;

		if (e->tri != h || e->kind <= best || e->lit.len > n - at)
			continue;
		while (k < e->lit.len && byte_lower(p[at + k]) == (uint8_t)e->lit.s[k])
			k++;
		if (k == e->lit.len)
			best = e->kind;
	}
	return best;
}

enum sigs_url_hit sigs_url_find(const struct sigs_url_find *f, const uint8_t *p, size_t n)
{
	unsigned int best = SIGS_URL_NONE;
	uint32_t h;

	for (unsigned int i = 0; i < f->n_short; i++)
		if (sigs_lit_in(&f->short_gate[i], p, n))
			return SIGS_URL_GATE;
	if (n < 3)
		return SIGS_URL_NONE;
	/* Every literal's first 3 bytes end at some i: a bit of the bitmap
	 * answers for most places, the literals are compared where it is set. */
	h = sigs_lit_tri_start(p);
	for (size_t i = 2; (i = sigs_lit_tri_next(f->tri, p, i, n, &h)) < n; i++) {
		unsigned int k = sigs_url_at(f, h, p, i - 2, n);

		if (k == SIGS_URL_GATE)
			return SIGS_URL_GATE;
		if (k > best)
			best = k;
	}
	return (enum sigs_url_hit)best;
}
