// stratus.v1.KeyService over a KeyStore with a database (see proto/stratus/v1/keys.proto).
// ServiceHost registers it on every service whose key store has the table; the auth
// processor lets only "*:admin" keys reach it.
#ifndef STRATUS_COMMON_AUTH_KEY_SERVICE_H_
#define STRATUS_COMMON_AUTH_KEY_SERVICE_H_

#include "common/auth/key_store.h"
#include "stratus/v1/keys.grpc.pb.h"

namespace stratus::auth {

class KeyServiceImpl final : public v1::KeyService::Service {
 public:
  // `keys` is not owned and must outlive the service.
  explicit KeyServiceImpl(KeyStore* keys) : keys_(keys) {}

  grpc::Status CreateKey(grpc::ServerContext* context, const v1::CreateKeyRequest* request,
                         v1::CreateKeyResponse* response) override;
  grpc::Status ListKeys(grpc::ServerContext* context, const v1::ListKeysRequest* request,
                        v1::ListKeysResponse* response) override;
  grpc::Status RevokeKey(grpc::ServerContext* context, const v1::RevokeKeyRequest* request,
                         v1::RevokeKeyResponse* response) override;

 private:
  KeyStore* keys_;
};

}  // namespace stratus::auth

#endif  // STRATUS_COMMON_AUTH_KEY_SERVICE_H_
