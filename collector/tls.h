/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tls: the collector's server-side TLS (OpenSSL): TLS 1.2 or later, our
 * certificate and key, and client certificates required and verified
 * against --tls-ca. A sensor is who its certificate says: the sensor_id in
 * its SensorHello must be a DNS name in the certificate's subjectAltName,
 * or its subject CN when it has no DNS names (RFC 6125 rules, exact match,
 * no wildcards). Owns the SSL_CTX; the event-loop thread uses it.
 */
#ifndef RELAYWATCH_COLLECTOR_TLS_H
#define RELAYWATCH_COLLECTOR_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "common/errbuf.h"

int tls_ctx_create(const char *cert, const char *key, const char *ca, SSL_CTX **out,
		   struct errbuf *eb);
void tls_ctx_destroy(SSL_CTX *ctx);

/* True when the verified peer certificate names sensor_id. */
bool tls_peer_is(SSL *ssl, const char *sensor_id);
/* The peer certificate's subject, one line ("" when none). */
void tls_peer_subject(SSL *ssl, char *buf, size_t cap);
/* The last OpenSSL error queued on this thread, for a log line. */
const char *tls_last_error(char *buf, size_t cap, unsigned long err);

#endif /* RELAYWATCH_COLLECTOR_TLS_H */
