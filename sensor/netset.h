/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * netset: a set of IPv4/IPv6 prefixes (home_net, mail_servers) answering
 * "is this address inside?" in O(log n): prefixes become merged, sorted
 * 128-bit ranges (IPv4 as ::ffff:0:0/96). domset: a set of DNS domains
 * answering "is this domain or one of its parents in the set?".
 * Built at configuration time; lookups are read-only and thread-safe.
 */
#ifndef RELAYWATCH_SENSOR_NETSET_H
#define RELAYWATCH_SENSOR_NETSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"
#include "dataplane/pkt.h"

struct netset_range {
	union pkt_addr lo, hi; /* inclusive, network byte order */
};

struct netset {
	struct netset_range *r;
	uint32_t n, cap;
};

void netset_init(struct netset *ns);
void netset_fini(struct netset *ns);
/* "198.51.100.0/24", "2001:db8::/32", "192.0.2.7" (a host). Host bits set
 * below the prefix are an error: they usually mean a typo. */
int netset_add_cidr(struct netset *ns, const char *cidr, struct errbuf *eb);
/* Sort and merge; call once after the last add, before lookups. */
void netset_finish(struct netset *ns);
bool netset_contains(const struct netset *ns, const union pkt_addr *a);
static inline bool netset_is_empty(const struct netset *ns)
{
	return ns->n == 0;
}

#define DOMSET_NAME_MAX 253

struct domset {
	char **names; /* lower case, no trailing dot */
	uint32_t n, cap;
};

void domset_init(struct domset *ds);
void domset_fini(struct domset *ds);
int domset_add(struct domset *ds, const char *name, struct errbuf *eb);
void domset_finish(struct domset *ds);
/* Case-insensitive; "mail.example.net" matches a set holding "example.net". */
bool domset_contains(const struct domset *ds, const char *name, size_t len);

/* Parse an address (v4 or v6) into the mapped form; false if not one. */
bool netset_parse_addr(const char *s, union pkt_addr *a, uint8_t *family);

#endif /* RELAYWATCH_SENSOR_NETSET_H */
