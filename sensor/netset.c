// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/netset.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void netset_init(struct netset *ns)
{
	memset(ns, 0, sizeof(*ns));
}

void netset_fini(struct netset *ns)
{
	free(ns->r);
	memset(ns, 0, sizeof(*ns));
}

bool netset_parse_addr(const char *s, union pkt_addr *a, uint8_t *family)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->b[12]) == 1) {
		a->b[10] = a->b[11] = 0xff;
		*family = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, a->b) == 1) {
		*family = 6;
		return true;
	}
	return false;
}

static int cmp_addr(const union pkt_addr *a, const union pkt_addr *b)
{
	return memcmp(a->b, b->b, 16);
}

int netset_add_cidr(struct netset *ns, const char *cidr, struct errbuf *eb)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(cidr, '/');
	size_t alen = slash ? (size_t)(slash - cidr) : strlen(cidr);
	unsigned long plen;
	union pkt_addr a;
	uint8_t fam;
	char *end;

	if (alen == 0 || alen >= sizeof(buf))
		return errbuf_set(eb, -EINVAL, "'%s' is not an address or CIDR", cidr);
	memcpy(buf, cidr, alen);
	buf[alen] = '\0';
	if (!netset_parse_addr(buf, &a, &fam))
		return errbuf_set(eb, -EINVAL, "'%s' is not an address or CIDR", cidr);
	plen = fam == 4 ? 32 : 128;
	if (slash) {
		errno = 0;
		plen = strtoul(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || plen > (fam == 4 ? 32u : 128u))
			return errbuf_set(eb, -EINVAL, "'%s': bad prefix length", cidr);
	}
	if (fam == 4)
		plen += 96;
	if (ns->n == ns->cap) {
		uint32_t ncap = ns->cap ? ns->cap * 2 : 16;
		struct netset_range *nr = realloc(ns->r, ncap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		ns->r = nr;
		ns->cap = ncap;
	}
	ns->r[ns->n].lo = a;
	ns->r[ns->n].hi = a;
	for (unsigned int bit = (unsigned int)plen; bit < 128; bit++) {
		uint8_t m = (uint8_t)(0x80u >> (bit & 7));

		if (a.b[bit >> 3] & m)
			return errbuf_set(eb, -EINVAL, "'%s': host bits set below /%lu", cidr,
					  fam == 4 ? plen - 96 : plen);
		ns->r[ns->n].hi.b[bit >> 3] |= m;
	}
	ns->n++;
	return 0;
}

static int cmp_range(const void *x, const void *y)
{
	return cmp_addr(&((const struct netset_range *)x)->lo,
			&((const struct netset_range *)y)->lo);
}

void netset_finish(struct netset *ns)
{
	uint32_t out = 0;

	if (ns->n == 0)
		return;
	qsort(ns->r, ns->n, sizeof(*ns->r), cmp_range);
	for (uint32_t i = 1; i < ns->n; i++) {
		struct netset_range *cur = &ns->r[out];

		/* Prefixes nest or are disjoint, so containment is the only overlap. */
		if (cmp_addr(&ns->r[i].lo, &cur->hi) <= 0) {
			if (cmp_addr(&ns->r[i].hi, &cur->hi) > 0)
				cur->hi = ns->r[i].hi;
			continue;
		}
		ns->r[++out] = ns->r[i];
	}
	ns->n = out + 1;
}

bool netset_contains(const struct netset *ns, const union pkt_addr *a)
{
	uint32_t lo = 0, hi = ns->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (cmp_addr(a, &ns->r[mid].lo) < 0)
			hi = mid;
		else if (cmp_addr(a, &ns->r[mid].hi) > 0)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

void domset_init(struct domset *ds)
{
	memset(ds, 0, sizeof(*ds));
}

void domset_fini(struct domset *ds)
{
	for (uint32_t i = 0; i < ds->n; i++)
		free(ds->names[i]);
	free(ds->names);
	memset(ds, 0, sizeof(*ds));
}

int domset_add(struct domset *ds, const char *name, struct errbuf *eb)
{
	size_t len = strlen(name);
	char *copy;

	while (len && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DOMSET_NAME_MAX)
		return errbuf_set(eb, -EINVAL, "'%s' is not a domain name", name);
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '.' &&
		    name[i] != '_')
			return errbuf_set(eb, -EINVAL, "'%s' is not a domain name", name);
	if (ds->n == ds->cap) {
		uint32_t ncap = ds->cap ? ds->cap * 2 : 16;
		char **nn = realloc(ds->names, ncap * sizeof(*nn));

		if (!nn)
			return -ENOMEM;
		ds->names = nn;
		ds->cap = ncap;
	}
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++)
		copy[i] = (char)tolower((unsigned char)name[i]);
	copy[len] = '\0';
	ds->names[ds->n++] = copy;
	return 0;
}

static int cmp_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

void domset_finish(struct domset *ds)
{
	if (ds->n)
		qsort(ds->names, ds->n, sizeof(*ds->names), cmp_name);
}

static bool domset_has_exact(const struct domset *ds, const char *lc)
{
	return ds->n && bsearch(&lc, ds->names, ds->n, sizeof(*ds->names), cmp_name) != NULL;
}

bool domset_contains(const struct domset *ds, const char *name, size_t len)
{
	char lc[DOMSET_NAME_MAX + 1];
	const char *p;

	while (len && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DOMSET_NAME_MAX || ds->n == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		lc[i] = (char)tolower((unsigned char)name[i]);
	lc[len] = '\0';
	/* the name itself, then each parent: a.b.example.net, b.example.net, ... */
	for (p = lc; p; p = strchr(p, '.')) {
		if (*p == '.')
			p++;
		if (domset_has_exact(ds, p))
			return true;
	}
	return false;
}
