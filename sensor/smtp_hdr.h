/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smtp_hdr: what the transaction record keeps from the top-level message
 * header fields, with Zeek's smtp.log semantics: which field goes where,
 * To:/Cc: address list splitting, Received: values (first_received is the
 * last Received: field, second_received the one before it) and the path of
 * IPs found in them, the From: display name and Subject decoded to UTF-8.
 *
 * Owns the two last Received: values until smtp_hdr_finish() writes them
 * into the record (the record's arena cannot afford one copy per hop).
 * Embedded in smtp_msg; worker thread only.
 */
#ifndef RELAYWATCH_SENSOR_SMTP_HDR_H
#define RELAYWATCH_SENSOR_SMTP_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/smtp_tx.h"

#define SMTP_HDR_RECEIVED_MAX 768 /* bytes kept of each of the last two Received: */
#define SMTP_HDR_IP_STRLEN    46  /* INET6_ADDRSTRLEN */

struct smtp_hdr {
	struct smtp_tx *tx;
	bool keep_subject;
	bool have_auth_results;
	uint16_t rcv_len[2]; /* [0]: the last Received: seen, [1]: the one before */
	char rcv[2][SMTP_HDR_RECEIVED_MAX];
};

void smtp_hdr_init(struct smtp_hdr *h, struct smtp_tx *tx, bool keep_subject);
/* One unfolded field of the top-level header; value without the CRLFs. */
void smtp_hdr_field(struct smtp_hdr *h, const char *name, size_t name_len, const uint8_t *value,
		    size_t value_len);
/* End of the header block: stores first_received / second_received. */
void smtp_hdr_finish(struct smtp_hdr *h);
/* The lower-case name of a field the record reads (any case), or NULL. */
const char *smtp_hdr_name_known(const char *name, size_t n);

/* Starts tx->path with resp_h, orig_h (Zeek's order) when it is empty. */
void smtp_hdr_path_start(struct smtp_tx *tx);

/*
 * Splits an address list the way Zeek's split_mime_email_addresses() does
 * (entries are the raw text between commas, trimmed, display names kept),
 * except that commas inside a quoted display name do not split. Calls cb
 * for each non-empty entry; returns the number of entries.
 */
unsigned int smtp_hdr_split_addrs(const uint8_t *v, size_t n,
				  void (*cb)(void *arg, const uint8_t *p, size_t len), void *arg);

/*
 * The IP of a Received: value as Zeek's find_address_in_smtp_header()
 * picks it: among addresses wrapped in [], (), {} or spaces, the second if
 * there are several, else the first. Writes its canonical text form.
 */
bool smtp_hdr_received_ip(const uint8_t *v, size_t n, char out[SMTP_HDR_IP_STRLEN]);
/* The first IP anywhere in v (X-Originating-IP), canonical text. */
bool smtp_hdr_first_ip(const uint8_t *v, size_t n, char out[SMTP_HDR_IP_STRLEN]);
/* Dotted quad as inet_ntop writes it, without its sprintf (smtp_hdr_ip.c). */
void smtp_hdr_v4_text(const uint8_t a[4], char out[SMTP_HDR_IP_STRLEN]);

/* Display name of the first mailbox (phrase before <>, or a comment), decoded. */
size_t smtp_hdr_display_name(const uint8_t *v, size_t n, char *out, size_t cap);

/* Trims spaces, tabs, CR and LF at both ends. */
void smtp_hdr_trim(const uint8_t **p, size_t *n);

#endif /* RELAYWATCH_SENSOR_SMTP_HDR_H */
