/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli: the sensor's command line, parsed into struct cli_opts without side
 * effects (no files opened, nothing started) so that it can be tested and
 * so that main decides what to do with errors. Unknown or conflicting
 * options are errors with a message naming the option.
 */
#ifndef RELAYWATCH_SENSOR_CLI_H
#define RELAYWATCH_SENSOR_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/errbuf.h"
#include "dataplane/source.h"

#define CLI_MAX_HOME_NETS 256
#define CLI_MAX_PORTS	  32

enum cli_report {
	CLI_REPORT_TABLE = 0,
	CLI_REPORT_JSON = 1,
	CLI_REPORT_NONE = 2,
};

struct cli_opts {
	enum source_kind mode;
	const char *read_file;	 /* -r */
	const char *iface;	 /* --afxdp */
	const char *log_dir;	 /* -l */
	const char *config_file; /* --config */
	uint16_t workers;	 /* --workers, 0: default */
	uint16_t queues;	 /* --queues (AF_XDP) */
	uint32_t exit_idle_ms;	 /* --exit-idle: DPDK input ends after this much silence */
	bool preload;
	bool quiet;
	int verbose;
	enum cli_report report;
	bool report_given; /* --report was on the command line */
	enum source_xdp_mode xdp_mode;
	enum source_bind bind;
	bool busy_poll;
	int any_port;				  /* -1: config decides, 0/1: forced */
	const char *home_nets[CLI_MAX_HOME_NETS]; /* --home-net, split on ',' later */
	unsigned int n_home_nets;
	const char *ports_arg;	   /* --smtp-ports */
	const char *tls_ports_arg; /* --tls-ports */
	/* export */
	const char *collector; /* HOST:PORT */
	const char *tls_cert, *tls_key, *tls_ca;
	bool collector_plaintext;
	bool archive;
	const char *sensor_id;
	const char *spool_dir;
	const char *metrics_addr;  /* HOST:PORT */
	uint32_t metrics_linger_s; /* --metrics-linger: /metrics stays up after the input */
	const char *user;	   /* --user: drop root to this user (live) */
	/* DPDK: everything after "--" */
	int eal_argc;
	char **eal_argv;
	bool help;
	bool version;
};

/* 0 on success; -EINVAL with a message in eb. argv is not modified. */
int cli_parse(int argc, char **argv, struct cli_opts *o, struct errbuf *eb);
void cli_usage(FILE *f, const char *prog);

/* "25,587,2525" into a 65536-bit map; -EINVAL on a bad entry. */
int cli_parse_ports(const char *list, uint8_t *map, uint16_t *ports, uint16_t *n_ports,
		    uint16_t max_ports, struct errbuf *eb);

#endif /* RELAYWATCH_SENSOR_CLI_H */
