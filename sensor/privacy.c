// SPDX-License-Identifier: BSD-3-Clause
/*
 * HMAC-SHA256 computed from two SHA-256 states precomputed over key^ipad and
 * key^opad (RFC 2104, section 4): a call copies them to the stack and hashes,
 * so it allocates nothing, takes no lock and may run on any thread. OpenSSL
 * 3.0's EVP_MAC re-init duplicates a provider context (a malloc) on every
 * call, hence the SHA256_* calls, deprecated in 3.0 but exact: the unit test
 * checks every form against HMAC().
 */
#define OPENSSL_API_COMPAT 10101

#include "sensor/privacy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common/log.h"
#include "sensor/smtp_tx.h"

struct privacy {
	SHA256_CTX inner; /* after absorbing key ^ ipad */
	SHA256_CTX outer; /* after absorbing key ^ opad */
};

/* Reads the whole key; *mode gets the permission bits. The key bytes stay in
 * the caller's buffer, which the caller wipes. */
static int privacy_key_read(const char *path, uint8_t key[PRIVACY_KEY_MAX], size_t *len,
			    mode_t *mode, struct errbuf *eb)
{
	struct stat st = {0};
	size_t got = 0;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errbuf_set(eb, -errno, "key file '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		err = errbuf_set(eb, -errno, "key file '%s': %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		err = errbuf_set(eb, -EINVAL, "key file '%s' is not a regular file", path);
	} else if (st.st_size < PRIVACY_KEY_MIN) {
		err = errbuf_set(eb, -EINVAL,
				 "key file '%s' has %lld bytes; a key needs at least %d "
				 "(head -c 32 /dev/urandom > FILE)",
				 path, (long long)st.st_size, PRIVACY_KEY_MIN);
	} else if (st.st_size > PRIVACY_KEY_MAX) {
		err = errbuf_set(eb, -EINVAL, "key file '%s' has %lld bytes; at most %d are a key",
				 path, (long long)st.st_size, PRIVACY_KEY_MAX);
	}
	/* st_size bounds the loop: at most PRIVACY_KEY_MAX bytes in short reads. */
	while (!err && got < (size_t)st.st_size) {
		ssize_t n = read(fd, key + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = errbuf_set(eb, -errno, "key file '%s': %s", path, strerror(errno));
		else if (n == 0)
			err = errbuf_set(
				eb, -EIO,
				"key file '%s': read %zu of its %lld bytes: the file changed "
				"while being read, or is not an ordinary file",
				path, got, (long long)st.st_size);
		else
			got += (size_t)n;
	}
	close(fd);
	*len = got;
	*mode = st.st_mode & 07777;
	return err;
}

int privacy_key_check(const char *key_file, struct errbuf *eb)
{
	uint8_t key[PRIVACY_KEY_MAX];
	size_t len = 0;
	mode_t mode = 0;
	int err = privacy_key_read(key_file, key, &len, &mode, eb);

	OPENSSL_cleanse(key, sizeof(key));
	return err;
}

static void privacy_pad_state(SHA256_CTX *c, const uint8_t *k, size_t klen, uint8_t xor)
{
	uint8_t pad[SHA256_CBLOCK];

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = (uint8_t)((i < klen ? k[i] : 0) ^ xor);
	SHA256_Init(c);
	SHA256_Update(c, pad, sizeof(pad));
	OPENSSL_cleanse(pad, sizeof(pad));
}

int privacy_create(const char *key_file, struct privacy **out, struct errbuf *eb)
{
	uint8_t key[PRIVACY_KEY_MAX], hashed[SHA256_DIGEST_LENGTH];
	const uint8_t *k = key;
	struct privacy *p;
	size_t klen = 0;
	mode_t mode = 0;
	int err;

	err = privacy_key_read(key_file, key, &klen, &mode, eb);
	if (err)
		goto out;
	if (mode & 077)
		log_warn("privacy: key file %s has mode %04o: group or others can read or change "
			 "it; chmod 600 it",
			 key_file, (unsigned int)mode);
	p = calloc(1, sizeof(*p));
	if (!p) {
		err = errbuf_set(eb, -ENOMEM, "privacy: out of memory");
		goto out;
	}
	/* RFC 2104: keys longer than the block are hashed first. */
	if (klen > SHA256_CBLOCK) {
		SHA256(key, klen, hashed);
		k = hashed;
		klen = sizeof(hashed);
	}
	privacy_pad_state(&p->inner, k, klen, 0x36);
	privacy_pad_state(&p->outer, k, klen, 0x5c);
	*out = p;
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(hashed, sizeof(hashed));
	return err;
}

void privacy_destroy(struct privacy *p)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, sizeof(*p));
	free(p);
}

