#!/bin/bash
# The stratus tool as a user runs it: help, --version, bash completion and exit codes.
# usage: cli_tool_test.sh STRATUS COMPLETION_FILE
set -u
stratus=$1
completion_file=$2
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect_code() {  # expect_code CODE COMMAND...
  local want=$1; shift
  "$@" >/tmp/cli_tool_test.$$ 2>&1
  local got=$?
  [[ $got == "$want" ]] || fail "$* exited $got, want $want: $(head -c 400 /tmp/cli_tool_test.$$)"
}
trap 'rm -f /tmp/cli_tool_test.$$' EXIT
# A port nothing listens on: the commands that need a service find none.
dead=127.0.0.1:9

# --version and help.
"$stratus" --version | grep -Eq '^stratus [0-9]+\.[0-9]+' || fail "--version: $("$stratus" --version)"
expect_code 0 "$stratus" --version
expect_code 0 "$stratus" help
"$stratus" help | grep -q '^  detect ' || fail "help lists no detect"
"$stratus" help | grep -q 'Exit status' || fail "help does not name the exit codes"
expect_code 0 "$stratus" help models
"$stratus" help models | grep -q -- '--output' || fail "help models lacks --output"
"$stratus" models --help | grep -q -- '--endpoint' || fail "models --help lacks --endpoint"
[[ "$("$stratus" help detect)" == "$("$stratus" detect --help)" ]] || fail "help detect != detect --help"
"$stratus" help stream ls | grep -q 'stratus stream ls' || fail "help stream ls"
"$stratus" help list-faces | grep -q -- '--max-results' || fail "help list-faces"

# Exit codes: 2 usage, 3 unreachable.
expect_code 2 "$stratus"
expect_code 2 "$stratus" no-such-command
expect_code 2 "$stratus" help no-such-command
expect_code 2 "$stratus" detect
expect_code 2 "$stratus" detect --no-such-flag x.jpg
expect_code 2 "$stratus" models --output yaml
expect_code 2 "$stratus" models extra-argument
expect_code 2 "$stratus" keys list --output yaml
expect_code 2 "$stratus" completion zsh
expect_code 3 "$stratus" models --endpoint "$dead" --timeout-ms 2000
expect_code 3 "$stratus" models --endpoint "$dead" --timeout-ms 2000 --output table
expect_code 3 "$stratus" stream ls --endpoint "$dead"
expect_code 3 "$stratus" list-collections --endpoint "$dead" --timeout-ms 2000
expect_code 3 "$stratus" keys list --endpoint "$dead"
expect_code 3 "$stratus" sentiment --endpoint "$dead" --timeout-ms 2000 "some text"
png=$(dirname "$0")/../docs/console/dashboard.png
expect_code 3 "$stratus" detect --endpoint "$dead" --timeout-ms 2000 "$png"
expect_code 3 "$stratus" classify-mask --endpoint "$dead" --timeout-ms 2000 "$png"
expect_code 3 "$stratus" detect-labels --endpoint "$dead" --timeout-ms 2000 "$png"
# An API key that cannot travel in a header is a usage error naming it (gRPC would abort);
# white space around it (a newline from a file) is dropped.
expect_code 2 env STRATUS_API_KEY=$'stk_bad\nkey' "$stratus" models --endpoint "$dead"
env STRATUS_API_KEY=$'stk_bad\nkey' "$stratus" models --endpoint "$dead" 2>&1 |
  grep -q 'STRATUS_API_KEY.*0x0a at position 7' || fail "a key with a newline is not named"
expect_code 3 env STRATUS_API_KEY=$'stk_trailing_newline\n' "$stratus" models --endpoint "$dead" \
  --timeout-ms 2000
"$stratus" models --endpoint "$dead" --timeout-ms 2000 2>&1 | grep -q UNAVAILABLE ||
  fail "models against nothing does not say UNAVAILABLE"

# Completion: the script the build installed is the one the tool prints, and it completes.
expect_code 0 "$stratus" completion bash
[[ -f $completion_file ]] || fail "no $completion_file in the build output"
cmp -s <("$stratus" completion bash) "$completion_file" || fail "$completion_file is stale"
complete_words() {  # complete_words WORD... : what <TAB> after them offers
  bash -c '
    source <("$0" completion bash)
    stratus() { "$0" "$@"; }
    COMP_WORDS=(stratus "$@"); COMP_CWORD=$(($# ))
    _stratus
    printf "%s\n" "${COMPREPLY[@]}"' "$stratus" "$@"
}
complete_words de | grep -qx detect || fail "de<TAB> does not offer detect"
complete_words de | grep -qx detect-faces || fail "de<TAB> does not offer detect-faces"
complete_words de | grep -qx models && fail "de<TAB> offers models"
complete_words stream "" | sort | tr '\n' ' ' | grep -qx 'add ls rm ' || fail "stream <TAB>: $(complete_words stream "")"
complete_words help cl | grep -qx classify-mask || fail "help cl<TAB>"
complete_words models --out | grep -qx -- --output || fail "models --out<TAB>: $(complete_words models --out)"
complete_words stream ls --end | grep -qx -- --endpoint || fail "stream ls --end<TAB>"

if (( failures > 0 )); then echo "$failures failure(s)"; exit 1; fi
echo "all cli tool checks passed"
