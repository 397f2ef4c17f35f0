// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/tls_hello.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#define TLS_REC_HDR	    5
#define TLS_HS_HDR	    4
#define TLS_HS_MAX	    16384 /* ClientHello bytes followed across records */
#define TLS_CT_HANDSHAKE    22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_MAX_CIPHERS	    1024 /* kept for the hash; counts go on */
#define TLS_MAX_EXTS	    256
#define TLS_MAX_SIGALGS	    256

#define EXT_SNI		   0x0000
#define EXT_SIGALGS	   0x000d
#define EXT_ALPN	   0x0010
#define EXT_SUPPORTED_VERS 0x002b

struct rd {
	const uint8_t *p;
	size_t n;
	bool bad;
};

static uint32_t rd_u(struct rd *r, size_t bytes)
{
	uint32_t v = 0;

	if (r->n < bytes) {
		r->bad = true;
		r->n = 0;
		return 0;
	}
	for (size_t i = 0; i < bytes; i++)
		v = v << 8 | r->p[i];
	r->p += bytes;
	r->n -= bytes;
	return v;
}

/* A sub-reader over the next len bytes (a length-prefixed vector). */
static struct rd rd_sub(struct rd *r, size_t len)
{
	struct rd s = {r->p, len, false};

	if (r->n < len) {
		r->bad = true;
		r->n = 0;
		s.n = 0;
		s.bad = true;
		return s;
	}
	r->p += len;
	r->n -= len;
	return s;
}

static bool grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

struct hello {
	uint16_t legacy_version, best_version;
	bool has_sni;
	uint8_t alpn[2];
	uint16_t n_ciphers, n_exts, n_sigalgs; /* non-GREASE, all counted */
	uint16_t ciphers[TLS_MAX_CIPHERS];
	uint16_t exts[TLS_MAX_EXTS];
	uint16_t sigalgs[TLS_MAX_SIGALGS];
};

static void put_u16(uint16_t *a, uint16_t *n, unsigned int cap, uint16_t v)
{
	if (*n < cap)
		a[*n] = v;
	if (*n < UINT16_MAX)
		(*n)++;
}

static void ext_sni(struct rd *r, struct tls_hello *out)
{
	struct rd list = rd_sub(r, rd_u(r, 2));

	while (list.n && !list.bad) {
		uint8_t type = (uint8_t)rd_u(&list, 1);
		struct rd name = rd_sub(&list, rd_u(&list, 2));

		if (type != 0 || name.bad)
			continue;
		out->sni_len = (uint16_t)(name.n < TLS_HELLO_SNI_MAX ? name.n : TLS_HELLO_SNI_MAX);
		memcpy(out->sni, name.p, out->sni_len);
		out->sni[out->sni_len] = '\0';
		return;
	}
}

static char hexdigit(unsigned int v)
{
	return "0123456789abcdef"[v & 0xf];
}

static bool alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* First and last character of the first ALPN value; hex digits when not alphanumeric. */
static void ext_alpn(struct rd *r, struct hello *h)
{
	struct rd list = rd_sub(r, rd_u(r, 2));
	struct rd v = rd_sub(&list, rd_u(&list, 1));
	uint8_t first, last;

	if (v.bad || v.n == 0)
		return;
	first = v.p[0];
	last = v.p[v.n - 1];
	if (alnum(first) && alnum(last)) {
		h->alpn[0] = first;
		h->alpn[1] = last;
	} else {
		h->alpn[0] = (uint8_t)hexdigit(first >> 4);
		h->alpn[1] = (uint8_t)hexdigit(last);
	}
}

static void ext_versions(struct rd *r, struct hello *h)
{
	struct rd list = rd_sub(r, rd_u(r, 1));

	while (list.n >= 2) {
		uint16_t v = (uint16_t)rd_u(&list, 2);

		if (!grease(v) && v > h->best_version)
			h->best_version = v;
	}
}

static void ext_sigalgs(struct rd *r, struct hello *h)
{
	struct rd list = rd_sub(r, rd_u(r, 2));

	while (list.n >= 2) {
		uint16_t v = (uint16_t)rd_u(&list, 2);

		if (!grease(v))
			put_u16(h->sigalgs, &h->n_sigalgs, TLS_MAX_SIGALGS, v);
	}
}

