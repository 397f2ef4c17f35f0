/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * report: the relay report at the end of a run (-r capture.pcap, or on
 * demand): hosts ranked by how surely they relay spam, then accounts, each
 * with the kinds that fired, counts against thresholds, first/last seen,
 * example evidence and flows. As a table for a terminal or as one JSON
 * document whose order and number formats are fixed (tests compare it).
 * Reads the engine; call it on the detector thread or after it stopped.
 */
#ifndef RELAYWATCH_SENSOR_REPORT_H
#define RELAYWATCH_SENSOR_REPORT_H

#include <stdio.h>

#include "sensor/config.h"
#include "sensor/detect.h"

struct privacy;

/* top_n hosts and top_n accounts with evidence (0: all). 0 or -errno
 * (-ENOMEM for the sort arrays, -EIO when writing failed). ips: the privacy
 * state when privacy.pseudonymize_ips is on (addresses as pseudonyms), else NULL. */
int report_write(FILE *f, const struct detect_engine *de, enum config_report fmt,
		 unsigned int top_n, const struct privacy *ips);

#endif /* RELAYWATCH_SENSOR_REPORT_H */
