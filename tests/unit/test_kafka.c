// SPDX-License-Identifier: BSD-3-Clause
/*
 * The Kafka producer against librdkafka's in-process mock cluster
 * (rdkafka_mock.h): alerts go out as JSON keyed by host, are consumed back
 * and read; an unreachable cluster is counted as failed, not hung on.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "collector/kafka.h"
#include "collector/metrics.h"

#define TOPIC "rw-test-alerts"

struct mock {
	rd_kafka_t *rk; /* owns the mock cluster */
	rd_kafka_mock_cluster_t *mc;
	char brokers[256];
};

static int mock_setup(void **state)
{
	static struct mock m;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[256];

	m.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!m.rk)
		return -1;
	m.mc = rd_kafka_mock_cluster_new(m.rk, 1);
	if (!m.mc || rd_kafka_mock_topic_create(m.mc, TOPIC, 2, 1))
		return -1;
	snprintf(m.brokers, sizeof(m.brokers), "%s", rd_kafka_mock_cluster_bootstraps(m.mc));
	*state = &m;
	return 0;
}

static int mock_teardown(void **state)
{
	struct mock *m = *state;

	rd_kafka_mock_cluster_destroy(m->mc);
	rd_kafka_destroy(m->rk);
	return 0;
}

static struct store_alert alert(const char *host, uint64_t seq)
{
	return (struct store_alert){
		.key = {"tap-a", 0xabcdef, seq},
		.recv_ns = 1700000000000000000ull,
		.ts_ns = 1700000000000000000ull,
		.first_ns = 1699999940000000000ull,
		.kind = "open_relay",
		.severity = "critical",
		.host = host,
		.account = "",
		.message = "relayed \"mail\"",
		.score = 16,
		.evidence_json =
			"{\"counters\":[{\"name\":\"relayed_rcpts\",\"value\":12.000,"
			"\"threshold\":1.000,\"window\":300}],\"examples\":[],\"uids\":[]}",
		.evidence_text = "relayed_rcpts=12",
	};
}

static rd_kafka_t *consumer(const char *brokers)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *topics;
	char err[256];
	rd_kafka_t *rk;

	assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err)),
			 RD_KAFKA_CONF_OK);
	assert_int_equal(rd_kafka_conf_set(conf, "group.id", "rw-test", err, sizeof(err)),
			 RD_KAFKA_CONF_OK);
	assert_int_equal(rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof(err)),
			 RD_KAFKA_CONF_OK);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	assert_non_null(rk);
	rd_kafka_poll_set_consumer(rk);
	topics = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(topics, TOPIC, RD_KAFKA_PARTITION_UA);
	assert_int_equal(rd_kafka_subscribe(rk, topics), 0);
	rd_kafka_topic_partition_list_destroy(topics);
	return rk;
}

/* Three alerts out, three back: key = host, value = the alert's JSON. */
static void test_kafka_alerts_round_trip(void **state)
{
	struct mock *m = *state;
	static struct metrics met;
	struct kafka_cfg cfg = {.brokers = m->brokers, .topic = TOPIC, .metrics = &met};
	const char *hosts[] = {"192.0.2.1", "192.0.2.2", "2001:db8::1"};
	struct errbuf eb = {{0}};
	unsigned int got = 0, seen[3] = {0};
	struct kafka *k;
	rd_kafka_t *c;
	time_t until;

	metrics_init(&met);
	assert_int_equal(kafka_create(&cfg, &k, &eb), 0);
	for (unsigned int i = 0; i < 3; i++) {
		struct store_alert a = alert(hosts[i], i + 1);

		assert_int_equal(kafka_publish(k, &a), 0);
	}
	kafka_destroy(k); /* flushes: the delivery reports are in */
	assert_int_equal(met.kafka_produced, 3);
	assert_int_equal(met.kafka_failed, 0);

	c = consumer(m->brokers);
	until = time(NULL) + 20;
	while (got < 3 && time(NULL) < until) {
		rd_kafka_message_t *msg = rd_kafka_consumer_poll(c, 500);
		char key[64], *value;

		if (!msg)
			continue;
		if (msg->err) {
			rd_kafka_message_destroy(msg);
			continue;
		}
		snprintf(key, sizeof(key), "%.*s", (int)msg->key_len, (const char *)msg->key);
		value = strndup(msg->payload, msg->len);
		for (unsigned int i = 0; i < 3; i++) {
			if (strcmp(key, hosts[i]) != 0)
				continue;
			seen[i]++;
			assert_non_null(strstr(value, "\"kind\":\"open_relay\""));
			assert_non_null(strstr(value, "\"severity\":\"critical\""));
			assert_non_null(strstr(value, hosts[i]));
			assert_non_null(strstr(value, "\"message\":\"relayed \\\"mail\\\"\""));
			assert_non_null(strstr(value, "\"counters\":[{\"name\":\"relayed_rcpts\""));
			assert_non_null(strstr(value, "\"sensor\":\"tap-a\""));
			assert_non_null(strstr(value, "\"run_id\":\"0000000000abcdef\""));
		}
		free(value);
		rd_kafka_message_destroy(msg);
		got++;
	}
	rd_kafka_consumer_close(c);
	rd_kafka_destroy(c);
	assert_int_equal(got, 3);
	assert_true(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
}

/* Nobody listening: the message times out and is counted as failed. */
static void test_kafka_unreachable_is_counted(void **state)
{
	static struct metrics met;
	struct kafka_cfg cfg = {
		.brokers = "127.0.0.1:1", .topic = TOPIC, .timeout_ms = 1000, .metrics = &met};
	struct store_alert a = alert("192.0.2.1", 1);
	struct errbuf eb = {{0}};
	struct kafka *k;

	(void)state;
	metrics_init(&met);
	assert_int_equal(kafka_create(&cfg, &k, &eb), 0);
	assert_int_equal(kafka_publish(k, &a), 0); /* queued locally */
	kafka_destroy(k);
	assert_int_equal(met.kafka_produced, 0);
	assert_int_equal(met.kafka_failed, 1);
}

static void test_kafka_needs_brokers(void **state)
{
	static struct metrics met;
	struct kafka_cfg cfg = {.brokers = "", .metrics = &met};
	struct errbuf eb = {{0}};
	struct kafka *k;

	(void)state;
	assert_int_equal(kafka_create(&cfg, &k, &eb), -EINVAL);
	assert_non_null(strstr(eb.msg, "--kafka"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kafka_alerts_round_trip, mock_setup,
						mock_teardown),
		cmocka_unit_test(test_kafka_unreachable_is_counted),
		cmocka_unit_test(test_kafka_needs_brokers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
