/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rfc2047: header text to UTF-8. Decodes RFC 2047 encoded words (B and Q,
 * adjacent words joined without the whitespace between them) and RFC 2231
 * extended parameter values (charset'lang'%XX), converting charsets with
 * glibc iconv. Invalid words pass through untouched; output is bounded by
 * the caller's buffer and never allocated.
 *
 * Owns a per-thread cache of iconv converters (one per known charset),
 * opened by rfc2047_thread_init() at worker start, or on first use of a
 * charset when that was not called. Any thread; converters never cross.
 */
#ifndef RELAYWATCH_SENSOR_RFC2047_H
#define RELAYWATCH_SENSOR_RFC2047_H

#include <stddef.h>
#include <stdint.h>

/* Opens every converter of the calling thread now (off the packet path). */
int rfc2047_thread_init(void);
/* Closes the calling thread's converters. */
void rfc2047_thread_fini(void);

/* Header value with encoded words → UTF-8 in out; returns bytes written (≤ cap). */
size_t rfc2047_decode(const uint8_t *in, size_t n, char *out, size_t cap);

/*
 * Bytes in a named charset → UTF-8; returns bytes written. An unknown
 * charset copies the bytes as they are. Bytes a charset cannot hold become
 * U+FFFD.
 */
size_t rfc2047_convert(const char *charset, size_t cslen, const uint8_t *in, size_t n, char *out,
		       size_t cap);

/* RFC 2231 value "charset'lang'text%XX" → UTF-8; returns bytes written. */
size_t rfc2047_param_decode(const uint8_t *in, size_t n, char *out, size_t cap);

/* %XX decoding as RFC 2231 uses it; returns bytes written (≤ cap). */
size_t rfc2047_pct_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap);

#endif /* RELAYWATCH_SENSOR_RFC2047_H */
