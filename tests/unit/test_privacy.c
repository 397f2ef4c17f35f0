// SPDX-License-Identifier: BSD-3-Clause
/*
 * Pseudonyms: deterministic per key, different across keys, domains kept,
 * the local part gone, the reserved IP ranges, and equal to HMAC-SHA256 as
 * OpenSSL's HMAC() and Python's hmac compute it (known answers), so another
 * tool holding the key can reproduce them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sensor/netset.h"
#include "sensor/privacy.h"

static const char key_a[] = "0123456789abcdef0123456789abcdef";
static const char key_b[] = "0123456789abcdef0123456789abcdeF";

struct keys {
	char dir[64];
	char a[128], b[128], long_key[128], shared[128];
	uint8_t long_bytes[200];
};

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int keys_setup(void **state)
{
	struct keys *k = calloc(1, sizeof(*k));

	assert_non_null(k);
	memcpy(k->dir, "/tmp/rw-privacy-XXXXXX", 23);
	assert_non_null(mkdtemp(k->dir));
	snprintf(k->a, sizeof(k->a), "%s/a.key", k->dir);
	snprintf(k->b, sizeof(k->b), "%s/b.key", k->dir);
	snprintf(k->long_key, sizeof(k->long_key), "%s/long.key", k->dir);
	snprintf(k->shared, sizeof(k->shared), "%s/shared.key", k->dir);
	for (size_t i = 0; i < sizeof(k->long_bytes); i++)
		k->long_bytes[i] = (uint8_t)(i * 7 + 1);
	write_file(k->a, key_a, 32, 0600);
	write_file(k->b, key_b, 32, 0600);
	write_file(k->long_key, k->long_bytes, sizeof(k->long_bytes), 0400);
	write_file(k->shared, key_a, 32, 0644);
	*state = k;
	return 0;
}

static int keys_teardown(void **state)
{
	struct keys *k = *state;

	unlink(k->a);
	unlink(k->b);
	unlink(k->long_key);
	unlink(k->shared);
	rmdir(k->dir);
	free(k);
	return 0;
}

static struct privacy *make(const char *path)
{
	struct privacy *p = NULL;
	struct errbuf eb = {""};

	assert_int_equal(privacy_create(path, &p, &eb), 0);
	assert_non_null(p);
	return p;
}

static const char *addr(const struct privacy *p, const char *in, char *out, size_t cap)
{
	int n = privacy_addr(p, in, strlen(in), out, cap);

	assert_true(n >= 0);
	assert_int_equal((size_t)n, strlen(out));
	return out;
}

/* The fixed answers for key_a, from Python: hmac.new(key, b"u:bob", sha256). */
static void test_privacy_known_answers(void **state)
{
	struct keys *k = *state;
	struct privacy *p = make(k->a);
	union pkt_addr a, out;
	uint8_t fam;
	char buf[128], txt[INET6_ADDRSTRLEN];

	assert_string_equal(addr(p, "bob@example.net", buf, sizeof(buf)),
			    "u-ce9299ae3bb3fdab@example.net");
	assert_true(netset_parse_addr("192.0.2.1", &a, &fam));
	privacy_ip(p, fam, &a, &out);
	assert_non_null(inet_ntop(AF_INET, &out.b[12], txt, sizeof(txt)));
	assert_string_equal(txt, "250.174.11.203");
	assert_true(netset_parse_addr("2001:db8::1", &a, &fam));
	privacy_ip(p, fam, &a, &out);
	assert_non_null(inet_ntop(AF_INET6, out.b, txt, sizeof(txt)));
	assert_string_equal(txt, "100::5dc9:f474:a00:ea7d");
	privacy_destroy(p);
}

