// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_AFXDP = 256,
	OPT_DPDK,
	OPT_QUEUES,
	OPT_PRELOAD,
	OPT_REPORT,
	OPT_XDP_MODE,
	OPT_BIND,
	OPT_BUSY_POLL,
	OPT_ANY_PORT,
	OPT_NO_ANY_PORT,
	OPT_HOME_NET,
	OPT_SMTP_PORTS,
	OPT_TLS_PORTS,
	OPT_CONFIG,
	OPT_COLLECTOR,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_CA,
	OPT_PLAINTEXT,
	OPT_ARCHIVE,
	OPT_SENSOR_ID,
	OPT_SPOOL,
	OPT_METRICS,
	OPT_METRICS_LINGER,
	OPT_USER,
	OPT_EXIT_IDLE,
};

static const struct option long_opts[] = {
	{"read", required_argument, NULL, 'r'},
	{"log-dir", required_argument, NULL, 'l'},
	{"workers", required_argument, NULL, 'w'},
	{"afxdp", required_argument, NULL, OPT_AFXDP},
	{"dpdk", no_argument, NULL, OPT_DPDK},
	{"queues", required_argument, NULL, OPT_QUEUES},
	{"preload", no_argument, NULL, OPT_PRELOAD},
	{"report", required_argument, NULL, OPT_REPORT},
	{"xdp-mode", required_argument, NULL, OPT_XDP_MODE},
	{"bind", required_argument, NULL, OPT_BIND},
	{"busy-poll", no_argument, NULL, OPT_BUSY_POLL},
	{"any-port", no_argument, NULL, OPT_ANY_PORT},
	{"no-any-port", no_argument, NULL, OPT_NO_ANY_PORT},
	{"home-net", required_argument, NULL, OPT_HOME_NET},
	{"smtp-ports", required_argument, NULL, OPT_SMTP_PORTS},
	{"tls-ports", required_argument, NULL, OPT_TLS_PORTS},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"collector", required_argument, NULL, OPT_COLLECTOR},
	{"tls-cert", required_argument, NULL, OPT_TLS_CERT},
	{"tls-key", required_argument, NULL, OPT_TLS_KEY},
	{"tls-ca", required_argument, NULL, OPT_TLS_CA},
	{"collector-plaintext", no_argument, NULL, OPT_PLAINTEXT},
	{"archive", no_argument, NULL, OPT_ARCHIVE},
	{"sensor-id", required_argument, NULL, OPT_SENSOR_ID},
	{"spool", required_argument, NULL, OPT_SPOOL},
	{"metrics", required_argument, NULL, OPT_METRICS},
	{"metrics-linger", required_argument, NULL, OPT_METRICS_LINGER},
	{"user", required_argument, NULL, OPT_USER},
	{"exit-idle", required_argument, NULL, OPT_EXIT_IDLE},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

void cli_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [options] -r FILE                 read a capture (pcap, pcapng, .gz)\n"
		"       %s [options] --afxdp IFACE           live: XDP pre-filter + AF_XDP\n"
		"       %s [options] --dpdk -- EAL-ARGS...   live: DPDK ports\n"
		"\n"
		"input\n"
		"  -r, --read FILE          capture file to read; a FIFO, or - for stdin, too\n"
		"      --preload            read the whole capture into memory first\n"
		"  -w, --workers N          worker threads (default: 1 offline, one per queue "
		"live)\n"
		"      --afxdp IFACE        capture on IFACE through AF_XDP\n"
		"      --queues N           AF_XDP: RX queues to bind (default 1)\n"
		"      --xdp-mode MODE      native|generic|auto (default auto)\n"
		"      --bind MODE          zero-copy|copy|auto (default auto)\n"
		"      --busy-poll          AF_XDP busy polling\n"
		"      --dpdk               capture on DPDK ports; EAL arguments follow \"--\"\n"
		"      --exit-idle SECS     --dpdk: stop once no port delivered a packet for SECS\n"
		"                           (replays of net_pcap files, tests)\n"
		"      --user NAME          live: drop root to NAME after set-up\n"
		"\n"
		"detection\n"
		"  -c, --config FILE        YAML configuration\n"
		"      --home-net CIDR[,..] networks the operator is responsible for (repeatable)\n"
		"      --smtp-ports LIST    SMTP ports (default 25,587,2525)\n"
		"      --tls-ports LIST     implicit TLS SMTP ports (default 465)\n"
		"      --any-port           also find SMTP on other ports (default)\n"
		"      --no-any-port        only look at the SMTP ports\n"
		"\n"
		"output\n"
		"  -l, --log-dir DIR        write DIR/smtp.json, DIR/alerts.json, DIR/stats.json\n"
		"      --report FMT         relay report at the end: table|json|none (default "
		"table)\n"
		"      --collector H:P      send alerts to relaywatch-collector (TLS)\n"
		"      --tls-cert F --tls-key F --tls-ca F   client certificate for the collector\n"
		"      --collector-plaintext                 plain TCP to the collector "
		"(explicit)\n"
		"      --sensor-id NAME     this sensor's name (default: host name)\n"
		"      --spool DIR          keep unacknowledged frames here\n"
		"      --archive            also send transaction metadata (never bodies)\n"
		"      --metrics H:P        serve Prometheus /metrics (default address 127.0.0.1)\n"
		"      --metrics-linger SECS  keep /metrics up SECS after the input ends (-r "
		"runs;\n"
		"                           SIGTERM ends it early)\n"
		"  -q, --quiet              no progress or summary on stderr\n"
		"  -v, --verbose            more log messages (repeat for debug)\n"
		"  -h, --help               this text\n"
		"  -V, --version            version\n",
		prog, prog, prog);
}

