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
#include "services/recognition/face_store_sql.h"

namespace stratus::recognition {
using face_store_sql::ArrayLiteral;
using face_store_sql::CollectionFromRow;
using face_store_sql::FaceFromRow;
using face_store_sql::HexBytea;
using face_store_sql::kCollectionColumns;
using face_store_sql::kDescriptorBytes;
using face_store_sql::kFaceColumns;
using face_store_sql::NotFoundCollection;
using face_store_sql::Notify;
using face_store_sql::NotifyAll;
using face_store_sql::QuotaExceeded;

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
        for (const auto& r :
             tx.exec("SELECT collection_id, generation FROM recognition_collections")) {
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
  auto rows = options_.db->Query<std::vector<Rows>>(
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Rows>> {
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
  auto info =
      options_.db->Query<CollectionInfo>([&](pqxx::work& tx) -> absl::StatusOr<CollectionInfo> {
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
  auto stored = options_.db->Query<
      std::vector<v1::Face>>([&](pqxx::work& tx) -> absl::StatusOr<std::vector<v1::Face>> {
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
                        : tx.exec_params1(
                                "SELECT count(*) FROM recognition_faces WHERE "
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
      for (const NewFace& f : faces)
        vectors.insert(vectors.end(), f.descriptor.begin(), f.descriptor.end());
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
    if (IsStoreId(id)) wanted.push_back(id);
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
    if (IsStoreId(id)) wanted.push_back(id);
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
    if (IsStoreId(face_id)) {
      r = tx.exec_params(
          "SELECT embedding FROM recognition_faces WHERE collection_id = $1 AND face_id = $2::uuid",
          collection_id, face_id);
    }
    if (r.empty()) {
      return absl::NotFoundError(
          absl::StrCat("The face id: ", face_id, " does not exist in collection ", collection_id));
    }
    pqxx::binarystring bytes(r[0][0]);
    if (bytes.size() != kDescriptorBytes)
      return absl::DataLossError("stored descriptor is damaged");
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
        auto r =
            tx.exec_params(absl::StrCat("SELECT ", kFaceColumns,
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

int64_t FaceStore::IndexedFaces(const std::string& collection_id) const {
  auto c = Find(collection_id);
  return c == nullptr ? -1 : c->index->size();
}

std::string FaceStore::IndexDescription(const std::string& collection_id) const {
  auto c = Find(collection_id);
  return c == nullptr ? "" : c->index->Description();
}

}  // namespace stratus::recognition
