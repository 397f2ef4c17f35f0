#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every C file is formatted with the repository's .clang-format.
set -u
top=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 1
command -v clang-format >/dev/null || { echo "clang-format not installed"; exit 77; }
bad=0
for f in $(git ls-files '*.c' '*.h'); do
	if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "$f: not clang-format clean (run: clang-format -i $f)"
		bad=1
	fi
done
exit $bad
