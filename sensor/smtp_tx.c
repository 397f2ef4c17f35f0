// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/smtp_tx.h"

#include <stddef.h>
#include <string.h>

void smtp_tx_init(struct smtp_tx *tx, const struct flow *f, uint64_t ts_ns)
{
	/*
	 * The scalars and the single values only (about 300 of the 1 700 bytes
	 * before the arena, at every MAIL): the lists (rcpt, to, cc, path) are
	 * read up to their counts, which start at 0 here, and each entry is
	 * written whole when it is counted; the arena is read only through them.
	 */
	memset(tx, 0, offsetof(struct smtp_tx, rcpt));
	tx->arena_used = 0;
	tx->ts_ns = ts_ns;
	if (!f)
		return;
	/* uid: made from the event's header where the record is read (event_fill_uid()). */
	tx->family = f->key.family;
	tx->orig_h = *flow_client_addr(f);
	tx->resp_h = *flow_server_addr(f);
	tx->orig_p = flow_client_port(f);
	tx->resp_p = flow_server_port(f);
	tx->vlan = f->key.vlan;
}

void smtp_tx_copy_identity(struct smtp_tx *dst, const struct smtp_tx *src)
{
	memcpy(dst->uid, src->uid, sizeof(dst->uid));
	dst->family = src->family;
	dst->orig_h = src->orig_h;
	dst->resp_h = src->resp_h;
	dst->orig_p = src->orig_p;
	dst->resp_p = src->resp_p;
	dst->vlan = src->vlan;
}

/* Copies up to n bytes into the arena; returns the stored string (len may be < n). */
static struct smtp_str arena_put(struct smtp_tx *tx, const void *s, size_t n)
{
	size_t room = SMTP_TX_ARENA - tx->arena_used;
	struct smtp_str out = {0, 0};

	if (n > UINT16_MAX)
		n = UINT16_MAX;
	if (n > room) {
		tx->flags |= SMTP_TX_F_TRUNCATED;
		n = room;
	}
	if (n == 0)
		return out;
	out.off = (uint16_t)tx->arena_used;
	out.len = (uint16_t)n;
	memcpy(tx->arena + tx->arena_used, s, n);
	tx->arena_used += (uint32_t)n;
	return out;
}

bool smtp_tx_set(struct smtp_tx *tx, enum smtp_field f, const void *s, size_t n)
{
	/* A value set twice keeps the last one; the old bytes stay in the arena. */
	if (f >= SMTP_F_COUNT)
		return false;
	tx->f[f] = arena_put(tx, s, n);
	return tx->f[f].len == n;
}

bool smtp_tx_append(struct smtp_tx *tx, enum smtp_field f, const void *s, size_t n)
{
	struct smtp_str *v = &tx->f[f];
	struct smtp_str more;

	if (f >= SMTP_F_COUNT)
		return false;
	if (v->len == 0)
		return smtp_tx_set(tx, f, s, n);
	/* Contiguous only when the value is the last thing in the arena: else
	 * copy it to the end first. Source and destination cannot overlap (the
	 * value lies below arena_used); a value that no longer fits is cut and
	 * flagged by arena_put. */
	if ((size_t)v->off + v->len != tx->arena_used) {
		uint16_t old = v->len;

		*v = arena_put(tx, tx->arena + v->off, old);
		if (v->len < old)
			return false;
	}
	if ((size_t)v->len + n > UINT16_MAX)
		n = UINT16_MAX - v->len;
	more = arena_put(tx, s, n);
	v->len = (uint16_t)(v->len + more.len);
	return more.len == n;
}

static bool list_add(struct smtp_tx *tx, struct smtp_str *list, uint16_t *stored, uint16_t cap,
		     const void *s, size_t n)
{
	if (*stored >= cap) {
		tx->flags |= SMTP_TX_F_TRUNCATED;
		return false;
	}
	list[*stored] = arena_put(tx, s, n);
	if (list[*stored].len == 0 && n != 0)
		return false;
	(*stored)++;
	return true;
}

bool smtp_tx_add_rcpt(struct smtp_tx *tx, const void *addr, size_t n)
{
	struct smtp_rcpt *r;

	tx->n_rcpt++;
	if (tx->n_rcpt_stored >= SMTP_TX_MAX_RCPT) {
		tx->flags |= SMTP_TX_F_TRUNCATED;
		return false;
	}
	r = &tx->rcpt[tx->n_rcpt_stored];
	memset(r, 0, sizeof(*r));
	r->addr = arena_put(tx, addr, n);
	if (r->addr.len == 0 && n != 0)
		return false;
	tx->n_rcpt_stored++;
	return true;
}

bool smtp_tx_add_to(struct smtp_tx *tx, const void *s, size_t n)
{
	tx->n_to++;
	return list_add(tx, tx->to, &tx->n_to_stored, SMTP_TX_MAX_HDR_ADDRS, s, n);
}

bool smtp_tx_add_cc(struct smtp_tx *tx, const void *s, size_t n)
{
	tx->n_cc++;
	return list_add(tx, tx->cc, &tx->n_cc_stored, SMTP_TX_MAX_HDR_ADDRS, s, n);
}

bool smtp_tx_add_path(struct smtp_tx *tx, const void *s, size_t n)
{
	return list_add(tx, tx->path, &tx->n_path, SMTP_TX_MAX_PATH, s, n);
}

size_t smtp_tx_wire_size(struct smtp_tx *tx)
{
	tx->wire_size = (uint32_t)(offsetof(struct smtp_tx, arena) + tx->arena_used);
	return tx->wire_size;
}

const char *smtp_auth_result_name(enum smtp_auth_result r)
{
	switch (r) {
	case SMTP_AUTH_SUCCESS:
		return "success";
	case SMTP_AUTH_FAILURE:
		return "failure";
	case SMTP_AUTH_TEMPFAIL:
		return "tempfail";
	case SMTP_AUTH_ABORTED:
		return "aborted";
	case SMTP_AUTH_UNKNOWN:
		return "unknown";
	case SMTP_AUTH_NONE:
		break;
	}
	return NULL;
}
