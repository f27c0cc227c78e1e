// Runs the Rekognition end-to-end test: an embedded PostgreSQL, a detector (the real
// stratus-detector, or stratus-fake-detector answering from golden outputs) and
// stratus-recognition on free loopback ports, then `node run.js` with the AWS SDK pointed at the
// recognition service through the credentials file the service generated.
//
//   recognition-e2e-driver --recognition BIN --detector BIN [--fake-detector] --node NODE
//                          --script run.js --golden DIR --photos DIR [--video FILE]
//                          [--tls --stratus BIN]
//
// --tls: the same over TLS with mutual TLS between the services. The driver makes a test CA and
// certificates signed by it (SAN localhost, 127.0.0.1, ::1; serverAuth and clientAuth) in its
// temporary folder: one for the detector, one for recognition, one for itself. Both services
// get STRATUS_TLS_CERT/KEY (their own), STRATUS_TLS_CLIENT_CA and STRATUS_TLS_CA (the test CA),
// so recognition calls the detector over TLS presenting its certificate, which the detector
// requires. Before node, the driver checks that the detector refuses plain-text gRPC
// (UNAVAILABLE), a TLS caller without a client certificate and one without an API key
// (UNAUTHENTICATED); that recognition's HTTP port answers /readyz over HTTPS and a plain http://
// request with 400; that `stratus health` (--stratus) reports both services SERVING with
// STRATUS_TLS_CA and cannot reach them without it; and that node refuses the endpoint's
// certificate without NODE_EXTRA_CA_CERTS. run.js then gets https://127.0.0.1:PORT with
// NODE_EXTRA_CA_CERTS=<the test CA>. Without --tls every STRATUS_TLS_* of the services is
// cleared, so they serve plain text whatever the environment says.
//
// With the real detector, the face models must be there: the driver asks the detector to
// analyse a golden sample; when it cannot (models missing, detector not implemented), the test
// is skipped (exit 77) or, with STRATUS_REQUIRE_MODELS=1, fails. A detector that cannot be
// reached over TLS while it runs fails the --tls test whatever the models. Exit 0 only when
// run.js (and, with --tls, every check above) passed.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/client.h"
#include "common/auth/key_store.h"
#include "common/embedded_postgres.h"
#include "common/flags.h"
#include "common/health_client.h"
#include "common/http_client.h"
#include "common/subprocess.h"
#include "common/tls.h"
#include "clients/cpp/detector_client.h"

