/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mime: streaming walker over one Internet message (RFC 5322 header block,
 * RFC 2045-2049 MIME structure), fed in pieces split anywhere. Unfolds
 * header fields, follows Content-Type / boundary / Content-Transfer-Encoding
 * / Content-Disposition through nested multiparts and message/rfc822 parts
 * up to MIME_MAX_DEPTH (deeper parts are skipped as opaque and counted),
 * and decodes base64 and quoted-printable with decoders that keep their
 * state across calls. A message without MIME is one text part.
 *
 * Owns nothing outside its struct: fixed buffers, no allocation. Embedded
 * in smtp_msg; worker thread only. The decoders are usable on their own.
 */
#ifndef RELAYWATCH_SENSOR_MIME_H
#define RELAYWATCH_SENSOR_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIME_MAX_DEPTH	  8    /* nested entities walked; deeper ones are opaque */
#define MIME_BOUNDARY_MAX 76   /* RFC 2046: 1-70 characters; longer ones are not followed */
#define MIME_FIELD_MAX	  2048 /* one unfolded header field; the rest is cut and counted */
#define MIME_FILENAME_MAX 256

/* ---- decoders ---- */

/* Value of a hex digit (either case), -1 for anything else. */
int mime_hexval(uint8_t c);

struct mime_b64 {
	uint32_t acc;
	uint8_t bits;
	uint64_t invalid; /* characters outside the alphabet, skipped */
};

/* out must hold n * 3 / 4 + 3 bytes. Whitespace is skipped, '=' ends a quantum. */
size_t mime_b64_decode(struct mime_b64 *st, const uint8_t *in, size_t n, uint8_t *out);

#define MIME_QP_WS_MAX 64 /* trailing-whitespace candidates held back */
#define MIME_QP_SLACK  (MIME_QP_WS_MAX + 4)

struct mime_qp {
	uint8_t state;
	uint8_t hex; /* first digit after '=' */
	uint8_t ws_len;
	uint8_t ws[MIME_QP_WS_MAX];
	uint64_t invalid; /* '=' not followed by two hex digits or a line end */
};

/*
 * out must hold n + MIME_QP_SLACK bytes. Soft line breaks ("=" CRLF, also
 * with whitespace before the CRLF) vanish, whitespace at the end of a line
 * is dropped, a hard line break comes out as it came in.
 */
size_t mime_qp_decode(struct mime_qp *st, const uint8_t *in, size_t n, uint8_t *out);
/* End of the encoded text: writes what was held back (at most 3 bytes). */
size_t mime_qp_finish(struct mime_qp *st, uint8_t *out);

/* ---- walker ---- */

enum mime_enc {
	MIME_ENC_NONE = 0, /* 7bit, 8bit, binary, unknown */
	MIME_ENC_BASE64 = 1,
	MIME_ENC_QP = 2,
};

enum mime_type {
	MIME_T_TEXT = 0,
	MIME_T_MULTIPART,
	MIME_T_MESSAGE, /* message/rfc822: a whole message inside */
	MIME_T_OTHER,
};

struct mime_part {
	uint16_t depth;	  /* 0: the message itself is the part */
	uint16_t index;	  /* leaf parts in order, from 0 */
	uint8_t type;	  /* enum mime_type */
	uint8_t encoding; /* enum mime_enc */
	bool is_html;
	bool is_attachment; /* Content-Disposition: attachment, or a file name */
	uint16_t filename_len;
	char filename[MIME_FILENAME_MAX]; /* UTF-8 (RFC 2231 / RFC 2047 decoded) */
};

struct mime_cb {
	/* An unfolded field of the top-level header (value: after the colon, CRLFs removed). */
	void (*header)(void *arg, const char *name, size_t name_len, const uint8_t *value,
		       size_t value_len);
	void (*headers_done)(void *arg);
	void (*body)(void *arg, const struct mime_part *part, const uint8_t *p, size_t n);
	void (*part_end)(void *arg, const struct mime_part *part);
	/* Decode and deliver text parts only: the walker still follows the
	 * others (boundaries, names, part_end) but leaves their bytes alone. */
	bool text_only;
};

struct mime_stats {
	uint32_t parts;	     /* leaf parts delivered */
	uint32_t opaque;     /* entities past MIME_MAX_DEPTH, skipped */
	uint32_t fields_cut; /* header fields longer than MIME_FIELD_MAX */
	uint32_t boundary_too_long;
	uint32_t gaps;
	uint64_t hdr_bytes_skipped; /* top-level header bytes past the limit */
	uint64_t b64_invalid;
	uint64_t qp_invalid;
};

struct mime_level {
	uint8_t len;
	uint8_t depth; /* depth of the multipart entity */
	char b[MIME_BOUNDARY_MAX];
};

/* What an entity's header says, collected while it is read. */
struct mime_ent {
	uint8_t type;	  /* enum mime_type */
	uint8_t encoding; /* enum mime_enc */
	bool is_html, is_attachment;
	uint8_t blen;	/* boundary parameter: 0 none, 0xff too long to follow */
	uint8_t fn_src; /* file name from: 0 nothing, 1 name=, 2 filename= */
	uint8_t fn_cs_len;
	uint16_t fn_len;
	char fn_cs[32]; /* RFC 2231 charset of the file name */
	char boundary[MIME_BOUNDARY_MAX];
	char fn[MIME_FILENAME_MAX]; /* file name bytes before charset conversion */
};

struct mime {
	const struct mime_cb *cb;
	void *arg;
	uint32_t max_header_bytes; /* top-level header; 0: no limit */
	bool walk_body;
	bool hdr_cut;	/* top-level header passed max_header_bytes */
	bool top_done;	/* top-level header ended */
	bool field_cut; /* field longer than MIME_FIELD_MAX (counted once) */
	uint8_t state;
	uint8_t depth; /* entity being read */
	uint8_t nb;    /* boundaries in force */
	bool line_start;
	bool skip_line;	 /* rest of the line is dropped (boundary, gap) */
	bool cr_pending; /* CR at the end of the last piece */
	bool field_open; /* a header field waits for a continuation line */
	bool in_part;	 /* a leaf part is open */
	uint8_t eol_len; /* line end withheld: it may belong to a boundary */
	uint8_t lead_len;
	uint16_t field_len;
	uint16_t line_off; /* start of the current line in field */
	uint16_t next_index;
	uint64_t hdr_bytes; /* top-level header bytes so far */
	struct mime_b64 b64;
	struct mime_qp qp;
	struct mime_stats stats;
	/* From here on buffers read only up to their lengths: mime_init leaves
	 * their bytes as they are (and sets the entity's and part's scalars). */
	uint8_t lead[MIME_BOUNDARY_MAX + 6];
	struct mime_level bnd[MIME_MAX_DEPTH];
	struct mime_ent ent;
	struct mime_part part;
	uint8_t field[MIME_FIELD_MAX];
};

/* walk_body false: stops after the top-level header (the cheap mode). */
void mime_init(struct mime *m, const struct mime_cb *cb, void *arg, uint32_t max_header_bytes,
	       bool walk_body);
void mime_feed(struct mime *m, const uint8_t *p, size_t n);
/* n bytes missing: the line in progress is dropped, decoding resyncs at the next line. */
void mime_gap(struct mime *m, size_t n);
/* End of the message: flushes decoders, closes the open part. */
void mime_end(struct mime *m);
bool mime_in_headers(const struct mime *m);

#endif /* RELAYWATCH_SENSOR_MIME_H */