static int parse_u16(const char *s, const char *opt, uint16_t min, uint16_t max, uint16_t *out,
		     struct errbuf *eb)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		errbuf_set(eb, -EINVAL, "%s: '%s' is not a number in %u..%u", opt, s, min, max);
		/* Not errbuf_set()'s result: a variadic call is never inlined, so the
		 * compiler could not see that a refusal is non-zero and that callers
		 * read *out only after a 0. */
		return -EINVAL;
	}
	*out = (uint16_t)v;
	return 0;
}

int cli_parse_ports(const char *list, uint8_t *map, uint16_t *ports, uint16_t *n_ports,
		    uint16_t max_ports, struct errbuf *eb)
{
	const char *p = list;

	*n_ports = 0;
	while (*p) {
		char tok[8];
		size_t n = strcspn(p, ",");
		uint16_t port;
		int err;

		if (n == 0 || n >= sizeof(tok))
			return errbuf_set(eb, -EINVAL, "port list '%s': bad entry", list);
		memcpy(tok, p, n);
		tok[n] = '\0';
		err = parse_u16(tok, "port", 1, 65535, &port, eb);
		if (err)
			return err;
		if (*n_ports >= max_ports)
			return errbuf_set(eb, -EINVAL, "port list '%s': more than %u ports", list,
					  max_ports);
		if (ports)
			ports[*n_ports] = port;
		(*n_ports)++;
		if (map)
			map[port >> 3] |= (uint8_t)(1u << (port & 7));
		p += n;
		if (*p == ',')
			p++;
	}
	if (*n_ports == 0)
		return errbuf_set(eb, -EINVAL, "empty port list");
	return 0;
}

static int parse_exit_idle(const char *arg, struct cli_opts *o, struct errbuf *eb)
{
	uint16_t secs;
	int err = parse_u16(arg, "--exit-idle", 1, 3600, &secs, eb);

	if (err)
		return err; /* secs is unset: leave the option as it was */
	o->exit_idle_ms = (uint32_t)secs * 1000;
	return 0;
}

static int parse_choice(const char *arg, const char *opt, const char *const *names, int n, int *out,
			struct errbuf *eb)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(arg, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return errbuf_set(eb, -EINVAL, "%s: unknown value '%s'", opt, arg);
}

