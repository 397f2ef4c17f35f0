// SPDX-License-Identifier: BSD-3-Clause
#include "common/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

struct httpd {
	struct MHD_Daemon *d;
	struct httpd_route *routes;
	unsigned int n_routes;
	uint16_t port;
};

int httpd_split_hostport(const char *s, const char *default_host, char *host, size_t host_cap,
			 uint16_t *port)
{
	const char *colon, *h = s;
	size_t hlen;
	unsigned long v;
	char *end;

	if (!s || !*s)
		return -EINVAL;
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		h = s + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0) {
		h = default_host;
		hlen = strlen(default_host);
	}
	if (hlen + 1 > host_cap)
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	v = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static const struct httpd_route *route_find(const struct httpd *h, const char *path)
{
	for (unsigned int i = 0; i < h->n_routes; i++) {
		const struct httpd_route *r = &h->routes[i];
		size_t n = strlen(r->path);

		if (r->prefix ? strncmp(path, r->path, n) == 0 : strcmp(path, r->path) == 0)
			return r;
	}
	return NULL;
}

static enum MHD_Result queue(struct MHD_Connection *c, struct httpd_resp *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(resp->len, resp->body ? resp->body : (char *)"",
					    resp->body ? MHD_RESPMEM_MUST_FREE
						       : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(resp->body);
		return MHD_NO;
	}
	resp->body = NULL;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				resp->content_type ? resp->content_type : "text/plain");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, resp->status ? resp->status : MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct httpd *h = cls;
	struct httpd_req req = {.method = method, .path = url, .conn = c};
	struct httpd_resp resp = {0};
	const struct httpd_route *r;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		httpd_resp_set(&resp, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			       "method not allowed\n", 19);
		return queue(c, &resp);
	}
	r = route_find(h, url);
	if (!r) {
		httpd_resp_set(&resp, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 10);
		return queue(c, &resp);
	}
	r->fn(&req, &resp, r->arg);
	if (!resp.status)
		resp.status = MHD_HTTP_OK;
	return queue(c, &resp);
}

static int fill_addr(const char *host, uint16_t port, struct sockaddr_storage *ss,
		     unsigned int *flags)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*flags |= MHD_USE_IPv6;
		return 0;
	}
	if (strcmp(host, "localhost") == 0)
		return fill_addr("127.0.0.1", port, ss, flags);
	return -EINVAL;
}

int httpd_create(const struct httpd_cfg *cfg, struct httpd **out, struct errbuf *eb)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	char host[256];
	uint16_t port;
	struct httpd *h;

	if (httpd_split_hostport(cfg->listen, HTTPD_DEFAULT_HOST, host, sizeof(host), &port) ||
	    fill_addr(host, port, &ss, &flags))
		return errbuf_set(eb, -EINVAL, "http: bad listen address '%s' (HOST:PORT)",
				  cfg->listen ? cfg->listen : "");
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->routes = calloc(cfg->n_routes ? cfg->n_routes : 1, sizeof(*h->routes));
	if (!h->routes) {
		free(h);
		return -ENOMEM;
	}
	memcpy(h->routes, cfg->routes, cfg->n_routes * sizeof(*h->routes));
	h->n_routes = cfg->n_routes;
	h->d = MHD_start_daemon(
		flags, port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)(cfg->max_conns ? cfg->max_conns : 64), MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)(cfg->timeout_s ? cfg->timeout_s : 30), MHD_OPTION_END);
	if (!h->d) {
		free(h->routes);
		free(h);
		return errbuf_set(eb, -EADDRINUSE, "http: cannot listen on %s", cfg->listen);
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : port;
	*out = h;
	return 0;
}

void httpd_destroy(struct httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h->routes);
	free(h);
}

uint16_t httpd_port(const struct httpd *h)
{
	return h->port;
}

const char *httpd_req_arg(const struct httpd_req *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

void httpd_resp_set(struct httpd_resp *resp, unsigned int status, const char *content_type,
		    const char *s, size_t len)
{
	char *b = malloc(len ? len : 1);

	if (!b) {
		resp->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		resp->body = NULL;
		resp->len = 0;
		return;
	}
	memcpy(b, s, len);
	httpd_resp_take(resp, status, content_type, b, len);
}

void httpd_resp_take(struct httpd_resp *resp, unsigned int status, const char *content_type,
		     char *body, size_t len)
{
	free(resp->body);
	resp->status = status;
	resp->content_type = content_type;
	resp->body = body;
	resp->len = len;
}
