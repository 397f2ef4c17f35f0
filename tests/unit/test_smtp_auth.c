// SPDX-License-Identifier: BSD-3-Clause
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "sensor/smtp_auth.h"

#define U8(s) ((const uint8_t *)(s))

static const char password[] = "Tr0ub4dor&3";

/* base64 of n raw bytes into out (NUL-terminated). */
static const char *b64(const void *raw, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, raw, (int)n);
	return out;
}

static void begin(struct smtp_auth *a, const char *arg, struct smtp_auth_out *out)
{
	smtp_auth_begin(a, U8(arg), (uint32_t)strlen(arg), out);
}

static void respond(struct smtp_auth *a, const char *line, struct smtp_auth_out *out)
{
	memset(out, 0, sizeof(*out));
	smtp_auth_response(a, U8(line), (uint32_t)strlen(line), out);
}

static void challenge(struct smtp_auth *a, const char *text)
{
	smtp_auth_challenge(a, U8(text), (uint32_t)strlen(text));
}

/* Nothing that leaves smtp_auth may carry the password, clear or encoded. */
static void assert_no_password(const struct smtp_auth_out *out)
{
	assert_null(memmem(out, sizeof(*out), password, strlen(password)));
	assert_null(memmem(out, sizeof(*out), "Tr0ub4", 6));
}

static void assert_user(const struct smtp_auth_out *out, const char *user)
{
	assert_int_equal(out->user_len, strlen(user));
	assert_string_equal(out->user, user);
	assert_no_password(out);
}

static void test_smtp_auth_plain_initial_response(void **state)
{
	static const char raw[] = "\0alice@example.org\0Tr0ub4dor&3";
	char enc[128], line[160];
	struct smtp_auth a;
	struct smtp_auth_out out;

	(void)state;
	snprintf(line, sizeof(line), "PLAIN %s", b64(raw, sizeof(raw) - 1, enc));
	begin(&a, line, &out);
	assert_int_equal(a.mech, SMTP_AUTH_MECH_PLAIN);
	assert_string_equal(out.mech, "PLAIN");
	assert_user(&out, "alice@example.org");
	assert_int_equal(smtp_auth_result_of(&a, 235), SMTP_AUTH_SUCCESS);
	assert_int_equal(smtp_auth_result_of(&a, 535), SMTP_AUTH_FAILURE);
	assert_int_equal(smtp_auth_result_of(&a, 454), SMTP_AUTH_TEMPFAIL);
}

/* authzid given: the user is still authcid; lower-case mechanism upper-cased. */
static void test_smtp_auth_plain_after_challenge(void **state)
{
	static const char raw[] = "admin\0bob\0Tr0ub4dor&3";
	char enc[128];
	struct smtp_auth a;
	struct smtp_auth_out out;

	(void)state;
	begin(&a, "plain", &out);
	assert_string_equal(out.mech, "PLAIN");
	assert_int_equal(out.user_len, 0);
	challenge(&a, "");
	respond(&a, b64(raw, sizeof(raw) - 1, enc), &out);
	assert_user(&out, "bob");
}

static void test_smtp_auth_login(void **state)
{
	char user[64], pass[64];
	struct smtp_auth a;
	struct smtp_auth_out out;

	(void)state;
	b64("carol", 5, user);
	b64(password, strlen(password), pass);
	begin(&a, "LOGIN", &out);
	challenge(&a, "VXNlcm5hbWU6");
	respond(&a, user, &out);
	assert_user(&out, "carol");
	challenge(&a, "UGFzc3dvcmQ6");
	respond(&a, pass, &out);
	assert_int_equal(out.user_len, 0);
	assert_no_password(&out);
	assert_null(memmem(&out, sizeof(out), pass, strlen(pass)));
}

/* "AUTH LOGIN <user>": the user in the command, the password after 334. */
static void test_smtp_auth_login_initial_response(void **state)
{
	char enc[64], line[80], pass[64];
	struct smtp_auth a;
	struct smtp_auth_out out;

	(void)state;
	snprintf(line, sizeof(line), "LOGIN %s", b64("dave@example.org", 16, enc));
	begin(&a, line, &out);
	assert_user(&out, "dave@example.org");
	challenge(&a, "UGFzc3dvcmQ6");
	respond(&a, b64(password, strlen(password), pass), &out);
	assert_int_equal(out.user_len, 0);
	assert_no_password(&out);
}

