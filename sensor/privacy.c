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
		if (n <= 0)
			err = errbuf_set(eb, n < 0 ? -errno : -EIO, "key file '%s': short read",
					 path);
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

int privacy_addr(const struct privacy *p, const char *in, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	const char *at = len ? memrchr(in, '@', len) : NULL;
	size_t local = at ? (size_t)(at - in) : len;
	size_t dom = len - local; /* "@domain", or 0 */
	uint8_t mac[SHA256_DIGEST_LENGTH];

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
	privacy_hmac(p, "u:", in, local, mac);
	out[0] = 'u';
	out[1] = '-';
	for (unsigned int i = 0; i < PRIVACY_HEX / 2; i++) {
		out[2 + 2 * i] = hex[mac[i] >> 4];
		out[3 + 2 * i] = hex[mac[i] & 15];
	}
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
