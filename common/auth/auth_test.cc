// API keys: format and scopes, the method table, the server-side check through a real gRPC port
// (health open, reflection and everything else behind a key, refusals counted), the static keys
// file, and the PostgreSQL table shared by two stores as two replicas would (creation and
// revocation seen within the refresh interval) with KeyService on top, and the key `stratus up`
// keeps in its credentials file.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/auth/api_key.h"
#include "common/auth/bootstrap.h"
#include "common/auth/client.h"
#include "common/auth/key_store.h"
#include "common/auth/server_auth.h"
#include "common/auth/testing/test_keys.h"
#include "common/aws/credentials.h"
#include "common/testing/postgres_suite.h"
#include "common/http_client.h"
#include "common/service_host.h"
#include "common/testing/eventually.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "stratus/v1/keys.grpc.pb.h"

namespace stratus::auth {
namespace {

namespace fs = std::filesystem;
using ::stratus::auth::testing::RawCall;
using ::stratus::testing_util::Eventually;
using ::testing::HasSubstr;

constexpr char kListServices[] = "\x3a\x00";  // ServerReflectionRequest{list_services: ""}
const std::string kReflection = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

TEST(ApiKeyTest, GeneratedKeysParseAndDiffer) {
  auto a = GenerateKey();
  auto b = GenerateKey();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->key, b->key);
  auto id = KeyId(a->key);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, a->id);
  EXPECT_EQ(a->key.size(), 4u + 12 + 1 + 32);
  for (std::string bad :
       {std::string(""), std::string("Bearer x"), a->key.substr(1), a->key + "x",
        "stk_ABCDEFGHIJKL_" + a->key.substr(17), a->key.substr(0, 20) + "!" + a->key.substr(21)}) {
    EXPECT_EQ(KeyId(bad).status().code(), absl::StatusCode::kUnauthenticated) << bad;
  }
}

TEST(ApiKeyTest, HashesCompareAndRoundTrip) {
  KeyHash h = HashKey("stk_x");
  EXPECT_TRUE(HashEquals(h, HashKey("stk_x")));
  EXPECT_FALSE(HashEquals(h, HashKey("stk_y")));
  auto back = HashFromHex(HashToHex(h));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(HashEquals(*back, h));
  EXPECT_FALSE(HashFromHex("zz").ok());
  EXPECT_FALSE(HashFromHex(std::string(64, 'g')).ok());
}