static void privacy_hmac(const struct privacy *p, const char *label, const void *in, size_t len,
			 uint8_t mac[SHA256_DIGEST_LENGTH])
{
	uint8_t ih[SHA256_DIGEST_LENGTH];
	SHA256_CTX c = p->inner;

	SHA256_Update(&c, label, strlen(label));
	SHA256_Update(&c, in, len);
	SHA256_Final(ih, &c);
	c = p->outer;
	SHA256_Update(&c, ih, sizeof(ih));
	SHA256_Final(mac, &c);
}

static const char privacy_hexd[] = "0123456789abcdef";

/* "u-" and the hex of HMAC(key, "u:" local): PRIVACY_USER_LEN bytes, no NUL. */
static void privacy_local(const struct privacy *p, const char *local, size_t n, char *out)
{
	uint8_t mac[SHA256_DIGEST_LENGTH];

	privacy_hmac(p, "u:", local, n, mac);
	out[0] = 'u';
	out[1] = '-';
	for (unsigned int i = 0; i < PRIVACY_HEX / 2; i++) {
		out[2 + 2 * i] = privacy_hexd[mac[i] >> 4];
		out[3 + 2 * i] = privacy_hexd[mac[i] & 15];
	}
}

int privacy_addr(const struct privacy *p, const char *in, size_t len, char *out, size_t cap)
{
	const char *at = len ? memrchr(in, '@', len) : NULL;
	size_t local = at ? (size_t)(at - in) : len;
	size_t dom = len - local; /* "@domain", or 0 */

	if (cap)
		out[0] = '\0';
	if (len > PRIVACY_INPUT_MAX)
		return -EINVAL;
	if (local == 0) { /* "<>" or "@domain": nothing to hide */
		if (len >= cap)
			return -ENOSPC;
		memcpy(out, in, len);
		out[len] = '\0';
		return (int)len;
	}
	if (PRIVACY_USER_LEN + dom >= cap)
		return -ENOSPC;
	privacy_local(p, in, local, out);
	memcpy(out + PRIVACY_USER_LEN, in + local, dom);
	out[PRIVACY_USER_LEN + dom] = '\0';
	return (int)(PRIVACY_USER_LEN + dom);
}

int privacy_user(const struct privacy *p, const char *in, size_t len, char *out, size_t cap)
{
	/* A user name without '@' is a local part on its own: the same hash. */
	return privacy_addr(p, in, len, out, cap);
}

void privacy_ip(const struct privacy *p, uint8_t family, const union pkt_addr *in,
		union pkt_addr *out)
{
	uint8_t mac[SHA256_DIGEST_LENGTH];
	union pkt_addr a = {0};

	if (family == 4) {
		privacy_hmac(p, "4:", &in->b[12], 4, mac);
		a.b[10] = a.b[11] = 0xff;
		a.b[12] = (uint8_t)(0xf0 | (mac[0] & 0x0f));
		memcpy(&a.b[13], &mac[1], 3);
		/* The limited broadcast address would read as something else. */
		if (a.b[12] == 0xff && a.b[13] == 0xff && a.b[14] == 0xff && a.b[15] == 0xff)
			a.b[15] = 0xfe;
	} else {
		privacy_hmac(p, "6:", in->b, 16, mac);
		a.b[0] = 0x01;
		memcpy(&a.b[8], mac, 8);
	}
	*out = a;
}

const char *privacy_ip_text(const struct privacy *p, uint8_t family, const union pkt_addr *a,
			    char *buf, size_t cap)
{
	union pkt_addr x = *a;
	const char *s;

	if (p)
		privacy_ip(p, family, &x, &x);
	s = family == 4 ? inet_ntop(AF_INET, &x.b[12], buf, (socklen_t)cap)
			: inet_ntop(AF_INET6, x.b, buf, (socklen_t)cap);
	return s ? s : "?";
}