static void extensions(struct rd *r, struct hello *h, struct tls_hello *out)
{
	struct rd all = rd_sub(r, rd_u(r, 2));

	while (all.n && !all.bad) {
		uint16_t type = (uint16_t)rd_u(&all, 2);
		struct rd data = rd_sub(&all, rd_u(&all, 2));

		if (all.bad)
			break;
		if (grease(type))
			continue;
		put_u16(h->exts, &h->n_exts, TLS_MAX_EXTS, type);
		if (type == EXT_SNI) {
			h->has_sni = true;
			ext_sni(&data, out);
		} else if (type == EXT_ALPN) {
			ext_alpn(&data, h);
		} else if (type == EXT_SUPPORTED_VERS) {
			ext_versions(&data, h);
		} else if (type == EXT_SIGALGS) {
			ext_sigalgs(&data, h);
		}
	}
	r->bad |= all.bad;
}

/* The ClientHello body (after the 4-byte handshake header). */
static int client_hello(struct rd *r, struct hello *h, struct tls_hello *out)
{
	struct rd ciphers;

	h->legacy_version = (uint16_t)rd_u(r, 2);
	rd_sub(r, 32);	       /* random */
	rd_sub(r, rd_u(r, 1)); /* session id */
	ciphers = rd_sub(r, rd_u(r, 2));
	rd_sub(r, rd_u(r, 1)); /* compression methods */
	if (r->bad || (ciphers.n & 1) || (h->legacy_version >> 8) != 3)
		return -EINVAL;
	while (ciphers.n) {
		uint16_t c = (uint16_t)rd_u(&ciphers, 2);

		if (!grease(c))
			put_u16(h->ciphers, &h->n_ciphers, TLS_MAX_CIPHERS, c);
	}
	if (r->n) /* extensions are optional (SSL 3.0 style hellos) */
		extensions(r, h, out);
	return r->bad ? -EINVAL : 0;
}

/* Shell sort: no allocation (glibc's qsort may malloc), n ≤ TLS_MAX_CIPHERS. */
static void sort_u16(uint16_t *a, size_t n)
{
	static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};

	for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		size_t gap = gaps[g];

		for (size_t i = gap; i < n; i++) {
			uint16_t v = a[i];
			size_t j = i;

			for (; j >= gap && a[j - gap] > v; j -= gap)
				a[j] = a[j - gap];
			a[j] = v;
		}
	}
}

/*
 * One digest context per thread, made on first use: OpenSSL 3 allocates
 * in EVP_MD_CTX_new() and in implicit fetches, which a per-hello
 * EVP_Digest() would repeat on the packet path.
 */
static __thread EVP_MD_CTX *md_ctx;
static __thread EVP_MD *md_sha256;

int tls_hello_thread_init(void)
{
	if (!md_ctx)
		md_ctx = EVP_MD_CTX_new();
	if (!md_sha256)
		md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	return md_ctx && md_sha256 ? 0 : -ENOMEM;
}

void tls_hello_thread_fini(void)
{
	EVP_MD_CTX_free(md_ctx);
	EVP_MD_free(md_sha256);
	md_ctx = NULL;
	md_sha256 = NULL;
}

static bool hash_begin(void)
{
	if (!md_ctx || !md_sha256)
		tls_hello_thread_init();
	return md_ctx && md_sha256 && EVP_DigestInit_ex(md_ctx, md_sha256, NULL) == 1;
}

/* Feeds "xxxx,xxxx,..." (lower-case hex) to the digest. */
static void hash_list(const uint16_t *a, size_t n, bool lead_sep)
{
	char buf[256];
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (o + 5 > sizeof(buf)) {
			EVP_DigestUpdate(md_ctx, buf, o);
			o = 0;
		}
		if (i || lead_sep)
			buf[o++] = i ? ',' : '_';
		for (int s = 12; s >= 0; s -= 4)
			buf[o++] = hexdigit(a[i] >> s);
	}
	EVP_DigestUpdate(md_ctx, buf, o);
}

static void hash_end(char out[12])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dn = 0;

	if (EVP_DigestFinal_ex(md_ctx, d, &dn) != 1 || dn < 6) {
		memset(out, '0', 12);
		return;
	}
	for (int i = 0; i < 6; i++) {
		out[2 * i] = hexdigit(d[i] >> 4);
		out[2 * i + 1] = hexdigit(d[i]);
	}
}