/* Same key file contents on two sensors: the same pseudonyms. Another key: others. */
static void test_privacy_same_key_same_pseudonym(void **state)
{
	struct keys *k = *state;
	struct privacy *p1 = make(k->a), *p2 = make(k->shared), *pb = make(k->b);
	char x[128], y[128], z[128];

	addr(p1, "alice@example.org", x, sizeof(x));
	addr(p2, "alice@example.org", y, sizeof(y));
	addr(pb, "alice@example.org", z, sizeof(z));
	assert_string_equal(x, y);
	assert_string_not_equal(x, z);
	assert_string_equal(z + 2 + PRIVACY_HEX, "@example.org");
	/* different local parts, same domain: different pseudonyms */
	addr(p1, "alicf@example.org", y, sizeof(y));
	assert_string_not_equal(x, y);
	/* byte for byte: a case change is another mailbox, as in the clear stream */
	addr(p1, "Alice@example.org", y, sizeof(y));
	assert_string_not_equal(x, y);
	privacy_destroy(p1);
	privacy_destroy(p2);
	privacy_destroy(pb);
}

static void test_privacy_address_form(void **state)
{
	static const char *const in[] = {
		"postmaster@mail.example.net",
		"\"john doe\"@example.com",
		"a@b@example.com",
		"x@[192.0.2.1]",
		"verylonglocalpartthatisstillvalid.0123456789@example.net",
	};
	static const char *const dom[] = {
		"@mail.example.net", "@example.com", "@example.com", "@[192.0.2.1]", "@example.net",
	};
	struct keys *k = *state;
	struct privacy *p = make(k->a);
	char out[160];

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		const char *at = strrchr(in[i], '@');
		char local[96];

		addr(p, in[i], out, sizeof(out));
		assert_memory_equal(out, "u-", 2);
		for (unsigned int j = 2; j < 2 + PRIVACY_HEX; j++)
			assert_non_null(strchr("0123456789abcdef", out[j]));
		assert_string_equal(out + 2 + PRIVACY_HEX, dom[i]);
		memcpy(local, in[i], (size_t)(at - in[i]));
		local[at - in[i]] = '\0';
		assert_null(strstr(out, local));
	}
	/* the null sender stays null (bounce detection needs it); "@d" has nothing to hide */
	assert_string_equal(addr(p, "", out, sizeof(out)), "");
	assert_string_equal(addr(p, "@example.net", out, sizeof(out)), "@example.net");
	privacy_destroy(p);
}

/* AUTH user names: an address follows the address rule; a bare name keeps the
 * hex its mailbox would get, so the account links to its address. */
static void test_privacy_user_names(void **state)
{
	struct keys *k = *state;
	struct privacy *p = make(k->a);
	char u[64], a[128];
	int n;

	n = privacy_user(p, "bob", 3, u, sizeof(u));
	assert_int_equal(n, PRIVACY_USER_LEN);
	assert_string_equal(u, "u-ce9299ae3bb3fdab");
	addr(p, "bob@example.net", a, sizeof(a));
	assert_memory_equal(a, u, PRIVACY_USER_LEN);
	assert_int_equal(privacy_user(p, "bob@example.net", 15, u, sizeof(u)), (int)strlen(a));
	assert_string_equal(u, a);
	/* only the given length counts, not what follows */
	assert_int_equal(privacy_user(p, "bobby", 3, u, sizeof(u)), PRIVACY_USER_LEN);
	assert_string_equal(u, "u-ce9299ae3bb3fdab");
	privacy_destroy(p);
}

/* Output buffers are never overrun; too-long input is refused, not hashed. */
static void test_privacy_bounds(void **state)
{
	struct keys *k = *state;
	struct privacy *p = make(k->a);
	char big[PRIVACY_INPUT_MAX + 2], out[40];

	memset(out, 'Z', sizeof(out));
	assert_int_equal(privacy_addr(p, "bob@example.net", 15, out, 30), -ENOSPC);
	assert_string_equal(out, "");
	assert_int_equal(out[1], 'Z');
	assert_int_equal(privacy_addr(p, "bob@example.net", 15, out, 31), 30);
	assert_int_equal(privacy_user(p, "bob", 3, out, PRIVACY_USER_LEN), -ENOSPC);
	assert_int_equal(privacy_user(p, "bob", 3, out, PRIVACY_USER_LEN + 1), PRIVACY_USER_LEN);
	assert_int_equal(privacy_addr(p, "", 0, out, 0), -ENOSPC);
	memset(big, 'a', sizeof(big));
	assert_int_equal(privacy_addr(p, big, PRIVACY_INPUT_MAX + 1, out, sizeof(out)), -EINVAL);
	privacy_destroy(p);
}

