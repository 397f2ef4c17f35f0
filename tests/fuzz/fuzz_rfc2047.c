// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz_rfc2047: header text through the encoded-word decoder and the
 * RFC 2231 value decoder, with an output capacity picked by the first
 * byte. Checks that nothing is written past the capacity.
 * Seeds: tests/fuzz/seeds/rfc2047/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/rfc2047.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[4096 + 16];
	size_t cap, n;

	if (size < 1)
		return 0;
	cap = data[0] & 1 ? 4096 : (size_t)data[0] / 8;
	memset(out + cap, 0x5a, 16);
	n = rfc2047_decode(data + 1, size - 1, out, cap);
	if (n > cap || out[cap] != 0x5a)
		abort();
	n = rfc2047_param_decode(data + 1, size - 1, out, cap);
	if (n > cap || out[cap] != 0x5a)
		abort();
	return 0;
}
