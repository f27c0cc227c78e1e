#!/usr/bin/env bash
# End-to-end test of stratus-sentiment with the AWS CLI (botocore, Python: a second client beside
# the JavaScript SDK of run.js), the README's tour:
#   awscli.sh ENDPOINT
# The caller (driver.cc, run through tests/e2e/lib/with-awscli.sh, which finds the CLI and puts
# it in STRATUS_AWS_CLI) starts PostgreSQL and the sentiment service with the trained model, and
# sets AWS_SHARED_CREDENTIALS_FILE + AWS_PROFILE=stratus to the credentials file the service
# generated. Checks DetectSentiment (positive, negative, neutral), BatchDetectSentiment with a
# per-item error, DetectDominantLanguage, DetectPiiEntities (the README's example),
# DetectKeyPhrases, Comprehend's exceptions for bad input, and that a wrong secret is refused;
# the JSON output with jq (tests/e2e/lib/awscli_checks.sh). Exit 0 only when every check passed.
set -euo pipefail
endpoint=${1:?usage: awscli.sh ENDPOINT}
. "$(dirname "$0")/../lib/awscli_checks.sh"
cmp() { "$aws_bin" comprehend "$@" --endpoint-url "$endpoint" --output json; }

scores='(.SentimentScore | [.Positive, .Negative, .Neutral, .Mixed] | all(type == "number" and . >= 0 and . <= 1)
         and (add - 1 | fabs) < 0.001)'
check "detect-sentiment: positive" ".Sentiment == \"POSITIVE\" and $scores" \
  cmp detect-sentiment --language-code en --text "I love this phone, best purchase ever!! :)"
check "detect-sentiment: negative" ".Sentiment == \"NEGATIVE\" and $scores" \
  cmp detect-sentiment --language-code en --text "This is the worst service, I hate it. Never again"
check "detect-sentiment: neutral" ".Sentiment == \"NEUTRAL\" and $scores" \
  cmp detect-sentiment --language-code en --text "The meeting has been moved to Thursday at 3pm"
check "batch-detect-sentiment: results and a per-item error in index order" '
    ([.ResultList[] | [.Index, .Sentiment]] == [[0, "POSITIVE"], [2, "NEGATIVE"]]) and
    ([.ErrorList[] | [.Index, .ErrorCode]] == [[1, "TEXT_SIZE_LIMIT_EXCEEDED"]])' \
  cmp batch-detect-sentiment --language-code en \
  --text-list "great phone, great price" "$(printf 'x%.0s' $(seq 5001))" "awful, it broke after a day"
check "detect-dominant-language" \
  '.Languages[0].LanguageCode == "fr" and all(.Languages[]; .Score > 0 and .Score <= 1)' \
  cmp detect-dominant-language \
  --text "Nous allons au marché ce matin pour acheter des légumes et du pain pour toute la semaine."
check "detect-pii-entities (the README's example)" \
  '[.Entities[] | .Type] == ["EMAIL", "PHONE"] and all(.Entities[]; .Score > 0.5 and .BeginOffset < .EndOffset)' \
  cmp detect-pii-entities --language-code en --text "Mail jane@example.com or call (415) 867-5309"
check "detect-key-phrases" '[.KeyPhrases[] | .Text] == ["the new phone", "the battery life"]' \
  cmp detect-key-phrases --language-code en --text "I love the new phone, but the battery life is awful."

expect_error "a language other than en" UnsupportedLanguageException \
  cmp detect-sentiment --language-code fr --text "bonjour"
expect_error "over 5000 bytes" TextSizeLimitExceededException \
  cmp detect-sentiment --language-code en --text "$(printf 'a%.0s' $(seq 5001))"
expect_error "a wrong secret is refused" InvalidSignatureException \
  env AWS_ACCESS_KEY_ID="$(profile_key_id)" AWS_SECRET_ACCESS_KEY=wrong-secret \
  "$aws_bin" comprehend detect-sentiment --endpoint-url "$endpoint" --language-code en --text hi
exit $failed
