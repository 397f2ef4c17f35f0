/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * account: the detection engine's table of mail accounts: AUTH user names
 * (who logs in, from where, how much they send) and mailbox addresses (who
 * gets bounces, who sends as them). A user and the mailbox it sends as are
 * linked both ways so that bounces coming back to the mailbox count against
 * the user. Names are keyed case-insensitively by a 64-bit hash and kept
 * (cut to ACCOUNT_NAME_MAX) for display; never a password. Bounded at
 * account_table_init(); the least recently seen account is evicted and
 * counted. Detector thread only.
 */
#ifndef RELAYWATCH_SENSOR_ACCOUNT_H
#define RELAYWATCH_SENSOR_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/pkt.h"
#include "sensor/baseline.h"
#include "sensor/distinct.h"
#include "sensor/lru.h"
#include "sensor/window.h"

#define ACCOUNT_NAME_MAX 64

enum account_type {
	ACCOUNT_USER = 1,    /* AUTH user name */
	ACCOUNT_MAILBOX = 2, /* an address: MAIL FROM of a user, or a bounce recipient */
};

enum account_win {
	ACCOUNT_W_RCPTS = 0, /* recipients of its messages (users) */
	ACCOUNT_W_BOUNCES,   /* bounces received (mailboxes) */
	ACCOUNT_W_COUNT
};

struct account {
	uint64_t key;		     /* account_key(type, name) */
	char name[ACCOUNT_NAME_MAX]; /* as first seen, cut */
	uint8_t type;		     /* enum account_type */
	uint8_t family;		     /* of server and source */
	uint16_t kinds;		     /* bit per enum alert_kind that fired */
	uint32_t first_s, last_s;
	union pkt_addr server; /* user: last server it logged in to; mailbox: last receiver */
	union pkt_addr source; /* user: last AUTH source; mailbox: last host that sent as it */
	uint64_t link;	       /* user: key of the mailbox it sends as; mailbox: the user */
	struct window w[ACCOUNT_W_COUNT];
	struct distinct sources; /* users: source addresses of successful AUTH */
	struct baseline rcpt_base;
	uint32_t tot_auth_ok;
	uint32_t tot_msgs;
	uint32_t tot_rcpts;
	uint32_t tot_bounces;
};

struct account_table {
	struct lru lru;
	struct distinct_pool *pool; /* not owned */
};

int account_table_init(struct account_table *t, uint32_t capacity, struct distinct_pool *pool);
void account_table_fini(struct account_table *t);

/* Case-insensitive key of a name; never 0. */
uint64_t account_key(enum account_type type, const char *name, size_t len);
struct account *account_find(struct account_table *t, uint64_t key);
/* Find or add and mark seen; never NULL (a full table evicts). */
struct account *account_get(struct account_table *t, enum account_type type, const char *name,
			    size_t len, uint64_t now_ns, bool *created);

static inline uint32_t account_count(const struct account_table *t)
{
	return t->lru.count;
}

static inline uint64_t account_evicted(const struct account_table *t)
{
	return t->lru.evicted;
}

const char *account_type_name(enum account_type t);

#endif /* RELAYWATCH_SENSOR_ACCOUNT_H */
