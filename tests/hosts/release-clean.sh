#!/usr/bin/env bash
# Fails when a release artifact contains test support: the /__test routes or the MCP
# conformance fixtures (crate learner-test-routes, compiled into test builds only).
# With --test-build it checks the opposite, that a test build does contain them: the
# proof that the markers below are what test support leaves in an artifact, so the
# release check cannot pass by looking for the wrong thing.
#
#   tests/hosts/release-clean.sh FILE...
#   tests/hosts/release-clean.sh --test-build FILE...
set -euo pipefail
markers=('/__test/' 'test_simple_text' 'test://static-text')
want_test=false
if [ "${1:-}" = "--test-build" ]; then want_test=true; shift; fi
status=0
for file in "$@"; do
  found=0
  for marker in "${markers[@]}"; do
    if grep -aqF -- "$marker" "$file"; then
      found=$((found + 1))
      $want_test || { echo "$file: contains test support ($marker)" >&2; status=1; }
    elif $want_test; then
      echo "$file: a test build without $marker" >&2; status=1
    fi
  done
  if $want_test; then
    [ "$found" = "${#markers[@]}" ] && echo "$file: test build carries the test routes and fixtures"
  else
    [ "$found" = 0 ] && echo "$file: no test routes or fixtures"
  fi
done
exit "$status"
