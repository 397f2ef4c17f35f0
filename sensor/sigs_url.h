/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sigs_url: which of the URL scope's databases a URL needs (sigs_build.c's
 * sigs_url_gates() splits them): one pass over the URL finds whether it holds
 * a gate literal of a rule ("@", "xn--", ".htm") or a literal of a rule's
 * set (a brand, a hosting domain), where three searches and a bitmap of
 * 3-byte pieces took it before. The bitmap let through URLs that merely
 * shared a piece with a set literal ("ver" of "server" and "vercel.app"),
 * each scanned with every set rule; this finds the literals themselves.
 *
 * Owns: the finder, built on the control thread with the set, read by workers.
 */
#ifndef RELAYWATCH_SENSOR_SIGS_URL_H
#define RELAYWATCH_SENSOR_SIGS_URL_H

#include <stddef.h>
#include <stdint.h>

struct sigs_lit;
struct sigs_url_find;

enum sigs_url_hit {
	SIGS_URL_NONE = 0, /* neither: the rules without a gate (base) */
	SIGS_URL_SET = 1,  /* a literal of a set: base and the set rules (mid) */
	SIGS_URL_GATE = 2, /* a gate literal: every rule (db) */
};

/*
 * The finder of gate[0..n_gate) and set[0..n_set) (lower case, looked for
 * without case; those of the set 3 bytes or more). NULL when there are too
 * many or memory ran out: the caller keeps its own tests then.
 */
struct sigs_url_find *sigs_url_find_build(const struct sigs_lit *gate, unsigned int n_gate,
					  const struct sigs_lit *set, unsigned int n_set);
/* NULL is fine. */
void sigs_url_find_free(struct sigs_url_find *f);
/* The strongest kind of literal p[0..n) holds. */
enum sigs_url_hit sigs_url_find(const struct sigs_url_find *f, const uint8_t *p, size_t n);

#endif /* RELAYWATCH_SENSOR_SIGS_URL_H */
