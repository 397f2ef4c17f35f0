/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow: per-worker table of bidirectional TCP flows.
 *
 * Owns a fixed array of struct flow and its hash index, sized at
 * flow_table_create(); nothing is allocated afterwards. Both directions of a
 * connection map to one entry (canonical key: lower endpoint first). Time is
 * packet time. When the table is full the least recently seen flow is
 * evicted; idle and closed flows expire in flow_expire(). Every flow that
 * leaves the table goes through the release callback first, so the owner
 * can close its L7 session. One table per worker; not safe to share.
 */
#ifndef RELAYWATCH_DATAPLANE_FLOW_H
#define RELAYWATCH_DATAPLANE_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/pkt.h"
#include "dataplane/tcp_reasm.h"

#define FLOW_UID_LEN 18 /* 'C' + 17 base62 digits, like Zeek's conn uids */

enum flow_end {
	FLOW_END_FIN = 0, /* both sides closed */
	FLOW_END_RST = 1,
	FLOW_END_IDLE = 2,     /* idle timeout */
	FLOW_END_EVICTED = 3,  /* table full: least recently seen */
	FLOW_END_REUSED = 4,   /* a new SYN on the key of a closed flow */
	FLOW_END_SHUTDOWN = 5, /* end of capture or sensor stopping */
};

enum flow_l7_state {
	FLOW_L7_NONE = 0,    /* no payload seen yet */
	FLOW_L7_ACTIVE = 1,  /* f->l7 is a session */
	FLOW_L7_IGNORED = 2, /* L7 declined the flow */
	FLOW_L7_BYPASS = 3,  /* L7 needs no more payload (TLS, pool empty) */
};

struct flow_key {
	union pkt_addr lo, hi; /* lo < hi (memcmp), or equal addresses with lo_port <= hi_port */
	uint16_t lo_port, hi_port;
	uint16_t vlan; /* 0 unless vlan_in_key */
	uint8_t family;
	uint8_t pad;
};

/*
 * 104 bytes in every entry of the table (flow.c asserts it): the reassembly
 * state keeps only what in-order segments read (its out-of-order and hold
 * state is in tcp_reasm's side pool), the payload counters are 40 bits
 * (flow_bytes()), the flags are bits of one byte, the index hash is made
 * again from the key when the flow leaves, and the L7 session is a 32-bit
 * reference into the consumer's session arena (l7.h), not a pointer.
 */
struct flow {
	struct flow_key key;
	uint64_t first_ns;
	uint64_t last_ns;
	uint32_t lru_prev; /* index + 1, 0: none */
	uint32_t lru_next;
	/* Payload bytes per direction, 40-bit and saturating: read flow_bytes(). */
	uint32_t bytes_lo[2];
	uint8_t bytes_hi[2];
	uint8_t l7_state; /* enum flow_l7_state */
	uint8_t flags;	  /* FLOW_F_* */
	struct tcp_reasm_pair tcp;
	uint32_t l7; /* the worker's reference to the L7 session (l7.h), 0: none */
};

#define FLOW_F_CLIENT_LO 0x01 /* the client is key.lo */
#define FLOW_F_CLOSED	 0x02 /* FIN/RST seen both ways; waiting for the closed timeout */
#define FLOW_F_SYN	 0x04 /* the handshake was seen (not a mid-stream pick-up) */
#define FLOW_F_SEEN	 0x08 /* FLOW_F_SEEN << dir: that direction sent a packet */

static inline bool flow_is_closed(const struct flow *f)
{
	return f->flags & FLOW_F_CLOSED;
}

static inline bool flow_syn_seen(const struct flow *f)
{
	return f->flags & FLOW_F_SYN;
}

/* Bit per direction (enum flow_dir) that sent a packet. */
static inline unsigned int flow_seen_dirs(const struct flow *f)
{
	return (f->flags / FLOW_F_SEEN) & 3u;
}

/* A flow's payload counters saturate here (1 TiB a direction). */
#define FLOW_BYTES_MAX ((UINT64_C(1) << 40) - 1)

/* Payload bytes one way (enum flow_dir), FLOW_BYTES_MAX when more. */
static inline uint64_t flow_bytes(const struct flow *f, unsigned int dir)
{
	return (uint64_t)f->bytes_hi[dir] << 32 | f->bytes_lo[dir];
}

/* Called for every flow about to leave the table, before it is reused. */
typedef void flow_release_fn(void *arg, struct flow *f, enum flow_end why, uint64_t now_ns);

