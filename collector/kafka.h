/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kafka: each new alert published to a Kafka topic as one JSON object
 * (rows_json alert fields), keyed by host so one host's alerts stay in
 * order on one partition. librdkafka's producer queues and sends on its own
 * threads; a poll thread here serves the delivery reports that count
 * produced and failed messages. kafka_publish() never blocks: a full local
 * queue is a counted failure.
 *
 * Owns: the producer, the topic handle, the poll thread. kafka_publish() may
 * be called from any one thread (the writer).
 */
#ifndef RELAYWATCH_COLLECTOR_KAFKA_H
#define RELAYWATCH_COLLECTOR_KAFKA_H

#include "collector/metrics.h"
#include "collector/store.h"
#include "common/errbuf.h"

#define KAFKA_DEFAULT_TOPIC "relaywatch.alerts"

struct kafka;

struct kafka_cfg {
	const char *brokers;	 /* bootstrap.servers */
	const char *topic;	 /* NULL: KAFKA_DEFAULT_TOPIC */
	unsigned int timeout_ms; /* message.timeout.ms; 0: 30000 */
	struct metrics *metrics;
};

int kafka_create(const struct kafka_cfg *cfg, struct kafka **out, struct errbuf *eb);
/* Waits up to 5 s for queued messages to be delivered. */
void kafka_destroy(struct kafka *k);
/* 0, or -ENOBUFS (queue full) / -EIO, counted as failed. */
int kafka_publish(struct kafka *k, const struct store_alert *a);

#endif /* RELAYWATCH_COLLECTOR_KAFKA_H */
