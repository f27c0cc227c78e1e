#include "services/recognition/face_store.h"

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/aws/aws_error.h"
#include "common/logging.h"
#include "common/status.h"
#include "services/recognition/face_store_listener.h"
#include "services/recognition/face_store_notify.h"

namespace stratus::recognition {
namespace {

constexpr size_t kDescriptorBytes = kDescriptorDim * sizeof(float);
constexpr char kFaceColumns[] =
    "seq, face_id::text, image_id::text, external_image_id, confidence, box_left, box_top, "
    "box_width, box_height, model_version, coalesce(user_id, '')";

bool IsUuid(const std::string& s) {
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

// "{a,b,c}": a PostgreSQL array literal of values that need no quoting (uuids, integers).
template <typename C>
std::string ArrayLiteral(const C& values) {
  return absl::StrCat("{", absl::StrJoin(values, ","), "}");
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

float L2(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size() || a.empty()) return 1e6f;
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = double(a[i]) - b[i];
    s += d * d;
  }
  return static_cast<float>(std::sqrt(s));
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

constexpr char kCollectionColumns[] =
    "collection_id, face_model_version, generation, extract(epoch from created_at)::float8";

}  // namespace

absl::StatusOr<std::unique_ptr<FaceStore>> FaceStore::Create(const Options& options) {
  if (options.db == nullptr) return absl::InvalidArgumentError("FaceStore needs a database");
  if (options.index.dimension != kDescriptorDim) {
    return absl::InvalidArgumentError("FaceStore stores 128-d descriptors");
  }
  auto store = std::unique_ptr<FaceStore>(new FaceStore(options));
  if (store->options_.listen_url.empty()) store->options_.listen_url = options.db->url();
  return store;
}

FaceStore::~FaceStore() {
  listener_.reset();  // its callbacks use the store
}

absl::Status FaceStore::Start() {
  if (!options_.listen) {
    STRATUS_RETURN_IF_ERROR(ReloadAll());
    synced_ = true;
    return absl::OkStatus();
  }
  listener_ = std::make_unique<FaceStoreListener>(
      FaceStoreListener::Options{options_.listen_url, kNotifyChannel, options_.reconnect_delay},
      [this]() -> absl::Status {
        STRATUS_RETURN_IF_ERROR(ReloadAll());
        if (!synced_) {
          SLOG(INFO) << "face collections loaded";
        }
        synced_ = true;
        return absl::OkStatus();
      },
      [this](const std::string& payload) { return HandleNotification(payload); });
  return absl::OkStatus();
}

absl::Status FaceStore::WaitUntilSynced(absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  while (!synced_) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError("face index not loaded from the database yet");
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::OkStatus();
}

absl::Status FaceStore::ReloadAll() {
  auto rows = options_.db->Query<std::vector<std::pair<std::string, int64_t>>>(
      [](pqxx::work& tx) -> absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> {
        std::vector<std::pair<std::string, int64_t>> out;
        for (const auto& r : tx.exec("SELECT collection_id, generation FROM recognition_collections")) {
          out.emplace_back(r[0].c_str(), r[1].as<int64_t>());
        }
        return out;
      });
  if (!rows.ok()) return rows.status();
  std::map<std::string, std::shared_ptr<Collection>> loaded;
  for (const auto& [id, generation] : *rows) {
    auto c = LoadCollection(id, generation);
    if (!c.ok()) return c.status();
    loaded[id] = *c;
  }
  std::lock_guard<std::mutex> lock(mu_);
  collections_ = std::move(loaded);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<FaceStore::Collection>> FaceStore::LoadCollection(
    const std::string& collection_id, int64_t generation) {
  std::vector<int64_t> ids;
  std::vector<float> vectors;
  int64_t last = 0;
  for (;;) {
    size_t got = 0;
    absl::Status s = options_.db->Transact([&](pqxx::work& tx) -> absl::Status {
      auto r = tx.exec_params(
          "SELECT seq, embedding FROM recognition_faces WHERE collection_id = $1 AND seq > $2 "
          "ORDER BY seq LIMIT $3",
          collection_id, last, options_.load_batch);
      got = r.size();
      for (const auto& row : r) {
        pqxx::binarystring bytes(row[1]);
        if (bytes.size() != kDescriptorBytes) continue;
        last = row[0].as<int64_t>();
        ids.push_back(last);
        const size_t at = vectors.size();
        vectors.resize(at + kDescriptorDim);
        std::memcpy(vectors.data() + at, bytes.data(), kDescriptorBytes);
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    if (got < static_cast<size_t>(options_.load_batch)) break;
  }
  auto c = std::make_shared<Collection>();
  c->generation = generation;
  c->index = std::make_unique<VectorIndex>(options_.index);
  c->index->Build(ids, vectors);
  if (ids.size() > 100000) malloc_trim(0);  // hand the load buffers back
  return c;
}

std::shared_ptr<FaceStore::Collection> FaceStore::Find(const std::string& collection_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = collections_.find(collection_id);
  return it == collections_.end() ? nullptr : it->second;
}

std::shared_ptr<FaceStore::Collection> FaceStore::Ensure(const std::string& collection_id,
                                                         int64_t generation) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = collections_[collection_id];
  if (slot != nullptr && slot->generation > generation) return nullptr;  // stale change
  if (slot == nullptr || slot->generation < generation) {
    slot = std::make_shared<Collection>();
    slot->generation = generation;
    slot->index = std::make_unique<VectorIndex>(options_.index);
  }
  return slot;
}

void FaceStore::Forget(const std::string& collection_id, int64_t generation) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = collections_.find(collection_id);
  if (it != collections_.end() && it->second->generation <= generation) collections_.erase(it);
}

absl::StatusOr<std::shared_ptr<FaceStore::Collection>> FaceStore::GetCollection(
    const std::string& collection_id) {
  if (auto c = Find(collection_id)) return c;
  auto generation = options_.db->Query<int64_t>([&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
    auto r = tx.exec_params(
        "SELECT generation FROM recognition_collections WHERE collection_id = $1", collection_id);
    if (r.empty()) return NotFoundCollection(collection_id);
    return r[0][0].as<int64_t>();
  });
  if (!generation.ok()) return generation.status();
  auto loaded = LoadCollection(collection_id, *generation);
  if (!loaded.ok()) return loaded.status();
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = collections_[collection_id];
  if (slot == nullptr || slot->generation < (*loaded)->generation) slot = *loaded;
  return slot;
}

absl::Status FaceStore::HandleNotification(const std::string& payload) {
  std::optional<FaceStoreChange> change = ParseFaceStoreChange(payload);
  if (!change.has_value()) {
    SLOG(WARNING) << "recognition listener: unknown notification" << Kv("payload", payload);
    return absl::OkStatus();
  }
  switch (change->kind) {
    case FaceStoreChange::kCollectionCreated:
      Ensure(change->collection, change->generation);
      break;
    case FaceStoreChange::kCollectionDeleted:
      Forget(change->collection, change->generation);
      break;
    case FaceStoreChange::kFacesRemoved:
      if (!change->seqs.empty()) {
        auto c = Find(change->collection);
        if (c != nullptr && c->generation == change->generation) c->index->Remove(change->seqs);
      }
      break;
    case FaceStoreChange::kFacesAdded:
      if (absl::Status s = AddBySeq(change->seqs); !s.ok()) {
        // The listener connection may be fine while the pool is not; the faces would be
        // missing until the next resync, so ask the listener for one.
        SLOG(WARNING) << "recognition listener: cannot read added faces"
                      << Kv("error", s.message());
        return s;
      }
      break;
  }
  return absl::OkStatus();
}

absl::Status FaceStore::AddBySeq(const std::vector<int64_t>& seqs) {
  if (seqs.empty()) return absl::OkStatus();
  struct Rows {
    std::string collection;
    int64_t generation;
    std::vector<int64_t> ids;
    std::vector<float> vectors;
  };
  auto rows = options_.db->Query<std::vector<Rows>>([&](pqxx::work& tx)
                                                        -> absl::StatusOr<std::vector<Rows>> {
    auto r = tx.exec_params(
        "SELECT f.collection_id, c.generation, f.seq, f.embedding FROM recognition_faces f "
        "JOIN recognition_collections c USING (collection_id) WHERE f.seq = ANY($1::bigint[]) "
        "ORDER BY f.collection_id",
        ArrayLiteral(seqs));
    std::vector<Rows> out;
    for (const auto& row : r) {
      pqxx::binarystring bytes(row[3]);
      if (bytes.size() != kDescriptorBytes) continue;
      if (out.empty() || out.back().collection != row[0].c_str()) {
        out.push_back({row[0].c_str(), row[1].as<int64_t>(), {}, {}});
      }
      out.back().ids.push_back(row[2].as<int64_t>());
      const size_t at = out.back().vectors.size();
      out.back().vectors.resize(at + kDescriptorDim);
      std::memcpy(out.back().vectors.data() + at, bytes.data(), kDescriptorBytes);
    }
    return out;
  });
  if (!rows.ok()) return rows.status();
  for (const Rows& r : *rows) {
    if (auto c = Ensure(r.collection, r.generation)) c->index->Add(r.ids, r.vectors);
  }
  return absl::OkStatus();
}

absl::StatusOr<CollectionInfo> FaceStore::CreateCollection(
    const std::string& collection_id, const std::string& face_model_version,
    const std::map<std::string, std::string>& tags) {
  nlohmann::json tag_json = nlohmann::json::object();
  for (const auto& [k, v] : tags) tag_json[k] = v;
  auto info = options_.db->Query<CollectionInfo>([&](pqxx::work& tx)
                                                     -> absl::StatusOr<CollectionInfo> {
    auto r = tx.exec_params(
        absl::StrCat("INSERT INTO recognition_collections (collection_id, face_model_version, "
                     "tags) VALUES ($1, $2, $3::jsonb) ON CONFLICT DO NOTHING RETURNING ",
                     kCollectionColumns),
        collection_id, face_model_version, tag_json.dump());
    if (r.empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat("The collection id: ", collection_id, " already exists"));
    }
    CollectionInfo c = CollectionFromRow(r[0]);
    STRATUS_RETURN_IF_ERROR(Notify(tx, CollectionCreatedPayload(c.generation, collection_id)));
    return c;
  });
  if (info.ok()) Ensure(collection_id, info->generation);
  return info;
}

absl::Status FaceStore::DeleteCollection(const std::string& collection_id) {
  auto generation = options_.db->Query<int64_t>([&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
    auto r = tx.exec_params(
        "DELETE FROM recognition_collections WHERE collection_id = $1 RETURNING generation",
        collection_id);
    if (r.empty()) return NotFoundCollection(collection_id);
    const int64_t g = r[0][0].as<int64_t>();
    STRATUS_RETURN_IF_ERROR(Notify(tx, CollectionDeletedPayload(g, collection_id)));
    return g;
  });
  if (!generation.ok()) return generation.status();
  Forget(collection_id, *generation);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<CollectionInfo>> FaceStore::ListCollections(
    const std::string& start_after, int max, bool* more) {
  return options_.db->Query<std::vector<CollectionInfo>>(
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<CollectionInfo>> {
        auto r = tx.exec_params(
            absl::StrCat("SELECT ", kCollectionColumns,
                         " FROM recognition_collections WHERE collection_id COLLATE \"C\" > $1 "
                         "ORDER BY collection_id COLLATE \"C\" LIMIT $2"),
            start_after, max + 1);
        std::vector<CollectionInfo> out;
        for (const auto& row : r) out.push_back(CollectionFromRow(row));
        *more = static_cast<int>(out.size()) > max;
        if (*more) out.pop_back();
        return out;
      });
}

absl::StatusOr<CollectionInfo> FaceStore::DescribeCollection(const std::string& collection_id) {
  return options_.db->Query<CollectionInfo>([&](pqxx::work& tx) -> absl::StatusOr<CollectionInfo> {
    auto r = tx.exec_params(absl::StrCat("SELECT ", kCollectionColumns,
                                         " FROM recognition_collections WHERE collection_id = $1"),
                            collection_id);
    if (r.empty()) return NotFoundCollection(collection_id);
    CollectionInfo c = CollectionFromRow(r[0]);
    c.face_count =
        tx.exec_params1("SELECT count(*) FROM recognition_faces WHERE collection_id = $1",
                        collection_id)[0]
            .as<int64_t>();
    c.user_count =
        tx.exec_params1("SELECT count(*) FROM recognition_users WHERE collection_id = $1",
                        collection_id)[0]
            .as<int64_t>();
    return c;
  });
}

absl::StatusOr<std::vector<v1::Face>> FaceStore::AddFaces(const std::string& collection_id,
                                                          const std::vector<NewFace>& faces,
                                                          const std::string& external_image_id,
                                                          const std::string& model_version) {
  for (const NewFace& f : faces) {
    if (f.descriptor.size() != kDescriptorDim) {
      return absl::InvalidArgumentError(
          absl::StrCat("a face descriptor has ", f.descriptor.size(), " values, not 128"));
    }
  }
  int64_t generation = 0;
  std::vector<int64_t> seqs;
  auto stored = options_.db->Query<std::vector<v1::Face>>([&](pqxx::work& tx)
                                                              -> absl::StatusOr<std::vector<v1::Face>> {
    auto c = tx.exec_params(
        "SELECT generation FROM recognition_collections WHERE collection_id = $1 FOR SHARE",
        collection_id);
    if (c.empty()) return NotFoundCollection(collection_id);
    generation = c[0][0].as<int64_t>();
    std::vector<v1::Face> out;
    if (faces.empty()) return out;
    auto existing = Find(collection_id);
    int64_t count = existing != nullptr && existing->generation == generation
                        ? existing->index->size()
                        : tx.exec_params1("SELECT count(*) FROM recognition_faces WHERE "
                                          "collection_id = $1",
                                          collection_id)[0]
                              .as<int64_t>();
    if (count + static_cast<int64_t>(faces.size()) > options_.max_faces_per_collection) {
      return QuotaExceeded(absl::StrCat("collection ", collection_id, " would exceed ",
                                        options_.max_faces_per_collection, " faces"));
    }
    const std::string image_id = tx.exec("SELECT gen_random_uuid()::text")[0][0].c_str();
    // One multi-row INSERT; face ids are chosen here so rows can be matched to inputs.
    auto uuids = tx.exec_params("SELECT gen_random_uuid()::text FROM generate_series(1, $1)",
                                static_cast<int>(faces.size()));
    std::vector<std::string> params = {collection_id, image_id, external_image_id, model_version};
    std::string sql =
        "INSERT INTO recognition_faces (face_id, collection_id, image_id, external_image_id, "
        "confidence, box_left, box_top, box_width, box_height, model_version, embedding) VALUES ";
    absl::flat_hash_map<std::string, size_t> index_of;
    for (size_t i = 0; i < faces.size(); ++i) {
      const NewFace& f = faces[i];
      const std::string face_id = uuids[i][0].c_str();
      index_of[face_id] = i;
      const size_t p = params.size();
      params.push_back(face_id);
      params.push_back(absl::StrCat(f.confidence));
      params.push_back(absl::StrCat(f.box.left()));
      params.push_back(absl::StrCat(f.box.top()));
      params.push_back(absl::StrCat(f.box.width()));
      params.push_back(absl::StrCat(f.box.height()));
      params.push_back(HexBytea(f.descriptor));
      absl::StrAppend(&sql, i == 0 ? "" : ",", "($", p + 1, "::uuid, $1, $2::uuid, $3, $", p + 2,
                      "::real, $", p + 3, "::real, $", p + 4, "::real, $", p + 5, "::real, $",
                      p + 6, "::real, $4, $", p + 7, "::bytea)");
    }
    absl::StrAppend(&sql, " RETURNING ", kFaceColumns);
    auto r = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
    out.resize(faces.size());
    seqs.resize(faces.size());
    for (const auto& row : r) {
      int64_t seq = 0;
      v1::Face face = FaceFromRow(row, &seq);
      const size_t i = index_of.at(face.face_id());
      seqs[i] = seq;
      out[i] = std::move(face);
    }
    STRATUS_RETURN_IF_ERROR(NotifyAll(tx, FacesAddedPayloads(seqs)));
    return out;
  });
  if (!stored.ok()) return stored.status();
  if (!faces.empty()) {
    if (auto c = Ensure(collection_id, generation)) {
      std::vector<float> vectors;
      vectors.reserve(faces.size() * kDescriptorDim);
      for (const NewFace& f : faces) vectors.insert(vectors.end(), f.descriptor.begin(), f.descriptor.end());
      c->index->Add(seqs, vectors);
    }
  }
  return stored;
}

absl::StatusOr<std::vector<v1::Face>> FaceStore::ListFaces(const std::string& collection_id,
                                                           const std::string& start_after, int max,
                                                           const std::vector<std::string>& only,
                                                           bool* more, const std::string& user_id) {
  std::vector<std::string> wanted;
  for (const std::string& id : only) {
    if (IsUuid(id)) wanted.push_back(id);
  }
  return options_.db->Query<std::vector<v1::Face>>(
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<v1::Face>> {
        if (tx.exec_params("SELECT 1 FROM recognition_collections WHERE collection_id = $1",
                           collection_id)
                .empty()) {
          return NotFoundCollection(collection_id);
        }
        std::vector<v1::Face> out;
        *more = false;
        if (!only.empty() && wanted.empty()) return out;
        const std::string after =
            start_after.empty() ? "00000000-0000-0000-0000-000000000000" : start_after;
        std::string sql = absl::StrCat("SELECT ", kFaceColumns,
                                       " FROM recognition_faces WHERE collection_id = $1 AND "
                                       "face_id > $2::uuid AND ($4 = '' OR user_id = $4)");
        pqxx::result r;
        if (wanted.empty()) {
          r = tx.exec_params(absl::StrCat(sql, " ORDER BY face_id LIMIT $3"), collection_id, after,
                             max + 1, user_id);
        } else {
          r = tx.exec_params(
              absl::StrCat(sql, " AND face_id = ANY($5::uuid[]) ORDER BY face_id LIMIT $3"),
              collection_id, after, max + 1, user_id, ArrayLiteral(wanted));
        }
        for (const auto& row : r) out.push_back(FaceFromRow(row, nullptr));
        *more = static_cast<int>(out.size()) > max;
        if (*more) out.pop_back();
        return out;
      });
}

absl::StatusOr<std::vector<std::string>> FaceStore::DeleteFaces(
    const std::string& collection_id, const std::vector<std::string>& face_ids,
    std::vector<std::pair<std::string, std::string>>* associated) {
  std::vector<std::string> wanted;
  for (const std::string& id : face_ids) {
    if (IsUuid(id)) wanted.push_back(id);
  }
  int64_t generation = 0;
  std::vector<int64_t> seqs;
  auto deleted = options_.db->Query<std::vector<std::string>>(
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<std::string>> {
        auto c = tx.exec_params(
            "SELECT generation FROM recognition_collections WHERE collection_id = $1 FOR SHARE",
            collection_id);
        if (c.empty()) return NotFoundCollection(collection_id);
        generation = c[0][0].as<int64_t>();
        std::vector<std::string> out;
        if (associated != nullptr) associated->clear();
        if (wanted.empty()) return out;
        if (associated != nullptr) {
          for (const auto& row : tx.exec_params(
                   "SELECT face_id::text, user_id FROM recognition_faces WHERE collection_id = $1 "
                   "AND face_id = ANY($2::uuid[]) AND user_id IS NOT NULL",
                   collection_id, ArrayLiteral(wanted))) {
            associated->emplace_back(row[0].c_str(), row[1].c_str());
          }
        }
        auto r = tx.exec_params(
            "DELETE FROM recognition_faces WHERE collection_id = $1 AND face_id = ANY($2::uuid[]) "
            "AND user_id IS NULL RETURNING seq, face_id::text",
            collection_id, ArrayLiteral(wanted));
        for (const auto& row : r) {
          seqs.push_back(row[0].as<int64_t>());
          out.push_back(row[1].c_str());
        }
        STRATUS_RETURN_IF_ERROR(
            NotifyAll(tx, FacesRemovedPayloads(generation, collection_id, seqs)));
        return out;
      });
  if (!deleted.ok()) return deleted.status();
  if (auto c = Find(collection_id); c != nullptr && c->generation == generation) {
    c->index->Remove(seqs);
  }
  return deleted;
}

absl::StatusOr<std::vector<float>> FaceStore::GetDescriptor(const std::string& collection_id,
                                                            const std::string& face_id) {
  return options_.db->Query<std::vector<float>>([&](pqxx::work& tx)
                                                    -> absl::StatusOr<std::vector<float>> {
    if (tx.exec_params("SELECT 1 FROM recognition_collections WHERE collection_id = $1",
                       collection_id)
            .empty()) {
      return NotFoundCollection(collection_id);
    }
    pqxx::result r;
    if (IsUuid(face_id)) {
      r = tx.exec_params(
          "SELECT embedding FROM recognition_faces WHERE collection_id = $1 AND face_id = $2::uuid",
          collection_id, face_id);
    }
    if (r.empty()) {
      return absl::NotFoundError(absl::StrCat("The face id: ", face_id,
                                              " does not exist in collection ", collection_id));
    }
    pqxx::binarystring bytes(r[0][0]);
    if (bytes.size() != kDescriptorBytes) return absl::DataLossError("stored descriptor is damaged");
    std::vector<float> v(kDescriptorDim);
    std::memcpy(v.data(), bytes.data(), kDescriptorBytes);
    return v;
  });
}

absl::StatusOr<std::vector<FaceMatchResult>> FaceStore::Search(const std::string& collection_id,
                                                               const std::vector<float>& descriptor,
                                                               int max_faces, float max_distance,
                                                               const std::string& exclude_face_id) {
  if (descriptor.size() != kDescriptorDim) {
    return absl::InvalidArgumentError("a face descriptor has 128 values");
  }
  auto collection = GetCollection(collection_id);
  if (!collection.ok()) return collection.status();
  const int k = max_faces + (exclude_face_id.empty() ? 0 : 1);
  std::vector<Neighbor> hits = (*collection)->index->Search(descriptor, k, max_distance);
  std::vector<FaceMatchResult> out;
  if (hits.empty()) return out;
  std::vector<int64_t> seqs;
  for (const Neighbor& n : hits) seqs.push_back(n.id);
  auto faces = options_.db->Query<absl::flat_hash_map<int64_t, v1::Face>>(
      [&](pqxx::work& tx) -> absl::StatusOr<absl::flat_hash_map<int64_t, v1::Face>> {
        absl::flat_hash_map<int64_t, v1::Face> by_seq;
        auto r = tx.exec_params(
            absl::StrCat("SELECT ", kFaceColumns,
                         " FROM recognition_faces WHERE seq = ANY($1::bigint[]) AND "
                         "collection_id = $2"),
            ArrayLiteral(seqs), collection_id);
        for (const auto& row : r) {
          int64_t seq = 0;
          v1::Face f = FaceFromRow(row, &seq);
          by_seq.emplace(seq, std::move(f));
        }
        return by_seq;
      });
  if (!faces.ok()) return faces.status();
  for (const Neighbor& n : hits) {
    auto it = faces->find(n.id);
    if (it == faces->end()) continue;  // deleted since the index saw it
    if (it->second.face_id() == exclude_face_id) continue;
    if (static_cast<int>(out.size()) >= max_faces) break;
    out.push_back({std::move(it->second), n.distance});
  }
  return out;
}

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
    if (IsUuid(id)) wanted.push_back(id);
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
        for (const auto& e : existing) best = std::min(best, L2(c.descriptor, e));
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
    if (IsUuid(id)) wanted.push_back(id);
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

int64_t FaceStore::IndexedFaces(const std::string& collection_id) const {
  auto c = Find(collection_id);
  return c == nullptr ? -1 : c->index->size();
}

std::string FaceStore::IndexDescription(const std::string& collection_id) const {
  auto c = Find(collection_id);
  return c == nullptr ? "" : c->index->Description();
}

}  // namespace stratus::recognition
