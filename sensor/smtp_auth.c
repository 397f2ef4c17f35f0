// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/smtp_auth.h"

#include <string.h>

#include <openssl/evp.h>

/* Base64 taken from one line; longer responses are cut (NTLM Type 3 fits). */
#define SMTP_AUTH_B64_MAX 4096
#define SMTP_AUTH_RAW_MAX (SMTP_AUTH_B64_MAX / 4 * 3)

enum smtp_auth_expect {
	SMTP_AUTH_X_SKIP = 0, /* nothing we want (password, GSSAPI token, ...) */
	SMTP_AUTH_X_USER,     /* LOGIN: the user name line */
	SMTP_AUTH_X_PASS,     /* LOGIN: the password line, skipped */
	SMTP_AUTH_X_CRED,     /* one blob that names the user (PLAIN, CRAM-MD5, ...) */
	SMTP_AUTH_X_NTLM,     /* NTLM messages until the Type 3 */
};

_Static_assert(SMTP_AUTH_X_NTLM < 8, "expect must fit its bits");

struct smtp_auth_mech_def {
	const char *name;
	uint8_t mech;
};

static const struct smtp_auth_mech_def smtp_auth_mechs[] = {
	{"PLAIN", SMTP_AUTH_MECH_PLAIN},       {"LOGIN", SMTP_AUTH_MECH_LOGIN},
	{"CRAM-MD5", SMTP_AUTH_MECH_CRAM_MD5}, {"DIGEST-MD5", SMTP_AUTH_MECH_DIGEST_MD5},
	{"XOAUTH2", SMTP_AUTH_MECH_XOAUTH2},   {"OAUTHBEARER", SMTP_AUTH_MECH_OAUTHBEARER},
	{"NTLM", SMTP_AUTH_MECH_NTLM},	       {"GSSAPI", SMTP_AUTH_MECH_GSSAPI},
};

static void smtp_auth_set_user(struct smtp_auth_out *out, const uint8_t *p, size_t n)
{
	if (n >= sizeof(out->user))
		n = sizeof(out->user) - 1;
	memcpy(out->user, p, n);
	out->user[n] = '\0';
	out->user_len = (uint16_t)n;
}

/*
 * Decodes one base64 line into raw (SMTP_AUTH_RAW_MAX bytes). Returns the
 * length, or -1 when it is not base64. OpenSSL decodes; only the '=' padding
 * it turns into zero bytes is taken off again.
 */
static int smtp_auth_b64(const uint8_t *p, uint32_t n, uint8_t *raw)
{
	int len, pad = 0;

	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n > SMTP_AUTH_B64_MAX)
		n = SMTP_AUTH_B64_MAX & ~3u;
	if (n == 0)
		return 0;
	if (n % 4)
		return -1;
	if (p[n - 1] == '=')
		pad++;
	if (pad && p[n - 2] == '=')
		pad++;
	/* OpenSSL reads '=' anywhere as zero bits; only trailing padding is base64. */
	if (memchr(p, '=', n - pad))
		return -1;
	len = EVP_DecodeBlock(raw, p, (int)n);
	if (len < pad)
		return -1;
	return len - pad;
}

/* PLAIN: authzid NUL authcid NUL password; the user is authcid. */
static void smtp_auth_plain(const uint8_t *raw, size_t n, struct smtp_auth_out *out)
{
	const uint8_t *nul1 = memchr(raw, 0, n), *nul2;

	if (!nul1)
		return;
	nul2 = memchr(nul1 + 1, 0, n - (size_t)(nul1 + 1 - raw));
	if (!nul2)
		return;
	if (nul2 > nul1 + 1)
		smtp_auth_set_user(out, nul1 + 1, (size_t)(nul2 - nul1 - 1));
	else
		smtp_auth_set_user(out, raw, (size_t)(nul1 - raw));
}

