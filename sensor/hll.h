/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hll: HyperLogLog distinct counter, 2^HLL_P one-byte registers over a 64-bit
 * hash (XXH3 from common/hash.h). The estimate is Ertl's improved raw
 * estimator ("New cardinality estimation algorithms for HyperLogLog
 * sketches", 2017): unbiased from empty to 2^50 without empirical bias
 * tables, and at small counts it behaves as linear counting does, so a set
 * of a few dozen items comes out within 1 + 2 %. Standard error
 * 1.04/sqrt(m): 3.3 % at p = 10. Exact small sets with windows are
 * distinct.h's job.
 * Plain values: the owner decides threading (detector thread here).
 */
#ifndef RELAYWATCH_SENSOR_HLL_H
#define RELAYWATCH_SENSOR_HLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HLL_P 10
#define HLL_M (1u << HLL_P)
/* Register values run 0 .. HLL_Q + 1. */
#define HLL_Q (64 - HLL_P)

struct hll {
	uint8_t reg[HLL_M];
};

void hll_clear(struct hll *h);
/* True when a register grew (the estimate may have changed). */
bool hll_add_hash(struct hll *h, uint64_t hash);
bool hll_add(struct hll *h, const void *item, size_t len);
/* dst |= src */
void hll_merge(struct hll *dst, const struct hll *src);
double hll_estimate(const struct hll *h);
/* Estimate of the union of a and b without changing either. */
double hll_estimate_union(const struct hll *a, const struct hll *b);
/* Relative standard error of an estimate. */
double hll_std_error(void);

#endif /* RELAYWATCH_SENSOR_HLL_H */
