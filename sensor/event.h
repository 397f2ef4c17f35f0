/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * event: what workers tell the detector thread. Compact value records with
 * no pointers, written in place into the worker's msgring (one producer:
 * the worker; one consumer: the detector). Every event starts with the same
 * header naming the connection; the body depends on the type. A transaction
 * record (EV_TX) carries a struct smtp_tx cut to its used size.
 *
 * When the ring is full a live sensor drops the event and counts it (the
 * worker never waits on the detector); an offline run waits instead, since
 * nothing is lost by reading a file more slowly.
 */
#ifndef RELAYWATCH_SENSOR_EVENT_H
#define RELAYWATCH_SENSOR_EVENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/msgring.h"
#include "dataplane/flow.h"
#include "dataplane/pkt.h"
#include "sensor/smtp_tx.h"

enum event_type {
	EV_SESSION_OPEN = 1, /* first SMTP bytes of a connection */
	EV_BANNER = 2,	     /* server greeted with 2xx/5xx: it speaks SMTP */
	EV_AUTH = 3,	     /* one AUTH exchange finished */
	EV_RCPT = 4,	     /* one RCPT TO and its reply */
	EV_REPLY = 5,	     /* a 4xx/5xx reply worth keeping (text for blocklist matching) */
	EV_SIG = 6,	     /* Hyperscan signature match */
	EV_TX = 7,	     /* transaction or session record (struct smtp_tx) */
	EV_SESSION_CLOSE = 8,
	EV_TYPE_COUNT
};

#define EVENT_ADDR_MAX 128
#define EVENT_USER_MAX 128
#define EVENT_TEXT_MAX 256
#define EVENT_MECH_MAX 24

struct event_hdr {
	uint16_t type; /* enum event_type */
	uint16_t worker;
	uint32_t len;	/* whole event, header included */
	uint64_t ts_ns; /* packet time */
	uint64_t seq;	/* per worker, for ordering and loss accounting */
	/* The flow's first packet time: with the ends below, what its uid is
	 * made of. Workers leave uid empty (a session would have to keep it,
	 * or format it for every event); event_fill_uid() makes it where the
	 * event is read. */
	uint64_t first_ns;
	char uid[FLOW_UID_LEN + 1];
	uint8_t family;
	union pkt_addr client;
	union pkt_addr server;
	uint16_t client_port;
	uint16_t server_port;
	uint16_t vlan;
	uint16_t pad;
};

struct event_session_open {
	struct event_hdr h;
	uint8_t midstream;    /* handshake not seen */
	uint8_t implicit_tls; /* port 465 */
	uint8_t proxied;      /* inside an HTTP CONNECT tunnel */
	uint8_t pad[5];
};

struct event_banner {
	struct event_hdr h;
	uint16_t code; /* 220, 421, 554 ... */
	uint16_t text_len;
	char text[EVENT_TEXT_MAX];
};

struct event_auth {
	struct event_hdr h;
	uint8_t result; /* enum smtp_auth_result */
	uint8_t pad;
	uint16_t code; /* final reply code */
	uint16_t user_len;
	uint16_t mech_len;
	char mech[EVENT_MECH_MAX];
	char user[EVENT_USER_MAX]; /* user name only; never the password */
};

struct event_rcpt {
	struct event_hdr h;
	uint16_t code;
	uint8_t enh_class, enh_subject;
	uint16_t enh_detail;
	uint8_t authenticated; /* session had a successful AUTH */
	uint8_t tls;
	uint16_t mailfrom_len;
	uint16_t rcpt_len;
	uint16_t text_len;
	uint16_t pad;
	uint32_t trans_depth;
	char mailfrom[EVENT_ADDR_MAX];
	char rcpt[EVENT_ADDR_MAX];
	char text[EVENT_TEXT_MAX]; /* reply text after the code */
};

/* The command a reply answered. */
enum event_cmd {
	EV_CMD_NONE = 0,
	EV_CMD_BANNER,
	EV_CMD_HELO,
	EV_CMD_EHLO,
	EV_CMD_AUTH,
	EV_CMD_MAIL,
	EV_CMD_RCPT,
	EV_CMD_DATA,
	EV_CMD_DATA_END,
	EV_CMD_BDAT,
	EV_CMD_RSET,
	EV_CMD_VRFY,
	EV_CMD_EXPN,
	EV_CMD_STARTTLS,
	EV_CMD_QUIT,
	EV_CMD_NOOP,
	EV_CMD_OTHER,
};

struct event_reply {
	struct event_hdr h;
	uint16_t code;
	uint8_t enh_class, enh_subject;
	uint16_t enh_detail;
	uint8_t cmd; /* enum event_cmd: what it answered */
	uint8_t authenticated;
	uint32_t trans_depth;
	uint16_t text_len;
	uint16_t pad;
	char text[EVENT_TEXT_MAX];
};

