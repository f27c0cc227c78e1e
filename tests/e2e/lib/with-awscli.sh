#!/usr/bin/env bash
# Runs an AWS CLI end-to-end test: finds the CLI ($STRATUS_AWS_CLI, else `aws` on PATH; set-up
# installs Debian's awscli, scripts/deps.sh) and runs the command with STRATUS_AWS_CLI set to it.
# Without a CLI the test is skipped (exit 77, ctest SKIP_RETURN_CODE) or, with
# STRATUS_REQUIRE_MODELS=1 (everything a test needs must be there), fails.
#   with-awscli.sh COMMAND [ARG]...
set -euo pipefail
cli=${STRATUS_AWS_CLI:-aws}
if ! path=$(command -v "$cli"); then
  if [[ ${STRATUS_REQUIRE_MODELS:-} == 1 ]]; then
    echo "FAIL: no AWS CLI ('$cli'; scripts/deps.sh installs Debian's awscli)"; exit 1
  fi
  echo "SKIP: no AWS CLI ('$cli'; scripts/deps.sh installs Debian's awscli)"; exit 77
fi
export STRATUS_AWS_CLI=$path
exec "$@"
