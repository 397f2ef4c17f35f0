/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smtp_tx: the record of one SMTP transaction (MAIL .. end of DATA/BDAT,
 * RSET or QUIT), or of a session that ended without one. It is what the
 * transaction log (smtp.json), the detector and the investigation archive
 * read. Fixed capacity, no pointers: strings live in an arena inside the
 * record, so the record can be copied into the worker → detector ring as
 * is, up to smtp_tx_wire_size(). Values that do not fit are cut and flagged;
 * counts (recipients, header addresses) keep counting past what is stored.
 *
 * Field names follow Zeek's smtp.log where the meaning is the same.
 * Never holds a password (smtp_auth.c keeps those bytes to itself).
 */
#ifndef RELAYWATCH_SENSOR_SMTP_TX_H
#define RELAYWATCH_SENSOR_SMTP_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/flow.h"
#include "dataplane/pkt.h"

#define SMTP_TX_ARENA	      6144
#define SMTP_TX_MAX_RCPT      64
#define SMTP_TX_MAX_HDR_ADDRS 48 /* To: and Cc: entries stored, each */
#define SMTP_TX_MAX_PATH      16

/* Single-valued string fields. */
enum smtp_field {
	SMTP_F_HELO = 0,
	SMTP_F_MAILFROM, /* without <>; empty for the null sender (see SMTP_TX_F_BOUNCE) */
	SMTP_F_DATE,
	SMTP_F_FROM,
	SMTP_F_REPLY_TO,
	SMTP_F_MSG_ID,
	SMTP_F_IN_REPLY_TO,
	SMTP_F_SUBJECT, /* RFC 2047 decoded to UTF-8 */
	SMTP_F_X_ORIGINATING_IP,
	SMTP_F_FIRST_RECEIVED,
	SMTP_F_SECOND_RECEIVED,
	SMTP_F_LAST_REPLY, /* last server reply line of the transaction, code and text */
	SMTP_F_USER_AGENT, /* X-Mailer or User-Agent */
	SMTP_F_AUTH_MECH,  /* PLAIN, LOGIN, CRAM-MD5, XOAUTH2, ... upper case */
	SMTP_F_AUTH_USER,
	SMTP_F_AUTH_RESULTS, /* Authentication-Results header */
	SMTP_F_TLS_SNI,
	SMTP_F_TLS_JA4,
	SMTP_F_FROM_DISPLAY,  /* display name of From:, RFC 2047 decoded */
	SMTP_F_SERVER_BANNER, /* the 220 greeting, first line */
	SMTP_F_COUNT
};

enum smtp_auth_result {
	SMTP_AUTH_NONE = 0,	/* no AUTH command */
	SMTP_AUTH_SUCCESS = 1,	/* 235 */
	SMTP_AUTH_FAILURE = 2,	/* 535 and other 5xx */
	SMTP_AUTH_TEMPFAIL = 3, /* 454 and other 4xx */
	SMTP_AUTH_ABORTED = 4,	/* client sent '*' */
	SMTP_AUTH_UNKNOWN = 5,	/* no reply seen */
};

/* flags */
#define SMTP_TX_F_TLS	       (1u << 0) /* STARTTLS accepted or implicit TLS */
#define SMTP_TX_F_BOUNCE       (1u << 1) /* MAIL FROM:<> */
#define SMTP_TX_F_DKIM	       (1u << 2) /* DKIM-Signature header present */
#define SMTP_TX_F_DATA	       (1u << 3) /* DATA or BDAT content seen */
#define SMTP_TX_F_BDAT	       (1u << 4)
#define SMTP_TX_F_COMPLETE     (1u << 5)  /* message end seen (. or BDAT LAST) */
#define SMTP_TX_F_TRUNCATED    (1u << 6)  /* some value or list did not fit */
#define SMTP_TX_F_GAP	       (1u << 7)  /* bytes were missing in the stream */
#define SMTP_TX_F_PIPELINED    (1u << 8)  /* commands sent before replies */
#define SMTP_TX_F_MIDSTREAM    (1u << 9)  /* session picked up without its start */
#define SMTP_TX_F_ONE_SIDED    (1u << 10) /* only one direction was seen */
#define SMTP_TX_F_AUTH	       (1u << 11) /* an AUTH exchange happened in the session */
#define SMTP_TX_F_ESMTP	       (1u << 12) /* EHLO rather than HELO */
#define SMTP_TX_F_SESSION      (1u << 13) /* session record: no transaction (trans_depth 0) */
#define SMTP_TX_F_IMPLICIT_TLS (1u << 14) /* port 465 */
#define SMTP_TX_F_TLS_HELLO    (1u << 15) /* a ClientHello was parsed: SNI/JA4 valid */
#define SMTP_TX_F_PROXY	       (1u << 16) /* SMTP inside an HTTP CONNECT tunnel */
#define SMTP_TX_F_HDR_TRUNC    (1u << 17) /* headers larger than the header limit */

