/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mime internals shared by mime.c (the walk: parts, boundaries, bytes) and
 * mime_field.c (the header fields of an entity). Not for other modules;
 * the base64 and quoted-printable decoders of mime_decode.c are in mime.h.
 */
#ifndef RELAYWATCH_SENSOR_MIME_INT_H
#define RELAYWATCH_SENSOR_MIME_INT_H

#include <stdbool.h>

#include "sensor/mime.h"

static inline void ent_reset(struct mime_ent *e)
{
	e->type = MIME_T_TEXT;
	e->encoding = MIME_ENC_NONE;
	e->is_html = false;
	e->is_attachment = false;
	e->blen = 0;
	e->fn_src = 0;
	e->fn_len = 0;
	e->fn_cs_len = 0;
}

/* mime_field.c */
void mime_field_finish(struct mime *m);

#endif
