// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/window.h"

#include <string.h>

#define NS 1000000000ull

void window_cfg_init(struct window_cfg *c, uint32_t span_s)
{
	uint64_t span_ns = (uint64_t)(span_s ? span_s : 1) * NS;

	c->span_s = span_s ? span_s : 1;
	c->bucket_ns = span_ns / WINDOW_BUCKETS;
	if (c->bucket_ns < NS)
		c->bucket_ns = NS;
}

void window_clear(struct window *w)
{
	memset(w, 0, sizeof(*w));
}

/* Move the head forward to bucket cur, clearing the buckets it passes. */
static void advance(struct window *w, uint32_t cur)
{
	uint32_t gap = cur - w->head;

	if (gap >= WINDOW_BUCKETS) {
		memset(w->b, 0, sizeof(w->b));
	} else {
		for (uint32_t i = 1; i <= gap; i++)
			w->b[(uint32_t)(w->head + i) % WINDOW_BUCKETS] = 0;
	}
	w->head = cur;
}

bool window_add(struct window *w, const struct window_cfg *c, uint64_t now_ns, uint32_t n)
{
	uint32_t cur = (uint32_t)(now_ns / c->bucket_ns);
	uint16_t *b;

	/* Bucket numbers are compared by difference so 32-bit wrap is harmless. */
	if ((int32_t)(cur - w->head) > 0)
		advance(w, cur);
	else if (w->head - cur >= WINDOW_BUCKETS)
		return false;
	b = &w->b[cur % WINDOW_BUCKETS];
	*b = (uint32_t)*b + n > UINT16_MAX ? UINT16_MAX : (uint16_t)(*b + n);
	return true;
}

static uint32_t sum_buckets(const struct window *w, uint32_t cur, uint32_t nb)
{
	uint32_t sum = 0, age;

	/* A query older than the newest bucket sees the window as of the head. */
	if ((int32_t)(cur - w->head) < 0)
		cur = w->head;
	age = cur - w->head;
	if (age >= nb)
		return 0;
	for (uint32_t i = 0, at = w->head % WINDOW_BUCKETS; i < nb - age; i++) {
		sum += w->b[at];
		at = at ? at - 1 : WINDOW_BUCKETS - 1;
	}
	return sum;
}

uint32_t window_sum(const struct window *w, const struct window_cfg *c, uint64_t now_ns)
{
	return sum_buckets(w, (uint32_t)(now_ns / c->bucket_ns), WINDOW_BUCKETS);
}

uint32_t window_sum_last(const struct window *w, const struct window_cfg *c, uint64_t now_ns,
			 uint32_t secs)
{
	uint64_t nb = ((uint64_t)secs * NS + c->bucket_ns - 1) / c->bucket_ns;

	if (nb < 1)
		nb = 1;
	if (nb > WINDOW_BUCKETS)
		nb = WINDOW_BUCKETS;
	return sum_buckets(w, (uint32_t)(now_ns / c->bucket_ns), (uint32_t)nb);
}
