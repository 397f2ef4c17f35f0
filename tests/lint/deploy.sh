#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Checks of the operator files in deploy/ (meson suite lint; SKIP, exit 77,
# when the tool a check needs is missing):
#   deploy.sh rules SRC                 promtool: the example configuration, the
#                                       alert rules and their unit tests; every
#                                       alert fires in some unit test
#   deploy.sh systemd SRC SENSOR COLLECTOR
#                                       systemd-analyze verify of both units (with
#                                       ExecStart pointing at the built programs),
#                                       no warning allowed; every option the units
#                                       pass is one the program's --help lists
#   deploy.sh man SRC SENSOR            relaywatch(8) documents exactly the long
#                                       options of `relaywatch --help`; groff finds
#                                       nothing to warn about
set -uo pipefail
what=$1 src=$2
py=$(command -v /usr/bin/python3 || command -v python3)
tmp=$(mktemp -d /tmp/rw-deploy.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

need()
{
	command -v "$1" >/dev/null 2>&1 || { echo "SKIP: $1 is not installed"; exit 77; }
}

fail()
{
	echo "FAIL: $*"
	exit 1
}

check_rules()
{
	local d=$src/deploy/prometheus
	need promtool
	promtool check config "$d/prometheus.yml" || fail "promtool check config"
	promtool check rules "$d/relaywatch-rules.yml" || fail "promtool check rules"
	(cd "$d" && promtool test rules tests/*.yml) || fail "promtool test rules"
	"$py" "$src/tests/lint/deploy_check.py" covered "$d/relaywatch-rules.yml" "$d"/tests/*.yml
}

# unit_options UNIT: the long options in its ExecStart lines (continuations joined).
unit_options()
{
	sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$1" | grep '^ExecStart=' |
		grep -o -- '[[:space:]]--[a-z][a-z0-9-]*' | tr -d '[:space:]' | sed 's/--/\n--/g' |
		sed '/^$/d' | sort -u
}

check_systemd()
{
	local sensor=$3 collector=$4 u o out
	need systemd-analyze
	mkdir -p "$tmp/bin" "$tmp/units"
	ln -s "$(realpath "$sensor")" "$tmp/bin/relaywatch"
	ln -s "$(realpath "$collector")" "$tmp/bin/relaywatch-collector"
	for u in relaywatch@ relaywatch-collector; do
		sed -e "s|@BINDIR@|$tmp/bin|g" -e "s|@DATADIR@|/usr/share/relaywatch|g" \
			"$src/deploy/systemd/$u.service.in" >"$tmp/units/$u.service"
	done
	# A template is verified through an instance: the loopback interface.
	mv "$tmp/units/relaywatch@.service" "$tmp/units/relaywatch@lo.service"
	out=$(systemd-analyze verify --man=no "$tmp/units/relaywatch@lo.service" \
		"$tmp/units/relaywatch-collector.service" 2>&1) || fail "systemd-analyze verify: $out"
	[[ -z $out ]] || fail "systemd-analyze verify warns: $out"
	"$sensor" --help >"$tmp/sensor.help" 2>&1
	"$collector" --help >"$tmp/collector.help" 2>&1
	for o in $(unit_options "$tmp/units/relaywatch@lo.service"); do
		grep -q -- "$o\b" "$tmp/sensor.help" || fail "relaywatch@.service: $o is not an option"
	done
	for o in $(unit_options "$tmp/units/relaywatch-collector.service"); do
		grep -q -- "$o\b" "$tmp/collector.help" ||
			fail "relaywatch-collector.service: $o is not an option"
	done
	[[ -n $(unit_options "$tmp/units/relaywatch-collector.service") ]] ||
		fail "no options found in ExecStart: the check is broken"
	echo "both units verified; their options exist"
}

check_man()
{
	local sensor=$3 page=$src/deploy/man/relaywatch.8 out
	"$sensor" --help >"$tmp/help" 2>&1 || fail "relaywatch --help exited $?"
	"$py" "$src/tests/lint/deploy_check.py" man "$tmp/help" "$page" || exit 1
	if command -v groff >/dev/null 2>&1; then
		out=$(LC_ALL=C groff -man -ww -z -Tutf8 "$page" 2>&1)
		[[ -z $out ]] || fail "groff: $out"
	fi
}

case $what in
rules) check_rules "$@" ;;
systemd) check_systemd "$@" ;;
man) check_man "$@" ;;
*) fail "unknown check $what" ;;
esac
