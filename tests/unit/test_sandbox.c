// SPDX-License-Identifier: BSD-3-Clause
/*
 * The live sensor's seccomp filter, installed in a child process (it cannot
 * be removed again): what the steady state does still works, a new packet
 * socket is refused, and running a program or tracing kills the process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sensor/sandbox.h"

/* sensor/sandbox.c lets LeakSanitizer's tracer (clone, ptrace, getdents) through. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER 1
#endif
#endif
#ifndef SANITIZER
#define SANITIZER 0
#endif

enum child_exit {
	CHILD_OK = 0,
	CHILD_SETUP_FAILED = 10,
	CHILD_NOT_DENIED = 11,
	CHILD_ALLOWED_FAILED = 12,
	CHILD_SURVIVED = 13,
};

static void *thread_body(void *arg)
{
	return arg;
}

/* What workers, detector and writers do all day. */
static int steady_state(void)
{
	char path[] = "/tmp/rw-sandbox-XXXXXX";
	pthread_t t;
	void *big;
	int fd, sv[2];

	fd = mkstemp(path);
	if (fd < 0 || write(fd, "x\n", 2) != 2 || fsync(fd) != 0 || close(fd) != 0)
		return -1;
	if (unlink(path) != 0)
		return -1;
	big = malloc(64u << 20); /* mmap */
	if (!big)
		return -1;
	memset(big, 1, 4096);
	free(big);
	if (pthread_create(&t, NULL, thread_body, NULL) != 0 || pthread_join(t, NULL) != 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -1;
	close(sv[0]);
	close(sv[1]);
	fd = socket(AF_INET, SOCK_STREAM, 0); /* the exporter reconnecting */
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int run_child(int (*body)(void))
{
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct errbuf eb = {""};

		if (sandbox_apply(&eb) != 0) {
			fprintf(stderr, "%s\n", eb.msg);
			_exit(CHILD_SETUP_FAILED);
		}
		_exit(body());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static int child_steady_state(void)
{
	return steady_state() == 0 ? CHILD_OK : CHILD_ALLOWED_FAILED;
}

/* A packet socket: allowed to root before the filter, refused after it. */
static int child_packet_socket(void)
{
	int fd = socket(AF_PACKET, SOCK_RAW, 0);

	if (fd >= 0 || errno != EPERM)
		return CHILD_NOT_DENIED;
	return steady_state() == 0 ? CHILD_OK : CHILD_ALLOWED_FAILED;
}

static int child_exec(void)
{
	char *const argv[] = {"true", NULL};

	execv("/bin/true", argv);
	return CHILD_SURVIVED;
}

static int child_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return CHILD_SURVIVED;
}

static int child_setuid(void)
{
	if (setuid(0) == 0 || errno != EPERM)
		return CHILD_SURVIVED;
	return CHILD_SURVIVED;
}

/* What LeakSanitizer's tracer reads /proc/PID/task with: only a sanitizer build allows it. */
static int child_getdents(void)
{
#ifdef SYS_getdents
	char buf[4096];
	int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY);
	long n;

	if (fd < 0)
		return CHILD_ALLOWED_FAILED;
	n = syscall(SYS_getdents, fd, buf, sizeof(buf));
	close(fd);
	if (SANITIZER)
		return n > 0 ? CHILD_OK : CHILD_ALLOWED_FAILED;
	return n < 0 && errno == EPERM ? CHILD_OK : CHILD_NOT_DENIED;
#else
	return CHILD_OK;
#endif
}

static int child_seccomp_mode(void)
{
	/* 2 = SECCOMP_MODE_FILTER, as /proc/PID/status says "Seccomp: 2" */
	return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2 ? CHILD_OK : CHILD_NOT_DENIED;
}

static void test_sandbox_steady_state_still_works(void **state)
{
	int st = run_child(child_steady_state);

	(void)state;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), CHILD_OK);
	st = run_child(child_seccomp_mode);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), CHILD_OK);
}

static void test_sandbox_new_packet_socket_is_refused(void **state)
{
	int st;

	(void)state;
	if (geteuid() != 0)
		skip(); /* without root the socket is refused anyway: proves nothing */
	st = run_child(child_packet_socket);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), CHILD_OK);
}

static void assert_killed_by_sigsys(int st)
{
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void test_sandbox_exec_kills(void **state)
{
	(void)state;
	assert_killed_by_sigsys(run_child(child_exec));
}

/* In sanitizer builds too: only LeakSanitizer's untraced tracer may clone a process. */
static void test_sandbox_fork_kills(void **state)
{
	(void)state;
	assert_killed_by_sigsys(run_child(child_fork));
}

static void test_sandbox_getdents_only_for_the_sanitizer(void **state)
{
	int st = run_child(child_getdents);

	(void)state;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), CHILD_OK);
}

static void test_sandbox_identity_change_kills(void **state)
{
	(void)state;
	assert_killed_by_sigsys(run_child(child_setuid));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sandbox_steady_state_still_works),
		cmocka_unit_test(test_sandbox_new_packet_socket_is_refused),
		cmocka_unit_test(test_sandbox_exec_kills),
		cmocka_unit_test(test_sandbox_fork_kills),
		cmocka_unit_test(test_sandbox_getdents_only_for_the_sanitizer),
		cmocka_unit_test(test_sandbox_identity_change_kills),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
