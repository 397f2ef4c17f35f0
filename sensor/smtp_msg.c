// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/smtp_msg.h"

#include <string.h>

#include "sensor/mime.h"
#include "sensor/smtp_hdr.h"
#include "sensor/url.h"

/*
 * Glue: the MIME walker reads the bytes; top-level header fields go to
 * smtp_hdr (the record) and to the sink, decoded text goes to the sink and
 * through the URL scanner.
 */
struct smtp_msg {
	struct smtp_msg_cfg cfg;
	struct smtp_tx *tx;
	const struct smtp_msg_sink *sink;
	void *sink_arg;
	bool ended;
	bool fed_body; /* body called since the last fed: only then is there anything to flush */
	struct smtp_hdr hdr;
	struct url url;
	struct mime mime;
};

size_t smtp_msg_size(void)
{
	return sizeof(struct smtp_msg);
}

static void msg_header(void *arg, const char *name, size_t nlen, const uint8_t *v, size_t vlen)
{
	struct smtp_msg *m = arg;

	smtp_hdr_field(&m->hdr, name, nlen, v, vlen);
	if (m->sink->header)
		m->sink->header(m->sink_arg, name, nlen, v, vlen);
}

static void msg_headers_done(void *arg)
{
	struct smtp_msg *m = arg;

	smtp_hdr_finish(&m->hdr);
	if (m->mime.hdr_cut)
		m->tx->flags |= SMTP_TX_F_HDR_TRUNC;
	if (m->mime.stats.fields_cut) /* so far only top-level fields were read */
		m->tx->flags |= SMTP_TX_F_TRUNCATED;
	if (m->sink->headers_done)
		m->sink->headers_done(m->sink_arg);
}

static void msg_part(const struct mime_part *mp, struct smtp_msg_part *out)
{
	*out = (struct smtp_msg_part){
		.depth = mp->depth,
		.index = mp->index,
		.is_text = mp->type == MIME_T_TEXT,
		.is_html = mp->is_html,
		.is_attachment = mp->is_attachment,
		.encoding = mp->encoding,
		.filename_len = mp->filename_len,
		.filename = mp->filename,
	};
}

static void msg_url(void *arg, const uint8_t *u, size_t n)
{
	struct smtp_msg *m = arg;

	if (m->sink->url)
		m->sink->url(m->sink_arg, u, n);
}

static void msg_body(void *arg, const struct mime_part *mp, const uint8_t *p, size_t n)
{
	struct smtp_msg *m = arg;
	struct smtp_msg_part part;

	if (mp->type == MIME_T_TEXT) /* phishing pages come as .html attachments */
		url_feed(&m->url, p, n, msg_url, m);
	if (m->sink->body) {
		m->fed_body = true;
		msg_part(mp, &part);
		m->sink->body(m->sink_arg, &part, p, n);
	}
}

static void msg_part_end(void *arg, const struct mime_part *mp)
{
	struct smtp_msg *m = arg;
	struct smtp_msg_part part;

	url_end(&m->url, msg_url, m);
	if (m->sink->part_end) {
		msg_part(mp, &part);
		m->sink->part_end(m->sink_arg, &part);
	}
}

/* Body rules and URLs read text; a binary attachment is most of the bytes
 * of a message and the sensor needs none of it decoded. */
static const struct mime_cb msg_mime_cb = {
	.header = msg_header,
	.headers_done = msg_headers_done,
	.body = msg_body,
	.part_end = msg_part_end,
	.text_only = true,
};

static const struct mime_cb msg_mime_cb_all = {
	.header = msg_header,
	.headers_done = msg_headers_done,
	.body = msg_body,
	.part_end = msg_part_end,
};

static const struct smtp_msg_sink no_sink;

void smtp_msg_begin(struct smtp_msg *m, const struct smtp_msg_cfg *cfg, struct smtp_tx *tx,
		    const struct smtp_msg_sink *sink, void *sink_arg)
{
	m->cfg = *cfg;
	m->tx = tx;
	m->sink = sink ? sink : &no_sink;
	m->sink_arg = sink_arg;
	m->ended = false;
	m->fed_body = false;
	smtp_hdr_init(&m->hdr, tx, cfg->keep_subject);
	smtp_hdr_path_start(tx);
	url_init(&m->url);
	mime_init(&m->mime, cfg->binary_bodies ? &msg_mime_cb_all : &msg_mime_cb, m,
		  cfg->max_header_bytes, cfg->decode_body);
}

static void msg_fed(struct smtp_msg *m)
{
	m->fed_body = false;
	if (m->sink->fed)
		m->sink->fed(m->sink_arg);
}

void smtp_msg_feed(struct smtp_msg *m, const uint8_t *p, size_t n)
{
	if (m->ended)
		return;
	mime_feed(&m->mime, p, n);
	/* Most feeds are attachment or header bytes: no body call, nothing held
	 * back, no call into the sink. */
	if (m->fed_body)
		msg_fed(m);
}

void smtp_msg_gap(struct smtp_msg *m, size_t n)
{
	m->tx->flags |= SMTP_TX_F_GAP;
	if (m->ended)
		return;
	mime_gap(&m->mime, n);
	msg_fed(m);
}

void smtp_msg_end(struct smtp_msg *m)
{
	if (m->ended)
		return;
	mime_end(&m->mime);
	m->ended = true;
	msg_fed(m);
}

bool smtp_msg_in_headers(const struct smtp_msg *m)
{
	return !m->ended && mime_in_headers(&m->mime);
}

void smtp_msg_stats(const struct smtp_msg *m, struct smtp_msg_stats *out)
{
	const struct mime_stats *s = &m->mime.stats;

	*out = (struct smtp_msg_stats){
		.parts = s->parts,
		.opaque_parts = s->opaque,
		.fields_cut = s->fields_cut,
		.boundary_too_long = s->boundary_too_long,
		.hdr_bytes_skipped = s->hdr_bytes_skipped,
		.b64_invalid = s->b64_invalid,
		.qp_invalid = s->qp_invalid,
		.urls = m->url.found,
		.urls_cut = m->url.cut_count,
		.gaps = s->gaps,
	};
}
