#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Includes only go down the layers (STYLE.md §1):
#   common < ebpf < dataplane < sensor < exporters; collector uses common and the schema.
# sensor/main.c and its parts sensor/main_*.c are the composition root and may include from
# every layer.
set -u
top=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 1

declare -A allowed=(
	[common]="common"
	[ebpf]="common ebpf"
	[dataplane]="common ebpf dataplane"
	[sensor]="common ebpf dataplane sensor"
	[exporters]="common ebpf dataplane sensor exporters"
	[collector]="common collector exporters/relaywatch.pb-c.h"
	[bench]="common ebpf dataplane sensor exporters bench"
)
bad=0
for dir in "${!allowed[@]}"; do
	[ -d "$dir" ] || continue
	while IFS= read -r -d '' f; do
		case $f in sensor/main.c | sensor/main_*.c) continue ;; esac
		while IFS= read -r inc; do
			target=${inc#*\"}
			target=${target%\"*}
			layer=${target%%/*}
			[ "$layer" = "$target" ] && continue	# local or generated header
			case $layer in
			common|ebpf|dataplane|sensor|exporters|collector|bench) ;;
			*) continue ;;
			esac
			ok=0
			for a in ${allowed[$dir]}; do
				if [ "$a" = "$layer" ] || [ "$a" = "$target" ]; then ok=1; fi
			done
			if [ $ok -eq 0 ]; then
				echo "$f: includes \"$target\": $dir/ may not include from $layer/"
				bad=1
			fi
		done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "$f")
	done < <(find "$dir" -name '*.[ch]' -print0)
done
exit $bad
