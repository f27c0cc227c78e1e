// Test helper: TLS material in a fresh temporary folder, made with IssueCertificate().
//
//   TestTls tls = MakeTestTls();
//   files: tls.ca (CA of the server and client certificates), tls.server_cert/server_key (SAN
//   localhost, 127.0.0.1, ::1), tls.client_cert/client_key (signed by the same CA), and
//   tls.other_ca (an unrelated CA, with other_client_cert/other_client_key signed by it).
// The folder is removed when the last copy of the TestTls goes.
#ifndef STRATUS_COMMON_TESTING_TEST_TLS_H_
#define STRATUS_COMMON_TESTING_TEST_TLS_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "common/tls.h"

namespace stratus::testing_util {

struct TestTls {
  std::string dir;
  std::string ca, server_cert, server_key, client_cert, client_key;
  std::string other_ca, other_client_cert, other_client_key;
  std::shared_ptr<void> cleanup;  // removes `dir`
};

inline std::string WriteTestFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
  return path;
}

inline TestTls MakeTestTls() {
  TestTls t;
  char tmpl[] = "/tmp/stratus-tls-test-XXXXXX";
  t.dir = mkdtemp(tmpl);
  t.cleanup = std::shared_ptr<void>(nullptr, [dir = t.dir](void*) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  });
  auto ca = IssueCertificate({.common_name = "test CA", .is_ca = true});
  auto server = IssueCertificate(
      {.common_name = "localhost", .hosts = {"localhost", "127.0.0.1", "::1"}}, &*ca);
  auto client = IssueCertificate({.common_name = "test client"}, &*ca);
  auto other = IssueCertificate({.common_name = "other CA", .is_ca = true});
  auto other_client = IssueCertificate({.common_name = "other client"}, &*other);
  EXPECT_TRUE(ca.ok() && server.ok() && client.ok() && other.ok() && other_client.ok());
  t.ca = WriteTestFile(t.dir + "/ca.pem", ca->cert);
  t.server_cert = WriteTestFile(t.dir + "/server.pem", server->cert);
  t.server_key = WriteTestFile(t.dir + "/server.key", server->key);
  t.client_cert = WriteTestFile(t.dir + "/client.pem", client->cert);
  t.client_key = WriteTestFile(t.dir + "/client.key", client->key);
  t.other_ca = WriteTestFile(t.dir + "/other-ca.pem", other->cert);
  t.other_client_cert = WriteTestFile(t.dir + "/other-client.pem", other_client->cert);
  t.other_client_key = WriteTestFile(t.dir + "/other-client.key", other_client->key);
  return t;
}

}  // namespace stratus::testing_util

#endif  // STRATUS_COMMON_TESTING_TEST_TLS_H_
