// FaceStore's users (Rekognition's 2023 Users API): create, delete, list, associate and
// disassociate faces, and search by a user's faces.
#include <algorithm>
#include <pqxx/pqxx>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/aws/aws_error.h"
#include "common/status.h"
#include "services/recognition/face_store.h"
#include "services/recognition/face_store_notify.h"
#include "services/recognition/face_store_sql.h"

namespace stratus::recognition {

using face_store_sql::ArrayLiteral;
using face_store_sql::DescriptorOf;
using face_store_sql::LockCollection;
using face_store_sql::LockUser;
using face_store_sql::NotFoundCollection;
using face_store_sql::NotFoundUser;
using face_store_sql::QuotaExceeded;
using face_store_sql::Remember;
using face_store_sql::Replay;
using face_store_sql::StatusOf;

absl::Status FaceStore::CreateUser(const std::string& collection_id, const std::string& user_id,
                                   const RequestToken& token) {
  return options_.db->Transact([&](pqxx::work& tx) -> absl::Status {
    STRATUS_RETURN_IF_ERROR(LockCollection(tx, collection_id));
    STRATUS_ASSIGN_OR_RETURN(auto replay, Replay(tx, token, options_.request_token_lifetime));
    if (replay.has_value()) return absl::OkStatus();
    const int64_t users =
        tx.exec_params1("SELECT count(*) FROM recognition_users WHERE collection_id = $1",
                        collection_id)[0]
            .as<int64_t>();
    if (users >= options_.max_users_per_collection) {
      return QuotaExceeded(absl::StrCat("collection ", collection_id, " has ",
                                        options_.max_users_per_collection, " users already"));
    }
    auto r = tx.exec_params(
        "INSERT INTO recognition_users (collection_id, user_id) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING RETURNING 1",
        collection_id, user_id);
    if (r.empty()) {
      return aws::AwsError(
          absl::StatusCode::kAlreadyExists, 400, "ConflictException",
          absl::StrCat("The user id: ", user_id, " already exists in collection ", collection_id));
    }
    Remember(tx, token, collection_id, "");
    return absl::OkStatus();
  });
}

absl::Status FaceStore::DeleteUser(const std::string& collection_id, const std::string& user_id,
                                   const RequestToken& token) {
  return options_.db->Transact([&](pqxx::work& tx) -> absl::Status {
    STRATUS_RETURN_IF_ERROR(LockCollection(tx, collection_id));
    STRATUS_ASSIGN_OR_RETURN(auto replay, Replay(tx, token, options_.request_token_lifetime));
    if (replay.has_value()) return absl::OkStatus();
    STRATUS_RETURN_IF_ERROR(LockUser(tx, collection_id, user_id).status());
    tx.exec_params(
        "UPDATE recognition_faces SET user_id = NULL WHERE collection_id = $1 AND "
        "user_id = $2",
        collection_id, user_id);
    tx.exec_params("DELETE FROM recognition_users WHERE collection_id = $1 AND user_id = $2",
                   collection_id, user_id);
    Remember(tx, token, collection_id, "");
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<UserInfo>> FaceStore::ListUsers(const std::string& collection_id,
                                                           const std::string& start_after, int max,
                                                           bool* more) {
  return options_.db->Query<std::vector<UserInfo>>(
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<UserInfo>> {
        if (tx.exec_params("SELECT 1 FROM recognition_collections WHERE collection_id = $1",
                           collection_id)
                .empty()) {
          return NotFoundCollection(collection_id);
        }
        auto r = tx.exec_params(
            "SELECT u.user_id, (SELECT count(*) FROM recognition_faces f WHERE f.collection_id = "
            "u.collection_id AND f.user_id = u.user_id) FROM recognition_users u WHERE "
            "u.collection_id = $1 AND u.user_id COLLATE \"C\" > $2 ORDER BY u.user_id COLLATE "
            "\"C\" LIMIT $3",
            collection_id, start_after, max + 1);
        std::vector<UserInfo> out;
        for (const auto& row : r) out.push_back({row[0].c_str(), row[1].as<int64_t>()});
        *more = static_cast<int>(out.size()) > max;
        if (*more) out.pop_back();
        return out;
      });
}

absl::StatusOr<v1::AssociateFacesResponse> FaceStore::AssociateFaces(
    const std::string& collection_id, const std::string& user_id,
    const std::vector<std::string>& face_ids, float min_similarity,
    const std::function<float(float)>& similarity, const RequestToken& token) {
  std::vector<std::string> wanted;
  for (const std::string& id : face_ids) {
    if (IsStoreId(id)) wanted.push_back(id);
  }
  return options_.db->Query<
      v1::AssociateFacesResponse>([&](pqxx::work& tx)
                                      -> absl::StatusOr<v1::AssociateFacesResponse> {
    STRATUS_RETURN_IF_ERROR(LockCollection(tx, collection_id));
    v1::AssociateFacesResponse response;
    STRATUS_ASSIGN_OR_RETURN(auto replay, Replay(tx, token, options_.request_token_lifetime));
    if (replay.has_value()) {
      if (!response.ParseFromString(*replay)) return absl::DataLossError("stored response");
      return response;
    }
    STRATUS_ASSIGN_OR_RETURN(const int64_t had, LockUser(tx, collection_id, user_id));
    if (had >= options_.max_faces_per_user) {
      return QuotaExceeded(
          absl::StrCat("user ", user_id, " has ", options_.max_faces_per_user, " faces already"));
    }
    std::vector<std::vector<float>> existing;
    for (const auto& row : tx.exec_params(
             "SELECT embedding FROM recognition_faces WHERE collection_id = $1 AND user_id = $2",
             collection_id, user_id)) {
      existing.push_back(DescriptorOf(row[0]));
    }
    struct Candidate {
      std::string user_id;
      std::vector<float> descriptor;
    };
    absl::flat_hash_map<std::string, Candidate> found;  // by lower-case face id
    if (!wanted.empty()) {
      for (const auto& row : tx.exec_params(
               "SELECT face_id::text, coalesce(user_id, ''), embedding FROM recognition_faces "
               "WHERE collection_id = $1 AND face_id = ANY($2::uuid[]) FOR UPDATE",
               collection_id, ArrayLiteral(wanted))) {
        found[row[0].c_str()] = {row[1].c_str(), DescriptorOf(row[2])};
      }
    }
    std::vector<std::string> accepted;
    absl::flat_hash_set<std::string> seen;
    for (const std::string& id : face_ids) {
      std::string lower = id;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      if (!seen.insert(lower).second) continue;
      auto it = found.find(lower);
      if (it == found.end()) {
        auto* u = response.add_unsuccessful_face_associations();
        u->set_face_id(id);
        u->add_reasons(v1::UnsuccessfulFaceAssociation::FACE_NOT_FOUND);
        continue;
      }
      const Candidate& c = it->second;
      if (c.user_id == user_id) continue;  // already this user's: neither list
      if (!c.user_id.empty()) {
        auto* u = response.add_unsuccessful_face_associations();
        u->set_face_id(lower);
        u->set_user_id(c.user_id);
        u->add_reasons(v1::UnsuccessfulFaceAssociation::ASSOCIATED_TO_A_DIFFERENT_USER);
        continue;
      }
      if (!existing.empty()) {
        float best = 1e6f;
        for (const auto& e : existing) best = std::min(best, DescriptorDistance(c.descriptor, e));
        const float sim = similarity(best);
        if (sim < min_similarity) {
          auto* u = response.add_unsuccessful_face_associations();
          u->set_face_id(lower);
          u->set_confidence(sim);
          u->add_reasons(v1::UnsuccessfulFaceAssociation::LOW_MATCH_CONFIDENCE);
          continue;
        }
      }
      if (had + static_cast<int64_t>(accepted.size()) >= options_.max_faces_per_user) {
        response.add_unsuccessful_face_associations()->set_face_id(lower);  // no room left
        continue;
      }
      accepted.push_back(lower);
      response.add_associated_faces()->set_face_id(lower);
    }
    if (!accepted.empty()) {
      tx.exec_params(
          "UPDATE recognition_faces SET user_id = $3 WHERE collection_id = $1 AND "
          "face_id = ANY($2::uuid[])",
          collection_id, ArrayLiteral(accepted), user_id);
    }
    response.set_user_status(StatusOf(had + static_cast<int64_t>(accepted.size())));
    Remember(tx, token, collection_id, response.SerializeAsString());
    return response;
  });
}

absl::StatusOr<v1::DisassociateFacesResponse> FaceStore::DisassociateFaces(
    const std::string& collection_id, const std::string& user_id,
    const std::vector<std::string>& face_ids, const RequestToken& token) {
  std::vector<std::string> wanted;
  for (const std::string& id : face_ids) {
    if (IsStoreId(id)) wanted.push_back(id);
  }
  return options_.db->Query<v1::DisassociateFacesResponse>(
      [&](pqxx::work& tx) -> absl::StatusOr<v1::DisassociateFacesResponse> {
        STRATUS_RETURN_IF_ERROR(LockCollection(tx, collection_id));
        v1::DisassociateFacesResponse response;
        STRATUS_ASSIGN_OR_RETURN(auto replay, Replay(tx, token, options_.request_token_lifetime));
        if (replay.has_value()) {
          if (!response.ParseFromString(*replay)) return absl::DataLossError("stored response");
          return response;
        }
        STRATUS_ASSIGN_OR_RETURN(const int64_t had, LockUser(tx, collection_id, user_id));
        absl::flat_hash_map<std::string, std::string> owner;  // lower-case face id -> user
        if (!wanted.empty()) {
          for (const auto& row : tx.exec_params(
                   "SELECT face_id::text, coalesce(user_id, '') FROM recognition_faces WHERE "
                   "collection_id = $1 AND face_id = ANY($2::uuid[]) FOR UPDATE",
                   collection_id, ArrayLiteral(wanted))) {
            owner[row[0].c_str()] = row[1].c_str();
          }
        }
        std::vector<std::string> removed;
        absl::flat_hash_set<std::string> seen;
        for (const std::string& id : face_ids) {
          std::string lower = id;
          std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
          if (!seen.insert(lower).second) continue;
          auto it = owner.find(lower);
          if (it == owner.end() || it->second.empty()) {
            auto* u = response.add_unsuccessful_face_disassociations();
            u->set_face_id(id);
            u->add_reasons(v1::UnsuccessfulFaceDisassociation::FACE_NOT_FOUND);
          } else if (it->second != user_id) {
            auto* u = response.add_unsuccessful_face_disassociations();
            u->set_face_id(lower);
            u->set_user_id(it->second);
            u->add_reasons(v1::UnsuccessfulFaceDisassociation::ASSOCIATED_TO_A_DIFFERENT_USER);
          } else {
            removed.push_back(lower);
            response.add_disassociated_faces()->set_face_id(lower);
          }
        }
        if (!removed.empty()) {
          tx.exec_params(
              "UPDATE recognition_faces SET user_id = NULL WHERE collection_id = $1 "
              "AND face_id = ANY($2::uuid[])",
              collection_id, ArrayLiteral(removed));
        }
        response.set_user_status(StatusOf(had - static_cast<int64_t>(removed.size())));
        Remember(tx, token, collection_id, response.SerializeAsString());
        return response;
      });
}

absl::StatusOr<std::vector<std::vector<float>>> FaceStore::UserDescriptors(
    const std::string& collection_id, const std::string& user_id) {
  return options_.db->Query<std::vector<std::vector<float>>>(
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<std::vector<float>>> {
        if (tx.exec_params("SELECT 1 FROM recognition_collections WHERE collection_id = $1",
                           collection_id)
                .empty()) {
          return NotFoundCollection(collection_id);
        }
        if (tx.exec_params("SELECT 1 FROM recognition_users WHERE collection_id = $1 AND "
                           "user_id = $2",
                           collection_id, user_id)
                .empty()) {
          return NotFoundUser(collection_id, user_id);
        }
        std::vector<std::vector<float>> out;
        for (const auto& row :
             tx.exec_params("SELECT embedding FROM recognition_faces WHERE collection_id = $1 AND "
                            "user_id = $2 ORDER BY seq",
                            collection_id, user_id)) {
          auto d = DescriptorOf(row[0]);
          if (!d.empty()) out.push_back(std::move(d));
        }
        return out;
      });
}

absl::StatusOr<std::vector<UserMatchResult>> FaceStore::SearchUsers(
    const std::string& collection_id, const std::vector<std::vector<float>>& queries, int max_users,
    float max_distance, const std::string& exclude_user_id, const std::string& exclude_face_id,
    int neighbors) {
  for (const auto& q : queries) {
    if (q.size() != kDescriptorDim)
      return absl::InvalidArgumentError("a face descriptor has 128 values");
  }
  auto collection = GetCollection(collection_id);
  if (!collection.ok()) return collection.status();
  absl::flat_hash_map<int64_t, float> nearest;  // seq -> smallest distance to any query
  for (const auto& q : queries) {
    for (const Neighbor& n : (*collection)->index->Search(q, neighbors, max_distance)) {
      auto [it, inserted] = nearest.emplace(n.id, n.distance);
      if (!inserted) it->second = std::min(it->second, n.distance);
    }
  }
  std::vector<UserMatchResult> out;
  if (nearest.empty()) return out;
  std::vector<int64_t> seqs;
  seqs.reserve(nearest.size());
  for (const auto& [seq, d] : nearest) seqs.push_back(seq);
  auto owners = options_.db->Query<std::vector<std::pair<int64_t, std::string>>>(
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> {
        std::vector<std::pair<int64_t, std::string>> rows;
        for (const auto& row : tx.exec_params(
                 "SELECT seq, user_id FROM recognition_faces WHERE seq = ANY($1::bigint[]) AND "
                 "collection_id = $2 AND user_id IS NOT NULL AND user_id <> $3 AND "
                 "face_id::text <> lower($4)",
                 ArrayLiteral(seqs), collection_id, exclude_user_id, exclude_face_id)) {
          rows.emplace_back(row[0].as<int64_t>(), row[1].c_str());
        }
        return rows;
      });
  if (!owners.ok()) return owners.status();
  absl::flat_hash_map<std::string, float> best;
  for (const auto& [seq, user] : *owners) {
    const float d = nearest.at(seq);
    auto [it, inserted] = best.emplace(user, d);
    if (!inserted) it->second = std::min(it->second, d);
  }
  for (const auto& [user, d] : best) out.push_back({user, d});
  std::sort(out.begin(), out.end(), [](const UserMatchResult& a, const UserMatchResult& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.user_id < b.user_id;
  });
  if (static_cast<int>(out.size()) > max_users) out.resize(max_users);
  return out;
}

}  // namespace stratus::recognition