/* RFC 5322 atext and '.', and UTF-8 bytes (RFC 6531 local parts). */
static bool privacy_local_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80 || (c && strchr(".!#$%&'*+-/=?^_`{|}~", c));
}

static bool privacy_domain_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80 || c == '[';
}

/* privacy_text; *cut says whether anything was left out. */
static size_t privacy_text_cut(const struct privacy *p, const char *in, size_t len, char *out,
			       size_t cap, bool *cut)
{
	size_t i = 0, o = 0;

	*cut = false;
	if (!cap)
		return 0;
	while (i < len) {
		size_t j = i;
		bool mailbox;

		while (j < len && privacy_local_char((unsigned char)in[j]))
			j++;
		if (j == i) { /* one separator byte */
			if (o + 1 >= cap)
				break;
			out[o++] = in[i++];
			continue;
		}
		mailbox = p && j + 1 < len && in[j] == '@' &&
			  privacy_domain_start((unsigned char)in[j + 1]);
		if (o + (mailbox ? PRIVACY_USER_LEN : j - i) >= cap)
			break;
		if (mailbox) {
			privacy_local(p, in + i, j - i, out + o);
			o += PRIVACY_USER_LEN;
		} else {
			memcpy(out + o, in + i, j - i);
			o += j - i;
		}
		i = j;
	}
	*cut = i < len;
	out[o] = '\0';
	return o;
}

size_t privacy_text(const struct privacy *p, const char *in, size_t len, char *out, size_t cap)
{
	bool cut;

	return privacy_text_cut(p, in, len, out, cap, &cut);
}

static bool privacy_ip_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') || c == ':' ||
	       c == '.';
}

