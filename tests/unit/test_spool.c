// SPDX-License-Identifier: BSD-3-Clause
/*
 * The spool with real files in a temporary directory: order, acks, a reopen
 * that gives back what was not acknowledged (same run_id and seq), the order
 * of sacrifice when full, torn and corrupt tails, a child killed while it
 * writes, and the directory lock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "exporters/spool.h"

#define RUN_A 0xaaaa000000000001ull
#define RUN_B 0xbbbb000000000002ull

struct fx {
	char dir[64];
};

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "%s", "/tmp/rw-spool-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;
	struct dirent *de;
	char path[512];
	DIR *d = opendir(fx->dir);

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", fx->dir, de->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Files in dir whose name ends with suffix. */
static int count_files(const char *dir, const char *suffix)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name), s = strlen(suffix);

		n += l > s && strcmp(de->d_name + l - s, suffix) == 0;
	}
	closedir(d);
	return n;
}

/* The first file with that suffix, as a path. */
static void find_file(const char *dir, const char *suffix, char *out, size_t cap)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	out[0] = '\0';
	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name), s = strlen(suffix);

		if (l > s && strcmp(de->d_name + l - s, suffix) == 0) {
			snprintf(out, cap, "%s/%s", dir, de->d_name);
			break;
		}
	}
	closedir(d);
	assert_true(out[0] != '\0');
}

static struct spool *open_spool(const char *dir, uint64_t run_id, uint64_t max_bytes)
{
	struct spool_cfg cfg = {.dir = dir, .max_bytes = max_bytes, .run_id = run_id};
	struct errbuf eb = {""};
	struct spool *sp = NULL;

	if (spool_open(&cfg, &sp, &eb) != 0)
		fail_msg("spool_open: %s", eb.msg);
	return sp;
}

/* A frame whose bytes say which one it is. */
static uint32_t payload(uint64_t seq, uint8_t *buf, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seq * 31 + i);
	return len;
}

static void append(struct spool *sp, enum spool_class cls, uint64_t seq, uint32_t len)
{
	uint8_t buf[4096];

	assert_int_equal(spool_append(sp, cls, seq, buf, payload(seq, buf, len)), 0);
}

static void expect_next(struct spool *sp, uint64_t run_id, uint64_t seq, bool resend)
{
	struct spool_frame f;
	uint8_t want[4096];

	assert_true(spool_next(sp, UINT32_MAX, &f));
	assert_true(f.run_id == run_id);
	assert_int_equal(f.seq, seq);
	assert_int_equal(f.resend, resend);
	assert_memory_equal(f.data, want, payload(seq, want, f.len));
}

static void test_spool_append_ack_reopen(void **state)
{
	struct fx *fx = *state;
	struct spool_stats st;
	struct spool *sp;

	sp = open_spool(fx->dir, RUN_A, 1 << 20);
	for (uint64_t s = 1; s <= 10; s++)
		append(sp, (enum spool_class)(s % 3), s, 100 + (uint32_t)s);
	for (uint64_t s = 1; s <= 10; s++)
		expect_next(sp, RUN_A, s, false);
	assert_false(spool_has_unsent(sp));
	assert_int_equal(spool_ack(sp, RUN_A, 4), 4);
	assert_int_equal(spool_in_flight(sp), 6);
	/* The connection drops: what was not acked goes again, in order. */
	spool_rewind(sp);
	expect_next(sp, RUN_A, 5, true);
	spool_close(sp);

	sp = open_spool(fx->dir, RUN_B, 1 << 20);
	spool_stats(sp, &st);
	assert_int_equal(st.recovered, 6);
	append(sp, SPOOL_ALERT, 1, 50);
	for (uint64_t s = 5; s <= 10; s++)
		expect_next(sp, RUN_A, s, true);
	expect_next(sp, RUN_B, 1, false);
	/* Acks are per run: B's ack leaves A's frames alone. */
	assert_int_equal(spool_ack(sp, RUN_B, 1), 1);
	assert_int_equal(spool_ack(sp, RUN_A, 10), 6);
	assert_true(spool_is_empty(sp));
	assert_int_equal(spool_sync(sp), 0);
	spool_close(sp);
	/* Everything acknowledged: no segment is left behind. */
	assert_int_equal(count_files(fx->dir, ".seg"), 0);
	sp = open_spool(fx->dir, RUN_A + 7, 1 << 20);
	assert_true(spool_is_empty(sp));
	spool_close(sp);
}

/* Acks taken before a crash are remembered (spool.state), so those frames are
 * not sent again; the rest are. */
