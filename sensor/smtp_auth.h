/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smtp_auth: follows one SMTP AUTH exchange (RFC 4954) and pulls out the
 * mechanism and the user name: PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5, XOAUTH2,
 * OAUTHBEARER, NTLM (Type 3 message); other mechanisms (GSSAPI, SCRAM...)
 * are named only. The only module that sees AUTH payload bytes: passwords
 * are decoded at most into a stack scratch that is wiped before returning,
 * and never copied out. Owns nothing; the session embeds struct smtp_auth.
 */
#ifndef RELAYWATCH_SENSOR_SMTP_AUTH_H
#define RELAYWATCH_SENSOR_SMTP_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "sensor/smtp_tx.h"

#define SMTP_AUTH_MECH_MAX 24
#define SMTP_AUTH_USER_MAX 128

enum smtp_auth_mech {
	SMTP_AUTH_MECH_NONE = 0,
	SMTP_AUTH_MECH_PLAIN,
	SMTP_AUTH_MECH_LOGIN,
	SMTP_AUTH_MECH_CRAM_MD5,
	SMTP_AUTH_MECH_DIGEST_MD5,
	SMTP_AUTH_MECH_XOAUTH2,
	SMTP_AUTH_MECH_OAUTHBEARER,
	SMTP_AUTH_MECH_NTLM,
	SMTP_AUTH_MECH_GSSAPI,
	SMTP_AUTH_MECH_OTHER,
};

/* Exchange state, one byte in every session (issue 6: bytes per flow). */
struct smtp_auth {
	uint8_t mech : 4;    /* enum smtp_auth_mech */
	uint8_t expect : 3;  /* what the next client response carries (internal) */
	uint8_t aborted : 1; /* the client cancelled with "*" */
};

_Static_assert(sizeof(struct smtp_auth) == 1, "every session holds one: keep it a byte");
_Static_assert(SMTP_AUTH_MECH_OTHER < 16, "mech must fit its bits");

/* What one call learnt. user is set only when user_len > 0. */
struct smtp_auth_out {
	char mech[SMTP_AUTH_MECH_MAX]; /* as the client named it, upper case */
	char user[SMTP_AUTH_USER_MAX];
	uint16_t mech_len;
	uint16_t user_len;
	bool aborted;	 /* the client cancelled with "*" */
	bool bad_base64; /* a response that should be base64 was not */
};

/* "AUTH <mech> [initial-response]": arg is what follows AUTH. */
void smtp_auth_begin(struct smtp_auth *a, const uint8_t *arg, uint32_t n,
		     struct smtp_auth_out *out);
/* The text of a 334 reply (base64 challenge). */
void smtp_auth_challenge(struct smtp_auth *a, const uint8_t *text, uint32_t n);
/* One client line sent while the exchange is open. */
void smtp_auth_response(struct smtp_auth *a, const uint8_t *line, uint32_t n,
			struct smtp_auth_out *out);
/* The final reply code of the exchange: 235 success, 4xx tempfail, else failure. */
enum smtp_auth_result smtp_auth_result_of(const struct smtp_auth *a, uint16_t code);

#endif /* RELAYWATCH_SENSOR_SMTP_AUTH_H */
