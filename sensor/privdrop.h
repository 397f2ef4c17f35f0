/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * privdrop: give up root once set-up is done. Switches the process to a
 * named user (its primary group, no supplementary groups), keeps exactly the
 * capabilities asked for (none by default), clears the bounding set and sets
 * no_new_privs so nothing exec'd later can regain them. Main thread, before
 * the worker and detector threads start (capabilities are per thread; see
 * privdrop.c for threads that already run).
 */
#ifndef RELAYWATCH_SENSOR_PRIVDROP_H
#define RELAYWATCH_SENSOR_PRIVDROP_H

#include "common/errbuf.h"

/* keep: capability numbers (CAP_*), n_keep of them. 0 or -errno with a message. */
int privdrop_apply(const char *user, const int *keep, unsigned int n_keep, struct errbuf *eb);

#endif /* RELAYWATCH_SENSOR_PRIVDROP_H */
