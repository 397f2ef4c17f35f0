// SPDX-License-Identifier: BSD-3-Clause
/*
 * decode on two real captures from tests/corpus, whose counts were checked
 * with tshark. The frame helpers are decode_fx.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <stdio.h>

#include <pcap/pcap.h>

#include "dataplane/decode.h"
#include "decode_fx.h"
#include "pkt_build.h"

/* ---- real captures ---- */

static pcap_t *open_capture(const char *rel)
{
	char path[512], err[PCAP_ERRBUF_SIZE];
	pcap_t *pc;

	snprintf(path, sizeof(path), "%s/%s", TEST_CORPUS_DIR, rel);
	pc = pcap_open_offline(path, err);
	if (!pc)
		fail_msg("%s: %s", path, err);
	return pc;
}

/* Decode every frame of an Ethernet capture into one stats block. */
static void decode_capture(const char *rel, struct decode_stats *sum, uint64_t *payload_bytes)
{
	pcap_t *pc = open_capture(rel);
	struct pcap_pkthdr *h;
	const u_char *data;

	assert_int_equal(pcap_datalink(pc), DLT_EN10MB);
	memset(sum, 0, sizeof(*sum));
	*payload_bytes = 0;
	while (pcap_next_ex(pc, &h, &data) == 1) {
		struct pkt p = {.data = data,
				.len = h->caplen,
				.wire_len = h->len,
				.link = PKT_LINK_ETHERNET};
		struct pkt_meta m;

		if (decode_pkt(&cfg, &p, &m, sum) == DECODE_OK)
			*payload_bytes += m.payload_len;
	}
	pcap_close(pc);
}

/* tshark: 69 frames, all TCP; 33 IPv6 in VLAN 125, 36 untagged IPv4 whose
 * checksums were offloaded (wrong); 45 segments carry 9842 payload bytes. */
static void test_decode_capture_smtp_starttls_vlan_ipv6(void **state)
{
	static const char rel[] = "nDPI/tests/cfgs/default/pcap/smtp-starttls.pcap";
	struct decode_stats st;
	uint64_t bytes;

	(void)state;
	decode_capture(rel, &st, &bytes);
	assert_int_equal(st.pkts, 69);
	assert_int_equal(st.ok, 69);
	assert_int_equal(st.ipv6, 33);
	assert_int_equal(st.vlan, 33);
	assert_int_equal(st.ipv4, 36);
	assert_int_equal(bytes, 9842);

	cfg.verify_checksums = true;
	decode_capture(rel, &st, &bytes);
	assert_int_equal(st.ok, 33);
	assert_int_equal(st.reason[DECODE_R_BAD_IP_CHECKSUM], 36);
}

/* tshark: one BSD-loopback frame, 127.0.0.1:51009 → :8000, 169 payload bytes,
 * IP checksum 0 (offloaded). */
static void test_decode_capture_smtp_html_null_link(void **state)
{
	pcap_t *pc = open_capture("arkime/tests/pcap/smtp-html.pcap");
	struct fx *f = *state;
	struct pcap_pkthdr *h;
	const u_char *data;

	assert_int_equal(pcap_datalink(pc), DLT_NULL);
	assert_int_equal(pcap_next_ex(pc, &h, &data), 1);
	assert_reason(decode_wire(data, h->caplen, h->len, PKT_LINK_NULL, &f->m, &f->st), R_OK);
	assert_addr(&f->m.src, "127.0.0.1");
	assert_int_equal(f->m.sport, 51009);
	assert_int_equal(f->m.dport, 8000);
	assert_int_equal(f->m.seq, 462905074);
	assert_int_equal(f->m.ack, 1881063790);
	assert_int_equal(f->m.win, 6379);
	assert_int_equal(f->m.payload_len, 169);
	cfg.verify_checksums = true;
	assert_reason(decode_wire(data, h->caplen, h->len, PKT_LINK_NULL, &f->m, &f->st),
		      DECODE_R_BAD_IP_CHECKSUM);
	assert_int_equal(pcap_next_ex(pc, &h, &data), -2);
	pcap_close(pc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_decode_capture_smtp_starttls_vlan_ipv6),
		T(test_decode_capture_smtp_html_null_link),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
