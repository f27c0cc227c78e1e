// The stream source policy (services/ingest/source_policy.h) on arbitrary URIs, with a resolver
// that answers literals as themselves and every name with an address the fuzzer picks (so no
// network is used). Checks: no crash or undefined behaviour, and what the policy lets through is
// what it promises: a network URI of an allowed scheme, without whitespace or control
// characters, whose host's address is not denied; or a file under the media root.
#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/path_root.h"
#include "services/ingest/source_policy.h"

namespace ingest = stratus::ingest;

namespace {

const std::string& MediaRoot() {
  static const std::string* root = [] {
    auto dir =
        std::filesystem::temp_directory_path() / ("stratus-fuzz-media-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "a.mp4") << "x";
    return new std::string(dir.string());
  }();
  return *root;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider p(data, size);
  ingest::IpAddress answer;
  const auto raw = p.ConsumeBytes<uint8_t>(16);
  std::copy(raw.begin(), raw.end(), answer.bytes.begin());
  const bool allow_loopback = p.ConsumeBool();
  const std::string uri = p.ConsumeRemainingBytesAsString();

  ingest::SourcePolicy::Options o;
  o.media_roots = {MediaRoot()};
  if (allow_loopback) o.allowed_sources = {"127.0.0.0/8"};
  o.resolve = [&](const std::string& host) -> absl::StatusOr<std::vector<ingest::IpAddress>> {
    if (auto literal = ingest::IpAddress::Parse(host); literal.ok()) return std::vector{*literal};
    return std::vector{answer};
  };
  auto policy = ingest::SourcePolicy::Create(o);
  if (!policy.ok()) abort();
  auto target = (*policy)->Check(uri);
  if (!target.ok()) return 0;
  auto parsed = ingest::ParseSourceUri(uri);
  if (!parsed.ok()) abort();
  for (char c : uri) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) abort();
  }
  if (parsed->scheme.empty()) {
    if (!stratus::IsUnderRoot(*target, std::filesystem::canonical(MediaRoot()))) abort();
    return 0;
  }
  if (*target != uri) abort();
  if (parsed->scheme != "rtsp" && parsed->scheme != "rtsps" && parsed->scheme != "rtmp" &&
      parsed->scheme != "http" && parsed->scheme != "https") {
    abort();
  }
  if (!ingest::IpAddress::Parse(parsed->host).ok() && !(*policy)->AddressAllowed(answer)) abort();
  return 0;
}
