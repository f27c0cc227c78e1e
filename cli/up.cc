// stratus up: the whole platform on one machine, on embedded defaults.
//
// Starts PostgreSQL (an embedded cluster in <data-dir>/postgres unless STRATUS_DATABASE_URL
// names a server), then the five services and the web console on their default ports, prints
// one line per service (`<service> grpc=<host:port> http=<host:port>`, http=https://<host:port>
// with --tls), then the console link (`console url=http(s)://<host:port>/login?token=<one-time
// token>`: it logs the local operator in once, with the admin key), waits until every one
// reports SERVING and prints `ready`. From the start it supervises (cli/supervisor.h): a service
// that exits, before or after it was ready, is restarted with backoff (1 s doubling to 30 s,
// reset after a minute up), and so is the embedded PostgreSQL. Ctrl-C or SIGTERM stops the
// services (draining) and then PostgreSQL.
//
// API keys: on first start it creates an admin key ("*:admin") and writes it to
// <data-dir>/credentials (profile [stratus], stratus_api_key, beside the AWS pair), where every
// `stratus` command finds it; and an internal key for service-to-service calls
// (detector:read, mask:read, recognition:read; profile [stratus-internal]) that the services
// get as STRATUS_API_KEY. Both are reused on later starts while the keys table accepts them.
//
// TLS (--tls): a local CA and a server certificate it signed are kept in <data-dir>/tls
// (ca.pem, server.pem, server.key; common/tls.h EnsureLocalCa: made on first use, reused while
// valid, SAN localhost, 127.0.0.1, ::1 and --listen); every service gets them as
// STRATUS_TLS_CERT/STRATUS_TLS_KEY (gRPC and HTTP over TLS) and STRATUS_TLS_CA (to call the
// others), the printed HTTP URLs are https://, and stderr says how to trust the CA (stratus
// commands, the AWS CLI/SDKs, Node, browsers and the system store). <data-dir>/tls/enabled
// tells the stratus tool that the services of this data dir speak TLS (auth/client.h
// ClientTlsFromEnvironment); a start without --tls removes it and leaves the CA for later.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/supervisor.h"
#include "common/auth/api_key.h"
#include "common/auth/bootstrap.h"
#include "common/auth/client.h"
#include "common/auth/key_store.h"
#include "common/aws/credentials.h"
#include "common/embedded_postgres.h"
#include "common/flags.h"
#include "common/health_client.h"
#include "common/http_client.h"
#include "common/logging.h"
#include "common/service_flags.h"
#include "common/subprocess.h"
#include "common/tls.h"
#include "stratus/v1/ingest.grpc.pb.h"

namespace stratus::cli {
namespace fs = std::filesystem;
namespace {

struct ServiceProcess {
  ServiceDefaults defaults;
  int grpc_port = 0;
  int http_port = 0;
  std::unique_ptr<Subprocess> process;
  bool ready = false;
};

std::string SelfDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "." : exe.parent_path().string();
}

// Waits for SIGINT/SIGTERM (blocked in this thread) for up to `timeout`. True when one came.
bool WaitForSignal(std::chrono::milliseconds timeout) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  timespec ts{static_cast<time_t>(timeout.count() / 1000),
              static_cast<long>((timeout.count() % 1000) * 1000000)};
  return sigtimedwait(&set, nullptr, &ts) > 0;
}

}  // namespace

