// SPDX-License-Identifier: BSD-3-Clause
/*
 * The loader follows xdp-bench: open the skeleton, set rodata, hand the
 * bpf_object to libxdp (xdp_program__create, never __load first) and let
 * libxdp load and attach it behind its multi-program dispatcher.
 *
 * Detaching needs more privilege than anything else the sensor does after
 * set-up (libxdp looks the dispatcher up by id: CAP_SYS_ADMIN; swaps it by
 * netlink: CAP_NET_ADMIN; may load a smaller dispatcher: CAP_BPF; and edits
 * root's pins in bpffs). So right after attaching, while the process is
 * still single-threaded and root, we fork a guardian: it keeps only those
 * capabilities, ignores signals and blocks on a pipe whose write end only
 * the sensor holds. When the sensor exits - cleanly, by signal, by a crash
 * or SIGKILL - the pipe reaches EOF and the guardian detaches. The sensor
 * itself can then drop every privilege.
 */
#include "ebpf/xdp_loader.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cap-ng.h>
#include <xdp/libxdp.h>

#include "common/clock.h"
#include "common/log.h"
#include "xdp_smtp.skel.h"

#define BPFFS_PATH	 "/sys/fs/bpf"
#define SRC_BATCH	 256 /* smtp_src_stats entries per batch lookup */
#define GUARD_WAIT_STEPS 500 /* x 10 ms: how long destroy waits for the guardian */

_Static_assert(sizeof(struct xdp_smtp_src_key) == 16, "src key: 16-byte address");
_Static_assert(sizeof(struct xdp_smtp_src_val) == 6 * 8, "src value: six __u64");
_Static_assert(sizeof(struct xdp_smtp_verdict_ctr) == 2 * 8, "verdict: two __u64");
_Static_assert(XDP_SMTP_R_COUNT == 12, "update reason_names[] with enum xdp_smtp_reason");

struct xdp_loader {
	struct xdp_smtp *skel;
	struct xdp_program *prog;
	int ifindex;
	enum xdp_attach_mode mode;
	pid_t guard_pid;
	int guard_fd; /* write end; closing it tells the guardian to detach */
	int ncpus;
	/* read buffers, made at attach so that reads allocate nothing */
	struct xdp_smtp_verdict_ctr *vbuf; /* [ncpus] */
	struct xdp_smtp_src_key *kbuf;	   /* [SRC_BATCH] */
	struct xdp_smtp_src_val *sbuf;	   /* [SRC_BATCH * ncpus] */
};

static const char *const reason_names[XDP_SMTP_R_COUNT] = {
	[XDP_SMTP_R_REDIRECTED] = "redirected",
	[XDP_SMTP_R_NO_SOCKET] = "no_socket",
	[XDP_SMTP_R_NOT_SMTP] = "not_smtp",
	[XDP_SMTP_R_NOT_TCP] = "not_tcp",
	[XDP_SMTP_R_NOT_IP] = "not_ip",
	[XDP_SMTP_R_FRAGMENT] = "fragment",
	[XDP_SMTP_R_ERR_ETH] = "err_eth",
	[XDP_SMTP_R_ERR_VLAN] = "err_vlan",
	[XDP_SMTP_R_ERR_IPV4] = "err_ipv4",
	[XDP_SMTP_R_ERR_IPV6] = "err_ipv6",
	[XDP_SMTP_R_ERR_IPV6_EXT] = "err_ipv6_ext",
	[XDP_SMTP_R_ERR_TCP] = "err_tcp",
};

const char *xdp_loader_reason_name(unsigned int reason)
{
	return reason < XDP_SMTP_R_COUNT ? reason_names[reason] : "unknown";
}

/* ---- libbpf / libxdp messages ---- */

/* The kernel's own words for the last refused load or attach (set-up thread only). */
static char verifier_reason[256];

/* prefix + the first n bytes of s: a longer reason keeps its start, which
 * names the fault (the whole log went to the log already). */
static void set_verifier_reason(const char *prefix, const char *s, size_t n)
{
	size_t room = sizeof(verifier_reason) - 1 - strnlen(prefix, sizeof(verifier_reason) - 1);

	snprintf(verifier_reason, sizeof(verifier_reason), "%s%.*s", prefix,
		 (int)(n < room ? n : room), s);
}