static void test_privacy_ip_ranges(void **state)
{
	struct keys *k = *state;
	struct privacy *p = make(k->a), *pb = make(k->b);
	union pkt_addr a, o1, o2, ob;
	uint8_t fam;

	for (unsigned int i = 0; i < 256; i++) {
		char s[32];

		snprintf(s, sizeof(s), "198.51.100.%u", i);
		assert_true(netset_parse_addr(s, &a, &fam));
		privacy_ip(p, fam, &a, &o1);
		privacy_ip(p, fam, &a, &o2);
		privacy_ip(pb, fam, &a, &ob);
		assert_memory_equal(&o1, &o2, 16);	 /* deterministic */
		assert_memory_not_equal(&o1, &ob, 16);	 /* keyed */
		assert_memory_equal(o1.b, a.b, 12);	 /* still ::ffff:a.b.c.d */
		assert_int_equal(o1.b[12] & 0xf0, 0xf0); /* 240.0.0.0/4 */
		assert_false(o1.w[3] == 0xffffffffu);	 /* never the broadcast */
	}
	assert_true(netset_parse_addr("2001:db8:5::25", &a, &fam));
	assert_int_equal(fam, 6);
	privacy_ip(p, fam, &a, &o1);
	privacy_ip(pb, fam, &a, &ob);
	assert_memory_equal(o1.b, "\x01\0\0\0\0\0\0\0", 8); /* 100::/64 */
	assert_memory_not_equal(&o1, &ob, 16);
	privacy_ip(p, fam, &a, &a); /* in place */
	assert_memory_equal(&a, &o1, 16);
	privacy_destroy(p);
	privacy_destroy(pb);
}

