#include "common/auth/key_service.h"

#include "common/logging.h"
#include "common/status.h"

namespace stratus::auth {
namespace {

void ToTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  int64_t micros = absl::ToUnixMicros(t);
  out->set_seconds(micros / 1000000);
  out->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
}

void ToProto(const KeyRecord& r, v1::ApiKeyInfo* out) {
  out->set_id(r.id);
  out->set_name(r.name);
  for (const Scope& s : r.scopes) out->add_scopes(ScopeToString(s));
  ToTimestamp(r.create_time, out->mutable_create_time());
  if (r.revoke_time) ToTimestamp(*r.revoke_time, out->mutable_revoke_time());
}

}  // namespace

grpc::Status KeyServiceImpl::CreateKey(grpc::ServerContext*, const v1::CreateKeyRequest* request,
                                       v1::CreateKeyResponse* response) {
  absl::StatusOr<std::vector<Scope>> scopes =
      ParseScopes({request->scopes().begin(), request->scopes().end()});
  if (!scopes.ok()) return ToGrpcStatus(scopes.status());
  if (request->name().size() > 200) {
    return ToGrpcStatus(absl::InvalidArgumentError("name: at most 200 characters"));
  }
  absl::StatusOr<KeyStore::Created> created = keys_->CreateKey(request->name(), *scopes);
  if (!created.ok()) return ToGrpcStatus(created.status());
  ToProto(created->record, response->mutable_key());
  response->set_secret_key(created->key);
  SLOG(INFO) << "API key created" << Kv("key_id", created->record.id)
             << Kv("name", request->name());
  return grpc::Status::OK;
}

grpc::Status KeyServiceImpl::ListKeys(grpc::ServerContext*, const v1::ListKeysRequest*,
                                      v1::ListKeysResponse* response) {
  absl::StatusOr<std::vector<KeyRecord>> keys = keys_->ListKeys();
  if (!keys.ok()) return ToGrpcStatus(keys.status());
  for (const KeyRecord& r : *keys) ToProto(r, response->add_keys());
  return grpc::Status::OK;
}

grpc::Status KeyServiceImpl::RevokeKey(grpc::ServerContext*, const v1::RevokeKeyRequest* request,
                                       v1::RevokeKeyResponse*) {
  if (absl::Status s = keys_->RevokeKey(request->id()); !s.ok()) return ToGrpcStatus(s);
  SLOG(INFO) << "API key revoked" << Kv("key_id", request->id());
  return grpc::Status::OK;
}

}  // namespace stratus::auth
