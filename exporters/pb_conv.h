/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pb_conv: the sensor's records as Frames of exporters/relaywatch.proto:
 * struct alert -> Alert, struct smtp_tx -> Transaction (endpoints as pseudonyms
 * with privacy.pseudonymize_ips; mailboxes arrive pseudonymised by the workers),
 * struct detect_host_summary -> HostSummary, and the SensorHello. A frame is
 * built in two steps so that a caller can reserve exactly its packed size:
 * pb_conv_<record>() builds it and returns the size, pb_conv_pack() writes it.
 * Strings are copied into a scratch arena as valid UTF-8 (proto3 requires
 * it; the wire can send any byte).
 *
 * Owns: the message structs and the scratch arena, allocated at create.
 * One pb_conv per thread.
 */
#ifndef RELAYWATCH_EXPORTERS_PB_CONV_H
#define RELAYWATCH_EXPORTERS_PB_CONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/alert.h"
#include "sensor/detect.h"
#include "sensor/privacy.h"
#include "sensor/smtp_tx.h"

/* No frame built from these records comes near this; a larger one is refused. */
#define PB_CONV_FRAME_MAX (64u * 1024)
#define PB_CONV_HOME_MAX  256

/* What identifies a frame: the collector stores each (sensor_id, run_id, seq) once. */
struct pb_conv_id {
	const char *sensor_id;
	uint64_t run_id;
	uint64_t seq;
};

struct pb_conv_cfg {
	const struct privacy *privacy; /* NULL: transactions go as recorded */
	bool pseudonymize_ips;	       /* client and server addresses too */
	bool drop_subject;	       /* privacy.keep_subject false: Transaction.subject "" */
};

struct pb_conv_hello {
	const char *version;
	const char *config_digest;   /* 64 hex digits */
	uint64_t started_ns;	     /* wall clock */
	const char *const *home_net; /* CIDR strings */
	unsigned int n_home_net;     /* at most PB_CONV_HOME_MAX are sent */
};

struct pb_conv;

int pb_conv_create(const struct pb_conv_cfg *cfg, struct pb_conv **out);
void pb_conv_destroy(struct pb_conv *pc);

/*
 * Build a frame; return its packed size, or -E2BIG when it would exceed
 * PB_CONV_FRAME_MAX. The frame refers to pc's arena and to nothing of the
 * record, and stays until the next build.
 */
long pb_conv_alert(struct pb_conv *pc, const struct pb_conv_id *id, const struct alert *a);
long pb_conv_tx(struct pb_conv *pc, const struct pb_conv_id *id, const struct smtp_tx *tx);
long pb_conv_summary(struct pb_conv *pc, const struct pb_conv_id *id,
		     const struct detect_host_summary *hs, uint64_t ts_ns, uint32_t period_s);
long pb_conv_hello(struct pb_conv *pc, const struct pb_conv_id *id, const struct pb_conv_hello *h);

/* Write the frame built last; out holds at least the size the build returned. */
size_t pb_conv_pack(struct pb_conv *pc, uint8_t *out);

/* True when some string of the last frame was cut (arena full); never expected. */
bool pb_conv_truncated(const struct pb_conv *pc);

#endif /* RELAYWATCH_EXPORTERS_PB_CONV_H */
