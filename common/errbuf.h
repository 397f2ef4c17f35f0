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
#include <string.h>

struct errbuf {
	char msg[512];
};

/* Returns err so that callers can write `return errbuf_set(eb, -EINVAL, ...)`.
 * The message may quote eb->msg itself to add context ("--smtp-ports: %s",
 * eb->msg): it is formatted into a copy first. */
static inline int __attribute__((format(printf, 3, 4)))
errbuf_set(struct errbuf *eb, int err, const char *fmt, ...)
{
	char msg[sizeof(eb->msg)];
	va_list ap;

	if (!eb)
		return err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(eb->msg, msg, sizeof(msg));
	return err;
}

#endif /* RELAYWATCH_COMMON_ERRBUF_H */