namespace {

constexpr int kSkip = 77;

bool RequireModels() {
  const char* v = std::getenv("STRATUS_REQUIRE_MODELS");
  return v != nullptr && std::string(v) == "1";
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `data` to `path`, mode 0600 (keys).
bool WritePrivate(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
  std::error_code ec;
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  return !ec && Slurp(path) == data;
}

// The test PKI of --tls in `dir`: ca.pem and, for each name, NAME.pem / NAME.key.
struct TestPki {
  std::string ca;
  std::map<std::string, stratus::TlsFiles> leaf;  // cert/key per name; client_ca and ca: ca.pem
};

absl::StatusOr<TestPki> MakeTestPki(const std::string& dir, const std::vector<std::string>& names) {
  auto ca = stratus::IssueCertificate({.common_name = "stratus e2e test CA", .is_ca = true});
  if (!ca.ok()) return ca.status();
  TestPki pki;
  pki.ca = dir + "/ca.pem";
  if (!WritePrivate(pki.ca, ca->cert)) return absl::InternalError("cannot write " + pki.ca);
  for (const auto& name : names) {
    auto leaf = stratus::IssueCertificate(
        {.common_name = name, .hosts = {"localhost", "127.0.0.1", "::1"}}, &*ca);
    if (!leaf.ok()) return leaf.status();
    stratus::TlsFiles f{.cert = dir + "/" + name + ".pem",
                        .key = dir + "/" + name + ".key",
                        .client_ca = pki.ca,
                        .ca = pki.ca};
    if (!WritePrivate(f.cert, leaf->cert) || !WritePrivate(f.key, leaf->key)) {
      return absl::InternalError("cannot write the certificate of " + name);
    }
    pki.leaf[name] = f;
  }
  return pki;
}

// The environment that makes a service serve `f` with mTLS and call others over TLS; {} (every
// variable cleared) for plain text.
std::map<std::string, std::string> ServiceTlsEnv(const stratus::TlsFiles& f) {
  return {{"STRATUS_TLS_CERT", f.cert},
          {"STRATUS_TLS_KEY", f.key},
          {"STRATUS_TLS_CLIENT_CA", f.client_ca},
          {"STRATUS_TLS_CA", f.ca}};
}

// One AnalyzeFaces call (empty request) to the detector through `channel`, with `api_key` in
// the authorization header when not empty.
grpc::Status CallDetector(const std::shared_ptr<grpc::Channel>& channel,
                          const std::string& api_key) {
  auto stub = stratus::v1::DetectorService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!api_key.empty()) ctx.AddMetadata("authorization", "Bearer " + api_key);
  stratus::v1::AnalyzeFacesRequest req;
  stratus::v1::AnalyzeFacesResponse resp;
  return stub->AnalyzeFaces(&ctx, req, &resp);
}

// The detector's refusals over TLS with mTLS (see the file comment); "" when all hold, else
// what went wrong.
std::string CheckDetectorRefusals(const std::string& det_addr, const std::string& ca,
                                  const std::string& api_key) {
  std::string problems;
  grpc::Status plain =
      CallDetector(grpc::CreateChannel(det_addr, grpc::InsecureChannelCredentials()), api_key);
  if (plain.error_code() != grpc::StatusCode::UNAVAILABLE) {
    absl::StrAppend(&problems, "plain-text gRPC to the detector: expected UNAVAILABLE, got ",
                    plain.error_code(), " ", plain.error_message(), "\n");
  }
  grpc::SslCredentialsOptions no_cert;
  no_cert.pem_root_certs = Slurp(ca);
  grpc::Status anonymous =
      CallDetector(grpc::CreateChannel(det_addr, grpc::SslCredentials(no_cert)), api_key);
  if (anonymous.error_code() != grpc::StatusCode::UNAUTHENTICATED ||
      !absl::StrContains(anonymous.error_message(), "client certificate required")) {
    absl::StrAppend(&problems,
                    "TLS without a client certificate: expected UNAUTHENTICATED \"client "
                    "certificate required\", got ",
                    anonymous.error_code(), " ", anonymous.error_message(), "\n");
  }
  grpc::Status no_key = CallDetector(stratus::auth::CreateChannelWithKey(det_addr, ""), "");
  if (no_key.error_code() != grpc::StatusCode::UNAUTHENTICATED) {
    absl::StrAppend(&problems,
                    "TLS with a client certificate but no API key: expected "
                    "UNAUTHENTICATED, got ",
                    no_key.error_code(), " ", no_key.error_message(), "\n");
  }
  return problems;
}

// GET `url` from node with NODE_EXTRA_CA_CERTS=`extra_ca`: exit 0 on 200, 3 on a connection
// or TLS error (its code printed), 4 on another status.
constexpr char kNodeGet[] = R"js(
const req = require('https').get(process.argv[1], (r) => {
  console.log('status', r.statusCode);
  process.exit(r.statusCode === 200 ? 0 : 4);
});
req.on('error', (e) => { console.log('error', e.code || e.message); process.exit(3); });
req.setTimeout(30000, () => { console.log('timeout'); process.exit(3); });
)js";

// Everything --tls checks once both services are up (see the file comment); "" when all hold.
std::string CheckTlsEndpoints(const std::string& stratus_bin, const std::string& node,
                              const std::string& dir, const std::string& det_addr,
                              const std::string& rec_addr, int rec_http, const std::string& ca) {
  std::string problems;
  auto health = [&](const std::string& tls_ca, std::string* out) {
    auto code = stratus::RunCommand(
        {.argv = {stratus_bin, "health", "--timeout-ms=30000", det_addr, rec_addr},
         .env = {{"STRATUS_TLS_CA", tls_ca},
                 {"STRATUS_TLS_CLIENT_CERT", ""},
                 {"STRATUS_TLS_CLIENT_KEY", ""},
                 {"STRATUS_DATA_DIR", dir + "/no-data-dir"}}},
        out);
    return code.ok() ? *code : -1;
  };
  std::string out;
  if (int code = health(ca, &out); code != 0 || !absl::StrContains(out, det_addr + " SERVING\n") ||
                                   !absl::StrContains(out, rec_addr + " SERVING\n")) {
    absl::StrAppend(&problems, "stratus health with STRATUS_TLS_CA: exit code ", code,
                    ", expected 0 and both SERVING:\n", out);
  }
  out.clear();
  if (int code = health("", &out); code != 1 || !absl::StrContains(out, "UNREACHABLE")) {
    absl::StrAppend(&problems, "stratus health in plain text: exit code ", code,
                    ", expected 1 and UNREACHABLE:\n", out);
  }

  auto plain = stratus::HttpFetch("GET", absl::StrCat("http://127.0.0.1:", rec_http, "/readyz"), {},
                                  "", std::chrono::seconds(30));
  if (!plain.ok() || plain->status != 400) {
    absl::StrAppend(&problems, "http:// to recognition's HTTPS port: expected 400, got ",
                    plain.ok() ? absl::StrCat(plain->status) : plain.status().ToString(), "\n");
  }

  const std::string url = absl::StrCat("https://127.0.0.1:", rec_http, "/readyz");
  auto node_get = [&](const std::string& extra_ca, std::string* out) {
    auto code = stratus::RunCommand(
        {.argv = {node, "-e", kNodeGet, url},
         .env = {{"NODE_EXTRA_CA_CERTS", extra_ca}, {"NODE_TLS_REJECT_UNAUTHORIZED", ""}}},
        out);
    return code.ok() ? *code : -1;
  };
  out.clear();
  if (int code = node_get("", &out);
      code != 3 || !(absl::StrContains(out, "CERT") || absl::StrContains(out, "VERIFY"))) {
    absl::StrAppend(&problems, "node without NODE_EXTRA_CA_CERTS: exit code ", code,
                    ", expected 3 and a certificate error: ", out);
  }
  out.clear();
  if (int code = node_get(ca, &out); code != 0) {
    absl::StrAppend(&problems, "node with NODE_EXTRA_CA_CERTS: exit code ", code,
                    ", expected 0: ", out);
  }
  if (problems.empty()) {
    std::cout << "ok: stratus health SERVING over TLS (UNREACHABLE in plain text); http:// gets "
                 "400; node trusts the endpoint only with NODE_EXTRA_CA_CERTS\n";
  }
  return problems;
}

}  // namespace

