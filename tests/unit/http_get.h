/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http_get: one raw HTTP request to 127.0.0.1:port, the whole answer read
 * until the server closes (tests of common/httpd.c and the /metrics server).
 * Include after <cmocka.h>. The answer lives in a static buffer.
 */
#ifndef RELAYWATCH_TESTS_HTTP_GET_H
#define RELAYWATCH_TESTS_HTTP_GET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char *http_get(uint16_t port, const char *request)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	static char buf[1 << 16];
	size_t len = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
	while (len + 1 < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fd);
	return buf;
}

#endif /* RELAYWATCH_TESTS_HTTP_GET_H */
