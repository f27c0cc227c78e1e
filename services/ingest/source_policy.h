// Which video sources ingest may open on a caller's behalf.
//
// A stream URI names either a network source or a local file:
//  - Network: scheme rtsp, rtsps, rtmp, http or https, and a host. The host is resolved on every
//    check and every address it resolves to must be outside the deny list: "this network",
//    loopback, link-local (with the cloud metadata address 169.254.169.254), private ranges
//    (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), documentation, benchmarking, multicast
//    and reserved ranges, IPv6 site-local, and known metadata addresses outside them
//    (168.63.129.16). IPv6 forms that embed an IPv4 address (IPv4-mapped ::ffff:a.b.c.d,
//    IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by the IPv4
//    address as well. An address inside an `allowed_sources` CIDR passes whatever the deny list
//    says (cameras on a private network: --allow-source 192.168.10.0/24).
//  - Local file: an absolute path or file:///path, only under one of `media_roots` after
//    resolving links and ".."; none by default, so files are refused unless a root is set.
// Every other scheme (file-like FFmpeg protocols such as concat:, subfile:, pipe:, tcp://,
// udp://, data:) is refused, as are URIs with whitespace or control characters.
//
// Limits: the check resolves the name itself, and FFmpeg resolves it again when it connects,
// so a name whose answer changes between the two (DNS rebinding) or an HTTP redirect can still
// reach a denied address; deployments add an egress network policy (deploy/helm) for that.
//
// Thread-safe after Create.
#ifndef STRATUS_SERVICES_INGEST_SOURCE_POLICY_H_
#define STRATUS_SERVICES_INGEST_SOURCE_POLICY_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace stratus::ingest {

// An IPv4 or IPv6 address; IPv4 is held as its IPv4-mapped IPv6 form (::ffff:a.b.c.d).
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  // Parses a literal (dotted IPv4 or IPv6, without brackets or zone).
  static absl::StatusOr<IpAddress> Parse(std::string_view text);
  bool is_v4() const;
  std::string ToString() const;
};

// A network prefix such as 10.0.0.0/8 or fd00::/8; a bare address is a /32 or /128.
struct Cidr {
  IpAddress base;
  int bits = 128;  // on the 128-bit form (IPv4 prefixes are stored as 96 + their length)
  static absl::StatusOr<Cidr> Parse(std::string_view text);
  bool Contains(const IpAddress& a) const;
};

// The parts of a source URI the policy looks at.
struct SourceUri {
  std::string scheme;  // "" for a local file
  std::string host;    // without brackets; "" for a local file
  std::string path;    // the local file's path
};

// Syntax only (no resolution, no file system): INVALID_ARGUMENT naming what is wrong.
absl::StatusOr<SourceUri> ParseSourceUri(std::string_view uri);

class SourcePolicy {
 public:
  using Resolver = std::function<absl::StatusOr<std::vector<IpAddress>>(const std::string& host)>;
  struct Options {
    std::vector<std::string> allowed_sources;  // CIDRs exempt from the deny list
    std::vector<std::string> media_roots;      // folders local files may come from
    Resolver resolve;                          // default: getaddrinfo
  };

  // INVALID_ARGUMENT for a malformed CIDR or a media root that is not a folder.
  static absl::StatusOr<std::unique_ptr<SourcePolicy>> Create(const Options& options);

  // Checks `uri` now and returns what to open: the resolved absolute path of a local file, or
  // the URI itself. INVALID_ARGUMENT: malformed URI, unsupported scheme, missing file, or a host
  // that does not resolve; PERMISSION_DENIED: a denied address or a file outside the media
  // roots. Each message gives the reason.
  absl::StatusOr<std::string> Check(std::string_view uri) const;

  // Whether `a` may be connected to (allowed, or outside the deny list).
  bool AddressAllowed(const IpAddress& a) const;

 private:
  explicit SourcePolicy(Options options) : options_(std::move(options)) {}
  Options options_;
  std::vector<Cidr> allowed_;
};

}  // namespace stratus::ingest

#endif  // STRATUS_SERVICES_INGEST_SOURCE_POLICY_H_
