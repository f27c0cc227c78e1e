// aws-sigv4-bench: what SigV4 verification and the AWS JSON endpoint cost per request.
//   build/bin/aws-sigv4-bench
// Prints one line per measurement: verification of a small JSON body and of a 5 MiB one (a
// Rekognition image at its limit), and signed round trips over loopback HTTP.
#include <chrono>
#include <cstdio>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/aws/json_protocol.h"
#include "common/aws/sigv4.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace aws = stratus::aws;

double VerifyMicros(const aws::SigV4Verifier& v, const stratus::HttpRequest& r, int iters) {
  auto t0 = Clock::now();
  for (int i = 0; i < iters; ++i) {
    if (!v.Verify(r).ok()) {
      std::fprintf(stderr, "verification failed\n");
      std::exit(1);
    }
  }
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / iters;
}

stratus::HttpRequest SignedRequest(const aws::SigningParams& p, const std::string& body) {
  std::map<std::string, std::string> h = {{"host", "localhost:8083"},
                                          {"content-type", aws::kAmzJson11},
                                          {"x-amz-target", "RekognitionService.DetectFaces"}};
  if (!aws::SignRequest(p, "POST", "/", "", body, &h).ok()) std::exit(1);
  stratus::HttpRequest r;
  r.method = "POST";
  r.path = "/";
  for (auto& [k, v] : h) r.headers[absl::AsciiStrToLower(k)] = v;
  r.body = body;
  return r;
}

}  // namespace

int main() {
  aws::CredentialsStore store;
  aws::AwsCredentials creds = *aws::GenerateCredentials();
  (void)store.Add(creds);
  aws::SigningParams p;
  p.credentials = creds;
  p.service = "rekognition";
  aws::SigV4Verifier verifier(&store, {});

  std::string small = R"({"CollectionId":"faces","MaxResults":10})";
  std::string big = absl::StrCat(R"({"Image":{"Bytes":")", std::string(5 << 20, 'A'), R"("}})");
  std::printf("verify, %zu-byte body: %.1f us\n", small.size(),
              VerifyMicros(verifier, SignedRequest(p, small), 20000));
  std::printf("verify, %zu-byte body: %.2f ms\n", big.size(),
              VerifyMicros(verifier, SignedRequest(p, big), 20) / 1000.0);

  aws::AwsJsonEndpoint::Options o;
  o.credentials = &store;
  auto endpoint = *aws::AwsJsonEndpoint::Create(o);
  endpoint->Register("RekognitionService.ListCollections",
                     [](const nlohmann::json&) -> absl::StatusOr<nlohmann::json> {
                       return nlohmann::json{{"CollectionIds", nlohmann::json::array()}};
                     });
  stratus::HttpServer::Options ho;
  ho.address = "127.0.0.1";
  auto server = *stratus::HttpServer::Create(ho);
  endpoint->Install(server.get());
  if (!server->Start().ok()) return 1;
  aws::AwsJsonClientOptions c;
  c.endpoint = absl::StrCat("http://127.0.0.1:", server->port());
  c.signing = p;
  const int n = 2000;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto r = aws::AwsJsonCall(c, "RekognitionService.ListCollections", {{"MaxResults", 10}});
    if (!r.ok() || r->status != 200) {
      std::fprintf(stderr, "call failed\n");
      return 1;
    }
  }
  double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / n;
  std::printf(
      "signed ListCollections round trip over loopback (sign+connect+verify+handle): "
      "%.0f us\n",
      us);
  server->Stop();
  return 0;
}
