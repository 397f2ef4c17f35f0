/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * plan: the configuration turned into the settings of each data-path
 * component (decode, flow table, reassembly, SMTP contexts, event rings,
 * port maps). For a capture file every table is also capped at what the
 * file could possibly fill -- a 100 KB capture cannot hold a million flows
 * -- so short captures start at once while a live tap gets the configured
 * sizes. Nothing is lost by the cap: it is an upper bound of the need.
 */
#ifndef RELAYWATCH_SENSOR_PLAN_H
#define RELAYWATCH_SENSOR_PLAN_H

#include <stdint.h>

#include "dataplane/decode.h"
#include "dataplane/flow.h"
#include "dataplane/tcp_reasm.h"
#include "sensor/config.h"
#include "sensor/smtp_session.h"

struct plan {
	struct decode_cfg decode;
	struct flow_table_cfg flow;
	struct tcp_reasm_cfg reasm;
	struct smtp_cfg smtp; /* port maps point into this plan; sigs set by the caller */
	uint64_t event_ring_bytes;
	uint32_t hosts, accounts; /* the detection engine's tables */
	uint8_t smtp_ports[8192];
	uint8_t tls_ports[8192];
	uint8_t server_ports[8192]; /* SMTP and TLS ports: what the worker tracks */
};

void plan_from_config(const struct config *cfg, struct plan *p);
/* Cap tables at what a capture of capture_bytes (uncompressed) can fill. */
void plan_bound_by_capture(struct plan *p, uint64_t capture_bytes);

#endif /* RELAYWATCH_SENSOR_PLAN_H */