/*
 * While attaching, libbpf/libxdp warn about things they then work around
 * (libxdp's dispatcher check fails on kernels without BPF trampolines and it
 * falls back to one program; auto mode tries native first). Those warnings
 * are held back (logged at info) and repeated as warnings only if the attach
 * fails in the end.
 */
#define HELD_MSGS 8
static struct {
	bool holding;
	unsigned int n;
	char msg[HELD_MSGS][256];
} held;

static void held_flush(bool show)
{
	for (unsigned int i = 0; show && i < held.n && i < HELD_MSGS; i++)
		log_warn("%s", held.msg[i]);
	held.n = 0;
	held.holding = false;
}

/* The kernel's extended ack, or the last line of the verifier log that is not a
 * statistic. */
static void keep_verifier_reason(const char *msg)
{
	const char *end = strstr(msg, "-- END PROG LOAD LOG --");
	const char *ack = strstr(msg, "Kernel error message: ");
	const char *line_end, *p;

	if (ack) {
		set_verifier_reason("kernel: ", ack + 22, strcspn(ack + 22, "\n"));
		return;
	}
	if (!strstr(msg, "-- BEGIN PROG LOAD LOG --") || !end)
		return;
	line_end = end;
	for (int i = 0; i < 64 && line_end > msg; i++) {
		while (line_end > msg && line_end[-1] == '\n')
			line_end--;
		p = line_end;
		while (p > msg && p[-1] != '\n')
			p--;
		if (line_end > p && strncmp(p, "processed ", 10) != 0 &&
		    strncmp(p, "verification time", 17) != 0 &&
		    strncmp(p, "stack depth", 11) != 0) {
			set_verifier_reason("verifier: ", p, (size_t)(line_end - p));
			return;
		}
		line_end = p;
	}
}

static int lib_print(int level, const char *fmt, va_list ap)
{
	char buf[4096];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n <= 0)
		return n;
	keep_verifier_reason(buf);
	for (size_t len = strlen(buf); len && buf[len - 1] == '\n'; len--)
		buf[len - 1] = '\0';
	/* Both libraries use 0 = warn, 1 = info, 2 = debug. */
	if (level == 0 && held.holding) {
		/* Repeated cut to its first line's worth; log_info() below has it whole. */
		if (held.n < HELD_MSGS)
			snprintf(held.msg[held.n++], sizeof(held.msg[0]), "%.*s",
				 (int)sizeof(held.msg[0]) - 1, buf);
		log_info("%s", buf);
	} else if (level == 0)
		log_warn("%s", buf);
	else if (level == 1)
		log_info("%s", buf);
	else
		log_debug("%s", buf);
	return n;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return lib_print((int)level, fmt, ap);
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return lib_print((int)level, fmt, ap);
}

/* ---- bpffs ---- */

/* libxdp's dispatcher pins its parts in bpffs; without it only one program fits. */
static void ensure_bpffs(void)
{
	struct statfs st;

	if (statfs(BPFFS_PATH, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return;
	if (mount("bpf", BPFFS_PATH, "bpf", 0, "mode=0700") == 0) {
		log_info("xdp: mounted bpffs at " BPFFS_PATH " for libxdp's dispatcher");
		return;
	}
	log_warn("xdp: no bpffs at " BPFFS_PATH " and mounting one failed (%s): libxdp will "
		 "attach xdp_smtp alone, without its dispatcher",
		 strerror(errno));
}

/* ---- attach ---- */

static void loader_unload(struct xdp_loader *ld)
{
	xdp_program__close(ld->prog);
	ld->prog = NULL;
	xdp_smtp__destroy(ld->skel);
	ld->skel = NULL;
}

static int set_ports(struct xdp_smtp *skel, const struct xdp_loader_cfg *cfg)
{
	if (!cfg->ports)
		return 0;
	if (cfg->n_ports == 0 || cfg->n_ports > XDP_SMTP_MAX_PORTS)
		return -E2BIG;
	for (unsigned int i = 0; i < XDP_SMTP_MAX_PORTS; i++)
		skel->rodata->smtp_ports[i] = i < cfg->n_ports ? htons(cfg->ports[i]) : 0;
	skel->rodata->n_smtp_ports = cfg->n_ports;
	return 0;
}

/* One attempt in one mode; on failure everything it made is gone again. */
static int loader_try(struct xdp_loader *ld, const struct xdp_loader_cfg *cfg,
		      enum xdp_attach_mode mode)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, opts);
	int err;

	ld->skel = xdp_smtp__open();
	if (!ld->skel)
		return -errno;
	/* Read-only config must be set before libxdp loads the object. */
	err = set_ports(ld->skel, cfg);
	if (err)
		goto err_unload;
	opts.obj = ld->skel->obj;
	opts.prog_name = "xdp_smtp_redirect";
	ld->prog = xdp_program__create(&opts);
	if (!ld->prog) {
		err = -errno;
		goto err_unload;
	}
	verifier_reason[0] = '\0';
	err = xdp_program__attach(ld->prog, ld->ifindex, mode, 0);
	if (err)
		goto err_unload;
	ld->mode = mode;
	return 0;

err_unload:
	loader_unload(ld);
	return err;
}

