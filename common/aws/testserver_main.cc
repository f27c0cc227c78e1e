// aws-endpoint-testserver: an AWS JSON 1.1 endpoint with SigV4 that echoes each operation, so a
// real AWS SDK can be pointed at it (tests/e2e/aws-sigv4). Not a service.
//
//   aws-endpoint-testserver --access-key-id AKIA... --secret-access-key ... [--port 0]
//       [--port-file FILE] [--service rekognition] [--target RekognitionService.ListCollections]
//
// Every registered target answers
//   {"Operation": <target>, "Echo": <request>, "CollectionIds": [<target>, <request as text>],
//    "Sentiment": "NEUTRAL", "SentimentScore": {...}}
// (the extra fields are ones the Rekognition and Comprehend SDK output shapes keep, so a test
// sees the echo through the SDK). A request with a top-level string value "fail:<Exception>"
// (e.g. CollectionId) answers that exception with status 400, to check the SDK's error mapping. The
// bound port is printed on stdout as `port=N` and written to --port-file when given. Runs until
// SIGTERM/SIGINT.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/aws/json_protocol.h"
#include "common/flags.h"
#include "common/http_server.h"
#include "common/logging.h"

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

}  // namespace

int main(int argc, char** argv) {
  using namespace stratus;
  namespace aws = stratus::aws;
  std::string access_key_id, secret, credentials_file, port_file, service, address = "127.0.0.1";
  std::vector<std::string> targets;
  int port = 0;
  FlagSet flags("aws-endpoint-testserver",
                "An AWS JSON 1.1 endpoint with SigV4 that echoes each operation (for SDK tests).");
  flags.String("access-key-id", "AWS_ACCESS_KEY_ID", &access_key_id, "accepted access key id");
  flags.String("secret-access-key", "AWS_SECRET_ACCESS_KEY", &secret, "its secret");
  flags.String("credentials-file", "", &credentials_file,
               "or: an AWS shared-credentials file (profile 'stratus'); generated when missing");
  flags.String("address", "", &address, "address to listen on");
  flags.Int("port", "", &port, "port (0: any free port)");
  flags.String("port-file", "", &port_file, "write the bound port here");
  flags.String("service", "", &service, "required SigV4 service scope ('' = any)");
  flags.StringList("target", "", &targets,
                   "X-Amz-Target values to answer (default: a Rekognition and a Comprehend set)");
  if (absl::Status s = flags.Parse(argc, argv); !s.ok() || flags.help_requested()) {
    std::fprintf(stderr, "%s\n%s", s.ok() ? "" : std::string(s.message()).c_str(),
                 flags.Usage().c_str());
    return s.ok() ? 0 : 2;
  }
  if (targets.empty()) {
    targets = {"RekognitionService.ListCollections",  "RekognitionService.DetectFaces",
               "RekognitionService.CreateCollection", "RekognitionService.DescribeCollection",
               "Comprehend_20171127.DetectSentiment", "Comprehend_20171127.BatchDetectSentiment"};
  }

  aws::CredentialSources sources;
  sources.access_key_id = access_key_id;
  sources.secret_access_key = secret;
  sources.shared_credentials_file = credentials_file;
  sources.create_if_missing = true;
  absl::StatusOr<aws::AwsCredentials> creds = aws::LoadCredentials(sources);
  if (!creds.ok()) {
    std::fprintf(stderr, "credentials: %s\n", creds.status().ToString().c_str());
    return 2;
  }
  aws::CredentialsStore store;
  if (absl::Status s = store.Add(*creds); !s.ok()) {
    std::fprintf(stderr, "credentials: %s\n", s.ToString().c_str());
    return 2;
  }

  metrics::Registry registry;
  aws::AwsJsonEndpoint::Options opts;
  opts.credentials = &store;
  opts.sigv4.service = service;
  opts.metrics = &registry;
  absl::StatusOr<std::unique_ptr<aws::AwsJsonEndpoint>> endpoint =
      aws::AwsJsonEndpoint::Create(opts);
  if (!endpoint.ok()) {
    std::fprintf(stderr, "%s\n", endpoint.status().ToString().c_str());
    return 2;
  }
  for (const std::string& target : targets) {
    (*endpoint)->Register(
        target, [target](const nlohmann::json& req) -> absl::StatusOr<nlohmann::json> {
          for (const auto& [key, value] : req.items()) {
            if (value.is_string() && value.get<std::string>().rfind("fail:", 0) == 0) {
              return aws::AwsError(400, value.get<std::string>().substr(5),
                                   absl::StrCat("failure requested by the test through ", key));
            }
          }
          std::string text = req.dump();
          return nlohmann::json{
              {"Operation", target},
              {"Echo", req},
              {"CollectionIds", {target, text}},
              {"Sentiment", "NEUTRAL"},
              {"SentimentScore",
               {{"Positive", 0.0}, {"Negative", 0.0}, {"Neutral", 1.0}, {"Mixed", 0.0}}}};
        });
  }

  HttpServer::Options http_opts;
  http_opts.address = address;
  http_opts.port = port;
  absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Create(http_opts);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 2;
  }
  (*endpoint)->Install(server->get());
  (*server)->Handle("/metrics", [&registry](const HttpRequest&) {
    return HttpResponse::Text(200, registry.Serialize());
  });
  if (absl::Status s = (*server)->Start(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 2;
  }
  int bound = (*server)->port();
  if (!port_file.empty()) {
    std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << bound << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }
  std::printf("port=%d\n", bound);
  std::fflush(stdout);
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  (*server)->Stop();
  return 0;
}
