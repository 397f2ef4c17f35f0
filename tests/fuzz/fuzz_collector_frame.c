// SPDX-License-Identifier: BSD-3-Clause
/*
 * What the collector does with a sensor's bytes, on arbitrary input: the
 * frame reader (fed in pieces whose sizes come from the input), protobuf
 * unpack, the checks and normalisation of ingest, and the rows (evidence
 * JSON, recipients) stored into an in-memory SQLite store. Never a crash,
 * a leak or a string that is not clean UTF-8 after ingest.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/ingest.h"
#include "collector/store.h"
#include "common/frame.h"
#include "common/jsonw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *st;
static struct ingest_scratch sc;

static void check_clean(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t sl = jsonw_utf8_seq_len((const uint8_t *)s + i, n - i);

		if (!sl || (sl == 1 && (unsigned char)s[i] < 0x20))
			__builtin_trap();
		i += sl;
	}
}

static void use(const uint8_t *buf, uint32_t len)
{
	Relaywatch__Frame *f;
	enum ingest_status s = ingest_decode(buf, len, &f);

	if (s < 0) {
		if (f)
			__builtin_trap();
		return;
	}
	check_clean(f->sensor_id);
	if (f->body_case == RELAYWATCH__FRAME__BODY_ALERT) {
		check_clean(f->alert->message);
		check_clean(f->alert->host);
	}
	if (s == INGEST_OK && f->body_case == RELAYWATCH__FRAME__BODY_HELLO)
		ingest_store_hello(st, f, "fuzz", 1, &sc);
	else if (s == INGEST_OK && ingest_store(st, f, 1, &sc) < 0)
		__builtin_trap(); /* a checked frame always fits the schema */
	ingest_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_reader fr;
	const uint8_t *p, *end = data + size, *out;
	uint32_t out_len;
	size_t step;

	if (!st && store_open("sqlite::memory:", NULL, &st, NULL) != 0)
		__builtin_trap();
	/* Inputs are at most 64 KiB: a smaller reader is as good and much faster. */
	if (size < 1 || frame_reader_init(&fr, 1u << 16) != 0)
		return 0;
	store_begin(st); /* rolled back below: every input meets an empty store */
	step = (size_t)data[0] * 7 % 257 + 1;
	p = data + 1;
	while (p < end) {
		const uint8_t *chunk_end = (size_t)(end - p) > step ? p + step : end;
		enum frame_status fs;

		while ((fs = frame_reader_feed(&fr, &p, chunk_end, &out, &out_len)) == FRAME_OK)
			use(out, out_len);
		if (fs < 0)
			break;
	}
	store_rollback(st);
	frame_reader_fini(&fr);
	return 0;
}
