// SPDX-License-Identifier: BSD-3-Clause
/*
 * privdrop's refusals that no command line reaches (main keeps no capability):
 * a capability number libcap-ng does not know, and a keep list that leaves
 * the process able to become root again. The switch runs in a child process,
 * which cannot come back from it. Needs root and the user "nobody"; skips
 * otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sensor/privdrop.h"

static int need_root(void **state)
{
	(void)state;
	return geteuid() == 0 && getpwnam("nobody") ? 0 : -1;
}

/* privdrop_apply(nobody, keep) in a child; its message lands in msg. */
static int apply_in_child(const int *keep, unsigned int n_keep, char *msg, size_t cap)
{
	struct errbuf eb = {""};
	int fds[2], status = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int err = privdrop_apply("nobody", keep, n_keep, &eb);

		if (write(fds[1], eb.msg, strlen(eb.msg)) < 0)
			_exit(100);
		_exit(-err);
	}
	close(fds[1]);
	n = read(fds[0], msg, cap - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return -WEXITSTATUS(status);
}

static void test_privdrop_unknown_capability(void **state)
{
	const int keep[] = {CAP_NET_RAW, 4096};
	char msg[512];

	if (need_root(state))
		skip();
	assert_int_equal(apply_in_child(keep, 2, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "--user: unknown capability 4096");
}

/* Keeping CAP_SETUID keeps the way back to uid 0: the check after the switch sees it. */
static void test_privdrop_refuses_a_way_back_to_root(void **state)
{
	const int keep[] = {CAP_SETUID};
	char msg[512];

	if (need_root(state))
		skip();
	assert_int_equal(apply_in_child(keep, 1, msg, sizeof(msg)), -EPERM);
	assert_string_equal(msg, "--user nobody: privileges still held after the switch");
	assert_int_equal(apply_in_child(NULL, 0, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_privdrop_unknown_capability),
		cmocka_unit_test(test_privdrop_refuses_a_way_back_to_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
