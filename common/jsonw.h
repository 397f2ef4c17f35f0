/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * jsonw: JSON writer into a caller-owned bounded buffer (one JSON-lines record
 * at a time). Strings are escaped; bytes that are not valid UTF-8 are written
 * as the text \xNN, as Zeek does, so every record is valid JSON whatever was
 * on the wire. When the buffer is too small the writer stops and sets
 * overflow; it never writes past cap.
 */
#ifndef RELAYWATCH_COMMON_JSONW_H
#define RELAYWATCH_COMMON_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 16

struct jsonw {
	char *buf;
	size_t cap;
	size_t len;
	bool overflow;
	int depth;
	bool need_comma[JSONW_MAX_DEPTH];
};

void jsonw_init(struct jsonw *w, char *buf, size_t cap);
void jsonw_obj_open(struct jsonw *w);
void jsonw_obj_close(struct jsonw *w);
void jsonw_arr_open(struct jsonw *w);
void jsonw_arr_close(struct jsonw *w);
void jsonw_key(struct jsonw *w, const char *key);
void jsonw_str(struct jsonw *w, const char *s, size_t n);
void jsonw_cstr(struct jsonw *w, const char *s);
void jsonw_u64(struct jsonw *w, uint64_t v);
void jsonw_i64(struct jsonw *w, int64_t v);
void jsonw_double(struct jsonw *w, double v, int decimals);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);
/* Pre-formatted JSON text inserted as one value. */
void jsonw_raw(struct jsonw *w, const char *s, size_t n);

/* key + value in one call */
void jsonw_kv_str(struct jsonw *w, const char *key, const char *s, size_t n);
void jsonw_kv_cstr(struct jsonw *w, const char *key, const char *s);
void jsonw_kv_u64(struct jsonw *w, const char *key, uint64_t v);
void jsonw_kv_i64(struct jsonw *w, const char *key, int64_t v);
void jsonw_kv_double(struct jsonw *w, const char *key, double v, int decimals);
void jsonw_kv_bool(struct jsonw *w, const char *key, bool v);

/* Terminates the record with '\n' and NUL; returns its length or -1 on overflow. */
long jsonw_finish_line(struct jsonw *w);

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if the bytes are not one. */
size_t jsonw_utf8_seq_len(const uint8_t *p, size_t n);

#endif /* RELAYWATCH_COMMON_JSONW_H */
