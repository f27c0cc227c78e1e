#include "services/recognition/face_store_sql.h"

#include <cmath>
#include <cstring>

#include "common/aws/aws_error.h"
#include "common/status.h"
#include "services/recognition/face_store_notify.h"

namespace stratus::recognition {

bool IsStoreId(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

float DescriptorDistance(absl::Span<const float> a, absl::Span<const float> b) {
  if (a.size() != b.size() || a.empty()) return 1e6f;
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = double(a[i]) - b[i];
    s += d * d;
  }
  return static_cast<float>(std::sqrt(s));
}

namespace face_store_sql {

std::string HexBytea(const std::vector<float>& v) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + v.size() * sizeof(float) * 2);
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  for (size_t i = 0; i < v.size() * sizeof(float); ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 15]);
  }
  return out;
}

v1::Face FaceFromRow(const pqxx::row& r, int64_t* seq) {
  v1::Face f;
  if (seq != nullptr) *seq = r[0].as<int64_t>();
  f.set_face_id(r[1].c_str());
  f.set_image_id(r[2].c_str());
  f.set_external_image_id(r[3].c_str());
  f.set_confidence(r[4].as<float>());
  f.mutable_bounding_box()->set_left(r[5].as<float>());
  f.mutable_bounding_box()->set_top(r[6].as<float>());
  f.mutable_bounding_box()->set_width(r[7].as<float>());
  f.mutable_bounding_box()->set_height(r[8].as<float>());
  f.set_index_faces_model_version(r[9].c_str());
  f.set_user_id(r[10].c_str());
  return f;
}

absl::Status Notify(pqxx::work& tx, const std::string& payload) {
  tx.exec_params("SELECT pg_notify($1, $2)", kNotifyChannel, payload);
  return absl::OkStatus();
}

absl::Status NotifyAll(pqxx::work& tx, const std::vector<std::string>& payloads) {
  for (const std::string& payload : payloads) STRATUS_RETURN_IF_ERROR(Notify(tx, payload));
  return absl::OkStatus();
}

absl::Status NotFoundCollection(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("The collection id: ", id, " does not exist"));
}

CollectionInfo CollectionFromRow(const pqxx::row& r) {
  CollectionInfo c;
  c.collection_id = r[0].c_str();
  c.face_model_version = r[1].c_str();
  c.generation = r[2].as<int64_t>();
  c.created = absl::FromUnixMicros(static_cast<int64_t>(r[3].as<double>() * 1e6));
  return c;
}

absl::Status NotFoundUser(const std::string& collection_id, const std::string& user_id) {
  return absl::NotFoundError(
      absl::StrCat("The user id: ", user_id, " does not exist in collection ", collection_id));
}

absl::Status QuotaExceeded(absl::string_view message) {
  return aws::AwsError(absl::StatusCode::kResourceExhausted, 400, "ServiceQuotaExceededException",
                       message);
}

std::vector<float> DescriptorOf(const pqxx::field& f) {
  pqxx::binarystring bytes(f);
  if (bytes.size() != kDescriptorBytes) return {};
  std::vector<float> v(kDescriptorDim);
  std::memcpy(v.data(), bytes.data(), kDescriptorBytes);
  return v;
}

// Locks the collection row against deletion for the transaction; NOT_FOUND when it is absent.
absl::Status LockCollection(pqxx::work& tx, const std::string& collection_id) {
  if (tx.exec_params("SELECT 1 FROM recognition_collections WHERE collection_id = $1 FOR SHARE",
                     collection_id)
          .empty()) {
    return NotFoundCollection(collection_id);
  }
  return absl::OkStatus();
}

// Locks the user row for the transaction; returns its face count, NOT_FOUND when absent.
absl::StatusOr<int64_t> LockUser(pqxx::work& tx, const std::string& collection_id,
                                 const std::string& user_id) {
  if (tx.exec_params("SELECT 1 FROM recognition_users WHERE collection_id = $1 AND user_id = $2 "
                     "FOR UPDATE",
                     collection_id, user_id)
          .empty()) {
    return NotFoundUser(collection_id, user_id);
  }
  return tx
      .exec_params1(
          "SELECT count(*) FROM recognition_faces WHERE collection_id = $1 AND "
          "user_id = $2",
          collection_id, user_id)[0]
      .as<int64_t>();
}

// The response a token already answered, if any (under a lock on the token held until commit,
// so that concurrent repeats wait for the first one); a token reused with another request is
// IdempotentParameterMismatchException.
absl::StatusOr<std::optional<std::string>> Replay(pqxx::work& tx, const RequestToken& t,
                                                  absl::Duration lifetime) {
  if (t.token.empty()) return std::nullopt;
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                 absl::StrCat(t.operation, "/", t.token));
  auto r = tx.exec_params(
      "SELECT request, response FROM recognition_request_tokens WHERE operation = $1 AND "
      "token = $2 AND created_at > now() - make_interval(secs => $3)",
      t.operation, t.token, absl::ToDoubleSeconds(lifetime));
  if (r.empty()) return std::nullopt;
  pqxx::binarystring request(r[0][0]);
  if (request.str() != t.request) {
    return aws::AwsError(absl::StatusCode::kInvalidArgument, 400,
                         "IdempotentParameterMismatchException",
                         absl::StrCat("ClientRequestToken ", t.token, " was used with other ",
                                      t.operation, " parameters"));
  }
  pqxx::binarystring response(r[0][1]);
  return response.str();
}

void Remember(pqxx::work& tx, const RequestToken& t, const std::string& collection_id,
              const std::string& response) {
  if (t.token.empty()) return;
  tx.exec_params(
      "INSERT INTO recognition_request_tokens (operation, token, collection_id, request, "
      "response) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (operation, token) DO UPDATE SET "
      "collection_id = EXCLUDED.collection_id, request = EXCLUDED.request, response = "
      "EXCLUDED.response, created_at = now()",
      t.operation, t.token, collection_id, pqxx::binarystring(t.request),
      pqxx::binarystring(response));
}

v1::UserStatus::Value StatusOf(int64_t face_count) {
  return face_count > 0 ? v1::UserStatus::ACTIVE : v1::UserStatus::CREATED;
}

}  // namespace face_store_sql
}  // namespace stratus::recognition
