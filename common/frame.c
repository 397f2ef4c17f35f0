// SPDX-License-Identifier: BSD-3-Clause
#include "common/frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int frame_reader_init(struct frame_reader *fr, uint32_t max_frame)
{
	memset(fr, 0, sizeof(*fr));
	if (max_frame == 0 || max_frame > (1u << 30))
		return -EINVAL;
	fr->buf = malloc((size_t)max_frame + FRAME_HDR);
	if (!fr->buf)
		return -ENOMEM;
	fr->max_frame = max_frame;
	return 0;
}

void frame_reader_fini(struct frame_reader *fr)
{
	if (!fr)
		return;
	free(fr->buf);
	memset(fr, 0, sizeof(*fr));
}

static uint32_t take(struct frame_reader *fr, const uint8_t **p, const uint8_t *end, uint32_t want)
{
	uint32_t avail = (uint32_t)(end - *p < (long)want ? end - *p : (long)want);

	memcpy(fr->buf + fr->have, *p, avail);
	fr->have += avail;
	*p += avail;
	return avail;
}

enum frame_status frame_reader_feed(struct frame_reader *fr, const uint8_t **p, const uint8_t *end,
				    const uint8_t **out, uint32_t *out_len)
{
	if (fr->consumed) {
		/* The previous frame was handed out: start the next one afresh. */
		fr->have = 0;
		fr->need = 0;
		fr->consumed = 0;
	}
	if (fr->have < FRAME_HDR) {
		take(fr, p, end, FRAME_HDR - fr->have);
		if (fr->have < FRAME_HDR)
			return FRAME_AGAIN;
		fr->need = (uint32_t)fr->buf[0] << 24 | (uint32_t)fr->buf[1] << 16 |
			   (uint32_t)fr->buf[2] << 8 | fr->buf[3];
		if (fr->need == 0)
			return FRAME_EMPTY;
		if (fr->need > fr->max_frame)
			return FRAME_TOO_BIG;
	}
	take(fr, p, end, FRAME_HDR + fr->need - fr->have);
	if (fr->have < FRAME_HDR + fr->need)
		return FRAME_AGAIN;
	*out = fr->buf + FRAME_HDR;
	*out_len = fr->need;
	fr->consumed = 1;
	return FRAME_OK;
}
