// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz_mime: the MIME walker and its decoders. The first byte picks a
 * piece size; the input is walked as a message in pieces, then decoded as
 * base64 and as quoted-printable in the same pieces, checking the output
 * bounds each decoder promises (n * 3 / 4 + 3, n + MIME_QP_SLACK) and that
 * the split does not change the result.
 * Seeds: tests/fuzz/seeds/mime/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t fuzz_sum;

static void on_body(void *arg, const struct mime_part *part, const uint8_t *p, size_t n)
{
	(void)arg;
	for (size_t i = 0; i < n; i++)
		fuzz_sum ^= p[i];
	if (part->depth > MIME_MAX_DEPTH || part->filename_len > MIME_FILENAME_MAX)
		abort();
}

static const struct mime_cb cb = {.body = on_body};

/* Decodes in pieces of `piece` bytes; returns the output length. */
static size_t decode(const uint8_t *in, size_t n, size_t piece, bool qp, uint8_t *out)
{
	struct mime_b64 b = {0};
	struct mime_qp q = {0};
	size_t o = 0;

	for (size_t off = 0; off < n; off += piece) {
		size_t k = n - off < piece ? n - off : piece, w;

		w = qp ? mime_qp_decode(&q, in + off, k, out + o)
		       : mime_b64_decode(&b, in + off, k, out + o);
		if (w > (qp ? k + MIME_QP_SLACK : k * 3 / 4 + 3))
			abort();
		o += w;
	}
	if (qp)
		o += mime_qp_finish(&q, out + o);
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mime m;
	static uint8_t a[70000], b[70000];
	size_t piece;

	if (size < 1 || size > 65536)
		return 0;
	piece = (size_t)data[0] + 1;
	data++;
	size--;
	mime_init(&m, &cb, NULL, 4096, true);
	for (size_t off = 0; off < size; off += piece)
		mime_feed(&m, data + off, size - off < piece ? size - off : piece);
	mime_end(&m);
	for (int qp = 0; qp < 2; qp++) {
		size_t na = decode(data, size, piece, qp, a),
		       nb = decode(data, size, size ? size : 1, qp, b);

		if (na != nb || memcmp(a, b, na))
			abort(); /* the split changed the decoded bytes */
	}
	return 0;
}