/* CRAM-MD5: "user hexdigest". */
static void smtp_auth_cram(const uint8_t *raw, size_t n, struct smtp_auth_out *out)
{
	size_t sp = n;

	while (sp > 0 && raw[sp - 1] != ' ')
		sp--;
	if (sp > 1)
		smtp_auth_set_user(out, raw, sp - 1);
}

/* key=value or key="value" in a comma list (DIGEST-MD5 response). */
static void smtp_auth_digest(const uint8_t *raw, size_t n, struct smtp_auth_out *out)
{
	static const char key[] = "username=";
	size_t k = sizeof(key) - 1;

	for (size_t i = 0; i + k <= n; i++) {
		size_t s, e;

		if ((i && raw[i - 1] != ',' && raw[i - 1] != ' ') || memcmp(raw + i, key, k))
			continue;
		s = i + k;
		if (s < n && raw[s] == '"') {
			e = ++s;
			while (e < n && raw[e] != '"')
				e++;
		} else {
			e = s;
			while (e < n && raw[e] != ',')
				e++;
		}
		smtp_auth_set_user(out, raw + s, e - s);
		return;
	}
}

/* XOAUTH2: "user=" user ^A "auth=Bearer " token ^A ^A. */
static void smtp_auth_xoauth2(const uint8_t *raw, size_t n, struct smtp_auth_out *out)
{
	const uint8_t *e;

	if (n < 5 || memcmp(raw, "user=", 5))
		return;
	e = memchr(raw + 5, 0x01, n - 5);
	smtp_auth_set_user(out, raw + 5, e ? (size_t)(e - raw - 5) : n - 5);
}

/* OAUTHBEARER (RFC 7628): GS2 header "n,a=user," with =2C and =3D escapes. */
static void smtp_auth_oauthbearer(const uint8_t *raw, size_t n, struct smtp_auth_out *out)
{
	const uint8_t *c = memchr(raw, ',', n);
	uint8_t user[SMTP_AUTH_USER_MAX];
	size_t i, u = 0;

	if (!c || (size_t)(c - raw) + 3 > n || c[1] != 'a' || c[2] != '=')
		return;
	for (i = (size_t)(c - raw) + 3; i < n && raw[i] != ',' && u < sizeof(user); i++) {
		if (raw[i] == '=' && i + 2 < n && raw[i + 1] == '2' && raw[i + 2] == 'C') {
			user[u++] = ',';
			i += 2;
		} else if (raw[i] == '=' && i + 2 < n && raw[i + 1] == '3' && raw[i + 2] == 'D') {
			user[u++] = '=';
			i += 2;
		} else {
			user[u++] = raw[i];
		}
	}
	smtp_auth_set_user(out, user, u);
}

static uint16_t smtp_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t smtp_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* UTF-16LE to UTF-8 into out->user; lone surrogates become U+FFFD. */
static void smtp_auth_utf16(const uint8_t *p, size_t n, struct smtp_auth_out *out)
{
	uint8_t u8[SMTP_AUTH_USER_MAX];
	size_t o = 0;

	for (size_t i = 0; i + 1 < n; i += 2) {
		uint32_t c = smtp_le16(p + i);

		if (c >= 0xd800 && c < 0xdc00 && i + 3 < n && smtp_le16(p + i + 2) >= 0xdc00 &&
		    smtp_le16(p + i + 2) < 0xe000) {
			c = 0x10000 + ((c - 0xd800) << 10) + (smtp_le16(p + i + 2) - 0xdc00);
			i += 2;
		} else if (c >= 0xd800 && c < 0xe000) {
			c = 0xfffd;
		}
		if (o + 4 > sizeof(u8) - 1)
			break;
		if (c < 0x80) {
			u8[o++] = (uint8_t)c;
		} else if (c < 0x800) {
			u8[o++] = (uint8_t)(0xc0 | c >> 6);
			u8[o++] = (uint8_t)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			u8[o++] = (uint8_t)(0xe0 | c >> 12);
			u8[o++] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
			u8[o++] = (uint8_t)(0x80 | (c & 0x3f));
		} else {
			u8[o++] = (uint8_t)(0xf0 | c >> 18);
			u8[o++] = (uint8_t)(0x80 | ((c >> 12) & 0x3f));
			u8[o++] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
			u8[o++] = (uint8_t)(0x80 | (c & 0x3f));
		}
	}
	smtp_auth_set_user(out, u8, o);
}

