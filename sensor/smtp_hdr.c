// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/smtp_hdr.h"

#include <arpa/inet.h>
#include <string.h>

#include "sensor/byte_scan.h"
#include "sensor/rfc2047.h"

#define SMTP_HDR_DECODED_MAX 1024 /* Subject / display name after decoding */

/* Space, tab, CR, LF, VT, FF: one load, not six compares, at both ends of every field. */
static const bool ws_byte[256] = {['\t' ... '\r'] = true, [' '] = true};

static bool is_ws(uint8_t c)
{
	return ws_byte[c];
}

void smtp_hdr_trim(const uint8_t **p, size_t *n)
{
	while (*n && is_ws((*p)[0])) {
		(*p)++;
		(*n)--;
	}
	while (*n && is_ws((*p)[*n - 1]))
		(*n)--;
}

void smtp_hdr_init(struct smtp_hdr *h, struct smtp_tx *tx, bool keep_subject)
{
	h->tx = tx;
	h->keep_subject = keep_subject;
	h->have_auth_results = false;
	h->rcv_len[0] = h->rcv_len[1] = 0;
}

/* IPv4 sits IPv4-mapped in union pkt_addr (dataplane/pkt.h). */
static bool addr_text(const struct smtp_tx *tx, const union pkt_addr *a, char *out)
{
	if (tx->family == 4) {
		smtp_hdr_v4_text(&a->b[12], out);
		return true;
	}
	return tx->family == 6 && inet_ntop(AF_INET6, a->b, out, SMTP_HDR_IP_STRLEN) != NULL;
}

void smtp_hdr_path_start(struct smtp_tx *tx)
{
	char a[SMTP_HDR_IP_STRLEN];

	if (tx->n_path != 0)
		return;
	if (addr_text(tx, &tx->resp_h, a))
		smtp_tx_add_path(tx, a, strlen(a));
	if (addr_text(tx, &tx->orig_h, a))
		smtp_tx_add_path(tx, a, strlen(a));
}

/* ---- address lists ---- */

/*
 * End of a quoted string starting at q (a '"'), or NULL when it is not
 * closed. It jumps from backslash to quote with byte_scan2: a display name
 * ("Sender 528") is quoted in most From: fields and read twice.
 */
static const uint8_t *quote_end(const uint8_t *q, const uint8_t *end)
{
	size_t n = (size_t)(end - q);

	for (size_t i = 1; (i = byte_scan2(q, i, n, '\\', '"')) < n; i += 2)
		if (q[i] == '"')
			return q + i;
	return NULL;
}

unsigned int smtp_hdr_split_addrs(const uint8_t *v, size_t n,
				  void (*cb)(void *arg, const uint8_t *p, size_t len), void *arg)
{
	const uint8_t *end = v + n;
	size_t i = 0, start = 0;
	unsigned int count = 0;

	/* From comma or quote to the next: the bytes between them split nothing. */
	for (;;) {
		const uint8_t *q, *e;
		size_t len;

		i = byte_scan2(v, i, n, '"', ',');
		if (i < n && v[i] == '"') {
			/* an unclosed quote is a plain character */
			q = quote_end(v + i, end);
			i = q ? (size_t)(q - v) + 1 : i + 1;
			continue;
		}
		e = v + start;
		len = i - start;
		smtp_hdr_trim(&e, &len);
		if (len) {
			cb(arg, e, len);
			count++;
		}
		if (i >= n)
			return count;
		start = ++i;
	}
}

/* ---- From: display name ---- */

static void first_entry(void *arg, const uint8_t *p, size_t len)
{
	const uint8_t **e = arg;

	if (!e[0]) {
		e[0] = p;
		e[1] = p + len;
	}
}

/* Copies [s, e) trimmed into tmp; returns the length. */
static size_t copy_trimmed(const uint8_t *s, const uint8_t *e, uint8_t *tmp, size_t cap)
{
	size_t n = (size_t)(e - s);

	smtp_hdr_trim(&s, &n);
	n = n < cap ? n : cap;
	memcpy(tmp, s, n);
	return n;
}