static bool privacy_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* Longest prefix of in[0..n) that inet_pton reads as an address of af. */
static size_t privacy_ip_match(int af, const char *in, size_t n, union pkt_addr *a)
{
	char tmp[INET6_ADDRSTRLEN];

	if (n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	for (size_t k = n; k >= 7; k--) { /* "1.2.3.4" and "a::b:c" are the shortest worth it */
		memcpy(tmp, in, k);
		tmp[k] = '\0';
		if (inet_pton(af, tmp, af == AF_INET ? (void *)&a->b[12] : (void *)a->b) == 1)
			return k;
	}
	return 0;
}

/* An address starting at in[0]: its length and pseudonym text, or 0. */
static size_t privacy_ip_at(const struct privacy *p, const char *in, size_t n, char *txt,
			    size_t cap)
{
	union pkt_addr a = {0};
	size_t run = 0, colons = 0, v4 = 0, m;

	while (run < n && run < INET6_ADDRSTRLEN && privacy_ip_char((unsigned char)in[run]))
		colons += in[run++] == ':';
	if (colons >= 2 && (m = privacy_ip_match(AF_INET6, in, run, &a))) {
		privacy_ip_text(p, 6, &a, txt, cap);
		return m;
	}
	while (v4 < run && (in[v4] == '.' || (in[v4] >= '0' && in[v4] <= '9')))
		v4++;
	if (!v4 || !(m = privacy_ip_match(AF_INET, in, v4, &a)))
		return 0;
	a.b[10] = a.b[11] = 0xff;
	privacy_ip_text(p, 4, &a, txt, cap);
	return m;
}

size_t privacy_text_ips(const struct privacy *p, const char *in, size_t len, char *out, size_t cap)
{
	char txt[INET6_ADDRSTRLEN];
	size_t i = 0, o = 0;

	if (!cap)
		return 0;
	while (i < len) {
		unsigned char prev = i ? (unsigned char)in[i - 1] : ' ';
		size_t m = 0, tl;

		/* An address starts after a separator, never inside a word or number. */
		if (p && privacy_ip_char((unsigned char)in[i]) && in[i] != '.' &&
		    !privacy_alnum(prev))
			m = privacy_ip_at(p, in + i, len - i, txt, sizeof(txt));
		if (!m) {
			if (o + 1 >= cap)
				break;
			out[o++] = in[i++];
			continue;
		}
		tl = strlen(txt);
		if (o + tl >= cap)
			break;
		memcpy(out + o, txt, tl);
		o += tl;
		i += m;
	}
	out[o] = '\0';
	return o;
}

/* An address header entry ("Alice <alice@example.com>"): the pseudonym of the
 * address alone, since the display name is a person's name; a bare value has
 * its mailboxes pseudonymised. */
static size_t privacy_mailbox(const struct privacy *p, const char *in, size_t len, char *out,
			      size_t cap, bool *cut)
{
	const char *lt = memrchr(in, '<', len);
	const char *gt = lt ? memchr(lt, '>', len - (size_t)(lt - in)) : NULL;
	int n;

	if (!lt || !gt)
		return privacy_text_cut(p, in, len, out, cap, cut);
	n = privacy_addr(p, lt + 1, (size_t)(gt - lt - 1), out, cap);
	*cut = n < 0;
	return n < 0 ? 0 : (size_t)n;
}

/* The free text fields that may hold mailboxes; how each one is rewritten. */
enum privacy_form { PF_COPY = 0, PF_TEXT, PF_MAILBOX, PF_DROP };

static enum privacy_form privacy_form_of(enum smtp_field f)
{
	switch (f) {
	case SMTP_F_FROM:
	case SMTP_F_REPLY_TO:
		return PF_MAILBOX;
	case SMTP_F_SUBJECT:
	case SMTP_F_FIRST_RECEIVED:
	case SMTP_F_SECOND_RECEIVED:
	case SMTP_F_LAST_REPLY:
	case SMTP_F_AUTH_RESULTS:
		return PF_TEXT;
	case SMTP_F_FROM_DISPLAY:
		return PF_DROP;
	default: /* MAIL FROM and the user already are pseudonyms; the rest holds none */
		return PF_COPY;
	}
}

static struct smtp_str privacy_put(const struct privacy *p, const struct smtp_tx *in,
				   struct smtp_str v, enum privacy_form form, struct smtp_tx *out,
				   char *buf, size_t cap)
{
	const char *s = smtp_tx_str(in, v);
	size_t n = v.len;
	bool cut = false;

	if (form == PF_TEXT)
		n = privacy_text_cut(p, s, n, buf, cap, &cut);
	else if (form == PF_MAILBOX)
		n = privacy_mailbox(p, s, n, buf, cap, &cut);
	if (cut)
		out->flags |= SMTP_TX_F_TRUNCATED;
	/* The HELO field is the scratch slot: privacy_tx sets it last. */
	smtp_tx_set(out, SMTP_F_HELO, form == PF_COPY ? s : buf, n);
	return out->f[SMTP_F_HELO];
}

void privacy_tx(const struct privacy *p, const struct smtp_tx *in, struct smtp_tx *out)
{
	char buf[4096];

	memcpy(out, in, offsetof(struct smtp_tx, arena));
	out->arena_used = 0;
	for (int f = SMTP_F_COUNT - 1; f > SMTP_F_HELO; f--) { /* HELO, the scratch slot, last */
		enum privacy_form form = privacy_form_of((enum smtp_field)f);

		if (in->f[f].len && form != PF_DROP)
			out->f[f] = privacy_put(p, in, in->f[f], form, out, buf, sizeof(buf));
		else
			out->f[f] = (struct smtp_str){0, 0};
	}
	for (unsigned int i = 0; i < in->n_rcpt_stored && i < SMTP_TX_MAX_RCPT; i++)
		out->rcpt[i].addr = privacy_put(p, in, in->rcpt[i].addr, PF_COPY, out, buf, 0);
	for (unsigned int i = 0; i < in->n_to_stored && i < SMTP_TX_MAX_HDR_ADDRS; i++)
		out->to[i] = privacy_put(p, in, in->to[i], PF_MAILBOX, out, buf, sizeof(buf));
	for (unsigned int i = 0; i < in->n_cc_stored && i < SMTP_TX_MAX_HDR_ADDRS; i++)
		out->cc[i] = privacy_put(p, in, in->cc[i], PF_MAILBOX, out, buf, sizeof(buf));
	for (unsigned int i = 0; i < in->n_path && i < SMTP_TX_MAX_PATH; i++)
		out->path[i] = privacy_put(p, in, in->path[i], PF_COPY, out, buf, 0);
	out->f[SMTP_F_HELO] = in->f[SMTP_F_HELO].len
				      ? privacy_put(p, in, in->f[SMTP_F_HELO], PF_COPY, out, buf, 0)
				      : (struct smtp_str){0, 0};
	OPENSSL_cleanse(buf, sizeof(buf));
}
