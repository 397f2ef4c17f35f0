/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tls_hello: facts from a TLS ClientHello (after STARTTLS, or first bytes on
 * port 465): server name, highest offered version, and the JA4 client
 * fingerprint (FoxIO JA4: protocol, version, SNI flag, cipher and extension
 * counts, ALPN, then truncated SHA-256 of the sorted cipher list and of the
 * sorted extensions with signature algorithms). Bots and spam kits have
 * telling TLS stacks. Parses bytes only; no state, any thread.
 */
#ifndef RELAYWATCH_SENSOR_TLS_HELLO_H
#define RELAYWATCH_SENSOR_TLS_HELLO_H

#include <stddef.h>
#include <stdint.h>

#define TLS_HELLO_SNI_MAX 255
#define TLS_HELLO_JA4_LEN 36 /* t13d1516h2_8daaf6152771_02713d6af862 */

struct tls_hello {
	uint16_t version; /* highest offered: supported_versions, else client_version */
	uint16_t sni_len;
	char sni[TLS_HELLO_SNI_MAX + 1];
	char ja4[TLS_HELLO_JA4_LEN + 1];
};

/*
 * p/n: the start of the client's TLS byte stream (one or more records).
 * Returns 0 when a ClientHello was parsed, -EAGAIN when more bytes are
 * needed, -EINVAL when this is not a TLS ClientHello.
 */
int tls_hello_parse(const uint8_t *p, size_t n, struct tls_hello *out);

/* The SHA-256 context of the calling thread, made now rather than on the
 * first hello (OpenSSL allocates); made lazily when this was not called. */
int tls_hello_thread_init(void);
void tls_hello_thread_fini(void);

#endif /* RELAYWATCH_SENSOR_TLS_HELLO_H */
