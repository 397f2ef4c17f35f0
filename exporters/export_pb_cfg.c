// SPDX-License-Identifier: BSD-3-Clause
/*
 * The exporter's settings from the sensor's configuration, the SensorHello's
 * home_net, and the config digest. Main thread, at start-up.
 *
 * The digest is the lower-case hex SHA-256 of export_pb_config_text(): one
 * line per setting that changes what the sensor detects or reports, values
 * in a canonical form (prefix lists merged and sorted, ports sorted, numbers
 * with 17 significant digits), whether they came from the file, the command
 * line or the defaults. Left out: where packets come from, identity and
 * transport (sensor_id, collector, TLS files, spool), output paths and
 * capacity limits. Two sensors with the same digest judge traffic alike.
 */
#include "exporters/export_pb.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "sensor/config.h"

void export_pb_digest(const void *text, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(text, len, md, &n, EVP_sha256(), NULL) || n != 32)
		n = 0;
	for (unsigned int i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- prefixes ---- */

typedef unsigned __int128 u128;

static u128 addr_u128(const union pkt_addr *a)
{
	u128 v = 0;

	for (int i = 0; i < 16; i++)
		v = v << 8 | a->b[i];
	return v;
}

/* One CIDR's text, as the hello carries it: the longest,
 * "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", takes 44 bytes with its NUL. */
#define CIDR_TEXT_SIZE sizeof(((struct export_pb_setup *)0)->home[0])
_Static_assert(CIDR_TEXT_SIZE >= sizeof("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"),
	       "a home_net prefix in the hello must never be cut");

/* inet_ntop() needs INET6_ADDRSTRLEN, room for forms it never writes here:
 * the longest it writes is 39 bytes, which the precision tells the compiler. */
static void format_cidr(u128 base, unsigned int len, char buf[CIDR_TEXT_SIZE])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char a[INET6_ADDRSTRLEN];
	uint8_t b[16];

	for (int i = 15; i >= 0; i--, base >>= 8)
		b[i] = (uint8_t)base;
	if (len >= 96 && memcmp(b, mapped, 12) == 0) {
		inet_ntop(AF_INET, b + 12, a, sizeof(a));
		len -= 96;
	} else {
		inet_ntop(AF_INET6, b, a, sizeof(a));
	}
	snprintf(buf, CIDR_TEXT_SIZE, "%.39s/%u", a, len);
}

/* The fewest prefixes that cover [lo, hi] exactly; calls cb for each. */
static void range_cidrs(u128 lo, u128 hi, void (*cb)(void *arg, const char *cidr), void *arg)
{
	char buf[CIDR_TEXT_SIZE];

	for (int guard = 0; guard < 256 && lo <= hi; guard++) {
		unsigned int len = 128;
		u128 size = 1;

		/* Grow the block while lo stays aligned and the block stays inside. */
		while (len > 0 && !(lo & ((size << 1) - 1)) && (size << 1) - 1 <= hi - lo &&
		       (size << 1) != 0) {
			size <<= 1;
			len--;
		}
		if (len == 1 && lo == 0 && hi == ~(u128)0)
			len = 0; /* everything: ::/0 */
		format_cidr(lo, len, buf);
		cb(arg, buf);
		if (len == 0 || hi - lo < size)
			break;
		lo += size;
	}
}

/* Each prefix of ns, adjacent ranges joined first (netset merges only the
 * ones that overlap), so that 10/8 + 11/8 and 10/7 come out alike. */
static void netset_cidrs(const struct netset *ns, void (*cb)(void *arg, const char *cidr),
			 void *arg)
{
	for (uint32_t i = 0; i < ns->n;) {
		u128 lo = addr_u128(&ns->r[i].lo), hi = addr_u128(&ns->r[i].hi);

		for (i++; i < ns->n && hi != ~(u128)0 && addr_u128(&ns->r[i].lo) == hi + 1; i++)
			hi = addr_u128(&ns->r[i].hi);
		range_cidrs(lo, hi, cb, arg);
	}
}

struct cidr_list {
	struct export_pb_setup *st;
	unsigned int n;
};

static void add_home(void *arg, const char *cidr)
{
	struct cidr_list *l = arg;

	if (l->n >= PB_CONV_HOME_MAX)
		return;
	snprintf(l->st->home[l->n], sizeof(l->st->home[l->n]), "%s", cidr);
	l->st->home_ptr[l->n] = l->st->home[l->n];
	l->n++;
}

/* ---- the canonical text ---- */

struct text {
	char *buf;
	size_t cap, len;
	bool overflow;
};

static void __attribute__((format(printf, 2, 3))) put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->cap - t->len)
		t->overflow = true;
	else
		t->len += (size_t)n;
}

