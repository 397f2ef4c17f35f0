// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz_sigs_file: the rules-file parser. The first byte says where to cut the
 * rest into two "files" parsed into one set (ids must stay unique across
 * them). Every rule that comes out must be well formed, and an error must
 * name its file. Hyperscan is not called: the parser is what reads the file.
 * Seeds: tests/fuzz/seeds/sigs_file/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/alert.h"
#include "sensor/event.h"
#include "sensor/sigs_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void fuzz_check_rule(const struct sigs_file *sf, const struct sigs_file_rule *r)
{
	if (r->id == 0 || r->scope >= EV_SCOPE_COUNT || r->sig_class >= EV_SIGCLASS_COUNT ||
	    r->severity > ALERT_SEV_CRITICAL || r->flags > 15 || !r->pattern || !r->pattern[0] ||
	    !r->msg || !r->msg[0] || !r->file || r->line == 0)
		abort();
	if (r->header && (r->scope != EV_SCOPE_HEADER || !r->header[0]))
		abort();
	for (const char *c = r->header; c && *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			abort();
	if (r->n_examples && (uint64_t)r->first_example + r->n_examples > sf->n_examples)
		abort();
	for (uint32_t k = 0; k < r->n_examples; k++)
		if (strlen(sf->examples[r->first_example + k].text) !=
		    sf->examples[r->first_example + k].len)
			abort();
}

/* Ids are unique across both files. */
static void fuzz_check_ids(const struct sigs_file *sf)
{
	uint32_t *ids;

	if (sf->n_rules < 2)
		return;
	ids = malloc(sf->n_rules * sizeof(*ids));
	if (!ids)
		return;
	for (uint32_t i = 0; i < sf->n_rules; i++)
		ids[i] = sf->rules[i].id;
	qsort(ids, sf->n_rules, sizeof(*ids), fuzz_cmp_u32);
	for (uint32_t i = 1; i < sf->n_rules; i++)
		if (ids[i] == ids[i - 1])
			abort();
	free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sigs_file sf;
	struct errbuf eb;
	size_t cut;
	int err;

	if (size == 0)
		return 0;
	cut = size > 1 ? (size_t)data[0] * (size - 1) / 255 : 0;
	data++;
	size--;
	sigs_file_init(&sf);
	eb.msg[0] = '\0';
	err = sigs_file_parse(&sf, "a.rules", (const char *)data, cut, &eb);
	if (err && strncmp(eb.msg, "a.rules:", 8) != 0)
		abort();
	if (!err) {
		err = sigs_file_parse(&sf, "b.rules", (const char *)data + cut, size - cut, &eb);
		if (err && strncmp(eb.msg, "b.rules:", 8) != 0)
			abort();
	}
	for (uint32_t i = 0; i < sf.n_rules; i++)
		fuzz_check_rule(&sf, &sf.rules[i]);
	fuzz_check_ids(&sf);
	sigs_file_fini(&sf);
	return 0;
}
