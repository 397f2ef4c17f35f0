/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ingest: one frame's bytes to a checked Frame, and a checked Frame to store
 * rows. ingest_decode() unpacks (protobuf-c), rejects what the connection
 * must be closed for, and normalises the rest in place: strings made valid
 * UTF-8 without control bytes, hosts in canonical inet_ntop form, kinds and
 * severities checked. ingest_store() writes the rows, idempotently on
 * (sensor_id, run_id, seq). Pure functions; the scratch belongs to the caller
 * (the writer thread owns one).
 */
#ifndef RELAYWATCH_COLLECTOR_INGEST_H
#define RELAYWATCH_COLLECTOR_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collector/store.h"
#include "exporters/relaywatch.pb-c.h"

#define INGEST_MAX_FRAME     (1u << 20) /* default and upper bound of --max-frame */
#define INGEST_SENSOR_ID_MAX 255
#define INGEST_HOST_MAX	     64
#define INGEST_KIND_MAX	     32
#define INGEST_MAX_EVIDENCE  32	  /* counters, examples, uids kept per alert */
#define INGEST_MAX_RCPT	     1000 /* recipients kept per transaction */

enum ingest_status {
	INGEST_OK = 0,
	/* Well-formed but unusable: refused, counted and acknowledged, so a
	 * sensor never re-sends it forever. The connection stays. */
	INGEST_REJECT_FIELD = 1,
	/* Protocol errors: the connection is closed. */
	INGEST_ERR_PROTOBUF = -1,  /* does not unpack */
	INGEST_ERR_NO_BODY = -2,   /* no hello, alert, summary or transaction */
	INGEST_ERR_SENSOR_ID = -3, /* empty, too long or with control bytes */
};

enum ingest_type {
	INGEST_HELLO = 0,
	INGEST_ALERT = 1,
	INGEST_SUMMARY = 2,
	INGEST_TX = 3,
	INGEST_TYPE_COUNT
};

/* Scratch for the rows made from one frame. */
struct ingest_scratch {
	char ev_json[24576];
	char ev_text[4096];
	char rcpt_json[65536];
	char rcpt_text[8192];
	char home_net[4096];
	struct store_rcpt rcpt[INGEST_MAX_RCPT];
	char domains[INGEST_MAX_RCPT][64];
};

/* Frame from bytes; *out is set (and must be freed) only for INGEST_OK and REJECT. */
enum ingest_status ingest_decode(const uint8_t *buf, size_t len, Relaywatch__Frame **out);
void ingest_free(Relaywatch__Frame *f);

enum ingest_type ingest_type_of(const Relaywatch__Frame *f);
const char *ingest_type_name(enum ingest_type t);
/* The sensor id a frame speaks for (the hello's own when it has one). */
const char *ingest_sensor_id(const Relaywatch__Frame *f);

/* Stores a data frame (alert, summary, transaction): 1 stored, 0 duplicate, -errno. */
int ingest_store(struct store *st, const Relaywatch__Frame *f, uint64_t recv_ns,
		 struct ingest_scratch *sc);
/* The sensor row of a hello; peer: certificate subject or address. 0 or -errno. */
int ingest_store_hello(struct store *st, const Relaywatch__Frame *f, const char *peer,
		       uint64_t recv_ns, struct ingest_scratch *sc);

/* A host in the form stored (canonical inet_ntop text for an address, else
 * as is when it is a plausible pseudonym), in place; false when unusable. */
bool ingest_host_normalise(char *s);

/* The store row of an alert frame, evidence formatted into sc. */
void ingest_alert_row(const Relaywatch__Frame *f, uint64_t recv_ns, struct ingest_scratch *sc,
		      struct store_alert *out);

#endif /* RELAYWATCH_COLLECTOR_INGEST_H */
