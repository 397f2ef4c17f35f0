#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# afxdp_passthrough.sh: while the XDP pre-filter is attached, the host behind the interface
# keeps working for everything that is not SMTP. The sensor's tap end gets addresses; from
# the router: ping (IPv4, IPv6) and an HTTP request to a server in the sensor's namespace must
# succeed, while a connection to port 25 there must not (its SYN goes to the AF_XDP socket,
# which is the point). After the sensor exits, port 25 answers again. stats.json must count
# the frames under the right verdicts.
#
# usage: afxdp_passthrough.sh RELAYWATCH	(exit 77 when not root or a tool is missing)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
RELAYWATCH=${1:-${RELAYWATCH:-}}
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/e2e/afxdp_common.sh
. "$here/afxdp_common.sh"
AFX_BIN=$RELAYWATCH

afx_init ping
afx_tap_add 1
rw_rexec ip addr add 203.0.113.1/24 dev "$AFX_TAP" || rw_die "router tap address"
rw_rexec ip -6 addr add 2001:db8:3::1/64 dev "$AFX_TAP" nodad || rw_die "router tap address6"
rw_exec sensor ip addr add 203.0.113.2/24 dev "$AFX_TAP_S" || rw_die "sensor tap address"
rw_exec sensor ip -6 addr add 2001:db8:3::2/64 dev "$AFX_TAP_S" nodad ||
	rw_die "sensor tap address6"

# Two small servers in the sensor's namespace: HTTP on 8080, a banner on 25.
rw_bg sensor "$RW_TMP/http.log" python3 -m http.server 8080 --bind 203.0.113.2 --directory "$RW_TMP"
rw_bg sensor "$RW_TMP/smtp.log" python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("203.0.113.2", 25))
s.listen(8)
s.settimeout(120)
while True:
    c, _ = s.accept()
    c.sendall(b"220 sensor-host ESMTP\r\n")
    c.close()'
rw_wait_listen sensor 8080 || rw_die "http server did not start"
rw_wait_listen sensor 25 || rw_die "banner server did not start"

http_get()
{
	# shellcheck disable=SC2016 # expanded by the inner bash
	rw_rexec timeout 5 bash -c 'exec 3<>/dev/tcp/203.0.113.2/8080 || exit 1
		printf "GET / HTTP/1.0\r\n\r\n" >&3; IFS= read -r -t 4 line <&3; echo "$line"'
}

banner()
{
	# shellcheck disable=SC2016 # expanded by the inner bash
	rw_rexec timeout 3 bash -c 'exec 3<>/dev/tcp/203.0.113.2/25 || exit 1
		IFS= read -r -t 2 line <&3; echo "$line"' 2>/dev/null
}

banner | grep '^220 ' >/dev/null || rw_die "port 25 does not answer before the sensor runs"

live="$RW_TMP/live"
afx_sensor_start "$live"
rw_rexec ping -c 3 -i 0.2 -W 2 -q 203.0.113.2 >/dev/null || rw_die "IPv4 ping blocked by XDP"
rw_rexec ping -6 -c 3 -i 0.2 -W 2 -q 2001:db8:3::2 >/dev/null || rw_die "IPv6 ping blocked by XDP"
http_get | grep '^HTTP/1.0 200' >/dev/null || rw_die "HTTP to port 8080 blocked by XDP"
# SMTP must not reach the kernel: the handshake cannot complete.
if banner | grep '^220 ' >/dev/null; then
	rw_die "port 25 answered while the pre-filter was attached"
fi
afx_sensor_stop TERM
afx_assert_detached
banner | grep '^220 ' >/dev/null || rw_die "port 25 does not answer after the sensor exited"

st="$live/stats.json"
[[ $(afx_stat "$st" xdp not_tcp) -ge 6 ]] || rw_die "ICMP not counted as not_tcp: $(cat "$st")"
[[ $(afx_stat "$st" xdp not_smtp) -ge 4 ]] || rw_die "HTTP not counted as not_smtp"
[[ $(afx_stat "$st" xdp redirected) -ge 1 ]] || rw_die "the SYN to port 25 was not redirected"
[[ $(afx_stat "$st" packets) -ge 1 ]] || rw_die "the workers did not see the SYN to port 25"
[[ $(afx_stat "$st" xdp no_socket) == 0 ]] || rw_die "frames passed for want of a socket"
rw_log "PASS: ping, ping6 and HTTP passed; SMTP redirected; port 25 answers again after exit"
