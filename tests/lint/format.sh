#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every C file is formatted with the repository's .clang-format. One clang-format
# process for all files (one per file took minutes on a busy machine); its
# diagnostics name each file and line that differs.
set -u
top=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 1
command -v clang-format >/dev/null || { echo "clang-format not installed"; exit 77; }
mapfile -t files < <(git ls-files '*.c' '*.h')
[ ${#files[@]} -gt 0 ] || { echo "no C files found"; exit 1; }
out=$(clang-format --dry-run -Werror "${files[@]}" 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
	printf '%s\n' "$out" | awk -F: '/: error:/ {print $1}' | sort -u |
		sed 's/$/: not clang-format clean (run: clang-format -i FILE)/'
	exit 1
fi
echo "${#files[@]} files clang-format clean"
