// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/event.h"

#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

/*
 * The ring was full: wait for room when the sink may wait; NULL: dropped.
 * Out of line, so that the reservation every event makes does not set up
 * this loop's frame (about 20 instructions an event).
 */
static __attribute__((noinline, cold)) struct event_hdr *event_reserve_full(struct event_sink *s,
									    uint32_t len)
{
	struct event_hdr *e;
	unsigned int spins = 0;

	for (;;) {
		if (!s->wait_when_full || (s->abort && atomic_load(s->abort))) {
			s->dropped++;
			return NULL;
		}
		/* Offline: the file can wait for the detector; nothing is lost. */
		if (++spins < 64) {
			sched_yield();
		} else {
			struct timespec ts = {.tv_sec = 0, .tv_nsec = 50000};

			nanosleep(&ts, NULL);
		}
		e = msgring_reserve(s->ring, len);
		if (e)
			return e;
	}
}

/* Room for len bytes in the ring, waiting for it when the sink may wait; NULL: dropped. */
static struct event_hdr *event_reserve(struct event_sink *s, uint32_t len)
{
	struct event_hdr *e = msgring_reserve(s->ring, len);

	if (__builtin_expect(e != NULL, 1))
		return e;
	return event_reserve_full(s, len);
}

static void event_stamp(struct event_sink *s, struct event_hdr *e, enum event_type type,
			uint32_t len)
{
	e->type = (uint16_t)type;
	e->len = len;
	e->worker = s->worker;
	e->seq = s->seq++;
}

/*
 * A new event zeroed whole. Out of line and hidden from constant propagation
 * (noipa): with the size known where a builder inlines event_begin(), gcc
 * writes the memset as rep stosq, 79 iterations for an EV_RCPT's 632 bytes
 * (callgrind counts each, and the string start-up costs cycles too); glibc's
 * memset needs about half as many instructions with 32-byte stores.
 */
static __attribute__((noipa)) void event_zero(void *e, size_t len)
{
	memset(e, 0, len);
}

void *event_begin(struct event_sink *s, enum event_type type, uint32_t len,
		  const struct event_hdr *h)
{
	struct event_hdr *e = event_reserve(s, len);

	if (!e)
		return NULL;
	if (h)
		*e = *h;
	else
		event_zero(e, len);
	event_stamp(s, e, type, len);
	return e;
}

void *event_begin_head(struct event_sink *s, enum event_type type, uint32_t len, uint32_t zero)
{
	struct event_hdr *e = event_reserve(s, len);

	if (!e)
		return NULL;
	memset(e, 0, zero < len ? zero : len);
	event_stamp(s, e, type, len);
	return e;
}

void event_commit(struct event_sink *s)
{
	msgring_commit(s->ring);
	s->emitted++;
}

/* Six words compared without a branch each (memcmp would be a call). */
static bool event_uid_same(const uint64_t *a, const uint64_t *b)
{
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]) |
		(a[5] ^ b[5])) == 0;
}

void event_fill_uid(struct event_uid_cache *cache, struct event_hdr *h, uint32_t len)
{
	uint64_t w[6];
	uint32_t i;

	if (!h->family || h->uid[0])
		return;
	w[0] = h->first_ns;
	w[1] = h->client.q[0];
	w[2] = h->client.q[1];
	w[3] = h->server.q[0];
	w[4] = h->server.q[1];
	w[5] = h->client_port | (uint64_t)h->server_port << 16 | (uint64_t)h->vlan << 32 |
	       (uint64_t)h->family << 48;
	i = (uint32_t)(((w[0] ^ w[2] ^ w[4] ^ w[5]) * 0x9e3779b97f4a7c15ull) >> 32) &
	    (EVENT_UID_CACHE - 1);
	if (cache && event_uid_same(cache->e[i].w, w)) {
		memcpy(h->uid, cache->e[i].uid, FLOW_UID_LEN);
		h->uid[FLOW_UID_LEN] = '\0';
	} else {
		flow_uid_of_ends(h->family, &h->client, h->client_port, &h->server, h->server_port,
				 h->vlan, h->first_ns, h->uid);
		if (cache) {
			memcpy(cache->e[i].w, w, sizeof(w));
			memcpy(cache->e[i].uid, h->uid, FLOW_UID_LEN);
		}
	}
	if (h->type == EV_TX &&
	    len >= offsetof(struct event_tx, tx) + offsetof(struct smtp_tx, arena))
		memcpy(((struct event_tx *)h)->tx.uid, h->uid, sizeof(h->uid));
}

/*
 * n bytes, most of them 8 to 32 (addresses, reply texts): as two
 * overlapping words or vectors, each read within src[0..n), not a call.
 */
static inline void event_copy_small(char *dst, const void *src, size_t n)
{
	const char *p = src;

	if (n >= 16 && n <= 32) {
		char a[16], b[16];

		memcpy(a, p, 16);
		memcpy(b, p + n - 16, 16);
		memcpy(dst, a, 16);
		memcpy(dst + n - 16, b, 16);
	} else if (n >= 8 && n < 16) {
		uint64_t a, b;

		memcpy(&a, p, 8);
		memcpy(&b, p + n - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &b, 8);
	} else {
		memcpy(dst, src, n);
	}
}

uint16_t event_copy_text(char *dst, size_t cap, const void *src, size_t n)
{
	if (cap == 0)
		return 0;
	if (n > cap - 1)
		n = cap - 1;
	if (n > UINT16_MAX)
		n = UINT16_MAX;
	event_copy_small(dst, src, n);
	dst[n] = '\0';
	return (uint16_t)n;
}

const char *event_type_name(enum event_type t)
{
	static const char *const names[EV_TYPE_COUNT] = {
		[EV_SESSION_OPEN] = "session_open",
		[EV_BANNER] = "banner",
		[EV_AUTH] = "auth",
		[EV_RCPT] = "rcpt",
		[EV_REPLY] = "reply",
		[EV_SIG] = "sig",
		[EV_TX] = "tx",
		[EV_SESSION_CLOSE] = "session_close",
	};

	return (t > 0 && t < EV_TYPE_COUNT && names[t]) ? names[t] : "unknown";
}
