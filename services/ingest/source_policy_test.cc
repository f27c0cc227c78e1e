#include "services/ingest/source_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"

namespace stratus::ingest {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Names resolve from a table; literals parse as themselves.
SourcePolicy::Resolver TableResolver(std::map<std::string, std::vector<std::string>> table) {
  return [table](const std::string& host) -> absl::StatusOr<std::vector<IpAddress>> {
    std::vector<IpAddress> out;
    if (auto literal = IpAddress::Parse(host); literal.ok()) return std::vector{*literal};
    auto it = table.find(host);
    if (it == table.end())
      return absl::InvalidArgumentError("host '" + host + "' does not resolve");
    for (const auto& a : it->second) out.push_back(*IpAddress::Parse(a));
    return out;
  };
}

class SourcePolicyTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / absl::StrCat("stratus-source-policy-", getpid());
    fs::create_directories(dir_ / "media");
    fs::create_directories(dir_ / "media-private");
    std::ofstream(dir_ / "media" / "a.mp4") << "x";
    std::ofstream(dir_ / "media-private" / "b.mp4") << "x";
    fs::create_symlink("/etc/passwd", dir_ / "media" / "passwd.mp4");
    resolve_ = TableResolver({
        {"camera.example.com", {"93.184.216.34"}},
        {"metadata.google.internal", {"169.254.169.254"}},
        {"localhost", {"127.0.0.1", "::1"}},
        {"mixed.example.com", {"93.184.216.34", "10.1.2.3"}},
        {"cam.lan", {"192.168.10.7"}},
    });
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<SourcePolicy> Policy(std::vector<std::string> allow = {},
                                       std::vector<std::string> roots = {}) {
    auto p =
        SourcePolicy::Create({.allowed_sources = allow, .media_roots = roots, .resolve = resolve_});
    EXPECT_TRUE(p.ok()) << p.status();
    return std::move(*p);
  }
  std::string Media() const { return (dir_ / "media").string(); }

  fs::path dir_;
  SourcePolicy::Resolver resolve_;
};

TEST_F(SourcePolicyTest, AcceptsPublicNetworkSources) {
  auto p = Policy();
  for (const char* uri :
       {"rtsp://camera.example.com/live", "rtsps://camera.example.com:322/x",
        "rtmp://camera.example.com/app/key", "http://camera.example.com/a.mjpg",
        "https://user:pw@camera.example.com:8443/hls/index.m3u8", "http://93.184.216.34/feed",
        "http://[2606:2800:220:1::248]/feed", "http://[::ffff:93.184.216.34]/feed"}) {
    auto r = p->Check(uri);
    EXPECT_TRUE(r.ok()) << uri << ": " << r.status();
    if (r.ok()) {
      EXPECT_EQ(*r, uri);
    }
  }
}

TEST_F(SourcePolicyTest, RefusesForbiddenAddressesWithTheReason) {
  auto p = Policy();
  const std::vector<std::string> uris = {
      "http://169.254.169.254/latest/meta-data/",
      "http://metadata.google.internal/computeMetadata/v1/",
      "http://[fd00:ec2::254]/latest/meta-data/",
      "http://168.63.129.16/machine",
      "http://100.100.100.200/latest/meta-data/",
      "rtsp://127.0.0.1:8554/cam",
      "rtsp://localhost/cam",
      "http://0.0.0.0:8080/",
      "http://[::1]/",
      "http://[::]/",
      "http://[::ffff:127.0.0.1]/",
      "http://[::ffff:169.254.169.254]/",
      "http://[::127.0.0.1]/",
      "http://[64:ff9b::a9fe:a9fe]/",
      "http://[2002:a9fe:a9fe::1]/",
      "http://[fe80::1]/",
      "http://10.0.0.5/",
      "http://172.16.3.4/",
      "http://192.168.1.1/",
      "http://evil@127.0.0.1/",
      "http://camera.example.com@127.0.0.1:80/",
      "https://mixed.example.com/",  // one address of several is enough to refuse
      "http://224.0.0.1/",
  };
  for (const std::string& uri : uris) {
    auto r = p->Check(uri);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << uri << ": " << r.status();
    EXPECT_THAT(r.status().message(), HasSubstr("--allow-source")) << uri;
  }
  EXPECT_THAT(p->Check("http://169.254.169.254/").status().message(), HasSubstr("link-local"));
  EXPECT_THAT(p->Check("rtsp://127.0.0.1/").status().message(), HasSubstr("loopback"));
}

