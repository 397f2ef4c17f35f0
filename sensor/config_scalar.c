// SPDX-License-Identifier: BSD-3-Clause
/*
 * Scalars of the configuration, as text: counts, sizes, durations, ratios and
 * booleans parsed strictly (what strtoul or strtod would also take is not
 * enough), bounds formatted back the way a user writes them, the shape checks
 * of ports, HOST:PORT, names and domains, and the quoting of a value in a
 * message. Shared by the YAML reader, the cross-checks and the command line.
 */
#include "sensor/config_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Decimal digits only: no sign, no blanks, no 0x. */
static int parse_u64(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*end = p;
	*out = v;
	return 0;
}

int config_parse_count(const char *s, uint64_t *out)
{
	const char *end;
	int err = parse_u64(s, &end, out);

	return err ? err : *end ? -EINVAL : 0;
}

struct unit {
	const char *sfx;
	uint64_t mult;
};

/* Digits, for sizes one optional blank, then one of the suffixes. */
static int parse_scaled(const char *s, const struct unit *u, size_t n, bool size, uint64_t *out)
{
	const char *p;
	uint64_t v;
	int err;

	if (!s)
		return -EINVAL;
	err = parse_u64(s, &p, &v);
	if (err)
		return err;
	if (size && *p == ' ' && p[1])
		p++;
	for (size_t i = 0; i < n; i++) {
		if (size ? strcasecmp(p, u[i].sfx) : strcmp(p, u[i].sfx))
			continue;
		if (v > UINT64_MAX / u[i].mult)
			return -ERANGE;
		*out = v * u[i].mult;
		return 0;
	}
	return -EINVAL;
}

int config_parse_size(const char *s, uint64_t *out)
{
	/* KiB and K are 1024, KB is 1000: each suffix means what it says. */
	/* clang-format off */
	static const struct unit units[] = {
		{ "", 1 },	   { "B", 1 },		 { "K", KiB },		{ "KiB", KiB },
		{ "KB", 1000 },	   { "M", MiB },	 { "MiB", MiB },	{ "MB", 1000000 },
		{ "G", GiB },	   { "GiB", GiB },	 { "GB", 1000000000 },	{ "T", TiB },
		{ "TiB", TiB },	   { "TB", 1000000000000ull },
	};
	/* clang-format on */

	return parse_scaled(s, units, sizeof(units) / sizeof(units[0]), true, out);
}

int config_parse_duration(const char *s, uint32_t *secs)
{
	/* Lower case only: "10M" could be months as well as minutes. */
	static const struct unit units[] = {
		{"", 1}, {"s", 1}, {"m", 60}, {"h", HOUR_S}, {"d", DAY_S},
	};
	uint64_t v;
	int err = parse_scaled(s, units, sizeof(units) / sizeof(units[0]), false, &v);

	if (err)
		return err;
	if (v > UINT32_MAX)
		return -ERANGE;
	*secs = (uint32_t)v;
	return 0;
}

/* "0.5", "2", and with pct "50%"; nothing strtod would also take (inf, nan, blanks). */
int config_parse_real(const char *s, bool pct, double *out)
{
	char *end;
	double v;

	if (!isdigit((unsigned char)s[0]) && s[0] != '.')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s)
		return -EINVAL;
	if (pct && end[0] == '%' && end[1] == '\0') {
		v /= 100;
		end++;
	}
	if (*end || isnan(v))
		return -EINVAL;
	if (errno == ERANGE || !isfinite(v))
		return -ERANGE;
	*out = v;
	return 0;
}

int config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};

	for (unsigned int i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
			*out = strcasecmp(s, yes[i]) == 0;
			return 0;
		}
	}
	return -EINVAL;
}

const char *config_fmt_size(uint64_t v, char *buf, size_t cap)
{
	static const char *const unit[] = {"TiB", "GiB", "MiB", "KiB"};

	for (unsigned int i = 0; i < 4; i++) {
		uint64_t u = 1ull << (10 * (4 - i));

		if (v && v % u == 0) {
			snprintf(buf, cap, "%llu%s", (unsigned long long)(v / u), unit[i]);
			return buf;
		}
	}
	snprintf(buf, cap, "%llu", (unsigned long long)v);
	return buf;
}

const char *config_fmt_duration(uint64_t v, char *buf, size_t cap)
{
	if (v && v % DAY_S == 0)
		snprintf(buf, cap, "%llud", (unsigned long long)(v / DAY_S));
	else if (v && v % HOUR_S == 0)
		snprintf(buf, cap, "%lluh", (unsigned long long)(v / HOUR_S));
	else if (v && v % 60 == 0)
		snprintf(buf, cap, "%llum", (unsigned long long)(v / 60));
	else
		snprintf(buf, cap, "%llus", (unsigned long long)v);
	return buf;
}

static bool port_ok(const char *s)
{
	uint64_t v;

	return config_parse_count(s, &v) == 0 && v >= 1 && v <= 65535;
}

/* "host:port" or "[v6]:port"; with host_optional also ":port" and "port". */
bool config_hostport_ok(const char *s, bool host_optional)
{
	const char *colon = strrchr(s, ':');
	struct in6_addr a6;
	char v6[INET6_ADDRSTRLEN];
	size_t hlen;

	if (!colon)
		return host_optional && port_ok(s);
	hlen = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hlen < 3 || s[hlen - 1] != ']' || hlen - 2 >= sizeof(v6))
			return false;
		memcpy(v6, s + 1, hlen - 2);
		v6[hlen - 2] = '\0';
		return inet_pton(AF_INET6, v6, &a6) == 1 && port_ok(colon + 1);
	}
	if (hlen == 0 && !host_optional)
		return false;
	for (size_t i = 0; i < hlen; i++) /* a bare IPv6 address needs brackets */
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-' && s[i] != '_')
			return false;
	return port_ok(colon + 1);
}

/* User, group and sensor names: what a POSIX user name and a host name share. */
bool config_name_ok(const char *s)
{
	if (s[0] == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	return true;
}

/* What domset does not check: empty labels, labels over 63, hyphens at a label's ends. */
bool config_domain_labels_ok(const char *s)
{
	size_t len = strlen(s), start = 0;

	while (len && s[len - 1] == '.')
		len--;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (i == start || i - start > 63 || s[start] == '-' || s[i - 1] == '-')
			return false;
		start = i + 1;
	}
	return true;
}

/* A value quoted in a message: at most CONFIG_WORD_MAX bytes, control and
 * non-ASCII bytes shown as '?', so a hostile file cannot write into a log. */
const char *config_echo(const char *s, char buf[CONFIG_WORD_MAX + 4])
{
	size_t n = 0;

	for (; s[n] && n < CONFIG_WORD_MAX; n++)
		buf[n] = (s[n] >= 0x20 && s[n] < 0x7f) ? s[n] : '?';
	if (s[n]) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

bool config_has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}
