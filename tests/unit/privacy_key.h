/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * privacy_key: a privacy state (sensor/privacy.h) made from key bytes given
 * as a string, through a short-lived key file, for the unit tests of the
 * modules that pseudonymise (the session parser and the output sinks).
 */
#ifndef RELAYWATCH_TESTS_PRIVACY_KEY_H
#define RELAYWATCH_TESTS_PRIVACY_KEY_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sensor/privacy.h"

static inline struct privacy *privacy_key_make(const char *key)
{
	char path[] = "/tmp/rw-test-key-XXXXXX";
	struct errbuf eb = {""};
	struct privacy *p = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, key, strlen(key)), (ssize_t)strlen(key));
	close(fd);
	assert_int_equal(privacy_create(path, &p, &eb), 0);
	unlink(path);
	return p;
}

#endif /* RELAYWATCH_TESTS_PRIVACY_KEY_H */
