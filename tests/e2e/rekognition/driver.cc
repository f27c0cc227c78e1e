// Runs the Rekognition end-to-end test: an embedded PostgreSQL, a detector (the real
// stratus-detector, or stratus-fake-detector answering from golden outputs) and
// stratus-recognition on free loopback ports, then `node run.js` with the AWS SDK pointed at the
// recognition service through the credentials file the service generated.
//
//   recognition-e2e-driver --recognition BIN --detector BIN [--fake-detector] --node NODE
//                          --script run.js --golden DIR --photos DIR
//
// With the real detector, the face models must be there: the driver asks the detector to
// analyse a golden sample; when it cannot (models missing, detector not implemented), the test
// is skipped (exit 77) or, with STRATUS_REQUIRE_MODELS=1, fails. Exit 0 only when run.js passed.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/auth/client.h"
#include "common/auth/key_store.h"
#include "common/embedded_postgres.h"
#include "common/flags.h"
#include "common/health_client.h"
#include "common/http_client.h"
#include "common/subprocess.h"
#include "services/recognition/backends.h"

namespace {

constexpr int kSkip = 77;

bool RequireModels() {
  const char* v = std::getenv("STRATUS_REQUIRE_MODELS");
  return v != nullptr && std::string(v) == "1";
}

}  // namespace

int main(int argc, char** argv) {
  std::string recognition, detector, node = "node", script, golden, photos;
  bool fake = false;
  stratus::FlagSet flags("recognition-e2e-driver", "Runs the Rekognition e2e test.");
  flags.String("recognition", "", &recognition, "stratus-recognition binary");
  flags.String("detector", "", &detector, "detector binary");
  flags.Bool("fake-detector", "", &fake, "the detector is stratus-fake-detector");
  flags.String("node", "", &node, "node executable");
  flags.String("script", "", &script, "run.js");
  flags.String("golden", "", &golden, "golden/faceapi folder");
  flags.String("photos", "", &photos, "shared photos folder");
  if (auto s = flags.Parse(argc, argv); !s.ok()) {
    std::cerr << s.message() << "\n" << flags.Usage();
    return 2;
  }
  if (!std::filesystem::exists(golden + "/sample1.png")) {
    std::cerr << "SKIP: no golden samples in '" << golden << "'\n";
    return RequireModels() ? 1 : kSkip;
  }
  const std::string dir = std::filesystem::temp_directory_path() /
                          ("stratus-rekognition-e2e-" + std::to_string(getpid()));
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
  // One API key for everything here: the detector accepts it from a keys file, recognition
  // from the same file, and both this driver and recognition send it.
  auto key = stratus::auth::GenerateKey();
  auto key_line = key.ok()
                      ? stratus::auth::KeysFileLine(key->key, {{"*", stratus::auth::Level::kAdmin}})
                      : key.status();
  if (!key_line.ok()) {
    std::cerr << "FAIL: API key: " << key_line.status() << "\n";
    return 1;
  }
  const std::string keys_file = dir + "/api-keys";
  std::ofstream(keys_file) << *key_line << "\n";
  stratus::auth::SetDefaultApiKey(key->key);
  auto det_port = stratus::PickFreePort();
  auto det_http = stratus::PickFreePort();
  if (!det_port.ok() || !det_http.ok()) return 1;
  std::vector<std::string> det_argv = {detector, absl::StrCat("--grpc-port=", *det_port),
                                       "--api-keys-file=" + keys_file};
  if (fake) {
    det_argv.push_back("--golden-dir=" + golden);
  } else {
    det_argv.push_back(absl::StrCat("--http-port=", *det_http));
  }
  auto det = stratus::Subprocess::Spawn({.argv = det_argv, .log_file = dir + "/detector.log"});
  if (!det.ok()) {
    std::cerr << "FAIL: detector: " << det.status() << "\n";
    return 1;
  }
  const std::string det_addr = absl::StrCat("127.0.0.1:", *det_port);

  // Wait until the detector can analyse a face (models load for a while).
  {
    std::ifstream in(golden + "/sample1.png", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    stratus::recognition::DetectorClient client({.address = det_addr});
    stratus::v1::AnalyzeFacesRequest probe;
    probe.mutable_image()->set_bytes(ss.str());
    probe.set_descriptors(true);
    absl::Status last = absl::UnavailableError("not tried");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
    while (std::chrono::steady_clock::now() < deadline && (*det)->Running()) {
      auto r = client.AnalyzeFaces(probe);
      if (r.ok() && r->faces_size() > 0 && r->faces(0).face_descriptor_size() == 128) {
        last = absl::OkStatus();
        break;
      }
      last = r.ok() ? absl::FailedPreconditionError("no face with a descriptor in sample1") : r.status();
      if (!absl::IsUnavailable(last)) break;  // up but unable: models missing or not implemented
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    if (!last.ok()) {
      std::cerr << (RequireModels() ? "FAIL" : "SKIP")
                << ": the detector cannot analyse faces (face models missing or detector not "
                   "ready): "
                << last << " (log: " << dir << "/detector.log)\n";
      std::ifstream log(dir + "/detector.log");
      std::cerr << log.rdbuf();
      return RequireModels() ? 1 : kSkip;
    }
  }

  auto rec_grpc = stratus::PickFreePort();
  auto rec_http = stratus::PickFreePort();
  if (!rec_grpc.ok() || !rec_http.ok()) return 1;
  const std::string credentials = dir + "/credentials";
  auto rec = stratus::Subprocess::Spawn(
      {.argv = {recognition, absl::StrCat("--grpc-port=", *rec_grpc),
                absl::StrCat("--http-port=", *rec_http), "--database-url=" + (*pg)->url(),
                "--detector=" + det_addr, "--mask=127.0.0.1:1", "--credentials-file=" + credentials,
                "--api-keys-file=" + keys_file, "--api-key=" + key->key},
       .log_file = dir + "/recognition.log"});
  if (!rec.ok()) {
    std::cerr << "FAIL: recognition: " << rec.status() << "\n";
    return 1;
  }
  const std::string endpoint = absl::StrCat("http://127.0.0.1:", *rec_http);
  bool ready = false;
  for (int i = 0; i < 300 && (*rec)->Running(); ++i) {
    auto r = stratus::HttpFetch("GET", endpoint + "/readyz", {}, "", std::chrono::seconds(2));
    if (r.ok() && r->status == 200) {
      ready = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (!ready) {
    std::cerr << "FAIL: recognition did not become ready (exit code "
              << (*rec)->exit_code().value_or(-1) << ")\n";
    std::ifstream log(dir + "/recognition.log");
    std::cerr << log.rdbuf();
    return 1;
  }
  std::string output;
  auto code = stratus::RunCommand(
      {.argv = {node, script, endpoint, golden, photos},
       .env = {{"AWS_SHARED_CREDENTIALS_FILE", credentials},
               {"AWS_PROFILE", "stratus"},
               {"AWS_CONFIG_FILE", dir + "/no-config"},
               {"AWS_ACCESS_KEY_ID", ""},
               {"AWS_SECRET_ACCESS_KEY", ""}}},
      &output);
  std::cout << output;
  if (!code.ok() || *code != 0) {
    std::cerr << "recognition log:\n";
    std::ifstream log(dir + "/recognition.log");
    std::cerr << log.rdbuf();
    return 1;
  }
  return 0;
}