static void test_smtp_auth_cram_md5(void **state)
{
	static const char raw[] = "joe 3dbc88f0624776a737b39093f6eb6427";
	char enc[128];
	struct smtp_auth a;
	struct smtp_auth_out out;

	(void)state;
	begin(&a, "CRAM-MD5", &out);
	assert_int_equal(a.mech, SMTP_AUTH_MECH_CRAM_MD5);
	challenge(&a, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UuZXhhbXBsZS5uZXQ+");
	respond(&a, b64(raw, sizeof(raw) - 1, enc), &out);
	assert_user(&out, "joe");
}

static void test_smtp_auth_digest_md5(void **state)
{
	static const char raw[] =
		"charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\","
		"nonce=\"OA6MG9tEQGm2hh\",nc=00000001,response=d388dad90d4bbd760a152321f2143af7";
	char enc[512];
	struct smtp_auth a;
	struct smtp_auth_out out;

	(void)state;
	begin(&a, "DIGEST-MD5", &out);
	challenge(&a, "cmVhbG09ImVsd29vZC5pbm5vc29mdC5jb20i");
	respond(&a, b64(raw, sizeof(raw) - 1, enc), &out);
	assert_user(&out, "chris");
	respond(&a, "", &out);
	assert_int_equal(out.user_len, 0);
}

static void test_smtp_auth_xoauth2(void **state)
{
	static const char raw[] = "user=erin@example.org\x01"
				  "auth=Bearer Tr0ub4dor&3\x01\x01";
	char enc[128], line[160];
	struct smtp_auth a;
	struct smtp_auth_out out;

	(void)state;
	snprintf(line, sizeof(line), "XOAUTH2 %s", b64(raw, sizeof(raw) - 1, enc));
	begin(&a, line, &out);
	assert_user(&out, "erin@example.org");
	/* The server's error comes as a 334; the client answers with an empty line. */
	challenge(&a, "eyJzdGF0dXMiOiI0MDEifQ==");
	respond(&a, "", &out);
	assert_int_equal(out.user_len, 0);
}

static void test_smtp_auth_oauthbearer(void **state)
{
	static const char raw[] = "n,a=frank=2Cjr=3D@example.org,\x01host=mail.example.org\x01"
				  "port=587\x01"
				  "auth=Bearer Tr0ub4dor&3\x01\x01";
	char enc[256], line[300];
	struct smtp_auth a;
	struct smtp_auth_out out;

	(void)state;
	snprintf(line, sizeof(line), "OAUTHBEARER %s", b64(raw, sizeof(raw) - 1, enc));
	begin(&a, line, &out);
	assert_user(&out, "frank,jr=@example.org");
}

/* The Type 3 message of the Arkime corpus capture ntlm_synthetic.pcap (SMTP, stream 10). */
static void test_smtp_auth_ntlm(void **state)
{
	static const char type1[] =
		"TlRMTVNTUAABAAAABwIAAgcABwAoAAAACAAIAC8AAAAKAGFKAAAAD1NNVFBET01TTVRQSE9TVA==";
	static const char type3[] =
		"TlRMTVNTUAADAAAAGAAYAFgAAAAYABgAcAAAAA4ADgCIAAAACAAIAJYAAAAQABAAngAAABAAEACuAAAA"
		"BQIAAgoAYUoAAAAPAAAAAAAAAAAAAAAAAAAAAExMTExMTExMTExMTExMTExMTExMTExMTE5OTk5OTk5O"
		"Tk5OTk5OTk5OTk5OTk5OTlMATQBUAFAARABPAE0AagBhAGMAawBTAE0AVABQAEgATwBTAFQAS0tLS0tL"
		"S0tLS0tLS0tLSw==";
	struct smtp_auth a;
	struct smtp_auth_out out;

	(void)state;
	begin(&a, "NTLM", &out);
	assert_string_equal(out.mech, "NTLM");
	challenge(&a, "");
	respond(&a, type1, &out);
	assert_int_equal(out.user_len, 0);
	challenge(&a, "TlRMTVNTUAACAAAADgAOADgAAAAFAgACASNFZ4mrze8AAAAAAAAAAAQABABGAAAACgBhSgAAAA9T"
		      "AE0AVABQAFQARwBUAAAAAAA=");
	respond(&a, type3, &out);
	assert_user(&out, "jack");
	/* The challenge responses (LLLL.., NNNN..) are password material: not out. */
	assert_null(memmem(&out, sizeof(out), "LLLL", 4));
	assert_null(memmem(&out, sizeof(out), "NNNN", 4));
}

/* Type 3 with OEM strings, and one whose user field points outside the message. */
static void test_smtp_auth_ntlm_oem_and_bad_offsets(void **state)
{
	uint8_t msg[80] = "NTLMSSP";
	char enc[160];
	struct smtp_auth a;
	struct smtp_auth_out out;

	(void)state;
	msg[8] = 3;
	msg[36] = 4; /* user: 4 bytes at 72 */
	msg[40] = 72;
	memcpy(msg + 72, "greg", 4); /* flags at 60 = 0: OEM */
	begin(&a, "NTLM", &out);
	respond(&a, b64(msg, sizeof(msg), enc), &out);
	assert_user(&out, "greg");

	msg[40] = 78; /* 78 + 4 > 80 */
	begin(&a, "NTLM", &out);
	respond(&a, b64(msg, sizeof(msg), enc), &out);
	assert_int_equal(out.user_len, 0);
}

static void test_smtp_auth_other_mechanisms(void **state)
{
	struct smtp_auth a;
	struct smtp_auth_out out;

	(void)state;
	begin(&a, "GSSAPI", &out);
	assert_int_equal(a.mech, SMTP_AUTH_MECH_GSSAPI);
	respond(&a, "YIIBewYJKoZIhvcSAQICAQBuggFqMIIBZqADAgEFoQMCAQ6iBwMFACAAAACj", &out);
	assert_int_equal(out.user_len, 0);
	assert_false(out.bad_base64);

	begin(&a, "SCRAM-SHA-256-PLUS", &out);
	assert_int_equal(a.mech, SMTP_AUTH_MECH_OTHER);
	assert_string_equal(out.mech, "SCRAM-SHA-256-PLUS");

	begin(&a, "", &out);
	assert_int_equal(a.mech, SMTP_AUTH_MECH_NONE);
}

static void test_smtp_auth_abort(void **state)
{
	struct smtp_auth a;
	struct smtp_auth_out out;

	(void)state;
	begin(&a, "LOGIN", &out);
	challenge(&a, "VXNlcm5hbWU6");
	respond(&a, "*", &out);
	assert_true(out.aborted);
	assert_int_equal(smtp_auth_result_of(&a, 501), SMTP_AUTH_ABORTED);
	/* The state is one byte of bits: a new exchange starts from none of them,
	 * and LOGIN's steps still follow the server's prompts. */
	begin(&a, "LOGIN", &out);
	assert_int_equal(a.mech, SMTP_AUTH_MECH_LOGIN);
	assert_int_equal(smtp_auth_result_of(&a, 235), SMTP_AUTH_SUCCESS);
	challenge(&a, "UGFzc3dvcmQ6"); /* "Password:" first: that line is not the user */
	respond(&a, "c2VjcmV0", &out);
	assert_int_equal(out.user_len, 0);
	challenge(&a, "VXNlcm5hbWU6");
	respond(&a, "ZGF2ZQ==", &out); /* dave */
	assert_int_equal(out.user_len, 4);
	assert_memory_equal(out.user, "dave", 4);
	assert_int_equal(smtp_auth_result_of(&a, 535), SMTP_AUTH_FAILURE);
}

static void test_smtp_auth_invalid_base64(void **state)
{
	static const char *const bad[] = {"!!!!", "abc", "QUJD=A==", "====", "\xff\xfe\xfd\xfc"};
	struct smtp_auth a;
	struct smtp_auth_out out;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		begin(&a, "PLAIN", &out);
		respond(&a, bad[i], &out);
		assert_true(out.bad_base64);
		assert_int_equal(out.user_len, 0);
	}
	/* In the command too. */
	begin(&a, "PLAIN %%%%", &out);
	assert_true(out.bad_base64);
	/* "=" is an empty initial response, not an error. */
	begin(&a, "PLAIN =", &out);
	assert_false(out.bad_base64);
	/* PLAIN without the NULs names nobody. */
	begin(&a, "PLAIN am9obg==", &out);
	assert_false(out.bad_base64);
	assert_int_equal(out.user_len, 0);
}

