#!/usr/bin/env bash
# The AWS CLI (Python botocore, a second SigV4 implementation besides the JavaScript SDK) against
# aws-endpoint-testserver, with only the variables a Stratus user sets:
#   tests/e2e/aws-sigv4/awscli.sh /path/to/aws-endpoint-testserver [/path/to/aws]
# (the CLI: the second argument, else $STRATUS_AWS_CLI, which tests/e2e/lib/with-awscli.sh sets,
# else aws)
set -euo pipefail
server_bin=${1:?usage: awscli.sh /path/to/aws-endpoint-testserver [aws]}
aws_bin=${2:-${STRATUS_AWS_CLI:-aws}}
dir=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

"$server_bin" --credentials-file "$dir/credentials" --port-file "$dir/port" \
  --address 127.0.0.1 >/dev/null &
server_pid=$!
for _ in $(seq 100); do [[ -s $dir/port ]] && break; sleep 0.1; done
[[ -s $dir/port ]] || { echo "FAIL: server did not start"; exit 1; }
endpoint="http://127.0.0.1:$(cat "$dir/port")"

unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
export AWS_SHARED_CREDENTIALS_FILE=$dir/credentials AWS_PROFILE=stratus
export AWS_CONFIG_FILE=$dir/no-config AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
export AWS_MAX_ATTEMPTS=1

failed=0
check() {  # name, expected substring, command...
  local name=$1 want=$2 out
  shift 2
  out=$("$@" 2>&1) || true
  if [[ $out == *"$want"* ]]; then
    echo "ok   $name"
  else
    echo "FAIL $name: wanted '$want' in: $out"
    failed=1
  fi
}

check "signed list-collections succeeds and echoes" '"{\"MaxResults\":3}"' \
  "$aws_bin" rekognition list-collections --max-results 3 --endpoint-url "$endpoint"
check "comprehend detect-sentiment with non-ASCII text" '"Sentiment": "NEUTRAL"' \
  "$aws_bin" comprehend detect-sentiment --text "héllo   😀" --language-code en \
  --endpoint-url "$endpoint"
check "modelled error" "(ResourceNotFoundException) when calling the DescribeCollection" \
  "$aws_bin" rekognition describe-collection --collection-id fail:ResourceNotFoundException \
  --endpoint-url "$endpoint"
key_id=$(sed -n 's/^aws_access_key_id = //p' "$dir/credentials")
check "wrong secret" "(InvalidSignatureException)" \
  env AWS_ACCESS_KEY_ID="$key_id" AWS_SECRET_ACCESS_KEY=wrong-secret \
  "$aws_bin" rekognition list-collections --endpoint-url "$endpoint"
check "unknown key" "(UnrecognizedClientException)" \
  env AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wrong-secret \
  "$aws_bin" rekognition list-collections --endpoint-url "$endpoint"

exit $failed