/* The phrase or comment naming the mailbox in [p, end), unquoted, into tmp. */
static size_t display_raw(const uint8_t *p, const uint8_t *end, uint8_t *tmp, size_t cap)
{
	const uint8_t *lt = memchr(p, '<', (size_t)(end - p)), *q, *s, *e;
	size_t n = 0;

	if (*p == '"' && (q = quote_end(p, end)) != NULL) {
		for (s = p + 1; s < q && n < cap; s++) {
			if (*s == '\\' && s + 1 < q)
				s++;
			tmp[n++] = *s;
		}
		return n;
	}
	if (lt && (n = copy_trimmed(p, lt, tmp, cap)) != 0)
		return n;
	/* addr (Comment), the old form */
	s = memchr(p, '(', (size_t)(end - p));
	e = s ? memchr(s, ')', (size_t)(end - s)) : NULL;
	return e ? copy_trimmed(s + 1, e, tmp, cap) : 0;
}

size_t smtp_hdr_display_name(const uint8_t *v, size_t n, char *out, size_t cap)
{
	const uint8_t *e[2] = {NULL, NULL};
	uint8_t tmp[SMTP_HDR_DECODED_MAX];
	size_t len;

	smtp_hdr_split_addrs(v, n, first_entry, e);
	if (!e[0])
		return 0;
	len = display_raw(e[0], e[1], tmp, sizeof(tmp));
	return len ? rfc2047_decode(tmp, len, out, cap) : 0;
}

/* ---- field semantics ---- */

/*
 * A set of the entries stored in one list, as bits of a small hash: a bit
 * that is clear proves an entry new, so the list is compared only on a hit.
 * A To: of 50 addresses compared each with every one before it (add_addr
 * 2.4 M of 96 M instructions on smtp-heavy, 1.3 M with the set). Short
 * lists (most messages) are compared as before: no set is made.
 */
#define ADDR_SEEN_BITS	512
#define ADDR_SCAN_SHORT 8 /* entries stored before the set pays */

struct addr_ctx {
	struct smtp_tx *tx;
	bool cc;
	uint16_t marked; /* list entries in seen[], from the first */
	uint64_t seen[ADDR_SEEN_BITS / 64];
};

/* Length and three words (start, middle, end: 24 bytes, most addresses whole) mixed. */
static unsigned int addr_key(const void *s, size_t len)
{
	const uint8_t *p = s;
	uint64_t a = 0, b = 0, c = 0;

	if (len >= 8) {
		memcpy(&a, p, 8);
		memcpy(&b, p + (len - 8) / 2, 8);
		memcpy(&c, p + len - 8, 8);
	} else {
		for (size_t i = 0; i < len; i++)
			a = a << 8 | p[i];
	}
	a ^= (b * 0x9e3779b97f4a7c15ull) ^ (c * 0xc2b2ae3d27d4eb4full) ^ len;
	a *= 0xff51afd7ed558ccdull;
	return (unsigned int)(a >> 55) % ADDR_SEEN_BITS;
}

/* May p be among the stored[] entries of list? false only when it is not. */
static bool addr_maybe_stored(struct addr_ctx *a, const struct smtp_str *list, uint16_t stored,
			      const uint8_t *p, size_t len)
{
	unsigned int k;

	if (stored < ADDR_SCAN_SHORT)
		return true;
	if (!a->marked)
		memset(a->seen, 0, sizeof(a->seen));
	/* Marked as stored, not as given: the arena may have kept one shorter. */
	for (; a->marked < stored; a->marked++) {
		struct smtp_str e = list[a->marked];

		k = addr_key(smtp_tx_str(a->tx, e), e.len);
		a->seen[k / 64] |= 1ull << (k % 64);
	}
	k = addr_key(p, len);
	return (a->seen[k / 64] >> (k % 64)) & 1;
}

/*
 * Is the stored s (len bytes) p? Addresses of one length mostly differ in
 * their first eight bytes ("<user1385@", "<user2330@"): compared as one word
 * before a memcmp call (5 852 calls on smtp-heavy).
 */