/*
 * NTLM Type 3 (AUTHENTICATE, MS-NLMP 2.2.1.3): security buffers at fixed
 * offsets (len, maxlen, offset), UserName at 36, flags at 60; bit 0 says
 * the strings are UTF-16LE, else OEM bytes.
 */
static void smtp_auth_ntlm(const uint8_t *raw, size_t n, struct smtp_auth_out *out)
{
	uint32_t ulen, uoff, flags;

	if (n < 64 || memcmp(raw, "NTLMSSP\0", 8) || smtp_le32(raw + 8) != 3)
		return;
	ulen = smtp_le16(raw + 36);
	uoff = smtp_le32(raw + 40);
	flags = smtp_le32(raw + 60);
	if (ulen == 0 || uoff > n || ulen > n - uoff)
		return;
	if (flags & 0x1)
		smtp_auth_utf16(raw + uoff, ulen, out);
	else
		smtp_auth_set_user(out, raw + uoff, ulen);
}

/* One base64 blob that should carry the user name for this mechanism. */
static void smtp_auth_blob(struct smtp_auth *a, const uint8_t *p, uint32_t n,
			   struct smtp_auth_out *out)
{
	uint8_t raw[SMTP_AUTH_RAW_MAX];
	int len = smtp_auth_b64(p, n, raw);

	if (len < 0) {
		out->bad_base64 = true;
		return;
	}
	switch (a->mech) {
	case SMTP_AUTH_MECH_PLAIN:
		smtp_auth_plain(raw, (size_t)len, out);
		break;
	case SMTP_AUTH_MECH_LOGIN:
		smtp_auth_set_user(out, raw, (size_t)len);
		break;
	case SMTP_AUTH_MECH_CRAM_MD5:
		smtp_auth_cram(raw, (size_t)len, out);
		break;
	case SMTP_AUTH_MECH_DIGEST_MD5:
		smtp_auth_digest(raw, (size_t)len, out);
		break;
	case SMTP_AUTH_MECH_XOAUTH2:
		smtp_auth_xoauth2(raw, (size_t)len, out);
		break;
	case SMTP_AUTH_MECH_OAUTHBEARER:
		smtp_auth_oauthbearer(raw, (size_t)len, out);
		break;
	case SMTP_AUTH_MECH_NTLM:
		smtp_auth_ntlm(raw, (size_t)len, out);
		break;
	default:
		break;
	}
	/* The scratch may hold a password (PLAIN) or token (XOAUTH2): gone now. */
	explicit_bzero(raw, sizeof(raw));
}

static uint8_t smtp_auth_mech_of(const uint8_t *p, uint32_t n, struct smtp_auth_out *out)
{
	uint32_t k = 0;

	for (; k < n && k < sizeof(out->mech) - 1; k++) {
		uint8_t c = p[k];

		out->mech[k] = (char)((c >= 'a' && c <= 'z') ? c - 32 : c);
	}
	out->mech[k] = '\0';
	out->mech_len = (uint16_t)k;
	for (size_t i = 0; i < sizeof(smtp_auth_mechs) / sizeof(smtp_auth_mechs[0]); i++)
		if (strlen(smtp_auth_mechs[i].name) == n &&
		    !memcmp(out->mech, smtp_auth_mechs[i].name, n))
			return smtp_auth_mechs[i].mech;
	return n ? SMTP_AUTH_MECH_OTHER : SMTP_AUTH_MECH_NONE;
}

