// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/account.h"

#include <string.h>

#include "common/hash.h"

#define NS 1000000000ull

static void account_evict(void *arg, void *ent)
{
	struct account_table *t = arg;

	distinct_release(&((struct account *)ent)->sources, t->pool);
}

int account_table_init(struct account_table *t, uint32_t capacity, struct distinct_pool *pool)
{
	t->pool = pool;
	return lru_init(&t->lru, capacity, sizeof(struct account), account_evict, t);
}

void account_table_fini(struct account_table *t)
{
	lru_fini(&t->lru);
}

uint64_t account_key(enum account_type type, const char *name, size_t len)
{
	char low[256];
	uint64_t k;

	if (len > sizeof(low))
		len = sizeof(low);
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		low[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	k = hash_bytes(low, len, 0x9b05688c2b3e6c1full + (uint64_t)type);
	return k ? k : 1;
}

static bool account_eq(const void *ent, const void *key)
{
	return ((const struct account *)ent)->key == *(const uint64_t *)key;
}

struct account *account_find(struct account_table *t, uint64_t key)
{
	return lru_find(&t->lru, (uint32_t)key, account_eq, &key);
}

struct account *account_get(struct account_table *t, enum account_type type, const char *name,
			    size_t len, uint64_t now_ns, bool *created)
{
	uint64_t key = account_key(type, name, len);
	uint32_t now = (uint32_t)(now_ns / NS);
	struct account *a = account_find(t, key);

	*created = false;
	if (a) {
		lru_touch_at(&t->lru, a, now);
	} else {
		size_t n = len < ACCOUNT_NAME_MAX - 1 ? len : ACCOUNT_NAME_MAX - 1;

		a = lru_add(&t->lru, (uint32_t)key, NULL);
		a->key = key;
		a->type = (uint8_t)type;
		memcpy(a->name, name, n);
		a->name[n] = '\0';
		a->first_s = now;
		*created = true;
	}
	if ((int32_t)(now - a->last_s) > 0)
		a->last_s = now;
	return a;
}

const char *account_type_name(enum account_type t)
{
	return t == ACCOUNT_USER ? "user" : t == ACCOUNT_MAILBOX ? "mailbox" : "unknown";
}
