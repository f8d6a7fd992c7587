#!/usr/bin/env bash
# Fails when a release artifact contains test support: the /__test routes or the MCP
# conformance fixtures (crate learner-test-routes, compiled into test builds only).
#
#   tests/hosts/release-clean.sh FILE...
set -euo pipefail
markers=('/__test/' 'test_simple_text' 'test://static-text')
status=0
for file in "$@"; do
  for marker in "${markers[@]}"; do
    if grep -aqF -- "$marker" "$file"; then
      echo "$file: contains test support ($marker)" >&2
      status=1
    fi
  done
  [ "$status" = 0 ] && echo "$file: no test routes or fixtures"
done
exit "$status"
