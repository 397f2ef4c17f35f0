/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_body: takes the decoded message bodies out of a capture once, so the
 * benchmark can time raw hs_scan and memcpy over exactly the bytes the
 * pipeline's body matching sees. An l7_ops for a worker: it follows the
 * client side of each SMTP flow to DATA, un-stuffs the content up to the
 * final dot and feeds it to the sensor's own smtp_msg (MIME walk, base64 and
 * quoted-printable decoding); the decoded bytes are appended to one buffer,
 * message by message.
 *
 * Owns: the body buffer and a session per flow (malloc: this pass is not
 * timed), found through a table of slots. Single-threaded.
 */
#ifndef RELAYWATCH_BENCH_BENCH_BODY_H
#define RELAYWATCH_BENCH_BENCH_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/l7.h"

struct body_sess;

struct bench_bodies {
	uint8_t *buf; /* decoded bodies, back to back */
	size_t len, cap;
	size_t *msg_end; /* end offset of each message */
	size_t n_msgs, cap_msgs;
	uint64_t text_bytes;	 /* of buf: text parts (the rest is attachments) */
	uint64_t content_bytes;	 /* DATA content on the wire, dot-stuffed */
	bool failed;		 /* out of memory: the figures are incomplete */
	struct body_sess **slot; /* the sessions (l7.h's arena), made at the first worker */
	uint32_t *free_slot;	 /* free indexes of slot */
	uint32_t n_free;
};

/* The l7_ops; its context is the struct bench_bodies to fill. */
extern const struct l7_ops bench_body_ops;

void bench_bodies_fini(struct bench_bodies *b);

#endif /* RELAYWATCH_BENCH_BENCH_BODY_H */
