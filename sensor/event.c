// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/event.h"

#include <sched.h>
#include <string.h>
#include <time.h>

void *event_begin(struct event_sink *s, enum event_type type, uint32_t len,
		  const struct event_hdr *h)
{
	struct event_hdr *e;
	unsigned int spins = 0;

	for (;;) {
		e = msgring_reserve(s->ring, len);
		if (e)
			break;
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
	}
	if (h)
		*e = *h;
	else
		memset(e, 0, sizeof(*e));
	e->type = (uint16_t)type;
	e->len = len;
	e->worker = s->worker;
	e->seq = s->seq++;
	return e;
}

void event_commit(struct event_sink *s)
{
	msgring_commit(s->ring);
	s->emitted++;
}

uint16_t event_copy_text(char *dst, size_t cap, const void *src, size_t n)
{
	if (cap == 0)
		return 0;
	if (n > cap - 1)
		n = cap - 1;
	if (n > UINT16_MAX)
		n = UINT16_MAX;
	memcpy(dst, src, n);
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