static const char *ja4_version(uint16_t v)
{
	switch (v) {
	case 0x0304:
		return "13";
	case 0x0303:
		return "12";
	case 0x0302:
		return "11";
	case 0x0301:
		return "10";
	case 0x0300:
		return "s3";
	case 0x0002:
		return "s2";
	case 0xfeff:
		return "d1";
	case 0xfefd:
		return "d2";
	case 0xfefc:
		return "d3";
	}
	return "00";
}

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* FoxIO JA4 (TLS over TCP): a_b_c, b and c the first 12 hex digits of SHA-256. */
static void ja4(struct hello *h, struct tls_hello *out)
{
	size_t nc = min_sz(h->n_ciphers, TLS_MAX_CIPHERS),
	       ns = min_sz(h->n_sigalgs, TLS_MAX_SIGALGS);
	size_t ne = 0;
	char *j = out->ja4;

	snprintf(j, 11, "t%s%c%02u%02u%c%c", ja4_version(out->version), h->has_sni ? 'd' : 'i',
		 (unsigned int)min_sz(h->n_ciphers, 99), (unsigned int)min_sz(h->n_exts, 99),
		 h->alpn[0] ? h->alpn[0] : '0', h->alpn[1] ? h->alpn[1] : '0');
	j[10] = '_';
	j[23] = '_';
	j[36] = '\0';
	/* SNI and ALPN are in part a already: dropped so c does not depend on them. */
	for (size_t i = 0; i < min_sz(h->n_exts, TLS_MAX_EXTS); i++)
		if (h->exts[i] != EXT_SNI && h->exts[i] != EXT_ALPN)
			h->exts[ne++] = h->exts[i];
	sort_u16(h->ciphers, nc);
	sort_u16(h->exts, ne);
	memset(j + 11, '0', 12);
	memset(j + 24, '0', 12);
	if (nc && hash_begin()) {
		hash_list(h->ciphers, nc, false);
		hash_end(j + 11);
	}
	if (ne && hash_begin()) {
		hash_list(h->exts, ne, false);
		hash_list(h->sigalgs, ns, true);
		hash_end(j + 24);
	}
}

/*
 * Gathers the handshake message from consecutive handshake records into
 * buf (TLS_HS_HDR + TLS_HS_MAX bytes). Returns its length, 0 when more
 * bytes are needed, -EINVAL when the stream is not a TLS handshake that
 * starts with a ClientHello of at most TLS_HS_MAX bytes.
 */
static long gather(const uint8_t *p, size_t n, uint8_t *buf)
{
	size_t off = 0, have = 0, need;

	/* Each record consumes at least 6 input bytes: bounded by n. */
	while (off < n) {
		size_t left = n - off, len, avail, take;

		if (p[off] != TLS_CT_HANDSHAKE || (left > 1 && p[off + 1] != 3) ||
		    (left > 2 && p[off + 2] > 4))
			return -EINVAL;
		if (left < TLS_REC_HDR)
			return 0;
		len = (size_t)p[off + 3] << 8 | p[off + 4];
		if (len == 0 || len > TLS_HS_MAX + 2048)
			return -EINVAL;
		avail = min_sz(len, left - TLS_REC_HDR);
		take = min_sz(avail, TLS_HS_HDR + TLS_HS_MAX - have);
		memcpy(buf + have, p + off + TLS_REC_HDR, take);
		have += take;
		if (have && buf[0] != TLS_HS_CLIENT_HELLO)
			return -EINVAL;
		if (have >= TLS_HS_HDR) {
			need = TLS_HS_HDR + ((size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3]);
			if (need > TLS_HS_HDR + TLS_HS_MAX)
				return -EINVAL;
			if (have >= need)
				return (long)need;
		}
		if (avail < len)
			return 0;
		off += TLS_REC_HDR + len;
	}
	return 0;
}

int tls_hello_parse(const uint8_t *p, size_t n, struct tls_hello *out)
{
	uint8_t buf[TLS_HS_HDR + TLS_HS_MAX];
	struct hello h;
	struct rd r;
	long len = gather(p, n, buf);
	int err;

	if (len <= 0)
		return len < 0 ? (int)len : -EAGAIN;
	memset(out, 0, sizeof(*out));
	memset(&h, 0, offsetof(struct hello, ciphers));
	r = (struct rd){buf + TLS_HS_HDR, (size_t)len - TLS_HS_HDR, false};
	err = client_hello(&r, &h, out);
	if (err)
		return err;
	out->version = h.best_version ? h.best_version : h.legacy_version;
	ja4(&h, out);
	return 0;
}
