#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Functions we never call (Suricata's list plus two of ours), and files that
# must start with an SPDX licence line.
set -u
top=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 1
bad=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
for f in $files; do
	if grep -nE '(^|[^_a-zA-Z0-9.>])(strcpy|strcat|sprintf|vsprintf|strtok|strncpy|strncat|bzero|rand|atoi|gets)[[:space:]]*\(' "$f" |
		grep -vE '^\s*[0-9]+:\s*(//|\*|/\*)'; then
		echo "$f: uses a banned function (see STYLE.md §5)"
		bad=1
	fi
	if ! head -n 2 "$f" | grep -q 'SPDX-License-Identifier:'; then
		echo "$f: no SPDX-License-Identifier line at the top"
		bad=1
	fi
done
exit $bad
