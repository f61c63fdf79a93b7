#!/usr/bin/env bash
# The build of `npm test`: dist/ (the program the tests start) and .test-build/ (the compiled,
# type-checked tests) at once. The two tsc runs share nothing, and each keeps one core busy.
set -u
npm run --silent build &
dist=$!
npm run --silent build:test
tests=$?
wait "$dist"
built=$?
[ "$tests" -eq 0 ] && [ "$built" -eq 0 ]