static const char *mode_name(enum xdp_attach_mode mode)
{
	return mode == XDP_MODE_NATIVE ? "native" : mode == XDP_MODE_SKB ? "generic" : "?";
}

static int loader_attach_modes(struct xdp_loader *ld, const struct xdp_loader_cfg *cfg,
			       struct errbuf *eb)
{
	enum xdp_attach_mode first =
		cfg->mode == XDP_LOADER_GENERIC ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	int err;

	held.holding = true;
	err = loader_try(ld, cfg, first);
	if (err && cfg->mode == XDP_LOADER_AUTO) {
		log_info("xdp: native mode on %s refused (%s); trying generic", cfg->ifname,
			 strerror(-err));
		first = XDP_MODE_SKB;
		err = loader_try(ld, cfg, first);
	}
	held_flush(err != 0);
	if (err)
		return errbuf_set(eb, err,
				  "xdp: cannot attach xdp_smtp_redirect to %s in %s mode: %s%s%s",
				  cfg->ifname, mode_name(first), strerror(-err),
				  verifier_reason[0] ? "; " : "", verifier_reason);
	return 0;
}

static int loader_alloc_bufs(struct xdp_loader *ld)
{
	ld->ncpus = libbpf_num_possible_cpus();
	if (ld->ncpus <= 0)
		return ld->ncpus < 0 ? ld->ncpus : -EINVAL;
	ld->vbuf = calloc((size_t)ld->ncpus, sizeof(*ld->vbuf));
	ld->kbuf = calloc(SRC_BATCH, sizeof(*ld->kbuf));
	ld->sbuf = calloc((size_t)SRC_BATCH * (size_t)ld->ncpus, sizeof(*ld->sbuf));
	return ld->vbuf && ld->kbuf && ld->sbuf ? 0 : -ENOMEM;
}

static void loader_free(struct xdp_loader *ld)
{
	free(ld->vbuf);
	free(ld->kbuf);
	free(ld->sbuf);
	free(ld);
}

static int guardian_start(struct xdp_loader *ld);

int xdp_loader_attach(const struct xdp_loader_cfg *cfg, struct xdp_loader **out, struct errbuf *eb)
{
	struct xdp_loader *ld;
	int err;

	ld = calloc(1, sizeof(*ld));
	if (!ld)
		return errbuf_set(eb, -ENOMEM, "xdp: no memory");
	ld->guard_pid = -1;
	ld->guard_fd = -1;
	err = loader_alloc_bufs(ld);
	if (err) {
		errbuf_set(eb, err, "xdp: no memory for counter buffers");
		goto err_free;
	}
	ld->ifindex = (int)if_nametoindex(cfg->ifname);
	if (!ld->ifindex) {
		err = errbuf_set(eb, -ENODEV, "xdp: no interface named '%s' here", cfg->ifname);
		goto err_free;
	}
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
	ensure_bpffs();
	err = loader_attach_modes(ld, cfg, eb);
	if (err)
		goto err_free;
	log_info("xdp: xdp_smtp_redirect attached to %s (ifindex %d) in %s mode", cfg->ifname,
		 ld->ifindex, mode_name(ld->mode));
	if (cfg->guardian) {
		err = guardian_start(ld);
		if (err)
			log_warn("xdp: no detach guardian (%s): detaching will need our own "
				 "privileges at exit",
				 strerror(-err));
	}
	*out = ld;
	return 0;

err_free:
	loader_free(ld);
	return err;
}

