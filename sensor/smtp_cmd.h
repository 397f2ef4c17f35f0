/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smtp_cmd: parses one client command line (RFC 5321 verbs, MAIL/RCPT
 * paths and parameters, BDAT chunk sizes) and one server reply line (code,
 * continuation, RFC 3463 enhanced status code). Pure functions over a line
 * the caller owns: results point into it. No state, any thread.
 */
#ifndef RELAYWATCH_SENSOR_SMTP_CMD_H
#define RELAYWATCH_SENSOR_SMTP_CMD_H

#include <stdbool.h>
#include <stdint.h>

enum smtp_verb {
	SMTP_VERB_NONE = 0, /* empty line */
	SMTP_VERB_HELO,
	SMTP_VERB_EHLO,
	SMTP_VERB_AUTH,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_BDAT,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_QUIT,
	SMTP_VERB_HELP,
	SMTP_VERB_UNKNOWN,
	SMTP_VERB_COUNT
};

struct smtp_cmd {
	uint8_t verb;	    /* enum smtp_verb */
	bool strict;	    /* exactly the RFC form: trusted where the stream position is unsure */
	const uint8_t *arg; /* after the verb and its spaces, trailing blanks trimmed */
	uint32_t arg_len;

	/* MAIL FROM: / RCPT TO: */
	bool path_ok;	     /* the FROM:/TO: keyword was there */
	bool null_path;	     /* <> */
	const uint8_t *addr; /* without <> and source route */
	uint32_t addr_len;
	const uint8_t *params; /* SIZE=, BODY=, AUTH=, ORCPT=, ... */
	uint32_t params_len;

	/* BDAT <size> [LAST] */
	bool bdat_ok; /* size parsed and nothing else but LAST after it */
	bool bdat_last;
	uint64_t bdat_size;
};

/* Always fills *out; returns the verb. */
enum smtp_verb smtp_cmd_parse(const uint8_t *line, uint32_t n, struct smtp_cmd *out);
const char *smtp_verb_name(enum smtp_verb v);

struct smtp_reply {
	uint16_t code;	   /* 100..599 */
	bool more;	   /* NNN-text: more lines follow */
	uint8_t enh_class; /* 2, 4 or 5; 0: no enhanced status code */
	uint8_t enh_subject;
	uint16_t enh_detail;
	const uint8_t *text; /* after the code, separator and blanks (as Zeek logs it) */
	uint32_t text_len;
	/* "NNN ": the code's digits and a blank, how last_reply starts. In the
	 * tail padding: the parser has the digits at hand, and formatting
	 * them again from code cost some 25 instructions a reply. */
	char head[4];
};

/* false: not a reply line (no three-digit code in range). */
bool smtp_reply_parse(const uint8_t *line, uint32_t n, struct smtp_reply *out);

#endif /* RELAYWATCH_SENSOR_SMTP_CMD_H */
