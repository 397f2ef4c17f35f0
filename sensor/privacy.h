/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * privacy: keyed pseudonyms (HMAC-SHA256) for mailbox local parts, AUTH user
 * names and, optionally, IP addresses, so that sensors sharing a key file
 * agree on every pseudonym and detection still links the same actor. Owns
 * the precomputed HMAC state (never the key itself, never logged). Built on
 * the main thread; afterwards read-only, callable from any thread at once.
 *
 * Forms (hex = lower-case hex of the first 8 bytes of the HMAC):
 *   address  "local@domain" -> "u-<hex>@domain", hex of HMAC(key, "u:" local)
 *            the domain is kept as written: detectors need recipient domains;
 *            the local part is hashed byte for byte (no case folding), so the
 *            pseudonymised stream counts distinct mailboxes exactly as the
 *            clear one does. "" (the null sender <>) stays "".
 *   user     an AUTH user name, same rule: "bob@example.net" as above, "bob"
 *            -> "u-<hex>" with the same hex, so an account links to its mailbox.
 *   IPv4     240.0.0.0/4 (reserved, RFC 1112 "future use", never routed):
 *            240 | 28 bits of HMAC(key, "4:" addr); 255.255.255.255 is skipped.
 *            28 bits: with 10^6 hosts a few thousand pairs collide.
 *   IPv6     100::/64 (RFC 6666 discard-only block, never on the wire):
 *            the low 64 bits are HMAC(key, "6:" addr).
 *   text     free text (reply lines, Received:, To:/Cc: entries, evidence):
 *            every local@domain becomes "u-<hex>@domain" as above; with
 *            privacy_text_ips every IPv4/IPv6 address becomes its pseudonym.
 * Mailboxes and user names are pseudonymised once, on the worker thread, when
 * the records and events are built (the detector links them by pseudonym);
 * IP addresses only at the output sinks (home_net matching needs them).
 * The key file's bytes are the key, exactly (32 to 4096 bytes; make one with
 * `head -c 32 /dev/urandom > FILE; chmod 600 FILE`).
 */
#ifndef RELAYWATCH_SENSOR_PRIVACY_H
#define RELAYWATCH_SENSOR_PRIVACY_H

#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"
#include "dataplane/pkt.h"

#define PRIVACY_KEY_MIN	  32
#define PRIVACY_KEY_MAX	  4096
#define PRIVACY_HEX	  16		    /* hex digits in a pseudonym */
#define PRIVACY_INPUT_MAX 1024		    /* longer input: -EINVAL (RFC 5321 paths are 256) */
#define PRIVACY_USER_LEN  (2 + PRIVACY_HEX) /* "u-" + hex, without a domain */

struct privacy;

/* Reads the key (a regular file of PRIVACY_KEY_MIN..MAX bytes), warns when
 * group or others may read it. -errno with the reason in eb; the message names
 * the file, never a key byte. */
int privacy_create(const char *key_file, struct privacy **out, struct errbuf *eb);
void privacy_destroy(struct privacy *p);
/* The checks of privacy_create without keeping anything (config_validate). */
int privacy_key_check(const char *key_file, struct errbuf *eb);

/* Write the pseudonym of in[0..len) into out (NUL-terminated); return its
 * length, -ENOSPC when cap is too small (out is then ""), -EINVAL when len
 * exceeds PRIVACY_INPUT_MAX. No allocation; the output never holds the input's
 * local part. */
int privacy_addr(const struct privacy *p, const char *in, size_t len, char *out, size_t cap);
int privacy_user(const struct privacy *p, const char *in, size_t len, char *out, size_t cap);
/* family 4 (IPv4-mapped form, as in pkt_addr) or 6; out may alias in. */
void privacy_ip(const struct privacy *p, uint8_t family, const union pkt_addr *in,
		union pkt_addr *out);

/* The text form of an address of family 4 or 6 for an output: its pseudonym
 * when p is not NULL, the address itself otherwise. Returns buf, or "?". */
const char *privacy_ip_text(const struct privacy *p, uint8_t family, const union pkt_addr *a,
			    char *buf, size_t cap);

/* Copy in[0..len) to out (NUL-terminated, cut to cap - 1 bytes at a token
 * boundary) with every mailbox local part replaced by its pseudonym; returns
 * the length written. A pseudonym never appears cut: a value that does not fit
 * ends before it. */
size_t privacy_text(const struct privacy *p, const char *in, size_t len, char *out, size_t cap);
/* The same for IPv4 and IPv6 addresses written in the text ("1.2.3.4",
 * "[2001:db8::1]", "IPv6:..."); p NULL copies the text as is. */
size_t privacy_text_ips(const struct privacy *p, const char *in, size_t len, char *out, size_t cap);

/* Worker thread, as a record leaves: out = in with the mailboxes of the free
 * text fields (From, Reply-To, To, Cc, Received, Authentication-Results, last
 * reply) pseudonymised and the From display name (a person's name) dropped.
 * MAIL FROM, recipients and the AUTH user were pseudonymised when stored and
 * are copied as they are. out must not alias in. */
struct smtp_tx;
void privacy_tx(const struct privacy *p, const struct smtp_tx *in, struct smtp_tx *out);

#endif /* RELAYWATCH_SENSOR_PRIVACY_H */
