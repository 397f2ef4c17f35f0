// SPDX-License-Identifier: BSD-3-Clause
#include "collector/kafka.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "collector/rows_json.h"
#include "common/log.h"

struct kafka {
	struct kafka_cfg cfg;
	char topic[256];
	rd_kafka_t *rk;
	pthread_t thr;
	atomic_bool stop;
	char json[32768]; /* publishing thread only */
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	struct kafka *k = opaque;

	if (msg->err) {
		metrics_inc(&k->cfg.metrics->kafka_failed);
		log_warn_rl(30, "kafka: delivery failed: %s", rd_kafka_err2str(msg->err));
	} else {
		metrics_inc(&k->cfg.metrics->kafka_produced);
	}
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	log_warn_rl(30, "kafka: %s: %s", rd_kafka_err2name(err), reason);
}

/* librdkafka's own log lines, through ours (syslog levels: 3 error, 4 warning, ...). */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	if (level <= 4)
		log_warn_rl(30, "kafka: %s: %s", fac, buf);
	else
		log_debug("kafka: %s: %s", fac, buf);
}

static void *poll_main(void *arg)
{
	struct kafka *k = arg;

	while (!atomic_load(&k->stop))
		rd_kafka_poll(k->rk, 200);
	return NULL;
}

static int conf_set(rd_kafka_conf_t *conf, const char *key, const char *val, struct errbuf *eb)
{
	char err[256];

	if (rd_kafka_conf_set(conf, key, val, err, sizeof(err)) != RD_KAFKA_CONF_OK)
		return errbuf_set(eb, -EINVAL, "kafka: %s=%s: %s", key, val, err);
	return 0;
}

static rd_kafka_conf_t *make_conf(struct kafka *k, struct errbuf *eb)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char timeout[16];

	snprintf(timeout, sizeof(timeout), "%u", k->cfg.timeout_ms);
	if (conf_set(conf, "bootstrap.servers", k->cfg.brokers, eb) ||
	    conf_set(conf, "client.id", "relaywatch-collector", eb) ||
	    conf_set(conf, "message.timeout.ms", timeout, eb) ||
	    conf_set(conf, "queue.buffering.max.messages", "100000", eb) ||
	    conf_set(conf, "linger.ms", "20", eb)) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_opaque(conf, k);
	return conf;
}

int kafka_create(const struct kafka_cfg *cfg, struct kafka **out, struct errbuf *eb)
{
	struct kafka *k = calloc(1, sizeof(*k));
	rd_kafka_conf_t *conf;
	char err[256];
	int ret;

	if (!k)
		return -ENOMEM;
	k->cfg = *cfg;
	k->cfg.timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 30000;
	snprintf(k->topic, sizeof(k->topic), "%s", cfg->topic ? cfg->topic : KAFKA_DEFAULT_TOPIC);
	if (!cfg->brokers || !cfg->brokers[0]) {
		free(k);
		return errbuf_set(eb, -EINVAL, "--kafka: no brokers");
	}
	conf = make_conf(k, eb);
	if (!conf) {
		free(k);
		return -EINVAL;
	}
	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!k->rk) {
		rd_kafka_conf_destroy(conf);
		free(k);
		return errbuf_set(eb, -EINVAL, "kafka: %s", err);
	}
	ret = -pthread_create(&k->thr, NULL, poll_main, k);
	if (ret) {
		rd_kafka_destroy(k->rk);
		free(k);
		return ret;
	}
	*out = k;
	return 0;
}

void kafka_destroy(struct kafka *k)
{
	if (!k)
		return;
	rd_kafka_flush(k->rk, 5000);
	atomic_store(&k->stop, true);
	pthread_join(k->thr, NULL);
	rd_kafka_destroy(k->rk);
	free(k);
}

int kafka_publish(struct kafka *k, const struct store_alert *a)
{
	struct jsonw w;
	long n;
	rd_kafka_resp_err_t err;

	jsonw_init(&w, k->json, sizeof(k->json));
	rows_json_alert(&w, a);
	n = jsonw_finish_line(&w);
	if (n < 0) {
		metrics_inc(&k->cfg.metrics->kafka_failed);
		return -E2BIG;
	}
	err = rd_kafka_producev(k->rk, RD_KAFKA_V_TOPIC(k->topic),
				RD_KAFKA_V_KEY((void *)a->host, strlen(a->host)),
				RD_KAFKA_V_VALUE(k->json, (size_t)n - 1),
				RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
	if (err) {
		metrics_inc(&k->cfg.metrics->kafka_failed);
		log_warn_rl(30, "kafka: cannot queue an alert: %s", rd_kafka_err2str(err));
		return err == RD_KAFKA_RESP_ERR__QUEUE_FULL ? -ENOBUFS : -EIO;
	}
	return 0;
}