struct smtp_str {
	uint16_t off;
	uint16_t len; /* 0: absent */
};

struct smtp_rcpt {
	struct smtp_str addr; /* without <> */
	uint16_t code;	      /* reply code, 0: no reply seen */
	uint8_t enh_class;    /* enhanced status class 2/4/5, 0: none */
	uint8_t enh_subject;
	uint16_t enh_detail;
	uint16_t pad;
};

struct smtp_tx {
	uint32_t wire_size; /* bytes of this record in use (smtp_tx_wire_size) */
	uint32_t flags;	    /* SMTP_TX_F_* */
	char uid[FLOW_UID_LEN + 1];
	uint8_t family;	       /* 4 or 6 */
	union pkt_addr orig_h; /* client */
	union pkt_addr resp_h; /* server */
	uint16_t orig_p, resp_p;
	uint16_t vlan;
	uint64_t ts_ns; /* transaction start: first command of it (session: first packet) */
	uint64_t end_ns;
	uint32_t trans_depth;	/* 1-based within the session; 0 for a session record */
	uint8_t auth_result;	/* enum smtp_auth_result (last AUTH of the session) */
	uint8_t tls_version_hi; /* highest TLS version offered in ClientHello (0x0304 → 4) */
	uint16_t mail_code;	/* reply to MAIL FROM */
	uint16_t data_code;	/* reply to DATA (354) or its end (250), or BDAT LAST */
	uint16_t last_code;
	uint32_t auth_attempts; /* AUTH commands in the session so far */
	uint32_t auth_failures;
	uint64_t msg_size; /* message bytes after dot-unstuffing / BDAT sizes */
	uint32_t header_count;
	uint32_t received_count;
	uint32_t n_rcpt; /* RCPT commands, stored or not */
	uint32_t n_rcpt_accepted;
	uint32_t n_rcpt_rejected;
	uint32_t n_to; /* addresses in To:, stored or not */
	uint32_t n_cc;
	uint32_t n_commands; /* client commands in this transaction */
	uint32_t n_unknown_cmds;
	uint16_t n_rcpt_stored, n_to_stored, n_cc_stored, n_path;
	struct smtp_str f[SMTP_F_COUNT];
	struct smtp_rcpt rcpt[SMTP_TX_MAX_RCPT];
	struct smtp_str to[SMTP_TX_MAX_HDR_ADDRS];
	struct smtp_str cc[SMTP_TX_MAX_HDR_ADDRS];
	struct smtp_str path[SMTP_TX_MAX_PATH]; /* resp_h, orig_h, then Received: IPs */
	uint32_t arena_used;
	char arena[SMTP_TX_ARENA];
};

/* Start a record: clears it and copies the connection identity but the uid,
 * which event_fill_uid() makes from the event that carries the record.
 * List entries past their counts and the arena past arena_used are left as
 * they were: read nothing there. */
void smtp_tx_init(struct smtp_tx *tx, const struct flow *f, uint64_t ts_ns);
/* Copy the identity (uid, addresses, ports) from another record. */
void smtp_tx_copy_identity(struct smtp_tx *dst, const struct smtp_tx *src);

/* Store a value; false (and SMTP_TX_F_TRUNCATED) when it was cut or dropped. */
bool smtp_tx_set(struct smtp_tx *tx, enum smtp_field f, const void *s, size_t n);
/* Append to an existing value (folded header continuation). */
bool smtp_tx_append(struct smtp_tx *tx, enum smtp_field f, const void *s, size_t n);
bool smtp_tx_add_rcpt(struct smtp_tx *tx, const void *addr, size_t n);
bool smtp_tx_add_to(struct smtp_tx *tx, const void *s, size_t n);
bool smtp_tx_add_cc(struct smtp_tx *tx, const void *s, size_t n);
bool smtp_tx_add_path(struct smtp_tx *tx, const void *s, size_t n);

static inline bool smtp_tx_has(const struct smtp_tx *tx, enum smtp_field f)
{
	return tx->f[f].len != 0;
}

static inline const char *smtp_tx_str(const struct smtp_tx *tx, struct smtp_str s)
{
	return tx->arena + s.off;
}

static inline const char *smtp_tx_get(const struct smtp_tx *tx, enum smtp_field f, size_t *len)
{
	*len = tx->f[f].len;
	return tx->arena + tx->f[f].off;
}

/* Bytes to copy: the fixed part plus the arena in use. Also sets wire_size. */
size_t smtp_tx_wire_size(struct smtp_tx *tx);

const char *smtp_auth_result_name(enum smtp_auth_result r);

#endif /* RELAYWATCH_SENSOR_SMTP_TX_H */
