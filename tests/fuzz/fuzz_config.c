// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz_config: arbitrary bytes as a configuration file, loaded twice over the
 * defaults (the second load replaces the lists the first one built), then
 * freed. Checks that a failed load still leaves a configuration that frees
 * cleanly and that every message names the file. Seeds:
 * tests/fuzz/seeds/config/ (the shipped example and the unit tests' shapes).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct errbuf eb;

	config_init(&cfg);
	for (int i = 0; i < 2; i++) {
		eb.msg[0] = '\0';
		if (config_load_buffer(&cfg, "f.yaml", (const char *)data, size, &eb) != 0 &&
		    strncmp(eb.msg, "f.yaml", 6) != 0)
			abort();
	}
	config_fini(&cfg);
	return 0;
}
