/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * url: finds http://, https://, ftp:// and www. URLs in decoded text or
 * HTML (href= values and bare text alike), streaming: a URL may be cut by
 * any chunk boundary. URLs are cut at URL_MAX bytes (counted) and lose
 * trailing punctuation that ends the sentence around them.
 *
 * Owns its struct only; embedded in smtp_msg, one scan per text part.
 * Worker thread only.
 */
#ifndef RELAYWATCH_SENSOR_URL_H
#define RELAYWATCH_SENSOR_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define URL_MAX 1024
#define URL_WIN 8 /* bytes of the previous chunk kept to recognise a split scheme */

struct url {
	bool in_url;
	bool cut;
	uint8_t win_len;
	uint16_t len;
	uint32_t found;	    /* URLs emitted */
	uint32_t cut_count; /* URLs longer than URL_MAX */
	uint8_t win[URL_WIN];
	uint8_t buf[URL_MAX];
};

void url_init(struct url *u);
/* cb gets each URL; the pointer is valid during the call only. */
void url_feed(struct url *u, const uint8_t *p, size_t n,
	      void (*cb)(void *arg, const uint8_t *url, size_t len), void *arg);
/* End of the text: a URL running to its end is emitted; the scan starts afresh. */
void url_end(struct url *u, void (*cb)(void *arg, const uint8_t *url, size_t len), void *arg);

/* The offset of the next '/' or '.' in p[i..n), or n (the bytes a URL start ends with). */
size_t url_mark_next(const uint8_t *p, size_t i, size_t n);

#endif /* RELAYWATCH_SENSOR_URL_H */
