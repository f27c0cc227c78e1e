#!/usr/bin/env bash
# End-to-end test of stratus-recognition with the AWS CLI (botocore, Python: a second client
# beside the JavaScript SDK of run.js), the README's tour:
#   awscli.sh ENDPOINT GOLDEN_DIR PHOTOS_DIR
# The caller (driver.cc, run through tests/e2e/lib/with-awscli.sh, which finds the CLI and puts
# it in STRATUS_AWS_CLI) starts PostgreSQL, a detector and the recognition service, and sets
# AWS_SHARED_CREDENTIALS_FILE + AWS_PROFILE=stratus to the credentials file the service
# generated: what a Stratus user sets besides the endpoint. With STRATUS_E2E_FAKE_DETECTOR=1 the
# detector is stratus-fake-detector (faces of the golden samples only, no objects). Checks
# DetectFaces (golden sample and a shared photo), CompareFaces, DetectLabels, a collection round
# trip (CreateCollection, IndexFaces, SearchFacesByImage, ListFaces, DeleteCollection), a modelled
# error on bad input, and that a wrong secret is refused; the JSON output with jq
# (tests/e2e/lib/awscli_checks.sh).
# Exit status 0 only when every check passed.
set -euo pipefail
endpoint=${1:?usage: awscli.sh ENDPOINT GOLDEN_DIR PHOTOS_DIR}
golden=${2:?usage: awscli.sh ENDPOINT GOLDEN_DIR PHOTOS_DIR}
photos=${3:?usage: awscli.sh ENDPOINT GOLDEN_DIR PHOTOS_DIR}
fake=${STRATUS_E2E_FAKE_DETECTOR:-0}
. "$(dirname "$0")/../lib/awscli_checks.sh"
rek() { "$aws_bin" rekognition "$@" --endpoint-url "$endpoint" --output json; }

check "detect-faces --attributes ALL on a golden sample" '
    (.FaceDetails | length) >= 3 and
    all(.FaceDetails[]; .Confidence > 50 and .Confidence <= 100 and (.Landmarks | length) == 30
        and .AgeRange.Low <= .AgeRange.High and (.Gender.Value | IN("Male", "Female"))
        and all(.BoundingBox | .Left, .Top, .Width, .Height; type == "number"))' \
  rek detect-faces --image-bytes "fileb://$golden/sample5.png" --attributes ALL
if [[ $fake == 1 ]]; then
  photo_faces='.FaceDetails == []'  # the fake knows the golden samples' faces only
else
  photo_faces='(.FaceDetails | length) >= 1 and all(.FaceDetails[]; .Confidence > 50)'
fi
check "detect-faces on a JPEG photo (DEFAULT attributes)" \
  "($photo_faces) and all(.FaceDetails[]; .AgeRange == null)" \
  rek detect-faces --image-bytes "fileb://$photos/no-mask.jpg"
check "compare-faces: the same face matches" \
  '(.FaceMatches | length) >= 1 and .FaceMatches[0].Similarity > 99 and .SourceImageFace.Confidence > 50' \
  rek compare-faces --source-image-bytes "fileb://$golden/sample3.png" \
  --target-image-bytes "fileb://$golden/sample3.png"
check "compare-faces: other people do not" \
  '.FaceMatches == [] and (.UnmatchedFaces | length) >= 1' \
  rek compare-faces --source-image-bytes "fileb://$golden/sample3.png" \
  --target-image-bytes "fileb://$golden/sample6.png"
if [[ $fake == 1 ]]; then
  labels='.Labels == []'  # the fake detector finds no objects
else
  labels='any(.Labels[]; .Name == "Person" and .Confidence >= 55 and (.Instances | length) >= 1)
          and (.LabelModelVersion | type) == "string"'
fi
check "detect-labels" "$labels" \
  rek detect-labels --image-bytes "fileb://$photos/no-mask.jpg" --min-confidence 55

collection=awscli-e2e-$$
check "create-collection" '.StatusCode == 200 and (.CollectionArn | type) == "string"' \
  rek create-collection --collection-id "$collection"
check "index-faces" '(.FaceRecords | length) == 1 and .FaceRecords[0].Face.ExternalImageId == "sample3"' \
  rek index-faces --collection-id "$collection" --external-image-id sample3 --max-faces 1 \
  --image-bytes "fileb://$golden/sample3.png"
check "search-faces-by-image finds it" \
  '(.FaceMatches | length) >= 1 and .FaceMatches[0].Face.ExternalImageId == "sample3" and .FaceMatches[0].Similarity > 99' \
  rek search-faces-by-image --collection-id "$collection" --image-bytes "fileb://$golden/sample3.png"
check "list-faces" '(.Faces | length) == 1' rek list-faces --collection-id "$collection"
check "delete-collection" '.StatusCode == 200' rek delete-collection --collection-id "$collection"
expect_error "describe-collection after delete" ResourceNotFoundException \
  rek describe-collection --collection-id "$collection"

printf 'not an image' >"$tmp/not-an-image.jpg"
expect_error "detect-faces on bytes that are no image" InvalidImageFormatException \
  rek detect-faces --image-bytes "fileb://$tmp/not-an-image.jpg"
expect_error "a wrong secret is refused" InvalidSignatureException \
  env AWS_ACCESS_KEY_ID="$(profile_key_id)" AWS_SECRET_ACCESS_KEY=wrong-secret \
  "$aws_bin" rekognition detect-faces --endpoint-url "$endpoint" \
  --image-bytes "fileb://$golden/sample3.png"
exit $failed
