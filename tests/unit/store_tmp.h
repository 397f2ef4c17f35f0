/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * store_tmp: a collector store on SQLite in a fresh temp dir, for the unit
 * tests of modules that read or write the store (cmocka setup/teardown).
 */
#ifndef RELAYWATCH_TESTS_STORE_TMP_H
#define RELAYWATCH_TESTS_STORE_TMP_H

#include <stdio.h>
#include <stdlib.h>

#include "collector/store.h"

static char store_tmp_dir[64];

static inline int store_tmp_setup(void **state)
{
	struct errbuf eb = {{0}};
	struct store *st;
	char uri[128];

	snprintf(store_tmp_dir, sizeof(store_tmp_dir), "/tmp/rw-test-store.XXXXXX");
	if (!mkdtemp(store_tmp_dir))
		return -1;
	snprintf(uri, sizeof(uri), "sqlite:%s/c.db", store_tmp_dir);
	if (store_open(uri, NULL, &st, &eb)) {
		fprintf(stderr, "store_open: %s\n", eb.msg);
		return -1;
	}
	*state = st;
	return 0;
}

static inline int store_tmp_teardown(void **state)
{
	char cmd[128];

	store_close(*state);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", store_tmp_dir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif /* RELAYWATCH_TESTS_STORE_TMP_H */