int RunUpCommand(int argc, char** argv) {
  FlagSet flags(
      "stratus up",
      "Runs PostgreSQL, the five Stratus services and the web console on this machine until "
      "Ctrl-C.");
  std::string data_dir = "var";
  std::string database_url;
  std::string listen = "127.0.0.1";
  std::string bin_dir = SelfDir();
  std::string model_dir;
  std::string demo_video = "../shared/data/video/people-walking.mp4";
  std::string access_key_id, secret_access_key;
  bool demo = false;
  bool tls = false;
  int ready_timeout_s = 900;
  std::vector<std::string> only;
  flags.String("data-dir", "STRATUS_DATA_DIR", &data_dir,
               "folder for the embedded PostgreSQL, logs, credentials and spools");
  flags.String("database-url", "STRATUS_DATABASE_URL", &database_url,
               "use this PostgreSQL instead of an embedded one");
  flags.String("listen", "", &listen, "address the services listen on");
  flags.String("bin-dir", "", &bin_dir, "where the stratus-<service> binaries are");
  flags.String("model-dir", "STRATUS_MODEL_DIR", &model_dir, "the model repository");
  flags.String("access-key-id", "STRATUS_AWS_ACCESS_KEY_ID", &access_key_id,
               "access key for the AWS-compatible endpoints (generated when empty)");
  flags.String("secret-access-key", "STRATUS_AWS_SECRET_ACCESS_KEY", &secret_access_key,
               "secret for --access-key-id");
  flags.Bool("tls", "", &tls,
             "serve gRPC and HTTP over TLS with a local CA kept in <data-dir>/tls (prints how to "
             "trust it)");
  flags.Bool("demo", "", &demo, "add the sample video as a stream once ready");
  flags.String("demo-video", "STRATUS_DEMO_VIDEO", &demo_video, "the video --demo plays");
  flags.Int("ready-timeout", "", &ready_timeout_s, "seconds to wait for every service to be ready");
  flags.StringList("service", "", &only, "run only these services (repeatable)");
  int exit_code = 0;
  if (!ParseFlags(flags, argc, argv, &exit_code)) return exit_code;

  // Signals are taken synchronously by this thread; children start with them unblocked.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::error_code ec;
  fs::create_directories(fs::path(data_dir) / "logs", ec);
  if (ec) {
    std::cerr << "error: cannot create " << data_dir << ": " << ec.message() << "\n";
    return 1;
  }
  data_dir = fs::absolute(data_dir).lexically_normal().string();
  const std::string log_dir = data_dir + "/logs";

  // TLS material first: a failure here should not leave PostgreSQL running.
  const std::string tls_dir = data_dir + "/tls";
  LocalCaFiles tls_files;
  if (tls) {
    std::vector<std::string> hosts = {listen};
    if (listen == "0.0.0.0" || listen == "::") {
      char name[256] = "";
      if (gethostname(name, sizeof(name) - 1) == 0 && name[0] != '\0') hosts.push_back(name);
    }
    absl::StatusOr<LocalCaFiles> made = EnsureLocalCa(tls_dir, hosts);
    absl::Status s = made.ok() ? auth::SetDefaultClientTls({.ca = made->ca_cert}) : made.status();
    if (s.ok()) {
      std::ofstream(tls_dir + "/enabled") << "the services of this data dir serve TLS\n";
    }
    if (!s.ok()) {
      std::cerr << "error: TLS: " << s.message() << "\n";
      return 1;
    }
    tls_files = *made;
    if (tls_files.created_ca) std::cerr << "made a local CA: " << tls_files.ca_cert << "\n";
  } else {
    fs::remove(tls_dir + "/enabled", ec);
    (void)auth::SetDefaultClientTls({});
  }
  const std::string http_scheme = tls ? "https://" : "http://";

  std::unique_ptr<EmbeddedPostgres> postgres;
  if (database_url.empty()) {
    std::cerr << "starting PostgreSQL in " << data_dir << "/postgres\n";
    auto pg = EmbeddedPostgres::Start(
        {.data_dir = data_dir + "/postgres", .log_file = log_dir + "/postgres.log"});
    if (!pg.ok()) {
      std::cerr << "error: PostgreSQL: " << pg.status().message() << "\n";
      return 1;
    }
    postgres = std::move(*pg);
    database_url = postgres->url();
  }
  if (postgres) {
    // The password stays in its file (mode 0600), out of terminals and logs.
    std::cout << "postgres url=postgresql://postgres@127.0.0.1:" << postgres->port()
              << "/stratus password-file=" << data_dir << "/postgres/stratus.password" << std::endl;
  } else {
    std::cout << "postgres url=" << database_url << std::endl;
  }

  std::vector<ServiceProcess> services;
  for (const auto& d : {kIngestDefaults, kDetectorDefaults, kRecognitionDefaults, kMaskDefaults,
                        kSentimentDefaults, kConsoleDefaults}) {
    if (!only.empty() && std::find(only.begin(), only.end(), d.name) == only.end()) continue;
    services.push_back({d, d.grpc_port, d.http_port});
  }
  // Where clients dial. Over TLS they check the certificate against that host, so a wildcard
  // --listen is dialled on loopback (the certificate names 127.0.0.1, not 0.0.0.0).
  const std::string dial_host =
      tls && (listen == "0.0.0.0" || listen == "::" || listen == "[::]") ? "127.0.0.1" : listen;
  auto addr = [&](int port) { return absl::StrCat(dial_host, ":", port); };
  std::map<std::string, std::string> env = {
      {"STRATUS_DATABASE_URL", database_url},
      {"STRATUS_LISTEN", listen},
      {"STRATUS_INGEST_ADDR", addr(kIngestDefaults.grpc_port)},
      {"STRATUS_DETECTOR_ADDR", addr(kDetectorDefaults.grpc_port)},
      {"STRATUS_RECOGNITION_ADDR", addr(kRecognitionDefaults.grpc_port)},
      {"STRATUS_MASK_ADDR", addr(kMaskDefaults.grpc_port)},
      {"STRATUS_SENTIMENT_ADDR", addr(kSentimentDefaults.grpc_port)},
      {"STRATUS_SPOOL_DIR", data_dir + "/spool"},
      // Five services share this machine's cores: LibTorch's OpenMP threads must sleep, not
      // spin, while they wait (measured up to 10x slower at batch 1 otherwise).
      {"OMP_WAIT_POLICY", "PASSIVE"},
  };
  if (tls) {
    env["STRATUS_TLS_CERT"] = tls_files.server_cert;
    env["STRATUS_TLS_KEY"] = tls_files.server_key;
    env["STRATUS_TLS_CA"] = tls_files.ca_cert;
  }
  if (!model_dir.empty()) env["STRATUS_MODEL_DIR"] = model_dir;
  // Ingest opens local files only under media roots: the demo's video folder.
  if (demo) {
    const char* roots = std::getenv("STRATUS_MEDIA_ROOT");
    env["STRATUS_MEDIA_ROOT"] =
        absl::StrCat(roots != nullptr && *roots != '\0' ? absl::StrCat(roots, ",") : "",
                     fs::absolute(demo_video).lexically_normal().parent_path().string());
    // Stored video: the same folder is the bucket "samples" (recognition's --bucket).
    if (std::getenv("STRATUS_BUCKETS") == nullptr) {
      env["STRATUS_BUCKETS"] = absl::StrCat(
          "samples=", fs::absolute(demo_video).lexically_normal().parent_path().string());
    }
  }
  // One key pair for the AWS-compatible endpoints (recognition, sentiment): the given one, or
  // one generated on first start; either way written where the AWS SDKs and CLI read it.
  const std::string credentials_file = data_dir + "/credentials";
  {
    aws::CredentialSources sources;
    sources.access_key_id = access_key_id;
    sources.secret_access_key = secret_access_key;
    sources.shared_credentials_file = credentials_file;
    sources.create_if_missing = true;
    sources.write_explicit_keys = true;
    auto creds = aws::LoadCredentials(sources);
    if (!creds.ok()) {
      std::cerr << "error: credentials: " << creds.status().message() << "\n";
      return 2;
    }
    env["STRATUS_AWS_CREDENTIALS_FILE"] = credentials_file;
  }
  std::string admin_key;
  {
    auto keys = auth::KeyStore::Create({.database_url = database_url});
    absl::Status s = keys.ok() ? (*keys)->Refresh() : keys.status();
    absl::StatusOr<std::string> admin =
        s.ok() ? auth::EnsureCredentialsKey(**keys, credentials_file, auth::kCredentialsProfile,
                                            "admin", {{"*", auth::Level::kAdmin}})
               : s;
    absl::StatusOr<std::string> internal =
        admin.ok()
            ? auth::EnsureCredentialsKey(**keys, credentials_file, "stratus-internal", "internal",
                                         {{"detector", auth::Level::kRead},
                                          {"mask", auth::Level::kRead},
                                          {"recognition", auth::Level::kRead}})
            : admin.status();
    if (!internal.ok()) {
      std::cerr << "error: API keys: " << internal.status().message() << "\n";
      if (postgres) (void)postgres->Stop();
      return 1;
    }
    admin_key = *admin;
    env["STRATUS_API_KEY"] = *internal;
  }

  // The console link's one-time token; the console's session with it uses the admin key.
  std::map<std::string, std::string> console_env;
  {
    absl::StatusOr<std::string> token = auth::RandomToken(32);
    if (!token.ok()) {
      std::cerr << "error: console login token: " << token.status().message() << "\n";
      if (postgres) (void)postgres->Stop();
      return 1;
    }
    std::vector<std::string> scrape;
    for (const auto& d : {kIngestDefaults, kDetectorDefaults, kRecognitionDefaults, kMaskDefaults,
                          kSentimentDefaults}) {
      scrape.push_back(absl::StrCat(d.name, "=", addr(d.http_port)));
    }
    console_env = {{"STRATUS_CONSOLE_LOGIN_TOKEN", *token},
                   {"STRATUS_CONSOLE_LOGIN_KEY", admin_key},
                   {"STRATUS_CONSOLE_SCRAPE", absl::StrJoin(scrape, ",")}};
  }

  auto start = [&](ServiceProcess& s) -> absl::Status {
    auto e = env;
    if (s.defaults.name == std::string_view(kConsoleDefaults.name)) {
      e.insert(console_env.begin(), console_env.end());
    }
    e["STRATUS_GRPC_PORT"] = std::to_string(s.grpc_port);
    e["STRATUS_HTTP_PORT"] = std::to_string(s.http_port);
    auto p = Subprocess::Spawn({.argv = {bin_dir + "/stratus-" + s.defaults.name},
                                .env = e,
                                .log_file = log_dir + "/" + s.defaults.name + ".log"});
    if (!p.ok()) return p.status();
    s.process = std::move(*p);
    s.ready = false;
    return absl::OkStatus();
  };

  auto stop_all = [&] {
    std::cerr << "stopping services\n";
    for (auto it = services.rbegin(); it != services.rend(); ++it) {
      if (it->process) it->process->Signal(SIGTERM);
    }
    for (auto it = services.rbegin(); it != services.rend(); ++it) {
      if (it->process) it->process->Stop(std::chrono::seconds(15));
    }
    if (postgres) {
      std::cerr << "stopping PostgreSQL\n";
      (void)postgres->Stop();
    }
  };

  for (auto& s : services) {
    if (auto st = start(s); !st.ok()) {
      std::cerr << "error: " << s.defaults.name << ": " << st.message() << "\n";
      stop_all();
      return 1;
    }
    std::cout << s.defaults.name << " grpc=" << addr(s.grpc_port)
              << " http=" << (tls ? http_scheme : "") << addr(s.http_port) << std::endl;
  }
  for (const auto& s : services) {
    if (s.defaults.name != std::string_view(kConsoleDefaults.name)) continue;
    std::cout << "console url=" << http_scheme << addr(s.http_port)
              << "/login?token=" << console_env["STRATUS_CONSOLE_LOGIN_TOKEN"] << std::endl;
  }
  std::cerr << "logs in " << log_dir << "\n";

  Supervisor supervisor({.log = [&](const std::string& name, const std::string& what) {
    std::cerr << name << ": " << what << " (see " << log_dir << "/" << name << ".log)\n";
  }});
  const auto started = std::chrono::steady_clock::now();
  if (postgres) {
    supervisor.AddRunning({.name = "postgres",
                           .start = [&] { return postgres->Restart(); },
                           .running = [&] { return postgres->running(); },
                           .exit_reason = [] { return std::string("PostgreSQL stopped"); }},
                          started);
  }
  for (auto& s : services) {
    supervisor.AddRunning({.name = s.defaults.name,
                           .start = [&] { return start(s); },
                           .running = [&] { return s.process && s.process->Running(); },
                           .exit_reason =
                               [&] {
                                 return absl::StrCat(
                                     "exited with code ",
                                     s.process ? s.process->exit_code().value_or(-1) : -1);
                               }},
                          started);
  }

  // Wait for readiness, reporting who is still not ready every 10 seconds; a service that dies
  // meanwhile is restarted.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(ready_timeout_s);
  auto next_report = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    supervisor.Poll(std::chrono::steady_clock::now());
    std::vector<std::string> waiting;
    for (auto& s : services) {
      if (!s.ready && s.process && s.process->Running()) {
        auto h = CheckHealth(addr(s.grpc_port), "", std::chrono::milliseconds(500));
        s.ready = h.ok() && *h == ServingStatus::kServing;
      }
      if (!s.ready) waiting.push_back(s.defaults.name);
    }
    if (waiting.empty()) break;
    if (std::chrono::steady_clock::now() > deadline) {
      std::cerr << "error: not ready after " << ready_timeout_s
                << " s: " << absl::StrJoin(waiting, ", ") << "\n";
      stop_all();
      return 1;
    }
    if (std::chrono::steady_clock::now() > next_report) {
      for (auto& s : services) {
        if (s.ready) continue;
        auto r = HttpFetch(
            "GET", absl::StrCat(http_scheme, addr(s.http_port), "/readyz"), {}, "",
            HttpFetchOptions{.timeout = std::chrono::seconds(1), .ca_file = tls_files.ca_cert});
        std::cerr << "waiting for " << s.defaults.name << ": "
                  << (r.ok() ? r->body : std::string(r.status().message()));
        if (!r.ok() || r->body.empty() || r->body.back() != '\n') std::cerr << "\n";
      }
      next_report = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    }
    if (WaitForSignal(std::chrono::milliseconds(500))) {
      stop_all();
      return 130;
    }
  }
  std::cout << "ready" << std::endl;
  std::cerr << "AWS SDKs: AWS_SHARED_CREDENTIALS_FILE=" << credentials_file
            << " AWS_PROFILE=stratus, endpoint " << http_scheme
            << addr(kRecognitionDefaults.http_port) << " (Rekognition) or " << http_scheme
            << addr(kSentimentDefaults.http_port) << " (Comprehend)\n";
  std::cerr << "gRPC: the admin API key is stratus_api_key in " << credentials_file
            << " (every stratus command run from here sends it; `stratus keys` manages keys)\n";
  if (tls) {
    const std::string& ca = tls_files.ca_cert;
    std::cerr << "TLS: every endpoint uses a certificate of the local CA " << ca << "; trust it:\n"
              << "  stratus commands: STRATUS_TLS_CA=" << ca
              << " (found by itself when run with this data dir)\n"
              << "  AWS CLI and SDKs: AWS_CA_BUNDLE=" << ca << "\n"
              << "  Node.js: NODE_EXTRA_CA_CERTS=" << ca << "\n"
              << "  curl: curl --cacert " << ca << "\n"
              << "  system store (Debian/Ubuntu): sudo cp " << ca
              << " /usr/local/share/ca-certificates/stratus-local-ca.crt && sudo "
                 "update-ca-certificates\n"
              << "  browsers: import " << ca
              << " as a certificate authority (Firefox: Settings > Privacy & Security > "
                 "Certificates > Import; Chrome: Settings > Privacy and security > Security > "
                 "Manage certificates > Authorities)\n";
  }
  if (demo) {
    v1::AddStreamRequest req;
    req.mutable_config()->set_name("demo");
    req.mutable_config()->set_uri(fs::absolute(demo_video).lexically_normal().string());
    req.mutable_config()->set_sample_fps(5);
    req.set_replace(true);
    const std::string ingest_address = addr(kIngestDefaults.grpc_port);
    const clients::IngestClient ingest(
        MakeChannel(ChannelOptions{.target = ingest_address, .api_key = admin_key}),
        {.address = ingest_address});
    const auto added = ingest.Call(&v1::IngestService::Stub::AddStream, req, CallKind::kControl);
    if (added.ok()) {
      std::cerr << "demo: streaming " << req.config().uri()
                << " (video: Intel IoT Devkit sample videos, CC BY 4.0); watch events with\n"
                << "  " << bin_dir << "/stratus events --follow\n";
    } else {
      std::cerr << "demo: could not add the sample stream: " << added.status().message() << "\n";
    }
  }

  // Supervise until a signal.
  for (;;) {
    if (WaitForSignal(std::chrono::milliseconds(1000))) break;
    supervisor.Poll(std::chrono::steady_clock::now());
  }
  stop_all();
  return 0;
}

}  // namespace stratus::cli
