// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/hll.h"

#include <math.h>
#include <string.h>

#include "common/hash.h"

#define HLL_SEED 0x68c7a1d5f3b2e941ull

void hll_clear(struct hll *h)
{
	memset(h->reg, 0, sizeof(h->reg));
}

bool hll_add_hash(struct hll *h, uint64_t hash)
{
	uint32_t idx = (uint32_t)(hash >> HLL_Q);
	uint64_t rest = hash << HLL_P;
	/* Leading zeros of the remaining Q bits plus one, capped at Q + 1. */
	uint8_t rank = rest ? (uint8_t)(__builtin_clzll(rest) + 1) : (uint8_t)(HLL_Q + 1);

	if (rank > HLL_Q + 1)
		rank = HLL_Q + 1;
	if (h->reg[idx] >= rank)
		return false;
	h->reg[idx] = rank;
	return true;
}

bool hll_add(struct hll *h, const void *item, size_t len)
{
	return hll_add_hash(h, hash_bytes(item, len, HLL_SEED));
}

void hll_merge(struct hll *dst, const struct hll *src)
{
	for (uint32_t i = 0; i < HLL_M; i++)
		if (src->reg[i] > dst->reg[i])
			dst->reg[i] = src->reg[i];
}

/* sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1); the series converges for x < 1. */
static double ertl_sigma(double x)
{
	double y = 1, z = x, prev;

	if (x == 1.0)
		return INFINITY;
	for (int i = 0; i < 64; i++) {
		x *= x;
		prev = z;
		z += x * y;
		y += y;
		if (z == prev)
			break;
	}
	return z;
}

/* tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3 */
static double ertl_tau(double x)
{
	double y = 1, z = 1 - x, prev;

	if (x == 0.0 || x == 1.0)
		return 0;
	for (int i = 0; i < 64; i++) {
		x = sqrt(x);
		prev = z;
		y *= 0.5;
		z -= (1 - x) * (1 - x) * y;
		if (z == prev)
			break;
	}
	return z / 3;
}

static double estimate_from_counts(const uint32_t c[HLL_Q + 2])
{
	const double m = HLL_M;
	double z = m * ertl_tau(1.0 - c[HLL_Q + 1] / m);

	for (int k = HLL_Q; k >= 1; k--)
		z = 0.5 * (z + c[k]);
	z += m * ertl_sigma(c[0] / m);
	/* alpha_inf = 1 / (2 ln 2) */
	return m * m / (2.0 * M_LN2) / z;
}

double hll_estimate(const struct hll *h)
{
	uint32_t c[HLL_Q + 2] = {0};

	for (uint32_t i = 0; i < HLL_M; i++)
		c[h->reg[i]]++;
	return estimate_from_counts(c);
}

double hll_estimate_union(const struct hll *a, const struct hll *b)
{
	uint32_t c[HLL_Q + 2] = {0};

	for (uint32_t i = 0; i < HLL_M; i++)
		c[a->reg[i] > b->reg[i] ? a->reg[i] : b->reg[i]]++;
	return estimate_from_counts(c);
}

double hll_std_error(void)
{
	return 1.04 / sqrt((double)HLL_M);
}
