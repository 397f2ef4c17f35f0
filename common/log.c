// SPDX-License-Identifier: BSD-3-Clause
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"

static _Atomic int log_level = LOG_LVL_INFO;
static const char *log_ident = "relaywatch";

static const char *const level_names[] = {
	[LOG_LVL_ERR] = "error",
	[LOG_LVL_WARN] = "warning",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

void log_set_level(enum log_level lvl)
{
	atomic_store(&log_level, (int)lvl);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

void log_set_ident(const char *ident)
{
	log_ident = ident;
}

static void log_vmsg(enum log_level lvl, uint64_t suppressed, const char *fmt, va_list ap)
{
	char line[1024];
	int n, m;

	n = snprintf(line, sizeof(line), "%s: %s: ", log_ident, level_names[lvl]);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n >= sizeof(line) - 40)
		n = (int)(sizeof(line) - 40);
	if (suppressed)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " (%llu similar suppressed)",
			      (unsigned long long)suppressed);
	line[n++] = '\n';
	/* A single write keeps concurrent lines whole. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if ((int)lvl > atomic_load_explicit(&log_level, memory_order_relaxed))
		return;
	va_start(ap, fmt);
	log_vmsg(lvl, 0, fmt, ap);
	va_end(ap);
}

void log_msg_rl(struct log_ratelimit *rl, unsigned int secs, enum log_level lvl, const char *fmt,
		...)
{
	uint64_t now = clock_mono_ns();
	uint64_t next = atomic_load_explicit(&rl->next_ns, memory_order_relaxed);
	va_list ap;

	if ((int)lvl > atomic_load_explicit(&log_level, memory_order_relaxed))
		return;
	if (now < next || !atomic_compare_exchange_strong(&rl->next_ns, &next,
							  now + (uint64_t)secs * 1000000000ull)) {
		atomic_fetch_add_explicit(&rl->suppressed, 1, memory_order_relaxed);
		return;
	}
	va_start(ap, fmt);
	log_vmsg(lvl, atomic_exchange(&rl->suppressed, 0), fmt, ap);
	va_end(ap);
}
