// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz_tls_hello: the client's first bytes through tls_hello_parse().
 * Checks the return contract (0, -EAGAIN or -EINVAL), a complete JA4 and
 * a terminated SNI on success, and that a prefix of a parsed hello is never
 * rejected as garbage.
 * Seeds: tests/fuzz/seeds/tls_hello/ (ClientHellos cut from the corpus captures).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/tls_hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_hello h;
	int r = tls_hello_parse(data, size, &h);

	if (r != 0 && r != -EAGAIN && r != -EINVAL)
		abort();
	if (r != 0)
		return 0;
	if (strlen(h.ja4) != TLS_HELLO_JA4_LEN || h.sni_len > TLS_HELLO_SNI_MAX ||
	    h.sni[h.sni_len] != '\0')
		abort();
	if (size > 1 && tls_hello_parse(data, size / 2, &h) == -EINVAL)
		abort();
	return 0;
}