static uint8_t smtp_auth_first_expect(uint8_t mech)
{
	switch (mech) {
	case SMTP_AUTH_MECH_LOGIN:
		return SMTP_AUTH_X_USER;
	case SMTP_AUTH_MECH_PLAIN:
	case SMTP_AUTH_MECH_CRAM_MD5:
	case SMTP_AUTH_MECH_DIGEST_MD5:
	case SMTP_AUTH_MECH_XOAUTH2:
	case SMTP_AUTH_MECH_OAUTHBEARER:
		return SMTP_AUTH_X_CRED;
	case SMTP_AUTH_MECH_NTLM:
		return SMTP_AUTH_X_NTLM;
	default:
		return SMTP_AUTH_X_SKIP;
	}
}

void smtp_auth_begin(struct smtp_auth *a, const uint8_t *arg, uint32_t n, struct smtp_auth_out *out)
{
	uint32_t m = 0, i;

	memset(out, 0, sizeof(*out));
	while (m < n && arg[m] != ' ' && arg[m] != '\t')
		m++;
	*a = (struct smtp_auth){.mech = smtp_auth_mech_of(arg, m, out)};
	a->expect = smtp_auth_first_expect(a->mech);
	i = m;
	while (i < n && (arg[i] == ' ' || arg[i] == '\t'))
		i++;
	if (i == n)
		return;
	/* An initial response (RFC 4954 4): "=" stands for an empty one. */
	if (n - i == 1 && arg[i] == '=')
		return;
	smtp_auth_response(a, arg + i, n - i, out);
}

void smtp_auth_challenge(struct smtp_auth *a, const uint8_t *text, uint32_t n)
{
	uint8_t raw[16];
	uint8_t c0;

	if (a->mech != SMTP_AUTH_MECH_LOGIN)
		return;
	/* "VXNlcm5hbWU6" is "Username:", "UGFzc3dvcmQ6" is "Password:": follow the server. */
	if (n < 4 || n > 20 || smtp_auth_b64(text, n & ~3u, raw) < 1)
		return;
	c0 = raw[0] | 0x20;
	if (c0 == 'u')
		a->expect = SMTP_AUTH_X_USER;
	else if (c0 == 'p')
		a->expect = SMTP_AUTH_X_PASS;
}

void smtp_auth_response(struct smtp_auth *a, const uint8_t *line, uint32_t n,
			struct smtp_auth_out *out)
{
	uint8_t expect = a->expect;

	if (n == 1 && line[0] == '*') {
		a->aborted = 1;
		out->aborted = true;
		return;
	}
	switch (expect) {
	case SMTP_AUTH_X_USER:
		a->expect = SMTP_AUTH_X_PASS;
		smtp_auth_blob(a, line, n, out);
		break;
	case SMTP_AUTH_X_CRED:
		/* DIGEST-MD5 answers a challenge first; its second line is empty. */
		if (n)
			a->expect = SMTP_AUTH_X_SKIP;
		smtp_auth_blob(a, line, n, out);
		break;
	case SMTP_AUTH_X_NTLM:
		smtp_auth_blob(a, line, n, out);
		if (out->user_len)
			a->expect = SMTP_AUTH_X_SKIP;
		break;
	case SMTP_AUTH_X_PASS:
		/* The password: not decoded, not looked at. */
		a->expect = SMTP_AUTH_X_SKIP;
		break;
	default:
		break;
	}
}

enum smtp_auth_result smtp_auth_result_of(const struct smtp_auth *a, uint16_t code)
{
	if (a->aborted)
		return SMTP_AUTH_ABORTED;
	if (code == 235 || (code >= 200 && code < 300))
		return SMTP_AUTH_SUCCESS;
	if (code >= 400 && code < 500)
		return SMTP_AUTH_TEMPFAIL;
	if (code >= 500)
		return SMTP_AUTH_FAILURE;
	return SMTP_AUTH_UNKNOWN;
}
