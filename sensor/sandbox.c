// SPDX-License-Identifier: BSD-3-Clause
/*
 * The allow list is the steady state of every thread of a live sensor, found
 * with strace -f on AF_XDP and DPDK runs (tests/e2e/afxdp_hardening.sh checks
 * the filter is on and the run still writes its outputs): packet I/O (poll,
 * recvfrom/sendto wake-ups, XDP statistics), memory (glibc malloc, Hyperscan
 * scratch), the detector, the JSON and spool writers (open, write, rename,
 * fsync), the exporter reconnecting (socket, connect, DNS), /metrics
 * (libmicrohttpd: accept, epoll), SIGHUP reloading signature files, and the
 * XDP counters read from BPF maps we already hold.
 *
 * Why EPERM rather than death for everything else: a rare path we did not
 * list (a reconnect, a reload) then fails and is logged instead of taking the
 * sensor down. What an intruder wants first (run a program, trace or attach
 * to a process, change identity, mount, load modules) kills the process.
 *
 * Sanitizer builds (ASan's LeakSanitizer) check for leaks at exit: a tracer
 * made by clone(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED) lists
 * /proc/PID/task with getdents (not getdents64) and ptrace()s every thread.
 * Found with the default action set to SCMP_ACT_LOG on an AF_XDP run of an
 * ASan build (tests/e2e/afxdp_smtp_json.sh): the kernel logged getdents
 * only, from the tracer, at exit; clone and ptrace would otherwise kill the
 * process. Those three are let through there, nowhere else: a production
 * build has no tracer to serve.
 */
#include "sensor/sandbox.h"

#include <errno.h>
#include <linux/bpf.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <seccomp.h>

#include "common/log.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZER 1
#endif
#endif
#ifndef SANDBOX_SANITIZER
#define SANDBOX_SANITIZER 0
#endif

/* Name lists read best packed. */
/* clang-format off */
static const char *const allowed[] = {
	/* files and descriptors */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "lseek",
	"close", "close_range", "open", "openat", "newfstatat", "fstat", "stat", "lstat", "statx",
	"fstatfs", "statfs", "access", "faccessat", "faccessat2", "readlink", "readlinkat",
	"getdents64", "mkdir", "mkdirat", "rename", "renameat", "renameat2", "unlink", "unlinkat",
	"link", "linkat", "ftruncate", "fsync", "fdatasync", "fcntl", "dup", "dup2", "dup3",
	"pipe", "pipe2", "flock", "fadvise64", "fchmod", "getcwd",
	/* memory */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mincore", "get_mempolicy",
	"membarrier",
	/* threads, time, scheduling */
	"futex", "set_robust_list", "get_robust_list", "rseq", "set_tid_address", "sched_yield",
	"sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_getscheduler",
	"getpriority", "getcpu", "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres",
	"gettimeofday", "time", "arch_prctl", "prctl",
	/* signals and process */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait", "sigaltstack",
	"restart_syscall", "kill", "tgkill", "tkill", "getpid", "gettid", "getppid", "getuid",
	"geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups", "getrlimit",
	"prlimit64", "getrusage", "uname", "sysinfo", "times", "exit", "exit_group", "wait4",
	"waitid", "getrandom",
	/* network: the exporter, DNS, /metrics, packet sockets already open */
	"socketpair", "connect", "accept", "accept4", "getsockname", "getpeername", "getsockopt",
	"setsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
	"shutdown", "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1",
	"epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2",
	"timerfd_create", "timerfd_settime", "timerfd_gettime",
};

/* An intruder's first moves: the process dies at once (SIGSYS). */
static const char *const fatal[] = {
	"execve", "execveat", "fork", "vfork", "process_vm_readv", "process_vm_writev",
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "mount",
	"umount2", "pivot_root", "chroot", "setns", "unshare", "setuid", "setgid", "setreuid",
	"setregid", "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid", "capset",
	"keyctl", "add_key", "request_key", "reboot", "swapon", "swapoff", "userfaultfd",
	"personality",
};
/* clang-format on */

