#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The HTML relay report in a real browser (Debian's chromium, headless, fresh
# profile, no background networking): the page the `report --format html`
# command writes and the one the collector serves at / both load without a
# single console message (errors, CSP refusals) and show the expected hosts
# in rank order with a timeline each. A deliberately broken page first proves
# the console check can fail.
#
# usage: collector_html.sh RELAYWATCH_COLLECTOR
set -uo pipefail
. "$(dirname "$0")/collector_lib.sh"
cl_init "${1:-}"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[[ -n $CHROMIUM ]] || cl_skip "missing tool: chromium (Debian package chromium)"

# render URL NAME: the DOM after scripts ran in $CL_TMP/NAME.dom, the browser log in NAME.log.
render()
{
	local url=$1 name=$2
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
		--disable-background-networking --disable-component-update --disable-sync \
		--no-first-run --no-default-browser-check --user-data-dir="$CL_TMP/profile-$name" \
		--enable-logging=stderr --v=0 --dump-dom "$url" \
		>"$CL_TMP/$name.dom" 2>"$CL_TMP/$name.log" || cl_die "chromium failed on $url"
}

# Any console output at all (the report logs nothing) is an error.
console_clean()
{
	! grep -E ':CONSOLE[:(]|Uncaught|Refused to' "$CL_TMP/$1.log"
}

printf '<!DOCTYPE html><html><body><p>x</p><script>nosuch();</script></body></html>\n' \
	>"$CL_TMP/broken.html"
render "file://$CL_TMP/broken.html" broken
console_clean broken >/dev/null && cl_die "the console check does not see a script error"

cl_start --db "sqlite:$CL_TMP/c.db" --plaintext
addr=127.0.0.1:$CL_PORT
cl_client send "$addr" --sensor tap-h1 --run 0000000000000001 --alerts 5 >/dev/null ||
	cl_die "frames not acked"
cl_client send "$addr" --sensor tap-h2 --run 0000000000000002 --alerts 2 --summaries 3 \
	--blocklist 4 >/dev/null || cl_die "frames not acked"
cl_client send "$addr" --sensor tap-h2 --run 0000000000000002 --first-seq 6 --txs 2 \
	>/dev/null || cl_die "frames not acked"

"$CL_BIN" report --db "sqlite:$CL_TMP/c.db" --format html --output "$CL_TMP/report.html" ||
	cl_die "report --format html failed"
"$CL_BIN" report --db "sqlite:$CL_TMP/c.db" --format json --output "$CL_TMP/report.json" ||
	cl_die "report --format json failed"
mapfile -t hosts < <("$CL_PY" -c '
import json, sys
for h in json.load(open(sys.argv[1]))["hosts"]:
    print(h["host"])' "$CL_TMP/report.json")
((${#hosts[@]} >= 5)) || cl_die "only ${#hosts[@]} hosts in the report"

check_dom()	# NAME
{
	local name=$1 h
	console_clean "$name" || cl_die "$name: console messages: $(grep -E 'CONSOLE|Uncaught|Refused' "$CL_TMP/$name.log")"
	"$CL_PY" - "$CL_TMP/$name.dom" "${hosts[@]}" <<'EOF' || cl_die "$name: the page does not show the hosts"
import re, sys
dom = open(sys.argv[1]).read()
hosts = sys.argv[2:]
rows = re.findall(r'<tr data-host="(\d+)"[^>]*>.*?<a href="#h\d+">([^<]+)</a>', dom)
assert [h for _, h in rows] == hosts, (rows, hosts)
for i, h in enumerate(hosts, 1):
    assert re.search(r'<section class="host" id="h%d"' % i, dom), h
assert dom.count('<svg class="timeline"') >= len(hosts), "a timeline per host"
assert "Hosts relaying spam" in dom
EOF
	cl_log "$name: ${#hosts[@]} hosts in rank order, timelines, no console message"
}

render "file://$CL_TMP/report.html" file
check_dom file
render "http://127.0.0.1:$CL_HTTP/" served
check_dom served
cl_log "PASS"