TEST_F(SourcePolicyTest, RefusesOtherSchemesAndMalformedUris) {
  auto p = Policy();
  for (const char* uri : {"tcp://127.0.0.1:5432",
                          "udp://0.0.0.0:1234",
                          "gopher://x/",
                          "concat:/etc/passwd|/etc/shadow",
                          "subfile,,start,0,end,0,,:/etc/passwd",
                          "pipe:0",
                          "data:text/plain;base64,AAAA",
                          "ftp://camera.example.com/",
                          "HTTP://camera.example.com/",
                          "file://host/etc/passwd",
                          "relative.mp4",
                          "http:///nohost",
                          "http://camera.example.com:99999/",
                          "http://camera.example.com:80x/",
                          "http://bad\\host/",
                          "http://camera.example.com/ HTTP/1.1\r\nX: y",
                          "http://[::1/",
                          "http://[127.0.0.1]/",
                          "http://ca%6dera.example.com/",
                          ""}) {
    auto r = p->Check(uri);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << uri << ": " << r.status();
  }
  EXPECT_THAT(p->Check("tcp://127.0.0.1:5432").status().message(), HasSubstr("'tcp'"));
  EXPECT_EQ(p->Check("http://nowhere.invalid/").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SourcePolicyTest, LocalFilesOnlyUnderMediaRoots) {
  auto none = Policy();
  for (const char* uri : {"file:///etc/passwd", "/etc/shadow", "/etc/passwd"}) {
    auto r = none->Check(uri);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << uri;
    EXPECT_THAT(r.status().message(), HasSubstr("--media-root")) << uri;
  }
  const std::string a = (dir_ / "media" / "a.mp4").string();
  EXPECT_EQ(none->Check(a).status().code(), absl::StatusCode::kPermissionDenied);

  auto p = Policy({}, {Media()});
  auto r = p->Check(a);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, fs::canonical(a).string());
  r = p->Check("file://" + a);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, fs::canonical(a).string());
  for (const std::string& uri : {std::string("/etc/passwd"), std::string("file:///etc/shadow"),
                                 (dir_ / "media-private" / "b.mp4").string(),
                                 (dir_ / "media" / ".." / "media-private" / "b.mp4").string(),
                                 (dir_ / "media" / "passwd.mp4").string()}) {
    EXPECT_EQ(p->Check(uri).status().code(), absl::StatusCode::kPermissionDenied) << uri;
  }
  EXPECT_EQ(p->Check((dir_ / "media" / "missing.mp4").string()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(p->Check(Media()).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SourcePolicyTest, AllowSourceOpensAPrefix) {
  auto p = Policy({"127.0.0.1/32", "192.168.10.0/24", "fd00::/8"});
  EXPECT_TRUE(p->Check("rtsp://127.0.0.1:8554/cam").ok());
  EXPECT_TRUE(p->Check("http://[::ffff:127.0.0.1]/").ok());
  EXPECT_TRUE(p->Check("rtsp://cam.lan/stream").ok());
  EXPECT_TRUE(p->Check("http://[fd00::5]/").ok());
  EXPECT_EQ(p->Check("rtsp://192.168.11.7/").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(p->Check("http://127.0.0.2/").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(p->Check("http://169.254.169.254/").status().code(),
            absl::StatusCode::kPermissionDenied);
  // localhost also resolves to ::1, which is not allowed.
  EXPECT_EQ(p->Check("http://localhost/").status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(SourcePolicyTest, BadOptionsAreRefused) {
  EXPECT_EQ(SourcePolicy::Create({.allowed_sources = {"10.0.0.0/33"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SourcePolicy::Create({.allowed_sources = {"camera"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SourcePolicy::Create({.media_roots = {(dir_ / "nope").string()}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SourcePolicyRealResolverTest, ResolvesNumericFormsAsFfmpegWould) {
  auto p = SourcePolicy::Create({});
  ASSERT_TRUE(p.ok());
  // inet_aton forms of 127.0.0.1 that getaddrinfo (and so FFmpeg) accepts.
  for (const char* uri : {"http://2130706433/", "http://0x7f.1/", "http://127.1/",
                          "http://localhost/", "http://0/"}) {
    EXPECT_EQ((*p)->Check(uri).status().code(), absl::StatusCode::kPermissionDenied) << uri;
  }
}

TEST(CidrTest, ContainsRespectsThePrefix) {
  auto c = Cidr::Parse("10.1.0.0/16");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->Contains(*IpAddress::Parse("10.1.255.3")));
  EXPECT_FALSE(c->Contains(*IpAddress::Parse("10.2.0.1")));
  EXPECT_FALSE(c->Contains(*IpAddress::Parse("::a01:1")));
  auto all = Cidr::Parse("0.0.0.0/0");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->Contains(*IpAddress::Parse("8.8.8.8")));
  EXPECT_FALSE(all->Contains(*IpAddress::Parse("2001:4860::8888")));
  EXPECT_EQ(IpAddress::Parse("::ffff:1.2.3.4")->ToString(), "1.2.3.4");
}

}  // namespace
}  // namespace stratus::ingest
