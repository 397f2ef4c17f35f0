/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log: leveled messages to stderr, one write per message so lines from
 * different threads never interleave. Safe from any thread. The rate-limited
 * form keeps a hostile input from turning a per-packet warning into a flood.
 */
#ifndef RELAYWATCH_COMMON_LOG_H
#define RELAYWATCH_COMMON_LOG_H

#include <stdatomic.h>
#include <stdint.h>

enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN = 1,
	LOG_LVL_INFO = 2,
	LOG_LVL_DEBUG = 3,
};

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
void log_set_ident(const char *ident);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* One message per call site per `secs` (wall clock); the rest are counted and
 * the count is reported with the next message that gets through. */
struct log_ratelimit {
	_Atomic uint64_t next_ns;
	_Atomic uint64_t suppressed;
};
void log_msg_rl(struct log_ratelimit *rl, unsigned int secs, enum log_level lvl, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));

#define log_warn_rl(secs, ...)                                                                     \
	do {                                                                                       \
		static struct log_ratelimit rl_;                                                   \
		log_msg_rl(&rl_, (secs), LOG_LVL_WARN, __VA_ARGS__);                               \
	} while (0)

#endif /* RELAYWATCH_COMMON_LOG_H */
