/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * source_pcap: helpers of the capture-file source that callers use before
 * opening it (the ops table itself is reached through source.h).
 */
#ifndef RELAYWATCH_DATAPLANE_SOURCE_PCAP_H
#define RELAYWATCH_DATAPLANE_SOURCE_PCAP_H

#include <stdint.h>

/*
 * Upper bound of the capture's uncompressed size: the file size, or for a
 * gzip file the larger of its size and the length in its trailer (exact
 * below 4 GiB). 0 when the file cannot be read (open() reports why).
 */
uint64_t source_pcap_size_hint(const char *path);

#endif /* RELAYWATCH_DATAPLANE_SOURCE_PCAP_H */
