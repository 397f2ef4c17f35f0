// SPDX-License-Identifier: BSD-3-Clause
/*
 * flow: a flow's two ends as client and server, and its uid (Zeek's
 * "C" + 17 base-62 digits), the same for every run and for an alert made
 * from the ends alone (flow_uid_of_ends). The layout is told at the top of
 * flow.c.
 */
#include "dataplane/flow_int.h"

#include "common/hash.h"
#define FLOW_UID_SEED 0x72656c6179776174ull /* fixed: uids must not depend on the run */

/* ---- accessors ---- */

const union pkt_addr *flow_client_addr(const struct flow *f)
{
	return (f->flags & FLOW_F_CLIENT_LO) ? &f->key.lo : &f->key.hi;
}

const union pkt_addr *flow_server_addr(const struct flow *f)
{
	return (f->flags & FLOW_F_CLIENT_LO) ? &f->key.hi : &f->key.lo;
}

uint16_t flow_client_port(const struct flow *f)
{
	return (f->flags & FLOW_F_CLIENT_LO) ? f->key.lo_port : f->key.hi_port;
}

uint16_t flow_server_port(const struct flow *f)
{
	return (f->flags & FLOW_F_CLIENT_LO) ? f->key.hi_port : f->key.lo_port;
}

static void flow_uid_key(const struct flow_key *key, uint64_t first_ns, char out[FLOW_UID_LEN + 1])
{
	static const char digits[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	struct {
		struct flow_key key;
		uint64_t first_ns;
	} in;
	const uint64_t b10 = 839299365868340224ull; /* 62^10 */
	const uint64_t b7 = 3521614606208ull;	    /* 62^7 */
	XXH128_hash_t h;
	unsigned __int128 v, q;
	uint64_t lo, hi;

	_Static_assert(sizeof(in) == sizeof(struct flow_key) + sizeof(uint64_t), "no padding");
	in.key = *key;
	in.first_ns = first_ns;
	h = XXH3_128bits_withSeed(&in, sizeof(in), FLOW_UID_SEED);
	v = (unsigned __int128)h.high64 << 64 | h.low64;
	/* The 17 low base-62 digits of v, as 10 + 7 digits of two 64-bit
	 * numbers: two 128-bit divisions instead of one per digit (this runs
	 * for every event). */
	q = v / b10;
	lo = (uint64_t)(v - q * b10);
	hi = (uint64_t)(q % b7);
	out[0] = 'C';
	for (int i = FLOW_UID_LEN - 1; i >= FLOW_UID_LEN - 10; i--) {
		out[i] = digits[lo % 62];
		lo /= 62;
	}
	for (int i = FLOW_UID_LEN - 11; i >= 1; i--) {
		out[i] = digits[hi % 62];
		hi /= 62;
	}
	out[FLOW_UID_LEN] = '\0';
}

void flow_uid(const struct flow *f, char out[FLOW_UID_LEN + 1])
{
	flow_uid_key(&f->key, f->first_ns, out);
}

void flow_uid_of_ends(uint8_t family, const union pkt_addr *client, uint16_t client_port,
		      const union pkt_addr *server, uint16_t server_port, uint16_t vlan,
		      uint64_t first_ns, char out[FLOW_UID_LEN + 1])
{
	bool client_lo = flow_end_is_lo(client, client_port, server, server_port);
	struct flow_key key = {
		.lo = client_lo ? *client : *server,
		.hi = client_lo ? *server : *client,
		.lo_port = client_lo ? client_port : server_port,
		.hi_port = client_lo ? server_port : client_port,
		.vlan = vlan,
		.family = family,
	};

	flow_uid_key(&key, first_ns, out);
}
