/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smtp_msg: the content of one message (DATA after dot-unstuffing, or the
 * BDAT chunks), fed in pieces split anywhere. Parses the header block
 * (folded lines, the fields the transaction record keeps, RFC 2047 encoded
 * words in Subject and display names, Received path, address lists of To:
 * and Cc:), then walks the MIME structure and decodes base64 and
 * quoted-printable parts, handing decoded body text to a sink (Hyperscan,
 * URL extraction). Bounded: headers past max_header_bytes are counted and
 * skipped, nested parts past a fixed depth are treated as opaque.
 *
 * Owns nothing outside its struct; the session embeds one per message in
 * flight. Worker thread only.
 */
#ifndef RELAYWATCH_SENSOR_SMTP_MSG_H
#define RELAYWATCH_SENSOR_SMTP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/smtp_tx.h"

struct smtp_msg_part {
	uint16_t depth; /* MIME nesting, 0 for a single-part body */
	uint16_t index; /* part number within the message */
	bool is_text;	/* text/ * */
	bool is_html;
	bool is_attachment;    /* Content-Disposition: attachment or a filename */
	uint8_t encoding;      /* 0 7bit/8bit, 1 base64, 2 quoted-printable */
	uint16_t filename_len; /* 0: none */
	const char *filename;  /* UTF-8 (RFC 2231 / 2047 decoded); valid during the call */
};

/* Callbacks; any may be NULL. Pointers are valid during the call only. */
struct smtp_msg_sink {
	/* One unfolded header field of the top-level message. */
	void (*header)(void *arg, const char *name, size_t name_len, const uint8_t *value,
		       size_t value_len);
	/* The header block ended (blank line). */
	void (*headers_done)(void *arg);
	/* Decoded body bytes of a part, in order, any split (text parts only by default). */
	void (*body)(void *arg, const struct smtp_msg_part *part, const uint8_t *p, size_t n);
	void (*part_end)(void *arg, const struct smtp_msg_part *part);
	/* A URL found in text or HTML parts (cut at 1 KiB). */
	void (*url)(void *arg, const uint8_t *url, size_t n);
	/* The end of each smtp_msg_feed that called body, and of each _gap and
	 * _end call: a sink may hold body pieces back and scan them together up
	 * to here (or up to a url call). */
	void (*fed)(void *arg);
};

struct smtp_msg_cfg {
	uint32_t max_header_bytes;
	bool decode_body;   /* MIME walk and decoding; off when nobody consumes the body */
	bool binary_bodies; /* decode non-text parts too (default: only text reaches body) */
	bool keep_subject;
};

/* Cuts and oddities of one message (read them before the next smtp_msg_begin). */
struct smtp_msg_stats {
	uint64_t parts;	       /* leaf parts walked */
	uint64_t opaque_parts; /* nested deeper than the walker follows */
	uint64_t fields_cut;   /* header fields longer than the field buffer */
	uint64_t boundary_too_long;
	uint64_t hdr_bytes_skipped; /* header bytes past max_header_bytes */
	uint64_t b64_invalid;	    /* characters outside the base64 alphabet, skipped */
	uint64_t qp_invalid;	    /* broken '=' escapes, kept literally */
	uint64_t urls;		    /* URLs handed to the sink */
	uint64_t urls_cut;	    /* URLs longer than 1 KiB */
	uint64_t gaps;
};

struct smtp_msg;

size_t smtp_msg_size(void);
/* Starts a message for tx; m points to smtp_msg_size() bytes. */
void smtp_msg_begin(struct smtp_msg *m, const struct smtp_msg_cfg *cfg, struct smtp_tx *tx,
		    const struct smtp_msg_sink *sink, void *sink_arg);
void smtp_msg_feed(struct smtp_msg *m, const uint8_t *p, size_t n);
/* n bytes of the message are missing. */
void smtp_msg_gap(struct smtp_msg *m, size_t n);
/* End of message: flushes decoders and finishes the record's header facts. */
void smtp_msg_end(struct smtp_msg *m);
bool smtp_msg_in_headers(const struct smtp_msg *m);
void smtp_msg_stats(const struct smtp_msg *m, struct smtp_msg_stats *out);

#endif /* RELAYWATCH_SENSOR_SMTP_MSG_H */
