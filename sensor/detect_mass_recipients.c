// SPDX-License-Identifier: BSD-3-Clause
/*
 * mass_recipients: one message whose To: and Cc: headers carry very many
 * addresses: the Bcc mistake (a leak of a customer list) or a spammer's
 * lazy kit. Counted from the headers, stored or not, so a list longer than
 * the record keeps still counts. Per message; the account is the AUTH user
 * when there was one. A home mail server passing on a message it received
 * from another host (the Received: path goes on past the client) is not its
 * sender: the copy it relays names the same leak again, on the server.
 */
#include <string.h>

#include "sensor/detect_int.h"

void detect_mass_recipients_init(struct detect_engine *de, const struct detect_cfg *cfg)
{
	de->p.mr_min_addresses =
		(uint32_t)detect_param(cfg, ALERT_MASS_RECIPIENTS, "min_addresses");
}

void detect_mass_recipients_tx(struct detect_engine *de, const struct smtp_tx *tx,
			       const struct host *c)
{
	uint64_t n = (uint64_t)tx->n_to + tx->n_cc;
	const struct smtp_str *us = &tx->f[SMTP_F_AUTH_USER];
	char user[ALERT_ACCOUNT_MAX] = "";
	struct alert *a;

	if (!de->on[ALERT_MASS_RECIPIENTS] || n < de->p.mr_min_addresses)
		return;
	/* path[0], path[1]: server and client; more: Received: hops before it. */
	if (tx->n_path > 2 && (c->flags & HOST_F_HOME) && detect_is_mail_server(de, c))
		return;
	if (tx->auth_result == SMTP_AUTH_SUCCESS && us->len)
		snprintf(user, sizeof(user), "%.*s", (int)us->len, smtp_tx_str(tx, *us));
	a = detect_alert_begin(de, ALERT_MASS_RECIPIENTS, tx->family, &tx->orig_h, user, tx->ts_ns);
	alert_add_counter(a, "header_addresses", (double)n, de->p.mr_min_addresses, 0);
	alert_add_counter(a, "to", tx->n_to, 0, 0);
	alert_add_counter(a, "cc", tx->n_cc, 0, 0);
	if (tx->f[SMTP_F_MAILFROM].len)
		alert_add_example(a, "mailfrom", smtp_tx_str(tx, tx->f[SMTP_F_MAILFROM]),
				  tx->f[SMTP_F_MAILFROM].len);
	if (tx->f[SMTP_F_SUBJECT].len)
		alert_add_example(a, "subject", smtp_tx_str(tx, tx->f[SMTP_F_SUBJECT]),
				  tx->f[SMTP_F_SUBJECT].len);
	for (unsigned int i = 0; i < tx->n_to_stored && i < 2; i++)
		alert_add_example(a, "to", smtp_tx_str(tx, tx->to[i]), tx->to[i].len);
	alert_add_uid(a, tx->uid);
	snprintf(a->message, sizeof(a->message),
		 "mass recipients: one message with %llu addresses in To/Cc (%u To, %u Cc)",
		 (unsigned long long)n, tx->n_to, tx->n_cc);
	detect_alert_fire(de, a, NULL);
}
