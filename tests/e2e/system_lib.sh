# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# system_lib.sh: what the sensor -> collector end-to-end tests (system_*.sh) share.
# Sourced, never run. Builds on collector_lib.sh (temp dir, PID-tracked processes,
# bounded waits, test certificates, the collector on 127.0.0.1) and adds the sensor:
#
#	. "$(dirname "$0")/system_lib.sh"
#	sys_init "$1" "$2"		# collector and relaywatch binaries; exit 77 when not
#					# root or a tool is missing; makes the certificates
#	sys_sensor LOG -r CAPTURE ... --collector "127.0.0.1:$CL_PORT" $(sys_tls sensor-a)
#	sys_check alerts "$CL_TMP/c.db" sensor-a="$CL_TMP/a/alerts.json"
. "$(dirname "${BASH_SOURCE[0]}")/collector_lib.sh"

SYS_RW=""				# the relaywatch binary
SYS_CAPS=$CL_DIR/../captures		# tests/captures: real postfix sessions

# sys_init COLLECTOR RELAYWATCH [TOOL...]
sys_init()
{
	local collector=${1:-} sensor=${2:-}
	shift 2
	[[ $(id -u) -eq 0 ]] || cl_skip "not root"
	[[ -x $sensor ]] || cl_skip "no relaywatch binary: $sensor"
	SYS_RW=$sensor
	cl_init "$collector" openssl sqlite3 "$@"
	cl_certs
}

# sys_tls NAME: the sensor's TLS options with certificate NAME of cl_certs' CA.
sys_tls()
{
	printf -- '--tls-cert %s --tls-key %s --tls-ca %s' "$CL_TMP/pki/$1.crt" \
		"$CL_TMP/pki/$1.key" "$CL_TMP/pki/ca.crt"
}

# sys_cert NAME OPENSSL-X509-ARGS...: one more client certificate NAME (CN sensor-a,
# clientAuth) signed by cl_certs' CA, e.g. `sys_cert old -days -1` (expired).
sys_cert()
{
	local n=$1
	shift
	(
		cd "$CL_TMP/pki" || exit 1
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=sensor-a \
			-keyout "$n.key" -out "$n.csr" &&
			openssl x509 -req -in "$n.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
				-extfile sensor-a.ext -out "$n.crt" "$@"
	) >>"$CL_TMP/pki.log" 2>&1 || cl_die "openssl could not make certificate $n"
}

# sys_sensor LOG ARGS...: relaywatch ARGS in the foreground, stdout and stderr to LOG;
# returns its exit status.
sys_sensor()
{
	local log=$1
	shift
	"$SYS_RW" "$@" >"$log" 2>&1
}

# sys_pcap OUT SPEC...: tests/e2e/system_pcap.py (many clients from one real capture).
sys_pcap()
{
	"$CL_PY" "$CL_DIR/system_pcap.py" "$@" >/dev/null || cl_die "system_pcap.py $*"
}

sys_check()
{
	"$CL_PY" "$CL_DIR/system_check.py" "$@"
}

# sys_count LOG KEY: a number of the sensor's run summary in LOG (system_check.py
# stderr-counts), empty when absent.
sys_count()
{
	sys_check stderr-counts "$1" | cl_json "$2"
}

# sys_sql DB QUERY: one value from the collector's SQLite store.
sys_sql()
{
	sqlite3 -batch -noheader "file:$1?mode=ro" "$2"
}

# sys_expect_in LOG TEXT WHAT: fail with WHAT unless LOG holds TEXT.
sys_expect_in()
{
	grep -qF -- "$2" "$1" || {
		cl_log "--- $1:"
		tail -n 20 "$1" >&2
		cl_die "$3: '$2' not in the sensor's output"
	}
}
