// SPDX-License-Identifier: BSD-3-Clause
/* The small HTTP server the collector and the sensor share, over a real socket. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "http_get.h"

#include "common/httpd.h"

static void hello(const struct httpd_req *req, struct httpd_resp *resp, void *arg)
{
	const char *who = httpd_req_arg(req, "who");
	char body[128];
	int n = snprintf(body, sizeof(body), "%s hello %s from %s\n", (const char *)arg,
			 who ? who : "nobody", req->path);

	httpd_resp_set(resp, 200, "text/plain", body, (size_t)n);
}

/* One request, HTTP/1.0 so the server closes; the whole response comes back. */
/* Exact and prefix routes, decoded query arguments, 404, 405, port 0 = any free port. */
static void test_httpd_routes_args_and_errors(void **state)
{
	const struct httpd_route routes[] = {
		{"/metrics", false, hello, "exact"},
		{"/api/hosts/", true, hello, "prefix"},
	};
	const struct httpd_cfg cfg = {.listen = ":0", .routes = routes, .n_routes = 2};
	struct errbuf eb = {{0}};
	struct httpd *h;
	uint16_t port;
	char *r;

	(void)state;
	assert_int_equal(httpd_create(&cfg, &h, &eb), 0);
	port = httpd_port(h);
	assert_true(port > 0);
	r = http_get(port, "GET /metrics?who=a%20b HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(r, "200"));
	assert_non_null(strstr(r, "exact hello a b from /metrics"));
	r = http_get(port, "GET /api/hosts/192.0.2.1 HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(r, "prefix hello nobody from /api/hosts/192.0.2.1"));
	r = http_get(port, "GET /metricsx HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(r, " 404 "));
	r = http_get(port, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
	assert_non_null(strstr(r, " 405 "));
	httpd_destroy(h);
}

static void test_httpd_split_hostport(void **state)
{
	char host[64];
	uint16_t port;

	(void)state;
	assert_int_equal(httpd_split_hostport(":9108", "127.0.0.1", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 9108);
	assert_int_equal(httpd_split_hostport("[::1]:80", "x", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 80);
	assert_int_equal(httpd_split_hostport("0.0.0.0:7800", "x", host, sizeof(host), &port), 0);
	assert_string_equal(host, "0.0.0.0");
	assert_int_equal(httpd_split_hostport("host", "x", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(httpd_split_hostport("h:70000", "x", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(httpd_split_hostport("h:", "x", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(httpd_split_hostport("[::1]80", "x", host, sizeof(host), &port), -EINVAL);
}

/* A bad address is refused with a message, not a crash or a wildcard bind. */
static void test_httpd_bad_listen_address(void **state)
{
	const struct httpd_cfg cfg = {.listen = "not-an-address:80"};
	struct errbuf eb = {{0}};
	struct httpd *h;

	(void)state;
	assert_int_equal(httpd_create(&cfg, &h, &eb), -EINVAL);
	assert_non_null(strstr(eb.msg, "not-an-address"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_httpd_routes_args_and_errors),
		cmocka_unit_test(test_httpd_split_hostport),
		cmocka_unit_test(test_httpd_bad_listen_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
