/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sandbox: the live sensor's seccomp filter. Installed once set-up is done
 * (sockets bound, XDP attached, files open, threads started, root dropped), on
 * every thread of the process at once (TSYNC). Allows the system calls of the
 * steady state; kills the process on those only an intruder would make (exec,
 * ptrace, mounts, modules, identity changes); anything else fails with EPERM.
 * Owns nothing once installed (the kernel keeps the filter). Main thread.
 */
#ifndef RELAYWATCH_SENSOR_SANDBOX_H
#define RELAYWATCH_SENSOR_SANDBOX_H

#include "common/errbuf.h"

/* 0 or -errno with a message. Irreversible: the filter stays until exit. */
int sandbox_apply(struct errbuf *eb);

#endif /* RELAYWATCH_SENSOR_SANDBOX_H */
