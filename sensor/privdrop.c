// SPDX-License-Identifier: BSD-3-Clause
/*
 * What live capture needs after set-up, found by testing (tests/e2e/
 * afxdp_privdrop.sh): nothing. The AF_XDP sockets are created (CAP_NET_RAW)
 * and bound, busy polling is set (CAP_NET_ADMIN) and the XDP program is
 * attached (CAP_BPF/CAP_SYS_ADMIN, CAP_NET_ADMIN) before we drop; reading
 * rings and map fds we already hold needs no capability on kernels >= 5.19
 * (only BPF_MAP_CREATE / BPF_PROG_LOAD are gated by
 * kernel.unprivileged_bpf_disabled); and detaching, which does need
 * CAP_SYS_ADMIN + CAP_NET_ADMIN (+ CAP_BPF), is done by the loader's
 * guardian process, which never drops. So the sensor keeps none.
 *
 * Threads: glibc applies setresuid/setresgid to every thread of the process;
 * the kernel then clears the capabilities of every thread that did not ask
 * to keep them. Only this thread asks (libcap-ng sets PR_SET_KEEPCAPS here),
 * so threads that already run (steer readers) end up with none.
 */
#include "sensor/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cap-ng.h>

#include "common/log.h"

/* What capng_change_id(3) was doing when it returned err: its return values. */
static const char *change_id_step(int err)
{
	static const char *const steps[] = {
		"libcap-ng not initialised",
		"keeping capabilities across the switch",
		"applying the intermediate capabilities",
		"changing the gid",
		"dropping the supplementary groups",
		"changing the uid",
		"dropping PR_SET_KEEPCAPS",
	};

	return err < 0 && -err <= (int)(sizeof(steps) / sizeof(steps[0]))
		       ? steps[-err - 1]
		       : "a later libcap-ng step";
}

static int lookup_user(const char *user, uid_t *uid, gid_t *gid, struct errbuf *eb)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int err;

	err = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (err)
		return errbuf_set(eb, -err, "--user %s: %s", user, strerror(err));
	if (!res)
		return errbuf_set(eb, -ENOENT, "--user %s: no such user", user);
	if (pw.pw_uid == 0)
		return errbuf_set(eb, -EINVAL, "--user %s: is root; name an unprivileged user",
				  user);
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

int privdrop_apply(const char *user, const int *keep, unsigned int n_keep, struct errbuf *eb)
{
	uid_t uid;
	gid_t gid;
	int err;

	err = lookup_user(user, &uid, &gid, eb);
	if (err)
		return err;
	if (geteuid() != 0)
		return errbuf_set(eb, -EPERM, "--user %s: not running as root", user);

	capng_clear(CAPNG_SELECT_BOTH);
	for (unsigned int i = 0; i < n_keep; i++) {
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
				 (unsigned int)keep[i]))
			return errbuf_set(eb, -EINVAL, "--user: unknown capability %d", keep[i]);
	}
	/* Sets uid/gid (all threads), drops supplementary groups and the bounding set,
	 * then applies the capabilities chosen above to this thread. */
	err = capng_change_id((int)uid, (int)gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
	if (err)
		return errbuf_set(eb, -EPERM,
				  "--user %s: cannot switch to uid %u gid %u: %s: %s (does the "
				  "sensor lack CAP_SETUID, CAP_SETGID or CAP_SETPCAP?)",
				  user, (unsigned int)uid, (unsigned int)gid, change_id_step(err),
				  strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return errbuf_set(eb, -errno, "--user %s: no_new_privs: %s", user, strerror(errno));
	/* Belt and braces: root must be gone for good. */
	if (getuid() != uid || geteuid() != uid || getegid() != gid || setuid(0) == 0)
		return errbuf_set(eb, -EPERM, "--user %s: privileges still held after the switch",
				  user);
	log_info("dropped root: now uid %u gid %u, %u capabilit%s kept", (unsigned int)uid,
		 (unsigned int)gid, n_keep, n_keep == 1 ? "y" : "ies");
	return 0;
}
