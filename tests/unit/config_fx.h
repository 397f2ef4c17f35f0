/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config_fx: what the YAML loader's tests share (test_config*.c): the
 * shipped example's path, loading a YAML text, and whether an address is
 * in a set. Header-only, as pkt_build.h; test-only.
 */
#ifndef RELAYWATCH_TESTS_CONFIG_FX_H
#define RELAYWATCH_TESTS_CONFIG_FX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/config.h"

#define SHIPPED TEST_SOURCE_ROOT "/deploy/relaywatch.yaml"

static inline int load(struct config *cfg, const char *yaml, struct errbuf *eb)
{
	return config_load_buffer(cfg, "t.yaml", yaml, strlen(yaml), eb);
}

static inline bool has(const struct netset *ns, const char *addr)
{
	union pkt_addr a;
	uint8_t fam;

	assert_true(netset_parse_addr(addr, &a, &fam));
	return netset_contains(ns, &a);
}

#endif