/* A key over the SHA-256 block size is hashed first (RFC 2104): compare with HMAC(). */
static void test_privacy_matches_openssl_hmac(void **state)
{
	struct keys *k = *state;
	struct privacy *p = make(k->long_key);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char out[64], want[64];

	assert_non_null(HMAC(EVP_sha256(), k->long_bytes, sizeof(k->long_bytes),
			     (const unsigned char *)"u:carol", 7, mac, &maclen));
	assert_int_equal(maclen, 32);
	snprintf(want, sizeof(want), "u-%02x%02x%02x%02x%02x%02x%02x%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5], mac[6], mac[7]);
	assert_int_equal(privacy_user(p, "carol", 5, out, sizeof(out)), PRIVACY_USER_LEN);
	assert_string_equal(out, want);
	privacy_destroy(p);
}

static void test_privacy_key_file_checks(void **state)
{
	struct keys *k = *state;
	struct privacy *p = NULL;
	struct errbuf eb = {""};
	char path[160], big[PRIVACY_KEY_MAX + 1];

	snprintf(path, sizeof(path), "%s/short.key", k->dir);
	write_file(path, key_a, 31, 0600);
	assert_int_equal(privacy_create(path, &p, &eb), -EINVAL);
	assert_null(p);
	assert_non_null(strstr(eb.msg, "short.key' has 31 bytes; a key needs at least 32"));
	assert_null(strstr(eb.msg, "0123456789"));
	assert_int_equal(privacy_key_check(path, &eb), -EINVAL);
	memset(big, 'k', sizeof(big));
	write_file(path, big, sizeof(big), 0600);
	assert_int_equal(privacy_key_check(path, &eb), -EINVAL);
	assert_non_null(strstr(eb.msg, "has 4097 bytes; at most 4096 are a key"));
	unlink(path);
	assert_int_equal(privacy_create(path, &p, &eb), -ENOENT);
	assert_non_null(strstr(eb.msg, "No such file or directory"));
	assert_int_equal(privacy_key_check(k->dir, &eb), -EINVAL);
	assert_non_null(strstr(eb.msg, "is not a regular file"));
	assert_int_equal(privacy_key_check(k->a, &eb), 0);
	privacy_destroy(NULL);
}

/* A key others can read still works, with a warning that names the file and
 * its mode and never the key. */
static void test_privacy_warns_on_readable_key(void **state)
{
	struct keys *k = *state;
	char log[512] = "", tmpl[] = "/tmp/rw-privacy-log-XXXXXX";
	int fd = mkstemp(tmpl), saved = dup(STDERR_FILENO);
	struct privacy *p;
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	p = make(k->shared);
	privacy_destroy(make(k->a));
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	n = pread(fd, log, sizeof(log) - 1, 0);
	close(fd);
	unlink(tmpl);
	assert_true(n > 0);
	assert_non_null(strstr(log, "shared.key has mode 0644"));
	assert_null(strstr(log, "a.key")); /* mode 0600: no warning */
	assert_null(strstr(log, "0123456789"));
	privacy_destroy(p);
}

/* Free text: each local@domain becomes the pseudonym privacy_addr gives (so a
 * reply echoing a recipient names the recipient's pseudonym), the rest stays;
 * a pseudonym is never cut, and without a key the text is copied. */
static void test_privacy_text_mailboxes(void **state)
{
	struct keys *k = *state;
	struct privacy *p = make(k->a);
	char out[256];
	size_t n;

	n = privacy_text(p, "550 5.1.1 <bob@example.net>: unknown; for bob@example.net", 57, out,
			 sizeof(out));
	assert_string_equal(out, "550 5.1.1 <u-ce9299ae3bb3fdab@example.net>: unknown; for "
				 "u-ce9299ae3bb3fdab@example.net");
	assert_int_equal(n, strlen(out));
	/* Not a mailbox: message ids keep nothing secret, '@' alone, "user @ host" */
	privacy_text(p, "250 Ok: queued as 4F2A1 @ mx, a@ b", 34, out, sizeof(out));
	assert_string_equal(out, "250 Ok: queued as 4F2A1 @ mx, a@ b");
	/* Cut before a pseudonym that does not fit: never its clear local part. */
	privacy_text(p, "for bob@example.net", 19, out, 10);
	assert_string_equal(out, "for ");
	privacy_text(NULL, "bob@example.net", 15, out, sizeof(out));
	assert_string_equal(out, "bob@example.net");
	privacy_destroy(p);
}

/* Addresses in text (Received:, replies, alert evidence) become the pseudonyms
 * privacy_ip gives; numbers, versions, queue ids and words stay. */
static void test_privacy_text_ips(void **state)
{
	static const char in[] = "from h ([192.0.2.1]) by mx (IPv6:2001:db8::1) id 4F2A1 v1.2.3 "
				 "at 10:00:00, 192.0.2.1:25";
	struct keys *k = *state;
	struct privacy *p = make(k->a);
	union pkt_addr a;
	char out[256];

	privacy_text_ips(p, in, sizeof(in) - 1, out, sizeof(out));
	assert_string_equal(out,
			    "from h ([250.174.11.203]) by mx (IPv6:100::5dc9:f474:a00:ea7d) id "
			    "4F2A1 v1.2.3 at 10:00:00, 250.174.11.203:25");
	privacy_text_ips(NULL, in, sizeof(in) - 1, out, sizeof(out));
	assert_string_equal(out, in);
	/* The one helper the outputs format addresses with. */
	memset(&a, 0, sizeof(a));
	a.b[10] = a.b[11] = 0xff;
	memcpy(&a.b[12], "\xc0\x00\x02\x01", 4);
	assert_string_equal(privacy_ip_text(p, 4, &a, out, sizeof(out)), "250.174.11.203");
	assert_string_equal(privacy_ip_text(NULL, 4, &a, out, sizeof(out)), "192.0.2.1");
	privacy_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_privacy_known_answers),
		cmocka_unit_test(test_privacy_same_key_same_pseudonym),
		cmocka_unit_test(test_privacy_address_form),
		cmocka_unit_test(test_privacy_user_names),
		cmocka_unit_test(test_privacy_bounds),
		cmocka_unit_test(test_privacy_ip_ranges),
		cmocka_unit_test(test_privacy_matches_openssl_hmac),
		cmocka_unit_test(test_privacy_key_file_checks),
		cmocka_unit_test(test_privacy_warns_on_readable_key),
		cmocka_unit_test(test_privacy_text_mailboxes),
		cmocka_unit_test(test_privacy_text_ips),
	};

	return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