static bool addr_eq(const uint8_t *s, const uint8_t *p, size_t len)
{
	uint64_t x, y;

	if (len >= 8) {
		memcpy(&x, s, 8);
		memcpy(&y, p, 8);
		if (x != y)
			return false;
	}
	return !memcmp(s, p, len);
}

/* To: and Cc: are sets in Zeek: an entry already stored is not added twice. */
static void add_addr(void *arg, const uint8_t *p, size_t len)
{
	struct addr_ctx *a = arg;
	const struct smtp_str *list = a->cc ? a->tx->cc : a->tx->to;
	uint16_t stored = a->cc ? a->tx->n_cc_stored : a->tx->n_to_stored;

	if (addr_maybe_stored(a, list, stored, p, len))
		for (uint16_t i = 0; i < stored; i++)
			if (list[i].len == len && addr_eq(smtp_tx_str(a->tx, list[i]), p, len))
				return;
	if (a->cc)
		smtp_tx_add_cc(a->tx, p, len);
	else
		smtp_tx_add_to(a->tx, p, len);
}

static void received(struct smtp_hdr *h, const uint8_t *v, size_t n)
{
	struct smtp_tx *tx = h->tx;
	char ip[SMTP_HDR_IP_STRLEN];
	size_t keep = n < SMTP_HDR_RECEIVED_MAX ? n : SMTP_HDR_RECEIVED_MAX;

	tx->received_count++;
	memcpy(h->rcv[1], h->rcv[0], h->rcv_len[0]);
	h->rcv_len[1] = h->rcv_len[0];
	memcpy(h->rcv[0], v, keep);
	h->rcv_len[0] = (uint16_t)keep;
	if (keep < n)
		tx->flags |= SMTP_TX_F_TRUNCATED;

	if (!smtp_hdr_received_ip(v, n, ip))
		return;
	smtp_hdr_path_start(tx);
	/* Zeek appends only when the address differs from the path's last one. */
	if (tx->n_path) {
		struct smtp_str last = tx->path[tx->n_path - 1];

		if (last.len == strlen(ip) && !memcmp(smtp_tx_str(tx, last), ip, last.len))
			return;
	}
	smtp_tx_add_path(tx, ip, strlen(ip));
}

static void decoded(struct smtp_tx *tx, enum smtp_field f, const uint8_t *v, size_t n)
{
	char out[SMTP_HDR_DECODED_MAX];
	size_t len = rfc2047_decode(v, n, out, sizeof(out));
	const uint8_t *p = (const uint8_t *)out;

	if (len == sizeof(out))
		tx->flags |= SMTP_TX_F_TRUNCATED;
	smtp_hdr_trim(&p, &len);
	smtp_tx_set(tx, f, p, len);
}

/* What smtp_hdr_field does with a field. */
enum hdr_kind {
	HDR_RAW = 0, /* stored as its raw (trimmed) text */
	HDR_RECEIVED,
	HDR_FROM,
	HDR_ADDRS, /* To:, Cc: */
	HDR_SUBJECT,
	HDR_X_ORIG_IP,
	HDR_DKIM,
	HDR_AUTH_RESULTS,
};

/*
 * The fields the record reads, by name length: most fields of a header are
 * none of these, and the length and first letter rule a name out before any
 * comparison (the list of strncasecmp calls cost one call a field and more).
 * For raw fields the last one of a name wins, as in Zeek.
 */
struct hdr_name {
	const char *name; /* lower case */
	uint8_t kind;	  /* enum hdr_kind */
	uint8_t f;	  /* enum smtp_field, HDR_RAW only */
};

#define HDR_NAME_MAX 22 /* "authentication-results" */
#define HDR_PER_LEN  3	/* names of one length */