static void put_cidr(void *arg, const char *cidr)
{
	put(arg, " %s", cidr);
}

static void put_nets(struct text *t, const char *name, const struct netset *ns)
{
	put(t, "%s", name);
	netset_cidrs(ns, put_cidr, t);
	put(t, "\n");
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static void put_ports(struct text *t, const char *name, const uint16_t *ports, uint16_t n)
{
	uint16_t v[CONFIG_MAX_PORTS];

	n = n < CONFIG_MAX_PORTS ? n : CONFIG_MAX_PORTS;
	memcpy(v, ports, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_u16);
	put(t, "%s", name);
	for (uint16_t i = 0; i < n; i++)
		put(t, " %u", v[i]);
	put(t, "\n");
}

static void put_detectors(struct text *t, const struct config *c)
{
	for (int k = 0; k < ALERT_KIND_COUNT; k++) {
		const struct detect_def *d = &detect_defs[k];

		put(t, "detector %s enabled=%d severity=%s", alert_kind_name(k),
		    c->detectors[k].enabled, alert_severity_name(c->detectors[k].severity));
		for (unsigned int p = 0; p < d->n_params; p++)
			put(t, " %s=%.17g", d->params[p].name, c->detectors[k].p[p]);
		put(t, "\n");
	}
}

long export_pb_config_text(const struct config *c, char *buf, size_t cap)
{
	struct text t = {.buf = buf, .cap = cap};

	put(&t, "relaywatch-config 1\n");
	put_nets(&t, "home_net", &c->home_net);
	put(&t, "home_domains");
	for (uint32_t i = 0; i < c->home_domains.n; i++)
		put(&t, " %s", c->home_domains.names[i]);
	put(&t, "\n");
	put_nets(&t, "mail_servers", &c->mail_servers);
	put_ports(&t, "smtp_ports", c->smtp_ports, c->n_smtp_ports);
	put_ports(&t, "tls_ports", c->tls_ports, c->n_tls_ports);
	put(&t, "detect_any_port=%d checksums=%d vlan_in_key=%d\n", c->detect_any_port,
	    c->verify_checksums, c->vlan_in_key);
	put_detectors(&t, c);
	put(&t, "alert_interval=%u\n", c->alert_interval_s);
	put(&t, "signatures=%d", c->sigs_enabled);
	for (unsigned int i = 0; i < c->n_sig_files && i < CONFIG_MAX_SIG_FILES; i++)
		put(&t, " %s", c->sig_files[i]);
	put(&t, "\n");
	put(&t, "pseudonymize=%d pseudonymize_ips=%d keep_subject=%d\n", c->pseudonymize,
	    c->pseudonymize_ips, c->keep_subject);
	put(&t, "archive=%d summary_interval=%u\n", c->collector.archive,
	    c->collector.summary_interval_s);
	return t.overflow ? -ENOSPC : (long)t.len;
}

void export_pb_cfg_from_config(const struct config *c, struct export_pb_setup *st,
			       struct export_pb_cfg *out)
{
	const struct config_collector *cc = &c->collector;
	struct cidr_list home = {.st = st};
	static char text[64 * 1024];
	long n;

	memset(out, 0, sizeof(*out));
	out->address = cc->address;
	out->plaintext = cc->plaintext;
	out->tls_cert = cc->tls_cert;
	out->tls_key = cc->tls_key;
	out->tls_ca = cc->tls_ca;
	if (cc->sensor_id[0])
		snprintf(st->sensor_id, sizeof(st->sensor_id), "%s", cc->sensor_id);
	else if (gethostname(st->sensor_id, sizeof(st->sensor_id) - 1) != 0)
		snprintf(st->sensor_id, sizeof(st->sensor_id), "%s", "unnamed");
	out->sensor_id = st->sensor_id;
	out->spool_dir = cc->spool_dir;
	out->spool_max_bytes = cc->spool_max_bytes;
	out->drain_timeout_s = cc->drain_timeout_s;
	/* Only the endpoints are left to pseudonymise here: the workers make the
	 * mailbox pseudonyms (privacy.pseudonymize) before anything reads them. */
	if (c->pseudonymize_ips)
		out->privacy_key_file = c->key_file;
	out->pseudonymize_ips = c->pseudonymize_ips;
	out->drop_subject = !c->keep_subject;
	/* Main thread only, once: the static buffer is not shared. */
	n = export_pb_config_text(c, text, sizeof(text));
	export_pb_digest(text, n > 0 ? (size_t)n : 0, st->digest);
	out->config_digest = st->digest;
	netset_cidrs(&c->home_net, add_home, &home);
	out->home_net = st->home_ptr;
	out->n_home_net = home.n;
}
