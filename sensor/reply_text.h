/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reply_text: what a server's 4xx/5xx reply means to the detectors, from
 * its code, enhanced status code and text: a blocklist named (Spamhaus,
 * "blocked using", "listed at", DNSBL/RBL ...), relaying refused, or an
 * unknown mailbox. Built in, so the blocklisted, relay_probe and
 * recipient_harvest detectors work whether or not signature files are
 * loaded (signatures add their own matches; the engine counts each
 * transaction once). Pure functions; any thread.
 */
#ifndef RELAYWATCH_SENSOR_REPLY_TEXT_H
#define RELAYWATCH_SENSOR_REPLY_TEXT_H

#include <stddef.h>
#include <stdint.h>

enum reply_text_class {
	REPLY_TEXT_NONE = 0,
	REPLY_TEXT_BLOCKLIST = 1,
	REPLY_TEXT_RELAY_DENIED = 2,
	REPLY_TEXT_USER_UNKNOWN = 3,
};

struct reply_code {
	uint16_t code;	   /* 250, 550 ... */
	uint8_t enh_class; /* 2/4/5, 0: no enhanced code */
	uint8_t enh_subject;
	uint16_t enh_detail;
};

/* Only 4xx and 5xx replies get a class. */
enum reply_text_class reply_text_classify(const struct reply_code *rc, const char *text,
					  size_t len);

#endif /* RELAYWATCH_SENSOR_REPLY_TEXT_H */