static const struct hdr_name hdr_names[HDR_NAME_MAX + 1][HDR_PER_LEN] = {
	[2] = {{"to", HDR_ADDRS, 0}, {"cc", HDR_ADDRS, 0}},
	[4] = {{"date", HDR_RAW, SMTP_F_DATE}, {"from", HDR_FROM, 0}},
	[7] = {{"subject", HDR_SUBJECT, 0}},
	[8] = {{"received", HDR_RECEIVED, 0},
	       {"reply-to", HDR_RAW, SMTP_F_REPLY_TO},
	       {"x-mailer", HDR_RAW, SMTP_F_USER_AGENT}},
	[10] = {{"message-id", HDR_RAW, SMTP_F_MSG_ID}, {"user-agent", HDR_RAW, SMTP_F_USER_AGENT}},
	[11] = {{"in-reply-to", HDR_RAW, SMTP_F_IN_REPLY_TO}},
	[12] = {{"x-user-agent", HDR_RAW, SMTP_F_USER_AGENT}},
	[14] = {{"dkim-signature", HDR_DKIM, 0}},
	[16] = {{"x-originating-ip", HDR_X_ORIG_IP, 0}},
	[22] = {{"authentication-results", HDR_AUTH_RESULTS, 0}},
};

/* The entry for name (any case, as strncasecmp compared), or NULL. */
static const struct hdr_name *hdr_lookup(const char *name, size_t n)
{
	uint8_t c0;

	if (n < 2 || n > HDR_NAME_MAX)
		return NULL;
	c0 = byte_lower((uint8_t)name[0]);
	for (const struct hdr_name *e = hdr_names[n]; e < hdr_names[n] + HDR_PER_LEN && e->name;
	     e++)
		if ((uint8_t)e->name[0] == c0 &&
		    byte_scan_lower_eq((const uint8_t *)name, e->name, n))
			return e;
	return NULL;
}

const char *smtp_hdr_name_known(const char *name, size_t n)
{
	const struct hdr_name *e = hdr_lookup(name, n);

	return e ? e->name : NULL;
}

void smtp_hdr_field(struct smtp_hdr *h, const char *name, size_t nlen, const uint8_t *v, size_t n)
{
	struct smtp_tx *tx = h->tx;
	const struct hdr_name *e;
	char buf[SMTP_HDR_DECODED_MAX];
	size_t len;

	smtp_hdr_trim(&v, &n);
	tx->header_count++;
	e = hdr_lookup(name, nlen);
	if (!e)
		return;
	switch (e->kind) {
	case HDR_RAW:
		smtp_tx_set(tx, (enum smtp_field)e->f, v, n);
		break;
	case HDR_RECEIVED:
		received(h, v, n);
		break;
	case HDR_FROM:
		smtp_tx_set(tx, SMTP_F_FROM, v, n);
		len = smtp_hdr_display_name(v, n, buf, sizeof(buf));
		if (len)
			smtp_tx_set(tx, SMTP_F_FROM_DISPLAY, buf, len);
		break;
	case HDR_ADDRS: {
		struct addr_ctx a; /* seen[] is cleared when first needed */

		a.tx = tx;
		a.cc = e->name[0] == 'c';
		a.marked = 0;
		smtp_hdr_split_addrs(v, n, add_addr, &a);
		break;
	}
	case HDR_SUBJECT:
		if (h->keep_subject)
			decoded(tx, SMTP_F_SUBJECT, v, n);
		break;
	case HDR_X_ORIG_IP:
		if (smtp_hdr_first_ip(v, n, buf))
			smtp_tx_set(tx, SMTP_F_X_ORIGINATING_IP, buf, strlen(buf));
		break;
	case HDR_DKIM:
		tx->flags |= SMTP_TX_F_DKIM;
		break;
	case HDR_AUTH_RESULTS:
		/* The topmost one: written by the server nearest to us. */
		if (!h->have_auth_results)
			smtp_tx_set(tx, SMTP_F_AUTH_RESULTS, v, n);
		h->have_auth_results = true;
		break;
	}
}

void smtp_hdr_finish(struct smtp_hdr *h)
{
	if (h->rcv_len[0])
		smtp_tx_set(h->tx, SMTP_F_FIRST_RECEIVED, h->rcv[0], h->rcv_len[0]);
	if (h->rcv_len[1])
		smtp_tx_set(h->tx, SMTP_F_SECOND_RECEIVED, h->rcv[1], h->rcv_len[1]);
	h->rcv_len[0] = h->rcv_len[1] = 0;
}
