// SPDX-License-Identifier: BSD-3-Clause
/* test_store on PostgreSQL: a server of its own in a temp dir, or exit 77. */
#define STORE_TEST_PG 1
#include "test_store.c"
