#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install every Debian 12 package relaywatch needs to build, run and test,
# then build it into build/. Idempotent: re-running only builds what changed.
#
# usage: scripts/setup.sh [--no-build] [--build-dir DIR]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
do_build=1
while [ $# -gt 0 ]; do
	case $1 in
	--no-build) do_build=0 ;;
	--build-dir) build=$2; shift ;;
	-h|--help) sed -n '3,7p' "$0"; exit 0 ;;
	*) echo "setup.sh: unknown option $1" >&2; exit 64 ;;
	esac
	shift
done

# Build tools and libraries (all through pkg-config).
build_pkgs=(
	meson ninja-build pkg-config gcc clang llvm lld libclang-rt-14-dev bpftool
	libpcap-dev zlib1g-dev libxxhash-dev libyaml-dev libhyperscan-dev libssl-dev
	libdpdk-dev libbpf-dev libxdp-dev libprotobuf-c-dev protobuf-c-compiler
	libmicrohttpd-dev libseccomp-dev libcap-ng-dev libevent-dev libsqlite3-dev libpq-dev
	libcurl4-openssl-dev librdkafka-dev libcmocka-dev
)
# What the tests drive: real MTAs and clients, capture tools, Prometheus,
# Alertmanager, PostgreSQL, a headless browser for the HTML report.
test_pkgs=(
	python3 iproute2 iputils-ping procps psmisc kmod ethtool openssl ca-certificates
	tcpdump tshark tcpreplay postfix swaks sasl2-bin libsasl2-modules
	prometheus prometheus-alertmanager postgresql chromium xdp-tools
	python3-yaml systemd gdb
	# swaks only recommends what its TLS and IPv6 need, and recommends are not installed.
	libnet-ssleay-perl libio-socket-inet6-perl
)

need=()
for p in "${build_pkgs[@]}" "${test_pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup.sh: missing packages (${need[*]}); run as root to install them" >&2
		exit 77
	fi
	export DEBIAN_FRONTEND=noninteractive
	# postfix must not configure or start the machine's own mail system.
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	apt-get update
	apt-get install -y --no-install-recommends "${need[@]}"
fi

if [ $do_build -eq 1 ]; then
	if [ ! -f "$build/build.ninja" ]; then
		meson setup "$build" "$top" --buildtype=debugoptimized
	fi
	ninja -C "$build"
fi
