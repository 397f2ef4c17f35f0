// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/baseline.h"

#include <math.h>

#define NS 1000000000ull

static double decayed(const struct baseline *b, const struct baseline_cfg *c, uint32_t now)
{
	/* Late events (now < last_s) decay nothing. */
	double dt = now > b->last_s ? (double)(now - b->last_s) : 0.0;

	return b->s * exp2(-dt / c->halflife_s);
}

void baseline_add(struct baseline *b, const struct baseline_cfg *c, uint64_t now_ns, double n)
{
	uint32_t now = (uint32_t)(now_ns / NS);

	if (!b->first_s) {
		b->first_s = now ? now : 1;
		b->last_s = b->first_s;
	}
	b->s = decayed(b, c, now) + n;
	if (now > b->last_s)
		b->last_s = now;
}

uint32_t baseline_age(const struct baseline *b, uint64_t now_ns)
{
	uint32_t now = (uint32_t)(now_ns / NS);

	return b->first_s && now > b->first_s ? now - b->first_s : 0;
}

/* Rate from a decayed count s that accumulated over `age` seconds: the
 * weights of a steady stream sum to h/ln2 * (1 - 2^(-age/h)). */
static double rate_of(double s, double age, double h)
{
	double w;

	if (age < 1)
		age = 1;
	w = h / M_LN2 * (1.0 - exp2(-age / h));
	return w > 0 ? s / w : 0;
}

double baseline_rate(const struct baseline *b, const struct baseline_cfg *c, uint64_t now_ns)
{
	uint32_t now = (uint32_t)(now_ns / NS);

	if (!b->first_s)
		return 0;
	return rate_of(decayed(b, c, now), baseline_age(b, now_ns), c->halflife_s);
}

double baseline_rate_before(const struct baseline *b, const struct baseline_cfg *c, uint64_t now_ns,
			    uint32_t window_s, double recent)
{
	uint32_t now = (uint32_t)(now_ns / NS), age = baseline_age(b, now_ns);
	double s;

	if (!b->first_s || age <= window_s)
		return 0;
	/* The window's events carry weight close to 1: take them out, then look
	 * at the history as it stood when the window began. */
	s = decayed(b, c, now) - recent;
	if (s < 0)
		s = 0;
	s *= exp2((double)window_s / c->halflife_s);
	return rate_of(s, (double)(age - window_s), c->halflife_s);
}
