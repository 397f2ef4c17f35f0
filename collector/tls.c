// SPDX-License-Identifier: BSD-3-Clause
#include "collector/tls.h"

#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

static int fail(struct errbuf *eb, const char *what, const char *file)
{
	char msg[256];

	tls_last_error(msg, sizeof(msg), ERR_get_error());
	ERR_clear_error();
	return errbuf_set(eb, -EINVAL, "tls: %s %s: %s", what, file, msg);
}

int tls_ctx_create(const char *cert, const char *key, const char *ca, SSL_CTX **out,
		   struct errbuf *eb)
{
	static const unsigned char sid_ctx[] = "relaywatch-collector";
	STACK_OF(X509_NAME) * names;
	SSL_CTX *ctx;
	int err;

	if (!cert || !key || !ca)
		return errbuf_set(eb, -EINVAL,
				  "tls: --tls-cert, --tls-key and --tls-ca go together");
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return errbuf_set(eb, -ENOMEM, "tls: cannot create a context");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		err = fail(eb, "cannot load certificate", cert);
		goto err_free;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		err = fail(eb, "cannot load the key (or it does not match the certificate)", key);
		goto err_free;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		err = fail(eb, "cannot load CA", ca);
		goto err_free;
	}
	names = SSL_load_client_CA_file(ca);
	if (names)
		SSL_CTX_set_client_CA_list(ctx, names);
	/* No certificate, or one our CA did not sign: the handshake fails. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	*out = ctx;
	return 0;

err_free:
	SSL_CTX_free(ctx);
	return err;
}

void tls_ctx_destroy(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

bool tls_peer_is(SSL *ssl, const char *sensor_id)
{
	X509 *cert;
	bool ok;

	if (!ssl || SSL_get_verify_result(ssl) != X509_V_OK)
		return false;
	cert = SSL_get1_peer_certificate(ssl);
	if (!cert)
		return false;
	ok = X509_check_host(cert, sensor_id, strlen(sensor_id), X509_CHECK_FLAG_NO_WILDCARDS,
			     NULL) == 1;
	X509_free(cert);
	return ok;
}

void tls_peer_subject(SSL *ssl, char *buf, size_t cap)
{
	X509 *cert = ssl ? SSL_get1_peer_certificate(ssl) : NULL;

	buf[0] = '\0';
	if (!cert)
		return;
	X509_NAME_oneline(X509_get_subject_name(cert), buf, (int)cap);
	X509_free(cert);
}

const char *tls_last_error(char *buf, size_t cap, unsigned long err)
{
	if (!err) {
		snprintf(buf, cap, "no OpenSSL error");
		return buf;
	}
	ERR_error_string_n(err, buf, cap);
	return buf;
}