static void test_spool_state_survives_restart(void **state)
{
	struct fx *fx = *state;
	struct spool *sp;

	sp = open_spool(fx->dir, RUN_A, 1 << 20);
	for (uint64_t s = 1; s <= 6; s++)
		append(sp, SPOOL_TX, s, 200);
	for (uint64_t s = 1; s <= 6; s++)
		expect_next(sp, RUN_A, s, false);
	assert_int_equal(spool_ack(sp, RUN_A, 3), 3);
	assert_int_equal(spool_sync(sp), 0);
	spool_close(sp);
	sp = open_spool(fx->dir, RUN_B, 1 << 20);
	for (uint64_t s = 4; s <= 6; s++)
		expect_next(sp, RUN_A, s, true);
	assert_false(spool_has_unsent(sp));
	spool_close(sp);
}

static void test_spool_memory_only(void **state)
{
	struct spool_cfg cfg = {.max_bytes = 1 << 20, .run_id = RUN_A};
	struct errbuf eb = {""};
	struct spool *sp;

	(void)state;
	assert_int_equal(spool_open(&cfg, &sp, &eb), 0);
	append(sp, SPOOL_ALERT, 1, 10);
	append(sp, SPOOL_SUMMARY, 2, 10);
	expect_next(sp, RUN_A, 1, false);
	/* An ack beyond what was sent cannot take unsent frames. */
	assert_int_equal(spool_ack(sp, RUN_A, 99), 1);
	expect_next(sp, RUN_A, 2, false);
	assert_int_equal(spool_ack(sp, RUN_B, 2), 0);
	assert_int_equal(spool_ack(sp, RUN_A, 2), 1);
	assert_true(spool_is_empty(sp));
	spool_close(sp);
}

/* Full: summaries go first, then transactions, then the oldest alerts; a
 * summary never pushes out anything else. Every drop is counted by class. */
static void test_spool_eviction_order(void **state)
{
	struct fx *fx = *state;
	struct spool_stats st;
	struct spool_frame f;
	struct spool *sp;
	uint8_t buf[1000];
	uint64_t seq = 0;

	/* 64 KiB holds 64 frames of 1000 + 16 bytes. */
	sp = open_spool(fx->dir, RUN_A, 64 * 1024);
	for (int i = 0; i < 20; i++) {
		append(sp, SPOOL_SUMMARY, ++seq, 1000);
		append(sp, SPOOL_TX, ++seq, 1000);
		append(sp, SPOOL_ALERT, ++seq, 1000);
	}
	spool_stats(sp, &st);
	assert_int_equal(st.frames, 60);
	/* 4 more alerts fit, then each takes a summary's place, oldest first. */
	for (int i = 0; i < 24; i++)
		append(sp, SPOOL_ALERT, ++seq, 1000);
	spool_stats(sp, &st);
	assert_int_equal(st.evicted[SPOOL_SUMMARY], 20);
	assert_int_equal(st.evicted[SPOOL_TX], 0);
	assert_int_equal(st.frames_by_class[SPOOL_SUMMARY], 0);
	/* No summary left: a new one is refused rather than push out better frames. */
	assert_int_equal(spool_append(sp, SPOOL_SUMMARY, ++seq, buf, sizeof(buf)), -ENOSPC);
	/* Transactions give way to alerts; alerts to newer alerts. */
	for (int i = 0; i < 25; i++)
		append(sp, SPOOL_ALERT, ++seq, 1000);
	spool_stats(sp, &st);
	assert_int_equal(st.evicted[SPOOL_TX], 20);
	assert_int_equal(st.evicted[SPOOL_ALERT], 5);
	assert_int_equal(st.refused[SPOOL_SUMMARY], 1);
	assert_int_equal(st.frames_by_class[SPOOL_ALERT], 64);
	assert_true(st.bytes <= 64 * 1024);
	/* The oldest alert left is the 6th: 3, 6, 9, 12, 15 went. */
	assert_true(spool_next(sp, UINT32_MAX, &f));
	assert_int_equal(f.seq, 18);
	assert_int_equal(f.cls, SPOOL_ALERT);
	/* A transaction cannot push out an alert. */
	assert_int_equal(spool_append(sp, SPOOL_TX, ++seq, buf, sizeof(buf)), -ENOSPC);
	spool_close(sp);
}

static void write_frames(const char *dir, int n, uint32_t len)
{
	struct spool *sp = open_spool(dir, RUN_A, 1 << 20);

	for (int s = 1; s <= n; s++)
		append(sp, SPOOL_ALERT, (uint64_t)s, len);
	spool_close(sp);
}

/* A crash mid-write leaves half a record: the whole ones before it come back,
 * the tail is skipped with a warning and counted. */
