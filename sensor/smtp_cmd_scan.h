/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smtp_cmd_scan: the byte scans of the command parser (smtp_cmd.c), each
 * with the byte-by-byte rule it stands for. The rules are the slow paths the
 * fast scans fall back to, or define: header only, so that the unit tests
 * hold every fast scan against its rule on inputs of every length. Pure
 * functions, any thread.
 */
#ifndef RELAYWATCH_SENSOR_SMTP_CMD_SCAN_H
#define RELAYWATCH_SENSOR_SMTP_CMD_SCAN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sensor/byte_scan.h"

/* ---- a token: printable ASCII, no blank (the HELO name, the AUTH mechanism) */

static inline bool smtp_scan_token_ok_rule(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (p[i] <= ' ' || p[i] >= 0x7f)
			return false;
	return n > 0;
}

/* Is any byte of w outside 0x21..0x7e? Exact: below 0x21 borrows only from a
 * byte that is below itself; above 0x7e carries only out of 0xff, set anyway. */
static inline bool smtp_scan_word_bad(uint64_t w)
{
	uint64_t low = (w - BYTE_SCAN_ONES * 0x21) & ~w;
	uint64_t high = (w + BYTE_SCAN_ONES) | w;

	return ((low | high) & BYTE_SCAN_HIGHS) != 0;
}

/* smtp_scan_token_ok_rule(), eight bytes at a time: a host name is some 10 to
 * 30 bytes, a word a step; the last word overlaps the one before it. */
static inline bool smtp_scan_token_ok(const uint8_t *p, uint32_t n)
{
	uint64_t w;
	uint32_t i;

	if (n < 8)
		return smtp_scan_token_ok_rule(p, n);
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, sizeof(w));
		if (smtp_scan_word_bad(w))
			return false;
	}
	if (i == n)
		return true;
	memcpy(&w, p + n - 8, sizeof(w));
	return !smtp_scan_word_bad(w);
}

/* ---- the end of a MAIL/RCPT path */

/*
 * The rule: the '>' closing a <path>, or the blank ending a bare one, not
 * inside a quoted local part ("john >doe"@example.org); n if none.
 */
static inline uint32_t smtp_scan_path_end_rule(const uint8_t *p, uint32_t i, uint32_t n,
					       bool bracketed)
{
	bool quoted = false;

	for (; i < n; i++) {
		if (quoted && p[i] == '\\' && i + 1 < n) {
			i++;
			continue;
		}
		if (p[i] == '"')
			quoted = !quoted;
		else if (!quoted && (bracketed ? p[i] == '>' : (p[i] == ' ' || p[i] == '\t')))
			return i;
	}
	return n;
}

/* Almost every <path> has no quote before its '>': one scan for either byte
 * finds it; a quote first takes the rule's walk. And nearly every RCPT
 * argument ends with that '>': then whether either byte comes before it is
 * all there is to ask, without its place (byte_scan_has2(), cheaper). */
static inline uint32_t smtp_scan_path_end(const uint8_t *p, uint32_t i, uint32_t n, bool bracketed)
{
	if (bracketed && i < n) {
		uint32_t k;

		if (p[n - 1] == '>' && !byte_scan_has2(p + i, n - 1 - i, '>', '"'))
			return n - 1;
		k = (uint32_t)byte_scan2(p, i, n, '>', '"');

		if (k == n || p[k] == '>')
			return k;
	}
	return smtp_scan_path_end_rule(p, i, n, bracketed);
}

#endif /* RELAYWATCH_SENSOR_SMTP_CMD_SCAN_H */
