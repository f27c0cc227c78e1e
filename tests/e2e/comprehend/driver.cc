// Runs the Comprehend end-to-end test: an embedded PostgreSQL and stratus-sentiment (with the
// trained model) on free loopback ports, then `node run.js` with the AWS SDK pointed at the
// service through the credentials file the service generated.
//
//   comprehend-e2e-driver --sentiment BIN --node NODE --script run.js [--model-dir DIR]
//
// Without the model ($STRATUS_MODEL_DIR/sentiment, `make models`) the test is skipped (exit 77)
// or, with STRATUS_REQUIRE_MODELS=1, fails. Exit 0 only when run.js passed.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "common/paths.h"
#include "absl/strings/str_cat.h"
#include "common/embedded_postgres.h"
#include "common/flags.h"
#include "common/http_client.h"
#include "common/subprocess.h"

namespace {

constexpr int kSkip = 77;

bool RequireModels() {
  const char* v = std::getenv("STRATUS_REQUIRE_MODELS");
  return v != nullptr && std::string(v) == "1";
}

}  // namespace

int main(int argc, char** argv) {
  std::string sentiment, node = "node", script, model_dir = stratus::DefaultModelDir();
  stratus::FlagSet flags("comprehend-e2e-driver", "Runs the Comprehend e2e test.");
  flags.String("sentiment", "", &sentiment, "stratus-sentiment binary");
  flags.String("node", "", &node, "node executable");
  flags.String("script", "", &script, "run.js");
  flags.String("model-dir", "", &model_dir, "model repository holding sentiment/");
  if (auto s = flags.Parse(argc, argv); !s.ok()) {
    std::cerr << s.message() << "\n" << flags.Usage();
    return 2;
  }
  if (!std::filesystem::exists(model_dir + "/sentiment/weights.bin")) {
    std::cerr << (RequireModels() ? "FAIL" : "SKIP") << ": no sentiment model in '" << model_dir
              << "/sentiment' (make models)\n";
    return RequireModels() ? 1 : kSkip;
  }
  const std::string dir = std::filesystem::temp_directory_path() /
                          ("stratus-comprehend-e2e-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      if (std::getenv("STRATUS_E2E_KEEP") == nullptr) std::filesystem::remove_all(dir);
    }
  } cleanup{dir};

  auto pg = stratus::EmbeddedPostgres::Start({.data_dir = dir + "/pg"});
  if (!pg.ok()) {
    std::cerr << "FAIL: PostgreSQL: " << pg.status() << "\n";
    return 1;
  }
  auto grpc_port = stratus::PickFreePort();
  auto http_port = stratus::PickFreePort();
  if (!grpc_port.ok() || !http_port.ok()) return 1;
  const std::string credentials = dir + "/credentials";
  auto service = stratus::Subprocess::Spawn(
      {.argv = {sentiment, absl::StrCat("--grpc-port=", *grpc_port),
                absl::StrCat("--http-port=", *http_port), "--database-url=" + (*pg)->url(),
                "--model-dir=" + model_dir, "--credentials-file=" + credentials},
       .log_file = dir + "/sentiment.log"});
  if (!service.ok()) {
    std::cerr << "FAIL: sentiment: " << service.status() << "\n";
    return 1;
  }
  const std::string endpoint = absl::StrCat("http://127.0.0.1:", *http_port);
  bool ready = false;
  for (int i = 0; i < 300 && (*service)->Running(); ++i) {
    auto r = stratus::HttpFetch("GET", endpoint + "/readyz", {}, "", std::chrono::seconds(2));
    if (r.ok() && r->status == 200) {
      ready = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  auto dump_log = [&] {
    std::cerr << "sentiment log:\n";
    std::ifstream log(dir + "/sentiment.log");
    std::cerr << log.rdbuf();
  };
  if (!ready) {
    std::cerr << "FAIL: sentiment did not become ready (exit code "
              << (*service)->exit_code().value_or(-1) << ")\n";
    dump_log();
    return 1;
  }
  std::string output;
  auto code = stratus::RunCommand({.argv = {node, script, endpoint},
                                   .env = {{"AWS_SHARED_CREDENTIALS_FILE", credentials},
                                           {"AWS_PROFILE", "stratus"},
                                           {"AWS_CONFIG_FILE", dir + "/no-config"},
                                           {"AWS_ACCESS_KEY_ID", ""},
                                           {"AWS_SECRET_ACCESS_KEY", ""}}},
                                  &output);
  std::cout << output;
  if (!code.ok() || *code != 0) {
    dump_log();
    return 1;
  }
  return 0;
}
