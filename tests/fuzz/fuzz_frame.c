// SPDX-License-Identifier: BSD-3-Clause
/* The collector's frame reader on arbitrary bytes, fed in pieces whose sizes
 * come from the input itself: never a crash, never a frame past the input. */
#include <stddef.h>
#include <stdint.h>

#include "common/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_reader fr;
	const uint8_t *p, *end = data + size, *out;
	uint32_t out_len;
	size_t step;

	if (size < 1 || frame_reader_init(&fr, 4096) != 0)
		return 0;
	step = (size_t)data[0] % 17 + 1;
	p = data + 1;
	while (p < end) {
		const uint8_t *chunk_end = (size_t)(end - p) > step ? p + step : end;
		enum frame_status st;

		while ((st = frame_reader_feed(&fr, &p, chunk_end, &out, &out_len)) == FRAME_OK)
			if (out_len == 0 || out_len > 4096)
				__builtin_trap();
		if (st < 0)
			break;
	}
	frame_reader_fini(&fr);
	return 0;
}
