/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clock: wall and monotonic time in nanoseconds. The data path never calls
 * these: inside workers, time is the packet's timestamp.
 */
#ifndef RELAYWATCH_COMMON_CLOCK_H
#define RELAYWATCH_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NS_PER_SEC  1000000000ull
#define NS_PER_MSEC 1000000ull

static inline uint64_t clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static inline uint64_t clock_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

#endif /* RELAYWATCH_COMMON_CLOCK_H */