/* Socket families a running sensor opens: TCP to the collector, DNS, netlink. */
static const int families[] = {AF_INET, AF_INET6, AF_UNIX, AF_NETLINK};

/* BPF commands on maps we already hold (the XDP counters). */
static const unsigned int bpf_cmds[] = {
	BPF_MAP_LOOKUP_ELEM,
	BPF_MAP_UPDATE_ELEM,
	BPF_MAP_DELETE_ELEM,
	BPF_MAP_GET_NEXT_KEY,
	BPF_OBJ_GET_INFO_BY_FD,
	BPF_MAP_LOOKUP_BATCH,
	BPF_MAP_LOOKUP_AND_DELETE_BATCH,
};

/* Names unknown on this architecture (open on arm64, say) are skipped. */
static int add_names(scmp_filter_ctx ctx, uint32_t action, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		int err;

		if (nr == __NR_SCMP_ERROR)
			continue;
		err = seccomp_rule_add(ctx, action, nr, 0);
		if (err)
			return err;
	}
	return 0;
}

/* LeakSanitizer's exit check (see the top): its tracer, and nothing that looks like fork(). */
static int add_sanitizer_rules(scmp_filter_ctx ctx)
{
	const scmp_datum_t tracer = CLONE_VM | CLONE_UNTRACED;
	int nr = seccomp_syscall_resolve_name("getdents");
	int err;

	err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			       SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD | tracer, tracer));
	if (!err) /* fork() still dies: neither a thread nor untraced */
		err = seccomp_rule_add(
			ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(clone), 1,
			SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD | CLONE_UNTRACED, 0));
	if (!err)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ptrace), 0);
	if (!err && nr != __NR_SCMP_ERROR) /* absent on arm64, which has getdents64 only */
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	return err;
}

static int add_argument_rules(scmp_filter_ctx ctx)
{
	int err = 0;

	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]) && !err; i++)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i]));
	for (size_t i = 0; i < sizeof(bpf_cmds) / sizeof(bpf_cmds[0]) && !err; i++)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(bpf), 1,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)bpf_cmds[i]));
	/* Terminal input injection is the one ioctl worth refusing by name. */
	if (!err)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_NE, (scmp_datum_t)TIOCSTI));
	if (err)
		return err;
	/* Threads only, never a new process; clone3 hides its flags in memory, so
	 * it says ENOSYS and glibc falls back to clone. */
	err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			       SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	if (SANDBOX_SANITIZER)
		return err ? err : add_sanitizer_rules(ctx);
	if (!err) /* fork() is clone() without CLONE_THREAD */
		err = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(clone), 1,
				       SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
	if (!err)
		err = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(ptrace), 0);
	return err;
}

int sandbox_apply(struct errbuf *eb)
{
	scmp_filter_ctx ctx;
	int err;

	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return errbuf_set(eb, -ENOMEM, "seccomp: cannot make a filter");
	/* Every thread: the workers, the detector and the exporter already run. */
	err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!err)
		err = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (!err)
		err = add_names(ctx, SCMP_ACT_ALLOW, allowed, sizeof(allowed) / sizeof(allowed[0]));
	if (!err)
		err = add_names(ctx, SCMP_ACT_KILL_PROCESS, fatal,
				sizeof(fatal) / sizeof(fatal[0]));
	if (!err)
		err = add_argument_rules(ctx);
	if (err) {
		seccomp_release(ctx);
		return errbuf_set(eb, err, "seccomp: cannot build the filter: %s", strerror(-err));
	}
	err = seccomp_load(ctx);
	seccomp_release(ctx);
	if (err)
		return errbuf_set(eb, err, "seccomp: cannot install the filter: %s",
				  strerror(-err));
	log_info("seccomp: filter installed on every thread");
	return 0;
}
