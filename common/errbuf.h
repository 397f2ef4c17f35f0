/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * errbuf: a human-readable reason carried up from a loader or an init
 * function to the caller that prints it (Redis anet style). The function
 * still returns -errno; the buffer only adds the words.
 */
#ifndef RELAYWATCH_COMMON_ERRBUF_H
#define RELAYWATCH_COMMON_ERRBUF_H

#include <stdarg.h>
#include <stdio.h>

struct errbuf {
	char msg[512];
};

/* Returns err so that callers can write `return errbuf_set(eb, -EINVAL, ...)`. */
static inline int __attribute__((format(printf, 3, 4)))
errbuf_set(struct errbuf *eb, int err, const char *fmt, ...)
{
	va_list ap;

	if (!eb)
		return err;
	va_start(ap, fmt);
	vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
	va_end(ap);
	return err;
}

#endif /* RELAYWATCH_COMMON_ERRBUF_H */