static void test_spool_torn_tail(void **state)
{
	struct fx *fx = *state;
	struct spool_stats st;
	char path[512];
	struct stat sb;
	struct spool *sp;

	write_frames(fx->dir, 5, 300);
	find_file(fx->dir, "-alert.seg", path, sizeof(path));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(truncate(path, sb.st_size - 100), 0);
	sp = open_spool(fx->dir, RUN_B, 1 << 20);
	spool_stats(sp, &st);
	assert_int_equal(st.recovered, 4);
	assert_int_equal(st.damaged_files, 1);
	assert_int_equal(st.damaged_bytes, 216);
	for (uint64_t s = 1; s <= 4; s++)
		expect_next(sp, RUN_A, s, true);
	assert_false(spool_has_unsent(sp));
	spool_close(sp);
}

/* A flipped bit fails the CRC: frames before it come back, none after. */
static void test_spool_corrupt_record(void **state)
{
	struct fx *fx = *state;
	struct spool_stats st;
	char path[512];
	struct spool *sp;
	uint8_t b;
	int fd;

	write_frames(fx->dir, 5, 300);
	find_file(fx->dir, "-alert.seg", path, sizeof(path));
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	/* header 32, each record 16 + 300: a byte inside the third frame's data */
	assert_int_equal(pread(fd, &b, 1, 32 + 2 * 316 + 16 + 10), 1);
	b ^= 0x04;
	assert_int_equal(pwrite(fd, &b, 1, 32 + 2 * 316 + 16 + 10), 1);
	close(fd);
	sp = open_spool(fx->dir, RUN_B, 1 << 20);
	spool_stats(sp, &st);
	assert_int_equal(st.recovered, 2);
	assert_int_equal(st.damaged_files, 1);
	expect_next(sp, RUN_A, 1, true);
	expect_next(sp, RUN_A, 2, true);
	assert_false(spool_has_unsent(sp));
	spool_close(sp);
}

/* A segment whose header is not ours is set aside, not read, not deleted. */
static void test_spool_foreign_file_set_aside(void **state)
{
	struct fx *fx = *state;
	struct spool_stats st;
	char path[512];
	struct spool *sp;
	FILE *f;

	snprintf(path, sizeof(path), "%s/0000000000000003-tx.seg", fx->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("this is not a spool segment at all, just text", f);
	fclose(f);
	sp = open_spool(fx->dir, RUN_B, 1 << 20);
	spool_stats(sp, &st);
	assert_int_equal(st.recovered, 0);
	assert_int_equal(st.damaged_files, 1);
	assert_true(spool_is_empty(sp));
	/* New segments are numbered after it. */
	append(sp, SPOOL_TX, 1, 10);
	spool_close(sp);
	assert_int_equal(count_files(fx->dir, ".seg.damaged"), 1);
	snprintf(path, sizeof(path), "%s/0000000000000004-tx.seg", fx->dir);
	assert_int_equal(access(path, F_OK), 0);
}

/* Real crash: a child appends as fast as it can, flushing every 64 frames,
 * and is SIGKILLed; every frame that reached the files comes back whole, in
 * order, from seq 1, with nothing missing before the last flush. */
static void test_spool_child_killed_mid_write(void **state)
{
	struct fx *fx = *state;
	struct timespec ts = {0, 2 * 1000 * 1000};
	struct spool_stats st;
	struct spool *sp;
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sp = open_spool(fx->dir, RUN_A, 256u << 20);
		for (uint64_t s = 1; s < 10000000; s++) {
			uint8_t buf[4096];

			spool_append(sp, (enum spool_class)(s % 3), s, buf,
				     payload(s, buf, 100 + (uint32_t)(s * 37 % 3000)));
			if (s % 64 == 0)
				spool_flush(sp); /* as the exporter does per batch */
		}
		_exit(0);
	}
	/* Bounded wait for the child to have written a few segments' worth. */
	for (int i = 0; i < 5000 && count_files(fx->dir, ".seg") < 6; i++)
		nanosleep(&ts, NULL);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));

	sp = open_spool(fx->dir, RUN_B, 256u << 20);
	spool_stats(sp, &st);
	assert_true(st.recovered > 100);
	assert_true(st.damaged_files <= SPOOL_CLASS_COUNT);
	/* Only the last unflushed batch may be missing (in part, if the kill
	 * came mid-flush); every frame that came back is intact. */
	for (uint64_t s = 1, next = 1, gap = 0; s <= st.recovered; s++) {
		struct spool_frame f;
		uint8_t want[4096];

		assert_true(spool_next(sp, UINT32_MAX, &f));
		assert_true(f.run_id == RUN_A);
		assert_memory_equal(f.data, want, payload(f.seq, want, f.len));
		assert_true(f.seq >= next);
		if (f.seq != next && !gap)
			gap = next;
		assert_true(!gap || f.seq < gap + 64);
		next = f.seq + 1;
	}
	spool_close(sp);
}

