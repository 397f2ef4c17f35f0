// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/alert.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[ALERT_KIND_COUNT] = {
#define ALERT_X_NAME(name, str) [ALERT_##name] = str,
	ALERT_KINDS(ALERT_X_NAME)
#undef ALERT_X_NAME
};

static const char *const sev_names[] = {
	[ALERT_SEV_INFO] = "info", [ALERT_SEV_LOW] = "low",	      [ALERT_SEV_MEDIUM] = "medium",
	[ALERT_SEV_HIGH] = "high", [ALERT_SEV_CRITICAL] = "critical",
};

const char *alert_kind_name(enum alert_kind k)
{
	return (unsigned int)k < ALERT_KIND_COUNT ? kind_names[k] : "unknown";
}

int alert_kind_from_name(const char *name)
{
	for (int k = 0; k < ALERT_KIND_COUNT; k++)
		if (strcmp(kind_names[k], name) == 0)
			return k;
	return -1;
}

const char *alert_severity_name(enum alert_severity s)
{
	return (unsigned int)s <= ALERT_SEV_CRITICAL ? sev_names[s] : "unknown";
}

int alert_severity_from_name(const char *name)
{
	for (int s = 0; s <= ALERT_SEV_CRITICAL; s++)
		if (strcmp(sev_names[s], name) == 0)
			return s;
	return -1;
}

void alert_add_counter(struct alert *a, const char *name, double value, double threshold,
		       uint32_t window_s)
{
	struct alert_counter *c;

	if (a->n_counters >= ALERT_MAX_COUNTERS)
		return;
	c = &a->counters[a->n_counters++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->value = value;
	c->threshold = threshold;
	c->window_s = window_s;
}

void alert_add_example(struct alert *a, const char *field, const char *value, size_t len)
{
	struct alert_example *e;

	if (a->n_examples >= ALERT_MAX_EXAMPLES)
		return;
	/* the same value twice says nothing more */
	for (uint32_t i = 0; i < a->n_examples; i++)
		if (strcmp(a->examples[i].field, field) == 0 &&
		    strlen(a->examples[i].value) == len &&
		    memcmp(a->examples[i].value, value, len) == 0)
			return;
	e = &a->examples[a->n_examples++];
	snprintf(e->field, sizeof(e->field), "%s", field);
	if (len >= sizeof(e->value))
		len = sizeof(e->value) - 1;
	memcpy(e->value, value, len);
	e->value[len] = '\0';
}

void alert_add_uid(struct alert *a, const char *uid)
{
	if (a->n_uids >= ALERT_MAX_UIDS)
		return;
	for (uint32_t i = 0; i < a->n_uids; i++)
		if (strcmp(a->uids[i], uid) == 0)
			return;
	snprintf(a->uids[a->n_uids++], FLOW_UID_LEN + 1, "%s", uid);
}