static int parse_one(int c, const char *arg, struct cli_opts *o, struct errbuf *eb)
{
	static const char *const reports[] = {"table", "json", "none"};
	static const char *const xdp_modes[] = {"auto", "native", "generic"};
	static const char *const binds[] = {"auto", "zero-copy", "copy"};
	uint16_t linger = 0;
	int v = 0, err;

	switch (c) {
	case 'r':
		o->read_file = arg;
		o->mode = SOURCE_PCAP;
		return 0;
	case 'l':
		o->log_dir = arg;
		return 0;
	case 'w':
		return parse_u16(arg, "--workers", 1, SOURCE_MAX_QUEUES, &o->workers, eb);
	case OPT_AFXDP:
		o->iface = arg;
		o->mode = SOURCE_AFXDP;
		return 0;
	case OPT_DPDK:
		o->mode = SOURCE_DPDK;
		return 0;
	case OPT_QUEUES:
		return parse_u16(arg, "--queues", 1, SOURCE_MAX_QUEUES, &o->queues, eb);
	case OPT_PRELOAD:
		o->preload = true;
		return 0;
	case OPT_REPORT:
		err = parse_choice(arg, "--report", reports, 3, &v, eb);
		o->report = (enum cli_report)v;
		o->report_given = true;
		return err;
	case OPT_XDP_MODE:
		err = parse_choice(arg, "--xdp-mode", xdp_modes, 3, &v, eb);
		o->xdp_mode = (enum source_xdp_mode)v;
		return err;
	case OPT_BIND:
		err = parse_choice(arg, "--bind", binds, 3, &v, eb);
		o->bind = (enum source_bind)v;
		return err;
	case OPT_BUSY_POLL:
		o->busy_poll = true;
		return 0;
	case OPT_ANY_PORT:
		o->any_port = 1;
		return 0;
	case OPT_NO_ANY_PORT:
		o->any_port = 0;
		return 0;
	case OPT_HOME_NET:
		if (o->n_home_nets >= CLI_MAX_HOME_NETS)
			return errbuf_set(eb, -EINVAL, "--home-net: too many");
		o->home_nets[o->n_home_nets++] = arg;
		return 0;
	case OPT_SMTP_PORTS:
		o->ports_arg = arg;
		return 0;
	case OPT_TLS_PORTS:
		o->tls_ports_arg = arg;
		return 0;
	case 'c':
	case OPT_CONFIG:
		o->config_file = arg;
		return 0;
	case OPT_COLLECTOR:
		o->collector = arg;
		return 0;
	case OPT_TLS_CERT:
		o->tls_cert = arg;
		return 0;
	case OPT_TLS_KEY:
		o->tls_key = arg;
		return 0;
	case OPT_TLS_CA:
		o->tls_ca = arg;
		return 0;
	case OPT_PLAINTEXT:
		o->collector_plaintext = true;
		return 0;
	case OPT_ARCHIVE:
		o->archive = true;
		return 0;
	case OPT_SENSOR_ID:
		o->sensor_id = arg;
		return 0;
	case OPT_SPOOL:
		o->spool_dir = arg;
		return 0;
	case OPT_METRICS:
		o->metrics_addr = arg;
		return 0;
	case OPT_METRICS_LINGER:
		err = parse_u16(arg, "--metrics-linger", 1, 3600, &linger, eb);
		o->metrics_linger_s = linger;
		return err;
	case OPT_USER:
		o->user = arg;
		return 0;
	case OPT_EXIT_IDLE:
		return parse_exit_idle(arg, o, eb);
	case 'q':
		o->quiet = true;
		return 0;
	case 'v':
		o->verbose++;
		return 0;
	case 'h':
		o->help = true;
		return 0;
	case 'V':
		o->version = true;
		return 0;
	}
	return errbuf_set(eb, -EINVAL, "unknown option (see --help)");
}

/* Combinations that cannot work, said before anything is opened. */
static int check_opts(struct cli_opts *o, int modes, struct errbuf *eb)
{
	if (o->help || o->version)
		return 0;
	if (modes == 0)
		return errbuf_set(eb, -EINVAL, "no input: give -r FILE, --afxdp IFACE or --dpdk");
	if (modes > 1)
		return errbuf_set(eb, -EINVAL, "-r, --afxdp and --dpdk exclude each other");
	if (o->mode != SOURCE_DPDK && o->eal_argc)
		return errbuf_set(eb, -EINVAL, "arguments after \"--\" are only for --dpdk");
	if (o->mode != SOURCE_DPDK && o->exit_idle_ms)
		return errbuf_set(eb, -EINVAL, "--exit-idle only applies to --dpdk");
	if (o->mode != SOURCE_PCAP && o->preload)
		return errbuf_set(eb, -EINVAL, "--preload only applies to -r");
	if (o->collector && !o->collector_plaintext && !(o->tls_cert && o->tls_key && o->tls_ca))
		return errbuf_set(eb, -EINVAL,
				  "--collector needs --tls-cert, --tls-key and --tls-ca, "
				  "or --collector-plaintext");
	if (o->collector_plaintext && (o->tls_cert || o->tls_key || o->tls_ca))
		return errbuf_set(eb, -EINVAL,
				  "--collector-plaintext and --tls-* exclude each other");
	if ((o->spool_dir || o->archive || o->sensor_id) && !o->collector)
		return errbuf_set(eb, -EINVAL,
				  "--spool, --archive and --sensor-id need --collector");
	return 0;
}

int cli_parse(int argc, char **argv, struct cli_opts *o, struct errbuf *eb)
{
	int modes = 0, c, err;

	memset(o, 0, sizeof(*o));
	o->any_port = -1;
	opterr = 0;
	optind = 0; /* GNU: full re-initialisation, so parse can run more than once */
	while ((c = getopt_long(argc, argv, "+r:l:w:c:qvhV", long_opts, NULL)) != -1) {
		if (c == '?') {
			if (optopt && optopt < 256)
				return errbuf_set(eb, -EINVAL,
						  "-%c: unknown option or missing value", optopt);
			return errbuf_set(eb, -EINVAL, "%s: unknown option or missing value",
					  argv[optind - 1]);
		}
		if (c == 'r' || c == OPT_AFXDP || c == OPT_DPDK)
			modes++;
		err = parse_one(c, optarg, o, eb);
		if (err)
			return err;
	}
	if (optind < argc) {
		/* getopt stops at "--": the rest belongs to the DPDK EAL. */
		if (strcmp(argv[optind - 1], "--") != 0)
			return errbuf_set(eb, -EINVAL, "unexpected argument '%s'", argv[optind]);
		o->eal_argc = argc - optind;
		o->eal_argv = argv + optind;
	}
	return check_opts(o, modes, eb);
}
