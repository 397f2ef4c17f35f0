// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/sigs_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"

void sigs_set_free(struct sigs_set *set)
{
	for (unsigned int i = 0; i < EV_SCOPE_COUNT; i++) {
		hs_free_database(set->db[i].db);
		hs_free_database(set->db[i].base);
		sigs_gate_free(set->db[i].line_gate);
		sigs_gate_free(set->db[i].url_any);
		sigs_gate_free(set->db[i].any_gate);
		for (unsigned int k = 0; k < SIGS_FIELD_NAMES; k++)
			sigs_gate_free(set->db[i].name_gate[k]);
		sigs_url_find_free(set->db[i].url_find);
		hs_free_database(set->db[i].mid);
		free(set->db[i].rules);
	}
	sigs_file_fini(&set->src);
	if (set->owner)
		atomic_fetch_sub(&set->owner->sets_live, 1);
	free(set);
}

void sigs_put(struct sigs_set *set)
{
	if (set && atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) == 1)
		sigs_set_free(set);
}

/* ---- the handle ---- */

int sigs_create(struct sigs **out)
{
	struct sigs *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	if (pthread_mutex_init(&s->lock, NULL)) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void sigs_destroy(struct sigs *s)
{
	if (!s)
		return;
	sigs_put(s->cur);
	s->cur = NULL;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct sigs_set *sigs_acquire(struct sigs *s)
{
	struct sigs_set *set;

	pthread_mutex_lock(&s->lock);
	set = s->cur;
	if (set)
		atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&s->lock);
	return set;
}

static int sigs_check_platform(struct errbuf *eb)
{
	if (hs_valid_platform() != HS_SUCCESS)
		return errbuf_set(eb, -ENOTSUP,
				  "signatures: Hyperscan %s needs a CPU with SSSE3 and this one "
				  "lacks it; content signatures are off",
				  hs_version());
	return 0;
}

static int sigs_publish_file(struct sigs *s, struct sigs_file *sf, uint64_t t0, struct errbuf *eb)
{
	struct sigs_set *set = NULL, *old;
	int err = sigs_set_build(s, sf, t0, &set, eb);

	if (err)
		return err;
	pthread_mutex_lock(&s->lock);
	old = s->cur;
	set->generation = atomic_load_explicit(&s->generation, memory_order_relaxed) + 1;
	s->cur = set;
	atomic_store_explicit(&s->generation, set->generation, memory_order_release);
	pthread_mutex_unlock(&s->lock);
	sigs_put(old);
	return 0;
}

int sigs_load(struct sigs *s, const char *const *paths, unsigned int n, struct errbuf *eb)
{
	uint64_t t0 = clock_mono_ns();
	struct sigs_file sf;
	int err = sigs_check_platform(eb);

	if (err)
		return err;
	sigs_file_init(&sf);
	for (unsigned int i = 0; !err && i < n; i++)
		err = sigs_file_read_path(&sf, paths[i], eb);
	if (err) {
		sigs_file_fini(&sf);
		return err;
	}
	return sigs_publish_file(s, &sf, t0, eb);
}

int sigs_load_text(struct sigs *s, const char *name, const char *text, size_t len,
		   struct errbuf *eb)
{
	uint64_t t0 = clock_mono_ns();
	struct sigs_file sf;
	int err = sigs_check_platform(eb);

	if (err)
		return err;
	sigs_file_init(&sf);
	err = sigs_file_parse(&sf, name, text, len, eb);
	if (err) {
		sigs_file_fini(&sf);
		return err;
	}
	return sigs_publish_file(s, &sf, t0, eb);
}

uint64_t sigs_generation(const struct sigs *s)
{
	return atomic_load_explicit(&s->generation, memory_order_acquire);
}

void sigs_info(struct sigs *s, struct sigs_info *out)
{
	struct sigs_set *set = sigs_acquire(s);

	memset(out, 0, sizeof(*out));
	if (set) {
		*out = set->info;
		out->generation = set->generation;
	}
	out->sets_live = atomic_load(&s->sets_live);
	sigs_put(set);
}

int sigs_rule_msg(struct sigs *s, uint32_t id, char *buf, size_t cap)
{
	struct sigs_set *set = sigs_acquire(s);
	int err = -ENOENT;

	for (uint32_t i = 0; set && i < set->src.n_rules; i++) {
		if (set->src.rules[i].id != id)
			continue;
		snprintf(buf, cap, "%s", set->src.rules[i].msg);
		err = 0;
		break;
	}
	sigs_put(set);
	return err;
}
