// The AWS JSON 1.1 endpoint (common/aws/json_protocol.h) on arbitrary requests: method, path,
// query, headers (well-known names with fuzzed values, and fuzzed names) and body. Half the
// inputs are signed correctly with the endpoint's key after being built, so that the body gets
// past SigV4 to the JSON checks and the handlers' member conversions. Checks: no crash or
// undefined behaviour, and every answer is a 200 or a 4xx with an AWS error type.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <string>

#include "absl/time/time.h"
#include "common/aws/json_protocol.h"

namespace aws = stratus::aws;

namespace {

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z
const aws::AwsCredentials kKey{"AKIAFUZZFUZZFUZZFUZZ", "fuzz-secret-fuzz-secret-fuzz-secret-0000",
                               ""};

aws::AwsJsonEndpoint* Endpoint() {
  static aws::CredentialsStore* store = [] {
    auto* s = new aws::CredentialsStore();
    if (!s->Add(kKey).ok()) abort();
    return s;
  }();
  static stratus::metrics::Registry* registry = new stratus::metrics::Registry();
  static aws::AwsJsonEndpoint* endpoint = [] {
    aws::AwsJsonEndpoint::Options o;
    o.credentials = store;
    o.sigv4.service = "rekognition";
    o.sigv4.clock = [] { return kNow; };
    o.metrics = registry;
    o.handler_threads = 0;
    auto e = aws::AwsJsonEndpoint::Create(o);
    if (!e.ok()) abort();
    (*e)->Register("RekognitionService.DetectFaces",
                   [](const nlohmann::json& req) -> absl::StatusOr<nlohmann::json> {
                     auto image = aws::RequiredMember<nlohmann::json>(req, "Image");
                     if (!image.ok()) return image.status();
                     auto b64 = aws::RequiredMember<std::string>(*image, "Bytes");
                     if (!b64.ok()) return b64.status();
                     auto bytes = aws::Base64Decode(*b64);
                     if (!bytes.ok())
                       return aws::AwsError(400, "InvalidImageFormatException", "bad");
                     auto attrs =
                         aws::OptionalMember<std::vector<std::string>>(req, "Attributes", {});
                     if (!attrs.ok()) return attrs.status();
                     return nlohmann::json{{"Size", bytes->size()}};
                   });
    (*e)->Register("RekognitionService.ListFaces",
                   [](const nlohmann::json& req) -> absl::StatusOr<nlohmann::json> {
                     auto id = aws::RequiredMember<std::string>(req, "CollectionId");
                     if (!id.ok()) return id.status();
                     auto max = aws::OptionalMember<int>(req, "MaxResults", 100);
                     if (!max.ok()) return max.status();
                     auto threshold = aws::OptionalMember<double>(req, "FaceMatchThreshold", 80.0);
                     if (!threshold.ok()) return threshold.status();
                     auto flag = aws::OptionalMember<bool>(req, "Flag", false);
                     if (!flag.ok()) return flag.status();
                     // As handlers may: at() on a missing member throws, which is bad input.
                     return nlohmann::json{{"Echo", req.at("CollectionId")}};
                   });
    return e->release();
  }();
  return endpoint;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider p(data, size);
  const bool sign = p.ConsumeBool();
  stratus::HttpRequest r;
  r.method = p.ConsumeBool() ? "POST" : p.ConsumeRandomLengthString(8);
  r.path = p.ConsumeBool() ? "/" : p.ConsumeRandomLengthString(64);
  r.query = p.ConsumeRandomLengthString(64);
  static const char* kNames[] = {"x-amz-target",        "content-type", "authorization",
                                 "x-amz-date",          "host",         "x-amz-content-sha256",
                                 "x-amz-security-token"};
  static const char* kTargets[] = {"RekognitionService.DetectFaces",
                                   "RekognitionService.ListFaces"};
  r.headers["host"] = "localhost:8083";
  r.headers["content-type"] = "application/x-amz-json-1.1";
  r.headers["x-amz-target"] = kTargets[p.ConsumeIntegralInRange<int>(0, 1)];
  for (int n = p.ConsumeIntegralInRange<int>(0, 6); n > 0; --n) {
    std::string name = p.ConsumeBool() ? kNames[p.ConsumeIntegralInRange<int>(0, 6)]
                                       : p.ConsumeRandomLengthString(24);
    r.headers[name] = p.ConsumeRandomLengthString(256);
  }
  r.body = p.ConsumeRemainingBytesAsString();
  if (sign) {
    aws::SigningParams s;
    s.credentials = kKey;
    s.service = "rekognition";
    s.time = kNow;
    r.headers.erase("authorization");
    r.headers.erase("x-amz-date");
    r.headers.erase("x-amz-security-token");
    (void)aws::SignRequest(s, r.method, r.path, r.query, r.body, &r.headers);
  }
  stratus::HttpResponse out = Endpoint()->Handle(r);
  const bool four_xx = out.status >= 400 && out.status < 500;
  if (out.status != 200 && !four_xx) abort();
  if (four_xx && out.body.find("__type") == std::string::npos) abort();
  return 0;
}