/* A user name longer than the output is cut, never overflows. */
static void test_smtp_auth_long_user(void **state)
{
	static char raw[600], enc[1000];
	struct smtp_auth a;
	struct smtp_auth_out out;

	(void)state;
	memset(raw, 'u', sizeof(raw));
	begin(&a, "LOGIN", &out);
	respond(&a, b64(raw, sizeof(raw), enc), &out);
	assert_int_equal(out.user_len, SMTP_AUTH_USER_MAX - 1);
	assert_int_equal(strlen(out.user), SMTP_AUTH_USER_MAX - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_auth_plain_initial_response),
		cmocka_unit_test(test_smtp_auth_plain_after_challenge),
		cmocka_unit_test(test_smtp_auth_login),
		cmocka_unit_test(test_smtp_auth_login_initial_response),
		cmocka_unit_test(test_smtp_auth_cram_md5),
		cmocka_unit_test(test_smtp_auth_digest_md5),
		cmocka_unit_test(test_smtp_auth_xoauth2),
		cmocka_unit_test(test_smtp_auth_oauthbearer),
		cmocka_unit_test(test_smtp_auth_ntlm),
		cmocka_unit_test(test_smtp_auth_ntlm_oem_and_bad_offsets),
		cmocka_unit_test(test_smtp_auth_other_mechanisms),
		cmocka_unit_test(test_smtp_auth_abort),
		cmocka_unit_test(test_smtp_auth_invalid_base64),
		cmocka_unit_test(test_smtp_auth_long_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
