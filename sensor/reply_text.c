// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/reply_text.h"

#include <stdbool.h>
#include <string.h>

/*
 * Phrases seen in real rejections. Blocklists: Spamhaus/Postfix
 * "blocked using zen.spamhaus.org", Exim "is listed at", Microsoft "on our
 * block list (S3150)" and "banned sending IP", Proofpoint/Barracuda/
 * SpamCop/SORBS/UCEPROTECT names. They are checked before the relay phrases
 * because a blocklist rejection often carries 5.7.1 as well, and lists of
 * open relays name "relays" themselves.
 */
static const char *const blocklist_phrases[] = {
	"spamhaus",
	"blocked using",
	"listed at",
	"listed in",
	"listed on",
	"blacklist",
	"blocklist",
	"block list",
	"black list",
	"dnsbl",
	"rbl",
	"spamcop",
	"sorbs",
	"barracuda",
	"abuseat",
	"uceprotect",
	"psbl",
	"mailspike",
	"banned sending ip",
	"ip reputation",
	"poor reputation",
	"s3150",
	"proofpoint",
};

/* Postfix "Relay access denied", Sendmail "Relaying denied", Exim "relay not
 * permitted", Exchange "Unable to relay": all name relaying. */
static const char *const relay_phrases[] = {"relay"};

static const char *const unknown_phrases[] = {
	"user unknown",	     "unknown user",	    "no such user",	 "no such mailbox",
	"does not exist",    "doesn't exist",	    "not exist",	 "invalid recipient",
	"invalid mailbox",   "mailbox unavailable", "mailbox not found", "user not found",
	"recipient unknown", "unknown recipient",   "address unknown",	 "no mailbox",
};

static bool has_any(const char *low, size_t n, const char *const *ph, size_t nph)
{
	for (size_t i = 0; i < nph; i++)
		if (memmem(low, n, ph[i], strlen(ph[i])))
			return true;
	return false;
}

#define HAS(low, n, tab) has_any(low, n, tab, sizeof(tab) / sizeof(tab[0]))

static bool enh_is(const struct reply_code *rc, uint8_t c, uint8_t s, uint16_t d)
{
	return rc->enh_class == c && rc->enh_subject == s && rc->enh_detail == d;
}

enum reply_text_class reply_text_classify(const struct reply_code *rc, const char *text, size_t len)
{
	char low[512];

	if (rc->code < 400 || rc->code > 599)
		return REPLY_TEXT_NONE;
	if (len > sizeof(low))
		len = sizeof(low);
	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		low[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	/* A 5.1.x code is about the address whatever the text says (Domino:
	 * "User not listed in public Name & Address Book"). */
	if (rc->code >= 500 && rc->enh_class == 5 && rc->enh_subject == 1 &&
	    (rc->enh_detail == 1 || rc->enh_detail == 0 || rc->enh_detail == 6))
		return REPLY_TEXT_USER_UNKNOWN;
	if (HAS(low, len, blocklist_phrases))
		return REPLY_TEXT_BLOCKLIST;
	/* 5.7.54 / 5.7.64: Exchange and Microsoft 365 relay refusals. */
	if (HAS(low, len, relay_phrases) || enh_is(rc, 5, 7, 54) || enh_is(rc, 5, 7, 64) ||
	    (enh_is(rc, 5, 7, 1) && len == 0))
		return REPLY_TEXT_RELAY_DENIED;
	/* No enhanced code (or a vague one): the text must say it. */
	if (rc->code >= 550 && rc->code <= 553 &&
	    (rc->enh_class == 0 || (rc->enh_subject == 0 && rc->enh_detail == 0)) &&
	    HAS(low, len, unknown_phrases))
		return REPLY_TEXT_USER_UNKNOWN;
	return REPLY_TEXT_NONE;
}
