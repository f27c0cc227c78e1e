// TLS of ServiceHost's gRPC port against real in-process servers: the right CA, plain text, an
// untrusted CA, mTLS with and without a client certificate, health open throughout, the
// process-wide client TLS of common/auth/client.h, and clear errors for bad files and flags.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/auth/client.h"
#include "common/auth/testing/test_keys.h"
#include "common/http_client.h"
#include "common/service_flags.h"
#include "common/service_host.h"
#include "common/testing/test_tls.h"
#include "common/tls.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace stratus {
namespace {

using ::stratus::testing_util::MakeTestTls;
using ::stratus::testing_util::TestTls;
using ::testing::HasSubstr;

constexpr char kMethod[] = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
const std::string kAdmin = std::string("Bearer ") + auth::testing::kAdminKey;

std::shared_ptr<grpc::ChannelCredentials> Ssl(const std::string& ca, const std::string& cert = "",
                                              const std::string& key = "") {
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = *ReadTlsFile("ca", ca);
  if (!cert.empty()) {
    o.pem_cert_chain = *ReadTlsFile("cert", cert);
    o.pem_private_key = *ReadTlsFile("key", key);
  }
  return grpc::SslCredentials(o);
}

grpc::Status Health(const std::shared_ptr<grpc::ChannelCredentials>& creds,
                    const std::string& target, bool* serving) {
  auto stub = grpc::health::v1::Health::NewStub(grpc::CreateChannel(target, creds));
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::Status s = stub->Check(&ctx, req, &resp);
  *serving = s.ok() && resp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  return s;
}

class ServiceHostTlsTest : public testing::Test {
 protected:
  void Start(bool mtls) {
    tls_ = MakeTestTls();
    ServiceHost::Options o;
    o.service_name = "test";
    o.grpc_address = "127.0.0.1";
    o.http_address = "127.0.0.1";
    o.readiness_interval = std::chrono::milliseconds(50);
    o.drain_deadline = std::chrono::milliseconds(200);
    o.api_keys = auth::testing::TestKeyStore();
    o.tls = {.cert = tls_.server_cert, .key = tls_.server_key};
    if (mtls) o.tls.client_ca = tls_.ca;
    auto host = ServiceHost::Create(o);
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    ASSERT_TRUE(host_->Start().ok());
    target_ = "127.0.0.1:" + std::to_string(host_->grpc_port());
  }
  void TearDown() override {
    if (host_) host_->Shutdown();
  }