/* The disk refuses (a file size limit here, as a full disk would): the frames
 * stay in memory and are all sent; what reached the disk survives a restart,
 * with no cut record left behind. In a child, so the limit stays there. */
static int write_failure_child(const char *dir)
{
	struct spool_stats st;
	struct spool_frame f;
	struct rlimit rl = {.rlim_cur = 40 * 1024, .rlim_max = 40 * 1024};
	struct spool *sp = open_spool(dir, RUN_A, 1 << 20);
	uint8_t buf[1000];
	uint64_t n = 0;

	signal(SIGXFSZ, SIG_IGN); /* the write fails with EFBIG instead */
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		return 10;
	for (uint64_t s = 1; s <= 100; s++) {
		if (spool_append(sp, SPOOL_ALERT, s, buf, payload(s, buf, sizeof(buf))) != 0)
			return 11;
		spool_flush(sp);
	}
	spool_stats(sp, &st);
	if (st.write_errors == 0 || st.frames != 100)
		return 12;
	while (spool_next(sp, UINT32_MAX, &f))
		if (f.seq != ++n)
			return 13;
	spool_close(sp);
	return n == 100 ? 0 : 14;
}

static void test_spool_write_failure_keeps_frames_in_memory(void **state)
{
	struct fx *fx = *state;
	struct spool_stats st;
	struct spool *sp;
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(write_failure_child(fx->dir));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* A file stops at 40 KiB; the frame that failed is not on disk (the spool
	 * went on in a new file), and no file holds a cut record. */
	sp = open_spool(fx->dir, RUN_B, 1 << 20);
	spool_stats(sp, &st);
	assert_int_equal(st.damaged_files, 0);
	assert_true(st.recovered >= 39 && st.recovered < 100);
	for (uint64_t s = 1, prev = 0; s <= st.recovered; s++) {
		struct spool_frame f;
		uint8_t want[1000];

		assert_true(spool_next(sp, UINT32_MAX, &f));
		assert_true(f.seq > prev);
		assert_memory_equal(f.data, want, payload(f.seq, want, f.len));
		prev = f.seq;
	}
	spool_close(sp);
}

static void test_spool_directory_is_locked(void **state)
{
	struct fx *fx = *state;
	struct spool_cfg cfg = {.dir = fx->dir, .max_bytes = 1 << 20, .run_id = RUN_B};
	struct errbuf eb = {""};
	struct spool *sp = open_spool(fx->dir, RUN_A, 1 << 20), *sp2 = NULL;

	assert_int_equal(spool_open(&cfg, &sp2, &eb), -EBUSY);
	assert_null(sp2);
	assert_non_null(strstr(eb.msg, "in use by another relaywatch process (pid "));
	spool_close(sp);
	assert_int_equal(spool_open(&cfg, &sp2, &eb), 0);
	spool_close(sp2);
}

/* Files roll over at the segment size and go once all their frames are acked. */
static void test_spool_segments_roll_and_go(void **state)
{
	struct fx *fx = *state;
	struct spool *sp = open_spool(fx->dir, RUN_A, 1 << 20); /* segments of 128 KiB */

	for (uint64_t s = 1; s <= 400; s++)
		append(sp, SPOOL_TX, s, 1000);
	assert_true(count_files(fx->dir, "-tx.seg") >= 3);
	for (uint64_t s = 1; s <= 400; s++)
		expect_next(sp, RUN_A, s, false);
	assert_int_equal(spool_ack(sp, RUN_A, 300), 300);
	assert_int_equal(spool_sync(sp), 0);
	assert_true(count_files(fx->dir, "-tx.seg") <= 2);
	spool_close(sp);
	sp = open_spool(fx->dir, RUN_B, 1 << 20);
	for (uint64_t s = 301; s <= 400; s++)
		expect_next(sp, RUN_A, s, true);
	assert_false(spool_has_unsent(sp));
	spool_close(sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spool_append_ack_reopen, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_spool_state_survives_restart, fx_setup,
						fx_teardown),
		cmocka_unit_test(test_spool_memory_only),
		cmocka_unit_test_setup_teardown(test_spool_eviction_order, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_spool_torn_tail, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_spool_corrupt_record, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_spool_foreign_file_set_aside, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_spool_child_killed_mid_write, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_spool_write_failure_keeps_frames_in_memory,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_spool_directory_is_locked, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_spool_segments_roll_and_go, fx_setup,
						fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
