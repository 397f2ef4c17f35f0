// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz_smtp_msg: one message fed to smtp_msg in pieces. The first byte
 * picks the configuration (bit 0 decode_body, bit 1 keep_subject, bit 2 a
 * small header limit) and the second a piece size; every 5th piece is
 * followed by a gap. Checks that the record stays within its arena and its
 * lists, and that every callback gets sane lengths.
 * Seeds: tests/fuzz/seeds/smtp_msg/ (messages from the unit tests and the corpus).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/smtp_msg.h"
#include "sensor/smtp_tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t fuzz_sum;

static void on_header(void *arg, const char *name, size_t nlen, const uint8_t *v, size_t vlen)
{
	(void)arg;
	if (nlen == 0 || !name || (vlen && !v))
		abort();
}

static void on_body(void *arg, const struct smtp_msg_part *part, const uint8_t *p, size_t n)
{
	(void)arg;
	for (size_t i = 0; i < n; i++)
		fuzz_sum ^= p[i]; /* ASan checks the whole range is readable */
	if (part->filename_len > 256)
		abort();
}

static void on_url(void *arg, const uint8_t *u, size_t n)
{
	(void)arg;
	if (n == 0 || n > 1024 || !u)
		abort();
}

static const struct smtp_msg_sink sink = {
	.header = on_header,
	.body = on_body,
	.url = on_url,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_tx tx;
	static struct smtp_msg *m;
	struct smtp_msg_cfg cfg;
	size_t piece, off = 2;
	unsigned int k = 0;

	if (size < 2)
		return 0;
	if (!m && !(m = malloc(smtp_msg_size())))
		return 0;
	cfg = (struct smtp_msg_cfg){
		.decode_body = data[0] & 1,
		.keep_subject = data[0] & 2,
		.max_header_bytes = (data[0] & 4) ? 200 : 65536,
	};
	piece = (size_t)data[1] + 1;
	smtp_tx_init(&tx, NULL, 0);
	tx.family = 4;
	smtp_msg_begin(m, &cfg, &tx, &sink, NULL);
	while (off < size) {
		size_t n = size - off < piece ? size - off : piece;

		smtp_msg_feed(m, data + off, n);
		off += n;
		if (++k % 5 == 0)
			smtp_msg_gap(m, 10);
	}
	smtp_msg_end(m);
	if (tx.arena_used > SMTP_TX_ARENA || tx.n_to_stored > SMTP_TX_MAX_HDR_ADDRS ||
	    tx.n_cc_stored > SMTP_TX_MAX_HDR_ADDRS || tx.n_path > SMTP_TX_MAX_PATH)
		abort();
	for (int f = 0; f < SMTP_F_COUNT; f++)
		if ((size_t)tx.f[f].off + tx.f[f].len > SMTP_TX_ARENA)
			abort();
	return 0;
}