int main(int argc, char** argv) {
  std::string recognition, detector, node = "node", script, golden, photos, video, stratus_bin;
  bool fake = false, tls = false;
  stratus::FlagSet flags("recognition-e2e-driver", "Runs the Rekognition e2e test.");
  flags.String("recognition", "", &recognition, "stratus-recognition binary");
  flags.String("detector", "", &detector, "detector binary");
  flags.Bool("fake-detector", "", &fake, "the detector is stratus-fake-detector");
  flags.String("node", "", &node, "node executable");
  flags.String("script", "", &script, "run.js");
  flags.String("golden", "", &golden, "golden/faceapi folder");
  flags.String("photos", "", &photos, "shared photos folder");
  flags.String("video", "", &video,
               "a video whose seconds 10-18 the stored-video checks analyse (bucket e2e-videos)");
  flags.Bool("tls", "", &tls, "everything over TLS, mTLS between the services");
  flags.String("stratus", "", &stratus_bin, "the stratus tool (for --tls)");
  if (auto s = flags.Parse(argc, argv); !s.ok()) {
    std::cerr << s.message() << "\n" << flags.Usage();
    return 2;
  }
  if (tls && stratus_bin.empty()) {
    std::cerr << "--tls needs --stratus\n";
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

  // TLS: the test CA and a certificate each for the detector, recognition and this driver,
  // which trusts the CA and presents its certificate from here on.
  stratus::TlsFiles det_tls, rec_tls;  // all empty: plain text
  std::string ca;
  if (tls) {
    auto pki = MakeTestPki(dir, {"detector", "recognition", "driver"});
    if (!pki.ok()) {
      std::cerr << "FAIL: test CA: " << pki.status() << "\n";
      return 1;
    }
    ca = pki->ca;
    det_tls = pki->leaf["detector"];
    rec_tls = pki->leaf["recognition"];
    if (auto s = stratus::auth::SetDefaultClientTls(pki->leaf["driver"]); !s.ok()) {
      std::cerr << "FAIL: client TLS: " << s << "\n";
      return 1;
    }
  }
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
  auto det = stratus::Subprocess::Spawn(
      {.argv = det_argv, .env = ServiceTlsEnv(det_tls), .log_file = dir + "/detector.log"});
  if (!det.ok()) {
    std::cerr << "FAIL: detector: " << det.status() << "\n";
    return 1;
  }
  const std::string det_addr = absl::StrCat("127.0.0.1:", *det_port);

  // Over TLS the detector's liveness must answer whatever the models: a detector that stopped
  // (TLS files refused) or that this client cannot reach is a failure, not a skip.
  if (tls) {
    absl::StatusOr<stratus::ServingStatus> live = absl::UnavailableError("not tried");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline && (*det)->Running()) {
      live = stratus::CheckHealth(det_addr, "liveness", std::chrono::seconds(2));
      if (live.ok() && *live == stratus::ServingStatus::kServing) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (!live.ok() || *live != stratus::ServingStatus::kServing) {
      std::cerr << "FAIL: the detector's liveness over TLS: "
                << (live.ok() ? stratus::ServingStatusName(*live) : live.status().ToString())
                << " (exit code " << (*det)->exit_code().value_or(-1) << ")\n"
                << Slurp(dir + "/detector.log");
      return 1;
    }
  }

  // Wait until the detector can analyse a face (models load for a while).
  {
    std::ifstream in(golden + "/sample1.png", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    stratus::clients::DetectorClient client({.address = det_addr});
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
      last = r.ok() ? absl::FailedPreconditionError("no face with a descriptor in sample1")
                    : r.status();
      // Up but unable: models missing or not implemented. A call that timed out (the first
      // analysis warming the models up on a loaded machine) is tried again.
      if (!absl::IsUnavailable(last) && !absl::IsDeadlineExceeded(last)) break;
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
  if (tls) {
    if (std::string problems = CheckDetectorRefusals(det_addr, ca, key->key); !problems.empty()) {
      std::cerr << "FAIL: " << problems;
      return 1;
    }
    std::cout << "ok: the detector refuses plain text, TLS without a client certificate and "
                 "calls without an API key\n";
  }

  // Stored video: 8 seconds of `video` from 10 s on (someone walks through), copied without
  // re-encoding, in the folder of the bucket e2e-videos.
  const std::string videos = dir + "/videos";
  std::filesystem::create_directories(videos);
  if (!video.empty()) {
    auto cut = stratus::RunCommand({.argv = {"ffmpeg", "-v", "error", "-y", "-ss", "10", "-t", "8",
                                             "-i", video, "-c", "copy", videos + "/clip.mp4"}});
    if (!cut.ok() || *cut != 0) {
      std::cerr << "FAIL: ffmpeg could not cut " << video << "\n";
      return 1;
    }
  }

  auto rec_grpc = stratus::PickFreePort();
  auto rec_http = stratus::PickFreePort();
  // The port run.js listens on as the subscriber of the stored-video notification topic.
  auto sns_port = stratus::PickFreePort();
  if (!rec_grpc.ok() || !rec_http.ok() || !sns_port.ok()) return 1;
  const std::string credentials = dir + "/credentials";
  auto rec = stratus::Subprocess::Spawn(
      {.argv = {recognition, absl::StrCat("--grpc-port=", *rec_grpc),
                absl::StrCat("--http-port=", *rec_http), "--database-url=" + (*pg)->url(),
                "--detector=" + det_addr, "--mask=127.0.0.1:1", "--credentials-file=" + credentials,
                "--api-keys-file=" + keys_file, "--api-key=" + key->key,
                "--bucket=e2e-videos=" + videos,
                absl::StrCat("--notification-topic=arn:aws:sns:us-east-1:123456789012:e2e-video="
                             "http://127.0.0.1:",
                             *sns_port, "/sns")},
       .env = ServiceTlsEnv(rec_tls),
       .log_file = dir + "/recognition.log"});
  if (!rec.ok()) {
    std::cerr << "FAIL: recognition: " << rec.status() << "\n";
    return 1;
  }
  const std::string endpoint = absl::StrCat(tls ? "https" : "http", "://127.0.0.1:", *rec_http);
  bool ready = false;
  for (int i = 0; i < 300 && (*rec)->Running(); ++i) {
    auto r = stratus::HttpFetch(
        "GET", endpoint + "/readyz", {}, "",
        stratus::HttpFetchOptions{.timeout = std::chrono::seconds(2), .ca_file = ca});
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
  if (tls) {
    if (std::string problems = CheckTlsEndpoints(
            stratus_bin, node, dir, det_addr, absl::StrCat("127.0.0.1:", *rec_grpc), *rec_http, ca);
        !problems.empty()) {
      std::cerr << "FAIL: " << problems << "recognition log:\n" << Slurp(dir + "/recognition.log");
      return 1;
    }
  }
  std::string output;
  auto code = stratus::RunCommand({.argv = {node, script, endpoint, golden, photos},
                                   .env = {{"AWS_SHARED_CREDENTIALS_FILE", credentials},
                                           {"AWS_PROFILE", "stratus"},
                                           {"AWS_CONFIG_FILE", dir + "/no-config"},
                                           {"AWS_ACCESS_KEY_ID", ""},
                                           {"AWS_SECRET_ACCESS_KEY", ""},
                                           {"NODE_EXTRA_CA_CERTS", ca},
                                           {"NODE_TLS_REJECT_UNAUTHORIZED", ""},
                                           {"STRATUS_E2E_VIDEO", video.empty() ? "" : "clip.mp4"},
                                           {"STRATUS_E2E_REAL_DETECTOR", fake ? "" : "1"},
                                           {"STRATUS_E2E_SNS_PORT", absl::StrCat(*sns_port)}}},
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