struct flow_table_cfg {
	uint32_t capacity;	       /* flows; the hash index is sized from it */
	uint32_t idle_timeout_ms;      /* established flows (default 300 s) */
	uint32_t embryonic_timeout_ms; /* flows that never carried payload (default 30 s) */
	uint32_t closed_timeout_ms;    /* after FIN/RST both ways (default 5 s) */
	bool vlan_in_key;	       /* default true: overlapping addresses on VLANs */
	const uint8_t *server_ports;   /* 65536-bit map; orients flows seen mid-stream */
	flow_release_fn *release;
	void *release_arg;
};

/* All uint64_t: published with stats.h. */
struct flow_stats {
	uint64_t created;
	uint64_t evicted; /* table full: least recently seen dropped */
	uint64_t expired_idle;
	uint64_t expired_closed;
	uint64_t reused;
	uint64_t one_sided; /* flows that ended with only one direction seen */
	uint64_t midstream; /* flows created without a SYN */
	uint64_t active;    /* gauge */
};

struct flow_table;

/*
 * A key held as its five 64-bit words (the memory image of struct flow_key),
 * so building, hashing and comparing it stays in registers: no stack copy.
 */
struct flow_kw {
	uint64_t lo0, lo1, hi0, hi1, tail;
};

/* What flow_prepare() works out of a packet: it depends on the packet and the
 * table's fixed hash keys only, so it stays right while the table changes. */
struct flow_prep {
	struct flow_kw k; /* canonical key */
	uint64_t hash;
	uint32_t home; /* the key's home bucket (from hash) */
	uint16_t sig;  /* its signature in the index (from hash) */
	bool src_lo;   /* the sender is key.lo */
};

void flow_table_cfg_default(struct flow_table_cfg *cfg);
int flow_table_create(const struct flow_table_cfg *cfg, struct flow_table **out);
void flow_table_destroy(struct flow_table *ft);

/*
 * Finds or creates the flow of m; *dir says which way m goes. A new flow's
 * client is the SYN sender, else the SYN/ACK receiver, else the side not on
 * a server port, else the side with the higher port. Never NULL: a full
 * table evicts its least recently seen flow.
 */
struct flow *flow_lookup_or_add(struct flow_table *ft, const struct pkt_meta *m,
				enum flow_dir *dir);
/*
 * The same, except that only a SYN or a segment with payload starts a flow:
 * NULL for a bare ACK, FIN or RST of a connection not in the table.
 */
struct flow *flow_lookup_or_start(struct flow_table *ft, const struct pkt_meta *m,
				  enum flow_dir *dir);
/*
 * flow_lookup_or_start() in two steps, for a burst: flow_prepare() builds the
 * key and hash of every packet and prefetches their index buckets, so the
 * cache misses of the burst overlap; flow_lookup_or_start_prepared() then does
 * the lookup with p, which must come from m and this table. The table may
 * change in between (inserts, evictions): p does not depend on its contents.
 */
void flow_prepare(const struct flow_table *ft, const struct pkt_meta *m, struct flow_prep *p);
struct flow *flow_lookup_or_start_prepared(struct flow_table *ft, const struct pkt_meta *m,
					   const struct flow_prep *p, enum flow_dir *dir);
/* Lookup only; NULL when absent. */
struct flow *flow_lookup(struct flow_table *ft, const struct pkt_meta *m, enum flow_dir *dir);

/* Mark the flow done (FIN both ways or RST); it leaves after closed_timeout. */
void flow_mark_closed(struct flow_table *ft, struct flow *f);

/* Expire up to budget flows idle at now_ns; returns how many left. */
unsigned int flow_expire(struct flow_table *ft, uint64_t now_ns, unsigned int budget);
/* Release every flow (FLOW_END_SHUTDOWN). */
void flow_flush_all(struct flow_table *ft, uint64_t now_ns);

/* Client and server endpoints of a flow. */
const union pkt_addr *flow_client_addr(const struct flow *f);
const union pkt_addr *flow_server_addr(const struct flow *f);
uint16_t flow_client_port(const struct flow *f);
uint16_t flow_server_port(const struct flow *f);

/* Zeek-style uid: a function of the key and first packet time only, so the
 * same connection gets the same uid whatever worker or run sees it. */
void flow_uid(const struct flow *f, char out[FLOW_UID_LEN + 1]);
/* The same uid from a flow's two ends (as events carry them) and its first
 * packet time, on any thread: events are stamped without the uid, which is
 * made where they are read. vlan is the key's (0 unless vlan_in_key). */
void flow_uid_of_ends(uint8_t family, const union pkt_addr *client, uint16_t client_port,
		      const union pkt_addr *server, uint16_t server_port, uint16_t vlan,
		      uint64_t first_ns, char out[FLOW_UID_LEN + 1]);

const struct flow_stats *flow_table_stats(const struct flow_table *ft);
uint32_t flow_table_capacity(const struct flow_table *ft);
size_t flow_table_mem_bytes(const struct flow_table *ft);

#endif /* RELAYWATCH_DATAPLANE_FLOW_H */