/* ---- the guardian (child process) ---- */

/* What xdp_program__detach needs; nothing else. Best effort: a kernel that does
 * not know CAP_BPF still detaches with CAP_SYS_ADMIN. */
static void guardian_restrict(void)
{
	capng_clear(CAPNG_SELECT_BOTH);
	capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_SYS_ADMIN, CAP_NET_ADMIN,
		      -1);
	capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_BPF);
	if (capng_apply(CAPNG_SELECT_BOTH) != 0)
		log_warn("xdp guardian: cannot reduce capabilities; keeping them");
}

/* 0 when our program is off the interface, or the interface is gone and took it along. */
static int loader_detach(struct xdp_loader *ld, const char *who)
{
	char name[IF_NAMESIZE];
	int err;

	if (!if_indextoname((unsigned int)ld->ifindex, name)) {
		log_info("%s: interface %d is gone, and our program with it", who, ld->ifindex);
		return 0;
	}
	err = xdp_program__detach(ld->prog, ld->ifindex, ld->mode, 0);
	if (err)
		log_err("%s: detach from %s failed: %s", who, name, strerror(-err));
	return err;
}

static void __attribute__((noreturn)) guardian_run(struct xdp_loader *ld, int rfd)
{
	struct sigaction sa = {.sa_handler = SIG_IGN};
	const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE};
	sigset_t none;
	char c;
	int err;

	/* Ctrl-C reaches the whole process group: only EOF on the pipe may end us. */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_NAME, "rw-xdp-guard", 0, 0, 0);
	guardian_restrict();
	for (;;) {
		ssize_t r = read(rfd, &c, 1);

		if (r == 0 || (r < 0 && errno != EINTR))
			break;
	}
	err = loader_detach(ld, "xdp guardian");
	/* A forked child of the sensor: _exit, so no atexit/stdio of the parent runs twice. */
	_exit(err ? 1 : 0);
}

static int guardian_start(struct xdp_loader *ld)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0) {
		close(fds[1]);
		guardian_run(ld, fds[0]);
	}
	close(fds[0]);
	ld->guard_pid = pid;
	ld->guard_fd = fds[1];
	log_debug("xdp: detach guardian is pid %d", (int)pid);
	return 0;
}

enum guard_end {
	GUARD_DONE = 0,	  /* detached */
	GUARD_FAILED = 1, /* tried and failed: trying again here would fail the same way */
	GUARD_LOST = 2,	  /* killed, or too slow: detach here */
};

/* Bounded wait for the guardian to detach and exit. */
static enum guard_end guardian_finish(struct xdp_loader *ld)
{
	struct timespec step = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
	int status = 0;

	close(ld->guard_fd);
	ld->guard_fd = -1;
	for (int i = 0; i < GUARD_WAIT_STEPS; i++) {
		pid_t r = waitpid(ld->guard_pid, &status, WNOHANG);

		if (r == ld->guard_pid && WIFEXITED(status))
			return WEXITSTATUS(status) == 0 ? GUARD_DONE : GUARD_FAILED;
		if (r == ld->guard_pid || (r < 0 && errno != EINTR))
			return GUARD_LOST;
		nanosleep(&step, NULL);
	}
	log_warn("xdp: guardian pid %d did not finish detaching in %d ms", (int)ld->guard_pid,
		 GUARD_WAIT_STEPS * 10);
	return GUARD_LOST;
}

void xdp_loader_destroy(struct xdp_loader *ld)
{
	enum guard_end end = GUARD_LOST;

	if (!ld)
		return;
	if (ld->guard_pid > 0)
		end = guardian_finish(ld);
	if (end == GUARD_LOST)
		end = loader_detach(ld, "xdp") ? GUARD_FAILED : GUARD_DONE;
	if (end == GUARD_DONE)
		log_info("xdp: xdp_smtp_redirect detached from ifindex %d", ld->ifindex);
	loader_unload(ld);
	loader_free(ld);
}

