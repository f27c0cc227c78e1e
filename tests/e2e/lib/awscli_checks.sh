# Sourced by the AWS CLI end-to-end scripts (tests/e2e/*/awscli.sh): the CLI to run, and checks
# of its JSON output with jq. Sets aws_bin, tmp (removed on exit) and failed (1 once a check
# failed: end the script with `exit $failed`).
aws_bin=${STRATUS_AWS_CLI:-aws}
command -v "$aws_bin" >/dev/null || { echo "FAIL: no AWS CLI ($aws_bin)"; exit 1; }
command -v jq >/dev/null || { echo "FAIL: jq is missing"; exit 1; }
: "${AWS_SHARED_CREDENTIALS_FILE:?the driver sets AWS_SHARED_CREDENTIALS_FILE}"
export AWS_DEFAULT_REGION=us-east-1 AWS_PAGER="" AWS_MAX_ATTEMPTS=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
echo "using $("$aws_bin" --version 2>&1)"

# check NAME JQ_ASSERTION COMMAND...: the command must exit 0 with JSON on stdout for which the
# jq expression is true.
check() {
  local name=$1 assertion=$2 code=0
  shift 2
  "$@" >"$tmp/out.json" 2>"$tmp/err.txt" || code=$?
  if ((code != 0)); then
    echo "FAIL $name: exit code $code: $(head -c 600 "$tmp/err.txt")"; failed=1
  elif jq -e "$assertion" "$tmp/out.json" >/dev/null 2>"$tmp/jq.txt"; then
    echo "ok   $name"
  else
    echo "FAIL $name: not ($assertion) in: $(head -c 1500 "$tmp/out.json") $(cat "$tmp/jq.txt")"
    failed=1
  fi
}

# expect_error NAME CODE COMMAND...: the command must fail, naming the AWS error code.
expect_error() {
  local name=$1 code=$2 out
  shift 2
  if out=$("$@" 2>&1); then
    echo "FAIL $name: succeeded, expected $code: $out"; failed=1
  elif [[ $out == *"($code)"* ]]; then
    echo "ok   $name"
  else
    echo "FAIL $name: wanted ($code) in: $out"; failed=1
  fi
}

# The access key id of the profile the driver set up (for a request with a wrong secret).
profile_key_id() {
  sed -n 's/^aws_access_key_id *= *//p' "$AWS_SHARED_CREDENTIALS_FILE" | head -1
}