  TestTls tls_;
  std::unique_ptr<ServiceHost> host_;
  std::string target_;
};

TEST_F(ServiceHostTlsTest, TlsCallSucceedsWithTheRightCaOnly) {
  Start(/*mtls=*/false);
  grpc::Status s = auth::testing::RawCall(Ssl(tls_.ca), target_, kMethod, kAdmin);
  EXPECT_TRUE(s.ok()) << s.error_message();
  bool serving = false;
  EXPECT_TRUE(Health(Ssl(tls_.ca), target_, &serving).ok());

  // The HTTP port serves HTTPS with the same certificate.
  auto healthz =
      HttpFetch("GET", absl::StrCat("https://127.0.0.1:", host_->http_port(), "/healthz"), {}, "",
                HttpFetchOptions{.ca_file = tls_.ca});
  ASSERT_TRUE(healthz.ok()) << healthz.status();
  EXPECT_EQ(healthz->status, 200);

  // The API key is still required over TLS.
  s = auth::testing::RawCall(Ssl(tls_.ca), target_, kMethod, "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  s = auth::testing::RawCall(grpc::InsecureChannelCredentials(), target_, kMethod, kAdmin);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  s = auth::testing::RawCall(Ssl(tls_.other_ca), target_, kMethod, kAdmin);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

TEST_F(ServiceHostTlsTest, MutualTlsNeedsAClientCertificateButHealthStaysOpen) {
  Start(/*mtls=*/true);
  grpc::Status s = auth::testing::RawCall(Ssl(tls_.ca), target_, kMethod, kAdmin);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("client certificate required"));
  bool serving = false;
  s = Health(Ssl(tls_.ca), target_, &serving);
  EXPECT_TRUE(s.ok()) << s.error_message();

  s = auth::testing::RawCall(Ssl(tls_.ca, tls_.client_cert, tls_.client_key), target_, kMethod,
                             kAdmin);
  EXPECT_TRUE(s.ok()) << s.error_message();
  // A certificate of another CA fails the handshake.
  s = auth::testing::RawCall(Ssl(tls_.ca, tls_.other_client_cert, tls_.other_client_key), target_,
                             kMethod, kAdmin);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  // With a client certificate the key is still checked.
  s = auth::testing::RawCall(Ssl(tls_.ca, tls_.client_cert, tls_.client_key), target_, kMethod, "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("missing API key"));
}

TEST_F(ServiceHostTlsTest, DefaultClientTlsMakesEveryChannelTls) {
  Start(/*mtls=*/true);
  ASSERT_TRUE(
      auth::SetDefaultClientTls({.cert = tls_.client_cert, .key = tls_.client_key, .ca = tls_.ca})
          .ok());
  EXPECT_EQ(auth::DefaultClientTlsCa(), tls_.ca);
  grpc::Status s = auth::testing::RawCall(target_, kMethod, kAdmin);
  EXPECT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(auth::SetDefaultClientTls({}).ok());
  s = auth::testing::RawCall(target_, kMethod, kAdmin);  // plain text again: refused
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);

  absl::Status bad = auth::SetDefaultClientTls({.ca = tls_.dir + "/none.pem"});
  EXPECT_THAT(bad.message(), HasSubstr("none.pem: cannot read"));
}

TEST(ClientTlsFromEnvironmentTest, EnvironmentThenTheDataDirOfAnUpWithTls) {
  TestTls t = MakeTestTls();
  setenv("STRATUS_DATA_DIR", t.dir.c_str(), 1);
  unsetenv("STRATUS_TLS_CA");
  std::filesystem::create_directories(t.dir + "/tls");
  testing_util::WriteTestFile(t.dir + "/tls/ca.pem", *ReadTlsFile("ca", t.ca));
  EXPECT_EQ(auth::ClientTlsFromEnvironment().ca, "");  // no `enabled`: that up ran plain text
  testing_util::WriteTestFile(t.dir + "/tls/enabled", "");
  EXPECT_EQ(auth::ClientTlsFromEnvironment().ca, t.dir + "/tls/ca.pem");
  setenv("STRATUS_TLS_CA", t.other_ca.c_str(), 1);
  setenv("STRATUS_TLS_CLIENT_CERT", t.client_cert.c_str(), 1);
  setenv("STRATUS_TLS_CLIENT_KEY", t.client_key.c_str(), 1);
  TlsFiles files = auth::ClientTlsFromEnvironment();
  EXPECT_EQ(files.ca, t.other_ca);
  EXPECT_EQ(files.cert, t.client_cert);
  EXPECT_EQ(files.key, t.client_key);
  for (const char* v : {"STRATUS_DATA_DIR", "STRATUS_TLS_CA", "STRATUS_TLS_CLIENT_CERT",
                        "STRATUS_TLS_CLIENT_KEY"}) {
    unsetenv(v);
  }
}

TEST(ServiceHostTlsFilesTest, BadFilesAreClearErrors) {
  TestTls t = MakeTestTls();
  ServiceHost::Options o;
  o.service_name = "test";
  o.api_keys = auth::testing::TestKeyStore();
  o.tls = {.cert = t.server_cert, .key = t.client_key};
  auto host = ServiceHost::Create(o);
  EXPECT_EQ(host.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(host.status().message(), HasSubstr("does not match certificate"));

  auto old = IssueCertificate({.common_name = "old",
                               .not_before = std::chrono::hours(-48),
                               .not_after = std::chrono::hours(-24)});
  const std::string cert = testing_util::WriteTestFile(t.dir + "/old.pem", old->cert);
  const std::string key = testing_util::WriteTestFile(t.dir + "/old.key", old->key);
  FlagSet flags("test", "");
  CommonServiceFlags common;
  RegisterCommonServiceFlags(kDetectorDefaults, false, flags, &common);
  const std::string cert_flag = "--tls-cert=" + cert, key_flag = "--tls-key=" + key;
  const std::string keys_flag = "--api-keys-file=" + t.dir + "/keys";
  testing_util::WriteTestFile(t.dir + "/keys", "");
  char* argv[] = {const_cast<char*>("test"), const_cast<char*>(cert_flag.c_str()),
                  const_cast<char*>(key_flag.c_str()), const_cast<char*>(keys_flag.c_str())};
  ASSERT_TRUE(flags.Parse(4, argv).ok());
  EXPECT_EQ(common.host.tls.cert, cert);
  absl::Status s = ApplyCommonServiceFlags(&common);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr(cert + ": expired on"));
}

}  // namespace
}  // namespace stratus
