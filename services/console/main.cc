// stratus-console: the web console. Serves the built front end and its JSON API (sessions, a
// JSON-to-gRPC bridge to the platform's services, live events and frames as server-sent
// events, snapshots, the cost report) on the HTTP port; the gRPC port has health only.
// Stateless but for browser sessions, which live in memory (docs/console/api.md).
//
// Log-in: with an API key of the platform (the key store is the services' own: the keys table
// of --database-url, or --api-keys-file), or once with --login-token, which stands for the key
// in --login-key (what `stratus up` prints as the console link).
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/grpc_channel.h"
#include "common/logging.h"
#include "common/service_main.h"
#include "services/console/console_api.h"
#include "services/console/cost_scraper.h"
#include "services/console/rpc_bridge.h"
#include "services/console/sessions.h"

namespace {

// The front end beside the binary: <build>/bin/stratus-console -> <build>/console/web, or an
// installed layout's <prefix>/share/stratus/console.
std::string DefaultWebDir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  for (const auto& candidate :
       {exe.parent_path().parent_path() / "console" / "web",
        exe.parent_path().parent_path() / "share" / "stratus" / "console"}) {
    if (std::filesystem::exists(candidate / "index.html", ec)) return candidate.string();
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  namespace con = stratus::console;
  stratus::ServiceMain main(
      {.binary = "stratus-console",
       .summary = "The web console: streams, events, faces, models, trends and cost.",
       .defaults = stratus::kConsoleDefaults});
  stratus::FlagSet& flags = main.flags();
  std::string ingest = "127.0.0.1:50051", detector = "127.0.0.1:50052",
              recognition = "127.0.0.1:50053", mask = "127.0.0.1:50054",
              sentiment = "127.0.0.1:50055";
  std::string web_dir = DefaultWebDir();
  std::string login_token, login_key, scrape, prices;
  bool secure_cookies = false;
  int scrape_interval_s = 30;
  flags.String("ingest", "STRATUS_INGEST_ADDR", &ingest, "ingest gRPC address");
  flags.String("detector", "STRATUS_DETECTOR_ADDR", &detector, "detector gRPC address");
  flags.String("recognition", "STRATUS_RECOGNITION_ADDR", &recognition, "recognition gRPC address");
  flags.String("mask", "STRATUS_MASK_ADDR", &mask, "mask gRPC address");
  flags.String("sentiment", "STRATUS_SENTIMENT_ADDR", &sentiment, "sentiment gRPC address");
  flags.String("web-dir", "STRATUS_CONSOLE_WEB_DIR", &web_dir,
               "the built front end (default: console/web beside the binary's folder)");
  flags.String("login-token", "STRATUS_CONSOLE_LOGIN_TOKEN", &login_token,
               "one-time token of the console link (/login?token=...); \"\" for none");
  flags.String("login-key", "STRATUS_CONSOLE_LOGIN_KEY", &login_key,
               "the API key a session opened with --login-token uses");
  flags.String("scrape", "STRATUS_CONSOLE_SCRAPE", &scrape,
               "services whose /metrics feed the cost page: name=host:port,... (HTTP ports)");
  flags.Int("scrape-interval-s", "STRATUS_CONSOLE_SCRAPE_INTERVAL_S", &scrape_interval_s,
            "seconds between /metrics scrapes");
  flags.String("prices", "STRATUS_PRICES", &prices, "price file of the cost page");
  flags.Bool("secure-cookies", "STRATUS_CONSOLE_SECURE_COOKIES", &secure_cookies,
             "mark the session cookie Secure (when the console is reached over HTTPS)");
  return main.Run(argc, argv, [&](stratus::ServiceContext& ctx) -> absl::Status {
    const stratus::CommonServiceFlags& common = ctx.common();
    if (ctx.host().http() == nullptr) {
      return absl::InvalidArgumentError("the console needs its HTTP port (--http-port)");
    }
    if (!login_token.empty() && login_key.empty()) {
      return absl::InvalidArgumentError("--login-token needs --login-key (the key its session uses)");
    }
    if (scrape_interval_s < 1) return absl::InvalidArgumentError("--scrape-interval-s must be >= 1");
    if (web_dir.empty()) {
      SLOG(WARNING) << "no built front end found: only the API is served (build target console_web)";
    }
    // Calls carry the session's key in their own metadata: the channels send none of their own.
    auto channel = [](const std::string& target) {
      return stratus::MakeChannel({.target = target, .api_key = ""});
    };
    std::shared_ptr<grpc::Channel> ingest_channel = channel(ingest);
    auto* bridge = ctx.Make<con::RpcBridge>(con::RpcBridge::Options{
        .channels = {
            {"stratus.v1.IngestService", ingest_channel},
            {"stratus.v1.DetectorService", channel(detector)},
            {"stratus.v1.RecognitionService", channel(recognition)},
            {"stratus.v1.MaskService", channel(mask)},
            {"stratus.v1.SentimentService", channel(sentiment)},
            {"stratus.v1.KeyService", ingest_channel},
        }});
    auto* sessions = ctx.Make<con::SessionStore>(con::SessionStore::Options{
        .keys = common.host.api_keys.get(), .login_token = login_token, .login_key = login_key});
    con::CostScraper::Options cost_options{.interval = std::chrono::seconds(scrape_interval_s),
                                           .prices_file = prices};
    for (absl::string_view entry : absl::StrSplit(scrape, ',', absl::SkipEmpty())) {
      std::vector<std::string> kv = absl::StrSplit(entry, absl::MaxSplits('=', 1));
      if (kv.size() != 2 || kv[0].empty() || kv[1].empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--scrape: expected name=host:port, got '", entry, "'"));
      }
      // The scraped services speak TLS when the console does (as under `stratus up --tls`).
      cost_options.targets.push_back(
          {kv[0], absl::StrCat(common.host.tls.serves_tls() ? "https://" : "http://", kv[1],
                               "/metrics")});
    }
    auto* cost = ctx.Make<con::CostScraper>(cost_options);
    con::RegisterConsoleApi(ctx.host().http(),
                            {.sessions = sessions,
                             .keys = common.host.api_keys.get(),
                             .bridge = bridge,
                             .ingest = ingest_channel,
                             .services = {{"ingest", ingest},
                                          {"detector", detector},
                                          {"recognition", recognition},
                                          {"mask", mask},
                                          {"sentiment", sentiment}},
                             .cost = cost,
                             .web_dir = web_dir,
                             .secure_cookies = secure_cookies || common.host.tls.serves_tls()});
    ctx.OnStarted([cost] { cost->Start(); });
    return absl::OkStatus();
  });
}
