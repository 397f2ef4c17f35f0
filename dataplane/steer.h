/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * steer: software symmetric distribution. Wraps a source whose queues do
 * not keep both directions of a connection together (one pcap stream, a
 * DPDK port without RSS, a tap whose two directions arrive on two ports) as
 * a source with n_out symmetric queues: one thread per input queue reads
 * bursts, hashes each packet's (inner) endpoints with the symmetric hash and
 * hands it to the output queue's SPSC ring. Frames are released to the
 * input source directly when it allows release from any thread, otherwise
 * through return rings drained by the steering thread.
 *
 * When an output ring is full a live source's packet is dropped and counted
 * (steer_full); a file waits.
 */
#ifndef RELAYWATCH_DATAPLANE_STEER_H
#define RELAYWATCH_DATAPLANE_STEER_H

#include <stdint.h>

#include "common/errbuf.h"
#include "dataplane/source.h"

/* Frames one (input queue, worker) ring holds: a source that must not run out of
 * frames while steered (a replay) sizes its pools with this. */
#define STEER_RING_FRAMES 4096

/* inner stays owned by the caller and must outlive the steer source. */
int steer_open(struct source *inner, uint16_t n_out, struct source **out, struct errbuf *eb);

#endif /* RELAYWATCH_DATAPLANE_STEER_H */
