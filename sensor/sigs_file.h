/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sigs_file: the signature rules file parser (format: rules/README.md). Turns
 * text into rule records (id, scope, optional header name, class, severity,
 * flags, pattern, message) and keeps the "#+" / "#-" example lines that follow
 * each rule, so tests can prove every rule on real text. Knows nothing of
 * Hyperscan, so it can be fuzzed quickly; sigs.c compiles what it returns.
 *
 * Owns: the rule and example arrays and every string they point to, freed by
 * sigs_file_fini(). Control thread only.
 */
#ifndef RELAYWATCH_SENSOR_SIGS_FILE_H
#define RELAYWATCH_SENSOR_SIGS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"

#define SIGS_FILE_LINE_MAX   4096	/* bytes in one line, CR LF excluded */
#define SIGS_FILE_MAX_RULES  65536	/* rules in one loaded set */
#define SIGS_FILE_MAX_BYTES  (8u << 20) /* one rules file */
#define SIGS_FILE_HEADER_MAX 64		/* header name a header rule may name */

/* Pattern flags, written as letters in the file; sigs.c maps them to Hyperscan. */
enum sigs_file_flag {
	SIGS_F_CASELESS = 1 << 0,  /* i */
	SIGS_F_DOTALL = 1 << 1,	   /* s */
	SIGS_F_MULTILINE = 1 << 2, /* m */
	SIGS_F_UTF8 = 1 << 3,	   /* u */
};

struct sigs_file_example {
	const char *text; /* NUL-terminated, CR stripped */
	uint32_t len;
	uint32_t line;
	bool positive; /* "#+": must match; "#-": must not */
};

struct sigs_file_rule {
	uint32_t id;
	uint8_t scope;	     /* enum event_sig_scope */
	uint8_t sig_class;   /* enum event_sig_class */
	uint8_t severity;    /* enum alert_severity */
	uint8_t flags;	     /* enum sigs_file_flag */
	const char *header;  /* scope header: lower-case field name, NULL = any */
	const char *pattern; /* between the slashes, as written */
	const char *msg;     /* escapes resolved */
	const char *file;
	uint32_t line;
	uint32_t first_example; /* index into sigs_file.examples */
	uint32_t n_examples;
};

struct sigs_file {
	struct sigs_file_rule *rules;
	uint32_t n_rules, cap_rules;
	struct sigs_file_example *examples;
	uint32_t n_examples, cap_examples;
	char **strs; /* every string above, for fini */
	uint32_t n_strs, cap_strs;
	uint32_t *id_slots; /* open-addressing set of rule index + 1, by id */
	uint32_t id_cap;
};

void sigs_file_init(struct sigs_file *sf);
void sigs_file_fini(struct sigs_file *sf);

/*
 * Append the rules in text (len bytes, `name` for messages). Ids must be unique
 * across everything parsed into sf. On error returns -EINVAL (-ENOMEM, -E2BIG)
 * with "name:line: what" in eb; sf then holds only what came before the bad line.
 */
int sigs_file_parse(struct sigs_file *sf, const char *name, const char *text, size_t len,
		    struct errbuf *eb);
/* Read and parse one file (at most SIGS_FILE_MAX_BYTES). */
int sigs_file_read(struct sigs_file *sf, const char *path, struct errbuf *eb);
/* A file, or every *.rules file of a directory in name order. */
int sigs_file_read_path(struct sigs_file *sf, const char *path, struct errbuf *eb);

const char *sigs_file_scope_name(unsigned int scope);
const char *sigs_file_class_name(unsigned int sig_class);

#endif /* RELAYWATCH_SENSOR_SIGS_FILE_H */
