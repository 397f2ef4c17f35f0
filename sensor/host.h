/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * host: the detection engine's table of IP addresses, one entry per host
 * seen speaking SMTP as a client, and per home host seen as a server.
 * An entry holds what the detectors need about that host: role flags,
 * sliding-window counters, distinct counters, rate baselines, the SPRT
 * score, running totals for the report, the kinds that fired. Bounded at
 * host_table_init(); the least recently seen host is evicted and counted.
 * Owns: the entries (and gives back their HLL sketches on eviction).
 * Detector thread only.
 */
#ifndef RELAYWATCH_SENSOR_HOST_H
#define RELAYWATCH_SENSOR_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/pkt.h"
#include "sensor/baseline.h"
#include "sensor/distinct.h"
#include "sensor/lru.h"
#include "sensor/sprt.h"
#include "sensor/window.h"

enum host_flag {
	HOST_F_HOME = 1 << 0,	    /* inside home_net */
	HOST_F_SERVER = 1 << 1,	    /* answered SMTP with 2xx (learned) */
	HOST_F_CFG_SERVER = 1 << 2, /* listed in mail_servers */
	HOST_F_CLIENT = 1 << 3,	    /* seen as an SMTP client: its outbound mail is visible */
	HOST_F_PENDING = 1 << 4,    /* accepted mail that may be relayed (pending table) */
};

/* Sliding-window counters; their spans come from the detectors' windows. */
enum host_win {
	HOST_W_AUTH_FAIL = 0, /* AUTH failures it caused */
	HOST_W_DENIED,	      /* transactions refused for relaying */
	HOST_W_RCPT,	      /* RCPT commands it sent */
	HOST_W_UNKNOWN,	      /* ... rejected as unknown mailbox */
	HOST_W_BLOCKLIST,     /* transactions answered with a blocklist reply */
	HOST_W_MSGS,	      /* transactions (messages) it sent */
	HOST_W_SPOOFED,	      /* messages accepted with a home MAIL FROM, unauthenticated */
	HOST_W_RELAYED,	      /* as a server: copies of accepted mail seen leaving again */
	HOST_W_COUNT
};

enum host_dist {
	HOST_D_USERS = 0, /* user names in failed AUTH */
	HOST_D_REFUSERS,  /* servers that refused to relay for it */
	HOST_D_MX,	  /* foreign servers it reached on port 25 */
	HOST_D_FDOMAINS,  /* as a server: foreign domains accepted from foreign clients */
	HOST_D_COUNT
};

/* Since first seen; saturating. */
struct host_totals {
	uint32_t sessions_out; /* as a client */
	uint32_t sessions_in;  /* as a server */
	uint32_t msgs;
	uint32_t rcpts;
	uint32_t rcpts_rejected;
	uint32_t auth_ok;
	uint32_t auth_fail;
	uint32_t alerts;
	uint32_t xdp_syns; /* last values from the XDP pre-filter */
	uint32_t xdp_flows;
	uint32_t blocklist; /* transactions answered with a blocklist reply (once each) */
	uint32_t sig_hits;  /* content signature hits at or above min_severity */
	uint32_t bounces;   /* null-sender messages to an address it last sent as */
	/* Peaks of windowed distinct counts (the sketches forget, the summary
	 * must not): foreign MX reached or servers refusing to relay, the
	 * larger; recipient domains, as a client new to its recent set, as a
	 * home server accepted from foreign clients. */
	uint32_t servers;
	uint32_t rcpt_domains;
};

struct host {
	union pkt_addr addr;
	uint8_t family;
	uint8_t flags;		  /* enum host_flag */
	uint16_t kinds;		  /* bit per enum alert_kind that fired */
	uint32_t first_s, last_s; /* packet time, Unix seconds */
	struct sprt sprt;
	struct host_totals tot; /* before dom_bloom: fills the hole after sprt */
	uint64_t dom_bloom;	/* recipient domains used lately (SPRT new/known domain) */
	struct baseline msgs_base, rcpts_base;
	struct window w[HOST_W_COUNT];
	struct distinct d[HOST_D_COUNT];
};

#define HOST_RECENT 256

struct host_table {
	struct lru lru;
	struct distinct_pool *pool; /* not owned */
	/* Slots of recently used hosts by hash: the events of one session come
	 * together, and this spares them the index (a cache miss each). */
	uint32_t recent[HOST_RECENT]; /* slot + 1, 0: none */
};

int host_table_init(struct host_table *t, uint32_t capacity, struct distinct_pool *pool);
void host_table_fini(struct host_table *t);

struct host *host_find(struct host_table *t, uint8_t family, const union pkt_addr *a);
/* Find or add; marks it seen at now_ns. *created says it is new (flags are
 * the caller's to set). Never NULL: a full table evicts. */
struct host *host_get(struct host_table *t, uint8_t family, const union pkt_addr *a,
		      uint64_t now_ns, bool *created);

static inline uint32_t host_count(const struct host_table *t)
{
	return t->lru.count;
}

static inline uint64_t host_evicted(const struct host_table *t)
{
	return t->lru.evicted;
}

/* Add a recipient domain hash to the host's recent set; true if it was new. */
bool host_note_domain(struct host *h, uint64_t dom_hash);

static inline void host_tot_inc(uint32_t *c, uint32_t n)
{
	*c = *c > UINT32_MAX - n ? UINT32_MAX : *c + n;
}

static inline void host_tot_max(uint32_t *c, uint32_t v)
{
	if (v > *c)
		*c = v;
}

#endif /* RELAYWATCH_SENSOR_HOST_H */
