/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_text: the bytes gen_traffic puts in sessions: a growable text buffer,
 * SMTP replies, and whole mail messages (headers, plain text with some spam
 * and phishing phrases and URLs, base64 attachments) made from a seed.
 * Owns each buffer's memory; single-threaded; benchmark tool only.
 */
#ifndef RELAYWATCH_BENCH_GEN_TEXT_H
#define RELAYWATCH_BENCH_GEN_TEXT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gen_text {
	char *buf;
	size_t len, cap;
	bool failed; /* an allocation failed: the content is cut */
};

struct gen_msg_opts {
	uint32_t n_rcpt;     /* addresses in To: */
	uint32_t body_bytes; /* content after the header block, about */
	bool spam;	     /* a phrase the spam rules know */
	bool phish;	     /* a phishing phrase and URL */
	bool urls;	     /* ordinary links */
	uint64_t seed;
};

void gen_text_vprintf(struct gen_text *t, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void gen_text_printf(struct gen_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Base64 of user, then CR LF: an AUTH LOGIN answer. */
void gen_text_b64_line(struct gen_text *t, const char *s);
/* AUTH PLAIN's "\0user\0pass" in base64, then CR LF. */
void gen_text_b64_plain(struct gen_text *t, const char *user, const char *pass);
/* A whole message in SMTP DATA form (dot-stuffed, CR LF), without the final dot. */
void gen_text_message(struct gen_text *t, const struct gen_msg_opts *o);

const char *gen_text_domain(uint32_t i);
/* kind 0 accepts; 1 unknown user, 2 relay denied, 3 blocklisted client. */
const char *gen_text_rcpt_reply(unsigned int kind);
/* Fill n bytes with noise from seed (payload of non-mail flows). */
void gen_text_noise(uint8_t *p, size_t n, uint64_t seed);

#endif /* RELAYWATCH_BENCH_GEN_TEXT_H */