TEST(ApiKeyTest, Scopes) {
  EXPECT_EQ(*ParseScope("detector:read"), (Scope{"detector", Level::kRead}));
  EXPECT_EQ(*ParseScope("*:admin"), (Scope{"*", Level::kAdmin}));
  EXPECT_EQ(*ParseScope("admin"), (Scope{"*", Level::kAdmin}));
  EXPECT_EQ(*ParseScope("read"), (Scope{"*", Level::kRead}));
  for (const char* bad : {"", "write", "detector:", ":read", "Detector:read", "a b:read"}) {
    EXPECT_FALSE(ParseScope(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseScopes({}).ok());
  EXPECT_EQ(ScopeToString({"mask", Level::kAdmin}), "mask:admin");
}

TEST(ApiKeyTest, MethodTable) {
  EXPECT_EQ(RequiredAccess("/grpc.health.v1.Health/Check"), Access::kOpen);
  EXPECT_EQ(RequiredAccess("/grpc.health.v1.Health/Watch"), Access::kOpen);
  EXPECT_EQ(RequiredAccess("/stratus.v1.DetectorService/Detect"), Access::kRead);
  EXPECT_EQ(RequiredAccess("/stratus.v1.RecognitionService/SearchFacesByImage"), Access::kRead);
  EXPECT_EQ(RequiredAccess("/stratus.v1.RecognitionService/DeleteCollection"), Access::kAdmin);
  EXPECT_EQ(RequiredAccess("/stratus.v1.RecognitionService/IndexFaces"), Access::kAdmin);
  EXPECT_EQ(RequiredAccess("/stratus.v1.IngestService/AddStream"), Access::kAdmin);
  EXPECT_EQ(RequiredAccess("/stratus.v1.IngestService/GetStreamFrame"), Access::kRead);
  EXPECT_EQ(RequiredAccess("/stratus.v1.IngestService/GetSnapshot"), Access::kRead);
  EXPECT_EQ(RequiredAccess("/stratus.v1.IngestService/RemoveStream"), Access::kAdmin);
  EXPECT_EQ(RequiredAccess("/stratus.v1.SentimentService/Feed"), Access::kAdmin);
  EXPECT_EQ(RequiredAccess("/stratus.v1.DetectorService/NewMethod"), Access::kAdmin);
  EXPECT_EQ(RequiredAccess("/other.Service/Detect"), Access::kAdmin);
  EXPECT_EQ(RequiredAccess("garbage"), Access::kAdmin);
  EXPECT_EQ(RequiredAccess(kReflection), Access::kRead);
  EXPECT_EQ(RequiredAccess("/stratus.v1.KeyService/ListKeys"), Access::kGlobalAdmin);
}

TEST(ApiKeyTest, Allows) {
  std::vector<Scope> det_read = {{"detector", Level::kRead}};
  std::vector<Scope> det_admin = {{"detector", Level::kAdmin}};
  std::vector<Scope> all_read = {{"*", Level::kRead}};
  std::vector<Scope> all_admin = {{"*", Level::kAdmin}};
  EXPECT_TRUE(Allows(det_read, "detector", Access::kRead));
  EXPECT_FALSE(Allows(det_read, "detector", Access::kAdmin));
  EXPECT_FALSE(Allows(det_read, "mask", Access::kRead));
  EXPECT_TRUE(Allows(det_admin, "detector", Access::kRead));
  EXPECT_FALSE(Allows(det_admin, "detector", Access::kGlobalAdmin));
  EXPECT_TRUE(Allows(all_read, "mask", Access::kRead));
  EXPECT_FALSE(Allows(all_read, "mask", Access::kAdmin));
  EXPECT_TRUE(Allows(all_admin, "mask", Access::kGlobalAdmin));
  EXPECT_TRUE(Allows({}, "mask", Access::kOpen));
  EXPECT_FALSE(Allows({}, "mask", Access::kRead));
}

TEST(CheckCallTest, SaysWhatIsMissing) {
  auto keys = testing::TestKeyStore();
  std::string reason, id;
  const std::string detect = "/stratus.v1.DetectorService/Detect";
  absl::Status s = CheckCall(*keys, "detector", detect, std::nullopt, &reason, &id);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(), HasSubstr("missing API key"));
  EXPECT_EQ(reason, "missing");
  s = CheckCall(*keys, "detector", detect, absl::string_view("Basic abc"), &reason, &id);
  EXPECT_EQ(reason, "malformed");
  EXPECT_THAT(s.message(), HasSubstr("Bearer"));
  s = CheckCall(*keys, "detector", detect, absl::string_view("Bearer nope"), &reason, &id);
  EXPECT_EQ(reason, "malformed");
  auto other = GenerateKey();
  std::string bearer = "Bearer " + other->key;
  s = CheckCall(*keys, "detector", detect, bearer, &reason, &id);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(reason, "unknown");
  // Right id, wrong secret.
  std::string forged = std::string(testing::kReadKey).substr(0, 17) + std::string(32, 'A');
  s = CheckCall(*keys, "detector", detect, "Bearer " + forged, &reason, &id);
  EXPECT_EQ(reason, "unknown");
  bearer = std::string("Bearer ") + testing::kReadKey;
  reason.clear();
  EXPECT_TRUE(CheckCall(*keys, "detector", detect, bearer, &reason, &id).ok());
  EXPECT_EQ(id, "testreadonly");
  s = CheckCall(*keys, "recognition", "/stratus.v1.RecognitionService/DeleteCollection", bearer,
                &reason, &id);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(reason, "scope");
  EXPECT_THAT(s.message(), HasSubstr("recognition:admin"));
  EXPECT_TRUE(
      CheckCall(*keys, "x", "/grpc.health.v1.Health/Check", std::nullopt, &reason, &id).ok());
}

// A host with no service of its own: methods of other services reach the server only when the
// key allows them, and then get UNIMPLEMENTED.
class HostAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServiceHost::Options o;
    o.service_name = "recognition";
    o.grpc_address = o.http_address = "127.0.0.1";
    o.readiness_interval = std::chrono::milliseconds(50);
    o.api_keys = testing::TestKeyStore();
    auto host = ServiceHost::Create(o);
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    ASSERT_TRUE(host_->Start().ok());
    target_ = absl::StrCat("127.0.0.1:", host_->grpc_port());
  }
  std::unique_ptr<ServiceHost> host_;
  std::string target_;
};