enum event_sig_scope {
	EV_SCOPE_COMMAND = 0,
	EV_SCOPE_REPLY = 1,
	EV_SCOPE_HEADER = 2,
	EV_SCOPE_BODY = 3,
	EV_SCOPE_URL = 4,
	EV_SCOPE_COUNT
};

/* What a signature means to the detectors (rules files say it per signature). */
enum event_sig_class {
	EV_SIGCLASS_OTHER = 0,
	EV_SIGCLASS_BLOCKLIST = 1,    /* reply names a DNSBL / provider block: blocklisted */
	EV_SIGCLASS_RELAY_DENIED = 2, /* reply refuses relaying: relay_probe evidence */
	EV_SIGCLASS_SPAM = 3,	      /* spam phrases */
	EV_SIGCLASS_PHISH = 4,	      /* phishing phrases and URL shapes */
	EV_SIGCLASS_MAILER = 5,	      /* spam-kit X-Mailer / command quirks */
	EV_SIGCLASS_USER_UNKNOWN = 6, /* reply says the mailbox does not exist */
	EV_SIGCLASS_COUNT
};

struct event_sig {
	struct event_hdr h;
	uint32_t sig_id;
	uint8_t scope; /* enum event_sig_scope */
	uint8_t severity;
	uint16_t snippet_len;
	uint32_t trans_depth;
	uint16_t reply_code; /* scope REPLY: the code of the matched reply */
	uint8_t authenticated;
	uint8_t sig_class;	      /* enum event_sig_class */
	char snippet[EVENT_TEXT_MAX]; /* the matched line or URL, cut */
};

struct event_session_close {
	struct event_hdr h;
	uint64_t bytes_to_server;
	uint64_t bytes_to_client;
	uint64_t duration_ns;
	uint32_t transactions;
	uint32_t commands;
	uint32_t unknown_cmds;
	uint32_t auth_attempts;
	uint32_t auth_failures;
	uint32_t rcpt_total;
	uint32_t rcpt_rejected;
	uint8_t tls;
	uint8_t end_reason; /* enum flow_end */
	uint8_t saw_banner; /* a server reply came back */
	uint8_t one_sided;
};

/* EV_TX: only tx.wire_size bytes of the record are copied. */
struct event_tx {
	struct event_hdr h;
	struct smtp_tx tx;
};

/* Where a worker's events go. Owned by the worker's L7 context. */
struct event_sink {
	struct msgring *ring;
	uint16_t worker;
	bool wait_when_full; /* offline: wait for the detector instead of dropping */
	_Atomic bool *abort; /* set when the consumer is gone: stop waiting */
	uint64_t seq;
	uint64_t dropped; /* events lost to a full ring */
	uint64_t emitted;
};

/*
 * Reserve an event of `len` bytes (the struct of that type, or more for
 * EV_TX), fill its header from `h` (type, len and seq are set here) and
 * return it for the body to be written. h NULL: the whole event is zeroed
 * instead (header, body and padding), for a builder that writes its fields
 * in place rather than in a header it would copy. NULL when the ring is full
 * and the sink drops. event_commit() publishes it.
 */
void *event_begin(struct event_sink *s, enum event_type type, uint32_t len,
		  const struct event_hdr *h);
/*
 * event_begin() without a header, for a body the caller writes whole: only
 * the first `zero` bytes (the header and what precedes the copied part) are
 * zeroed. An EV_TX record copies its transaction over the rest, and zeroing
 * those 2 KB first was a tenth of the event's cost.
 */
void *event_begin_head(struct event_sink *s, enum event_type type, uint32_t len, uint32_t zero);
void event_commit(struct event_sink *s);

/*
 * The uids made last, by the flow fields they are made of: a session's
 * events (about seven) then pay for its hash and base-62 digits once, not
 * each time (about 400 instructions). Direct-mapped; a miss only costs.
 */
#define EVENT_UID_CACHE 4096 /* power of two */

struct event_uid_cache {
	struct {
		uint64_t w[6]; /* first_ns, client, server, ports|vlan|family (0: empty) */
		char uid[FLOW_UID_LEN];
	} e[EVENT_UID_CACHE];
};

/*
 * Make the uid of an event read off a worker's ring (len: its length, as
 * checked by the reader), and copy it into the record of an EV_TX. An
 * event with no flow (family 0) or a uid already set is left as it is.
 * cache may be NULL.
 */
void event_fill_uid(struct event_uid_cache *cache, struct event_hdr *h, uint32_t len);

/* Copy at most cap-1 bytes and return the length kept. */
uint16_t event_copy_text(char *dst, size_t cap, const void *src, size_t n);

const char *event_type_name(enum event_type t);

#endif /* RELAYWATCH_SENSOR_EVENT_H */
