/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sigs_gate: a cheap test that no rule of a line scope (commands, replies)
 * can match a line, so sigs skips the Hyperscan scan of most lines a spam run
 * sends ("MAIL FROM:<...>", "250 2.0.0 Ok: queued as ...") whose queue ids and
 * addresses defeat the verdict cache; and the same for the header rules that
 * see a field of one name (a Subject without the literal its rules need).
 * Each top-level alternative of each rule (sigs_lit_alts()) needs something
 * the gate can look for: a first byte when it is anchored at the line's start
 * (plus its literals and class, checked only when that byte is there), or
 * else a literal of 3 bytes or more, of which one 3-byte piece goes into a
 * hashed bitmap that one pass over the line tests; a pattern that is one
 * alternative may instead pass through a group of such literals
 * (sigs_lit_any()), each of which goes into the bitmap. A scope where some
 * alternative has none of these gets no gate. The test only answers "cannot
 * match" when that is certain: a line it lets through is scanned as before,
 * so the matches are those of an ungated scan.
 *
 * Owns: the gate, built on the control thread with the set, read by workers.
 */
#ifndef RELAYWATCH_SENSOR_SIGS_GATE_H
#define RELAYWATCH_SENSOR_SIGS_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sigs_gate;
struct sigs_lit;

/*
 * For the n patterns of one scope with their Hyperscan flags. NULL when some
 * alternative cannot be gated or memory ran out: every line is scanned.
 */
struct sigs_gate *sigs_gate_build(const char *const *expr, const unsigned int *flags, uint32_t n);
/*
 * A gate that lets through any input holding one of n literals (each of 3
 * bytes or more, lower case, looked for without case): the bitmap alone.
 * NULL when one is shorter or memory ran out.
 */
struct sigs_gate *sigs_gate_of_lits(const struct sigs_lit *lit, uint32_t n);
/* NULL is fine. */
void sigs_gate_free(struct sigs_gate *g);
/* False when no rule of the gate's scope can match p[0..n). */
bool sigs_gate_may_match(const struct sigs_gate *g, const uint8_t *p, size_t n);
/*
 * True when every alternative is anchored at the start and none is looked
 * for by a 3-byte piece: sigs_gate_may_match() then reads a line's first
 * byte and, only where it fits, the alternatives' literals, which costs less
 * than hashing the line for a cache (the command scope of the default rules).
 */
bool sigs_gate_cheap(const struct sigs_gate *g);

#endif /* RELAYWATCH_SENSOR_SIGS_GATE_H */