TEST_F(HostAuthTest, HealthIsOpenEverythingElseNeedsAKey) {
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(target_, grpc::InsecureChannelCredentials()));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("liveness");
  grpc::health::v1::HealthCheckResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(health->Check(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  const std::string read = std::string("Bearer ") + testing::kReadKey;
  const std::string admin = std::string("Bearer ") + testing::kAdminKey;
  grpc::Status s = RawCall(target_, kReflection, "", std::string(kListServices, 2));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("missing API key"));
  EXPECT_TRUE(RawCall(target_, kReflection, read, std::string(kListServices, 2)).ok());

  const std::string remove = "/stratus.v1.RecognitionService/DeleteCollection";
  EXPECT_EQ(RawCall(target_, remove, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(RawCall(target_, remove, "Bearer stk_bad").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  s = RawCall(target_, remove, read);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("recognition:admin"));
  EXPECT_EQ(RawCall(target_, remove, admin).error_code(), grpc::StatusCode::UNIMPLEMENTED);

  auto metrics =
      HttpFetch("GET", absl::StrCat("http://127.0.0.1:", host_->http_port(), "/metrics"));
  ASSERT_TRUE(metrics.ok());
  EXPECT_THAT(metrics->body, HasSubstr("stratus_auth_refusals_total{reason=\"missing\","
                                       "service=\"recognition\"} 2"));
  EXPECT_THAT(metrics->body, HasSubstr("stratus_auth_refusals_total{reason=\"malformed\","
                                       "service=\"recognition\"} 1"));
  EXPECT_THAT(metrics->body, HasSubstr("stratus_auth_refusals_total{reason=\"scope\","
                                       "service=\"recognition\"} 1"));
}

TEST_F(HostAuthTest, ClientChannelsSendTheKey) {
  auto stub = v1::KeyService::NewStub(testing::ReadChannel(target_));
  grpc::ClientContext ctx;
  v1::ListKeysResponse resp;
  // A read key is authenticated (so not UNAUTHENTICATED) but lacks *:admin.
  EXPECT_EQ(stub->ListKeys(&ctx, {}, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  auto admin = v1::KeyService::NewStub(testing::AdminChannel(target_));
  grpc::ClientContext ctx2;
  // No table here, so no KeyService: past the check, the server does not know the method.
  EXPECT_EQ(admin->ListKeys(&ctx2, {}, &resp).error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

// Lists the stratus_key_id values of the call's auth context as keys.
class AuthContextKeys final : public v1::KeyService::Service {
  grpc::Status ListKeys(grpc::ServerContext* context, const v1::ListKeysRequest*,
                        v1::ListKeysResponse* response) override {
    for (const grpc::string_ref& id : context->auth_context()->FindPropertyValues(kKeyIdProperty)) {
      response->add_keys()->set_id(std::string(id.data(), id.size()));
    }
    return grpc::Status::OK;
  }
};

// gRPC hands the auth processor the connection's context: the key id must be there once, not
// once per call so far (a long-lived channel's server grew with every call).
TEST(ServerAuthContextTest, KeyIdOncePerConnectionWhateverTheCalls) {
  ServiceHost::Options o;
  o.service_name = "keys";
  o.grpc_address = o.http_address = "127.0.0.1";
  o.api_keys = testing::TestKeyStore();
  auto host = ServiceHost::Create(o);
  ASSERT_TRUE(host.ok()) << host.status();
  AuthContextKeys service;
  (*host)->AddService(&service, "stratus.v1.KeyService");
  ASSERT_TRUE((*host)->Start().ok());
  auto stub = v1::KeyService::NewStub(
      testing::AdminChannel(absl::StrCat("127.0.0.1:", (*host)->grpc_port())));
  for (int i = 0; i < 50; ++i) {
    grpc::ClientContext ctx;
    v1::ListKeysResponse resp;
    ASSERT_TRUE(stub->ListKeys(&ctx, {}, &resp).ok());
    ASSERT_EQ(resp.keys_size(), 1) << "call " << i;
    EXPECT_EQ(resp.keys(0).id(), "testadminkey");
  }
  (*host)->Shutdown();
}

// Replaces `file` as a deployment would (the kubelet swaps a Secret's files atomically): a
// reader sees the old or the new contents, never a half-written file.
void ReplaceFile(const fs::path& file, const std::string& text) {
  const fs::path tmp = file.string() + ".tmp";
  std::ofstream(tmp) << text;
  fs::rename(tmp, file);
}

TEST(KeysFileTest, ReadAndReRead) {
  fs::path file = fs::temp_directory_path() / absl::StrCat("stratus-keys-", getpid());
  auto a = GenerateKey();
  auto b = GenerateKey();
  ReplaceFile(file, "# comment\n" +
                        *KeysFileLine(a->key, {{"detector", Level::kRead}}, "first key") + "\n");
  auto store = KeyStore::Create(
      {.keys_file = file.string(), .refresh_interval = std::chrono::milliseconds(50)});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(Eventually([&] { return (*store)->Loaded().ok(); }));
  auto r = (*store)->Verify(a->key);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->name, "first key");
  EXPECT_EQ(r->scopes, (std::vector<Scope>{{"detector", Level::kRead}}));
  EXPECT_FALSE((*store)->Verify(b->key).ok());
  ReplaceFile(file, *KeysFileLine(b->key, {{"*", Level::kAdmin}}) + "\n");
  EXPECT_TRUE(Eventually([&] { return (*store)->Verify(b->key).ok(); }));
  EXPECT_FALSE((*store)->Verify(a->key).ok());
  // A broken file keeps the last keys in force...
  ReplaceFile(file, "not a key line\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE((*store)->Verify(b->key).ok());
  EXPECT_FALSE((*store)->Refresh().ok());
  // ...but a service does not start on one, nor on a missing file.
  EXPECT_EQ(KeyStore::Create({.keys_file = file.string()}).status().code(),
            absl::StatusCode::kInvalidArgument);
  fs::remove(file);
  EXPECT_EQ(KeyStore::Create({.keys_file = file.string()}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(KeysFileLine("nope", {{"*", Level::kAdmin}}).ok());
}

class KeyTableTest : public testing_util::PostgresSuite {
 protected:
  static std::unique_ptr<KeyStore> Store() {
    auto s = KeyStore::Create({.database_url = postgres().url(),
                               .refresh_interval = std::chrono::milliseconds(200)});
    EXPECT_TRUE(s.ok()) << s.status();
    return std::move(*s);
  }
};

TEST_F(KeyTableTest, ReplicasSeeCreationAndRevocationWithinTheInterval) {
  auto a = Store();
  auto b = Store();
  ASSERT_TRUE(
      Eventually([&] { return a->Loaded().ok() && b->Loaded().ok(); }, std::chrono::seconds(30)));
  auto created = a->CreateKey("ci", {{"mask", Level::kRead}});
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(a->Verify(created->key).ok());  // at once on the replica that made it
  EXPECT_TRUE(Eventually([&] { return b->Verify(created->key).ok(); }, std::chrono::seconds(2)));
  auto listed = b->ListKeys();
  ASSERT_TRUE(listed.ok());
  ASSERT_FALSE(listed->empty());
  EXPECT_EQ(listed->front().id, created->record.id);
  EXPECT_EQ(listed->front().name, "ci");
  EXPECT_FALSE(listed->front().revoke_time.has_value());

  ASSERT_TRUE(a->RevokeKey(created->record.id).ok());
  EXPECT_EQ(a->Verify(created->key).status().code(), absl::StatusCode::kUnauthenticated);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(Eventually([&] { return !b->Verify(created->key).ok(); }, std::chrono::seconds(2)));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_THAT(b->Verify(created->key).status().message(), HasSubstr("revoked"));
  EXPECT_EQ(a->RevokeKey(created->record.id).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(a->RevokeKey("nosuchkey").code(), absl::StatusCode::kNotFound);
}

TEST_F(KeyTableTest, CredentialsKeyIsMadeOnceKeptAndReplacedWhenRevoked) {
  auto keys = Store();
  const std::string file = (dir() / "credentials").string();
  ASSERT_TRUE(aws::WriteSharedCredentialsFile(file, "stratus", {"AKIDEXAMPLE", "secret"}).ok());
  const std::vector<Scope> admin = {{"*", Level::kAdmin}};
  auto first = EnsureCredentialsKey(*keys, file, kCredentialsProfile, "admin", admin);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*aws::ReadCredentialsValue(file, "stratus", "stratus_api_key"), *first);
  EXPECT_EQ(*aws::ReadCredentialsValue(file, "stratus", "aws_access_key_id"), "AKIDEXAMPLE");
  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto record = keys->Verify(*first);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->scopes, admin);

  // A later start finds it and keeps it; a second store (another process) agrees.
  auto again = EnsureCredentialsKey(*Store(), file, kCredentialsProfile, "admin", admin);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *first);

  // Revoked, it is replaced by a new key in the same place.
  ASSERT_TRUE(keys->RevokeKey(record->id).ok());
  auto replaced = EnsureCredentialsKey(*keys, file, kCredentialsProfile, "admin", admin);
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_NE(*replaced, *first);
  EXPECT_EQ(*aws::ReadCredentialsValue(file, "stratus", "stratus_api_key"), *replaced);
  EXPECT_TRUE(keys->Verify(*replaced).ok());

  auto no_table = KeyStore::Create({});
  ASSERT_TRUE(no_table.ok());
  EXPECT_EQ(
      EnsureCredentialsKey(**no_table, file, kCredentialsProfile, "admin", admin).status().code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST_F(KeyTableTest, KeyServiceManagesKeysForGlobalAdminsOnly) {
  std::shared_ptr<KeyStore> keys = Store();
  auto bootstrap = keys->CreateKey("admin", {{"*", Level::kAdmin}});
  ASSERT_TRUE(bootstrap.ok());
  auto det_admin = keys->CreateKey("detector admin", {{"detector", Level::kAdmin}});
  ASSERT_TRUE(det_admin.ok());
  ServiceHost::Options o;
  o.service_name = "detector";
  o.grpc_address = "127.0.0.1";
  o.http_port = -1;
  o.api_keys = keys;
  auto host = ServiceHost::Create(o);
  ASSERT_TRUE(host.ok());
  ASSERT_TRUE((*host)->Start().ok());
  const std::string target = absl::StrCat("127.0.0.1:", (*host)->grpc_port());

  auto stub = v1::KeyService::NewStub(CreateChannelWithKey(target, bootstrap->key));
  v1::CreateKeyRequest req;
  req.set_name("grafana");
  req.add_scopes("sentiment:read");
  v1::CreateKeyResponse created;
  grpc::ClientContext c1;
  ASSERT_TRUE(stub->CreateKey(&c1, req, &created).ok());
  EXPECT_THAT(created.secret_key(), ::testing::StartsWith("stk_" + created.key().id() + "_"));
  EXPECT_THAT(created.key().scopes(), ::testing::ElementsAre("sentiment:read"));

  req.clear_scopes();
  req.add_scopes("everything");
  grpc::ClientContext c2;
  v1::CreateKeyResponse bad;
  EXPECT_EQ(stub->CreateKey(&c2, req, &bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  auto limited = v1::KeyService::NewStub(CreateChannelWithKey(target, det_admin->key));
  grpc::ClientContext c3;
  v1::ListKeysResponse list;
  EXPECT_EQ(limited->ListKeys(&c3, {}, &list).error_code(), grpc::StatusCode::PERMISSION_DENIED);

  grpc::ClientContext c4;
  v1::RevokeKeyRequest revoke;
  revoke.set_id(created.key().id());
  v1::RevokeKeyResponse revoked;
  ASSERT_TRUE(stub->RevokeKey(&c4, revoke, &revoked).ok());
  grpc::ClientContext c5;
  ASSERT_TRUE(stub->ListKeys(&c5, {}, &list).ok());
  bool seen = false;
  for (const auto& k : list.keys()) {
    if (k.id() == created.key().id()) {
      seen = true;
      EXPECT_TRUE(k.has_revoke_time());
    }
  }
  EXPECT_TRUE(seen);
  (*host)->Shutdown();
}

}  // namespace
}  // namespace stratus::auth
