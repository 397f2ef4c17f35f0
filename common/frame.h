/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * frame: length-delimited messages on a byte stream (sensor <-> collector):
 * a 4-byte big-endian length, then that many bytes. The reader is fed bytes
 * in any split and hands out whole frames; a length of zero or above the
 * configured maximum is a protocol error (the peer is broken or hostile and
 * the connection must be closed). Knows nothing of what the bytes mean.
 *
 * Owns: a receive buffer of max_frame + 4 bytes, allocated at init.
 * One reader per connection; not thread-safe.
 */
#ifndef RELAYWATCH_COMMON_FRAME_H
#define RELAYWATCH_COMMON_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HDR 4u

enum frame_status {
	FRAME_AGAIN = 0,    /* need more bytes */
	FRAME_OK = 1,	    /* *out / *out_len hold one frame */
	FRAME_TOO_BIG = -1, /* announced length above max_frame */
	FRAME_EMPTY = -2,   /* announced length 0 */
};

struct frame_reader {
	uint8_t *buf;
	uint32_t max_frame;
	uint32_t have;	   /* bytes in buf */
	uint32_t need;	   /* frame length once the header is in, else 0 */
	uint32_t consumed; /* bytes of buf already handed out */
};

int frame_reader_init(struct frame_reader *fr, uint32_t max_frame);
void frame_reader_fini(struct frame_reader *fr);

/*
 * Takes bytes from *p (advancing it, at most to end) and returns FRAME_OK
 * with a whole frame, FRAME_AGAIN when all input was taken without
 * completing one, or an error. The frame stays valid until the next call.
 */
enum frame_status frame_reader_feed(struct frame_reader *fr, const uint8_t **p, const uint8_t *end,
				    const uint8_t **out, uint32_t *out_len);

/* Writes the 4-byte header for a frame of len bytes. */
static inline void frame_put_header(uint8_t hdr[FRAME_HDR], uint32_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

#endif /* RELAYWATCH_COMMON_FRAME_H */