/* ---- accessors ---- */

int xdp_loader_xsks_fd(const struct xdp_loader *ld)
{
	return bpf_map__fd(ld->skel->maps.smtp_xsks);
}

int xdp_loader_ifindex(const struct xdp_loader *ld)
{
	return ld->ifindex;
}

const char *xdp_loader_mode_name(const struct xdp_loader *ld)
{
	return mode_name(ld->mode);
}

bool xdp_loader_has_guardian(const struct xdp_loader *ld)
{
	return ld->guard_pid > 0;
}

/* ---- counters ---- */

int xdp_loader_read_verdicts(struct xdp_loader *ld, struct xdp_loader_totals *out)
{
	int fd = bpf_map__fd(ld->skel->maps.smtp_verdicts);

	memset(out, 0, sizeof(*out));
	for (__u32 r = 0; r < XDP_SMTP_R_COUNT; r++) {
		if (bpf_map_lookup_elem(fd, &r, ld->vbuf) != 0)
			return -errno;
		for (int c = 0; c < ld->ncpus; c++) {
			out->pkts[r] += ld->vbuf[c].pkts;
			out->bytes[r] += ld->vbuf[c].bytes;
		}
	}
	return 0;
}

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Sum the counters, earliest first and latest last seen over CPUs. */
static void merge_src(const struct xdp_smtp_src_key *k, const struct xdp_smtp_src_val *v, int ncpus,
		      int64_t mono_to_wall, struct xdp_loader_src *out)
{
	uint64_t first = 0, last = 0;

	memset(out, 0, sizeof(*out));
	memcpy(out->addr, k->addr, sizeof(out->addr));
	out->family = memcmp(k->addr, v4_mapped_prefix, sizeof(v4_mapped_prefix)) ? 6 : 4;
	for (int c = 0; c < ncpus; c++) {
		out->smtp_syns += v[c].smtp_syns;
		out->flows += v[c].flows;
		out->pkts += v[c].pkts;
		out->bytes += v[c].bytes;
		if (v[c].first_ns && (!first || v[c].first_ns < first))
			first = v[c].first_ns;
		if (v[c].last_ns > last)
			last = v[c].last_ns;
	}
	out->first_ns = first ? (uint64_t)((int64_t)first + mono_to_wall) : 0;
	out->last_ns = last ? (uint64_t)((int64_t)last + mono_to_wall) : 0;
}

int xdp_loader_read_sources(struct xdp_loader *ld, uint64_t since_ns, xdp_loader_src_fn *fn,
			    void *arg)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int fd = bpf_map__fd(ld->skel->maps.smtp_src_stats);
	/* Batch cursors are opaque to us; hash maps use a 4-byte bucket index. */
	uint64_t in_batch[2] = {0}, out_batch[2] = {0};
	int64_t mono_to_wall = (int64_t)clock_real_ns() - (int64_t)clock_mono_ns();
	unsigned int rounds = XDP_SMTP_SRC_ENTRIES / SRC_BATCH * 2 + 2;
	int reported = 0;
	bool first = true;

	for (unsigned int i = 0; i < rounds; i++) {
		__u32 count = SRC_BATCH;
		int err = bpf_map_lookup_batch(fd, first ? NULL : in_batch, out_batch, ld->kbuf,
					       ld->sbuf, &count, &opts);
		bool last = err != 0 && errno == ENOENT;

		if (err != 0 && !last)
			return -errno;
		for (__u32 k = 0; k < count; k++) {
			struct xdp_loader_src s;

			merge_src(&ld->kbuf[k], &ld->sbuf[(size_t)k * (size_t)ld->ncpus], ld->ncpus,
				  mono_to_wall, &s);
			if (s.last_ns >= since_ns) {
				fn(arg, &s);
				reported++;
			}
		}
		if (last)
			return reported;
		memcpy(in_batch, out_batch, sizeof(in_batch));
		first = false;
	}
	return reported;
}
