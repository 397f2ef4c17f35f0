/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * httpd: a small HTTP server on libmicrohttpd for /metrics and read-only
 * JSON/HTML APIs. GET and HEAD only; routes match a path exactly or by
 * prefix; the listen address defaults to 127.0.0.1. Owns the daemon and its
 * one internal polling thread: every handler runs on that thread, one
 * request at a time, so handlers may share state with each other unlocked.
 */
#ifndef RELAYWATCH_COMMON_HTTPD_H
#define RELAYWATCH_COMMON_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"

#define HTTPD_DEFAULT_HOST "127.0.0.1"

struct httpd;

struct httpd_req {
	const char *method;
	const char *path; /* without the query string */
	void *conn;	  /* struct MHD_Connection *, for httpd_req_arg() */
};

/* A handler fills this; body is malloc'd and freed by httpd. */
struct httpd_resp {
	unsigned int status;
	const char *content_type;
	char *body;
	size_t len;
};

typedef void httpd_handler_fn(const struct httpd_req *req, struct httpd_resp *resp, void *arg);

struct httpd_route {
	const char *path;
	bool prefix; /* "/api/hosts/" matches "/api/hosts/1.2.3.4" */
	httpd_handler_fn *fn;
	void *arg;
};

struct httpd_cfg {
	const char *listen; /* "HOST:PORT", "[v6]:PORT" or ":PORT" (127.0.0.1) */
	const struct httpd_route *routes;
	unsigned int n_routes;
	unsigned int max_conns; /* 0: 64 */
	unsigned int timeout_s; /* idle connection timeout, 0: 30 */
};

int httpd_create(const struct httpd_cfg *cfg, struct httpd **out, struct errbuf *eb);
void httpd_destroy(struct httpd *h);
/* The bound port (useful with port 0). */
uint16_t httpd_port(const struct httpd *h);

/* A query-string argument, URL-decoded, or NULL. Valid during the handler. */
const char *httpd_req_arg(const struct httpd_req *req, const char *key);

/* Copies s into the response. */
void httpd_resp_set(struct httpd_resp *resp, unsigned int status, const char *content_type,
		    const char *s, size_t len);
/* Takes a malloc'd buffer. */
void httpd_resp_take(struct httpd_resp *resp, unsigned int status, const char *content_type,
		     char *body, size_t len);

/*
 * Splits "HOST:PORT", "[V6]:PORT" or ":PORT" (host = default_host) into
 * host and port. 0 or -EINVAL.
 */
int httpd_split_hostport(const char *s, const char *default_host, char *host, size_t host_cap,
			 uint16_t *port);

#endif /* RELAYWATCH_COMMON_HTTPD_H */
