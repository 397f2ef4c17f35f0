/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * l7: the hooks through which the worker hands reassembled bytes to an
 * application parser without knowing what it parses. Declared here (the
 * dataplane), implemented above (sensor/smtp_session.c), handed down at
 * worker creation: information goes up, calls never do.
 *
 * Byte pointers passed to data() are valid only during the call.
 *
 * Sessions come from one block the consumer sets aside before the worker
 * starts (sess_arena(): a pool, as nothing may be allocated per packet), so
 * a flow entry holds a 32-bit reference into it rather than an 8-byte
 * pointer: 4 of the bytes every tracked flow costs.
 */
#ifndef RELAYWATCH_DATAPLANE_L7_H
#define RELAYWATCH_DATAPLANE_L7_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane/flow.h"

enum l7_verdict {
	L7_CONTINUE = 0,
	L7_BYPASS = 1, /* no more payload needed; the flow is still tracked and closed */
	/* As L7_BYPASS, and the parser gave the session back already: close() is
	 * not called for it (the slot may serve another flow by then). */
	L7_RELEASED = 2,
};

struct l7_ops {
	/* On the worker thread before its first packet: per-thread state made off
	 * the packet path (converters, digest contexts). May be NULL. */
	int (*thread_init)(void *ctx);
	/* On the worker thread after its last packet. May be NULL. */
	void (*thread_fini)(void *ctx);
	/* Where every session open() returns lies: [base, base + *bytes), at
	 * most 4 GiB (UINT32_MAX bytes). Called once, at worker creation. */
	const void *(*sess_arena)(void *ctx, size_t *bytes);
	/* First payload byte of a flow, in either direction. Returns the session
	 * (in the arena), or NULL when the flow is not for this parser (or no
	 * session is free). */
	void *(*open)(void *ctx, const struct flow *f, uint64_t ts_ns);
	/* Every hook after open() gets the flow again, so a session need not
	 * keep a pointer to it (8 bytes in every session). */
	enum l7_verdict (*data)(void *ctx, void *sess, const struct flow *f, enum flow_dir dir,
				const uint8_t *p, uint32_t n, uint64_t ts_ns);
	/* len bytes are missing in dir; the parser resynchronises. */
	enum l7_verdict (*gap)(void *ctx, void *sess, const struct flow *f, enum flow_dir dir,
			       uint32_t len, uint64_t ts_ns);
	/* The stream in dir ended (FIN). */
	void (*eof)(void *ctx, void *sess, const struct flow *f, enum flow_dir dir, uint64_t ts_ns);
	/* The flow leaves the table; the session must be finished and freed. */
	void (*close)(void *ctx, void *sess, const struct flow *f, enum flow_end why,
		      uint64_t ts_ns);
	/* Every few bursts, on the worker thread (flush, publish counters). */
	void (*housekeep)(void *ctx, uint64_t now_ns);
};

#endif /* RELAYWATCH_DATAPLANE_L7_H */
