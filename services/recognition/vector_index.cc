#include "services/recognition/vector_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/invlists/InvertedLists.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"

namespace stratus::recognition {

VectorIndex::VectorIndex(const Options& options) : options_(options) {
  index_ = MakeIndex({}, {}, &nlist_);
}

VectorIndex::~VectorIndex() { WaitForBuild(); }

void VectorIndex::WaitForBuild() {
  std::lock_guard<std::mutex> lock(build_mu_);
  if (build_thread_.joinable()) build_thread_.join();
}

std::unique_ptr<faiss::Index> VectorIndex::MakeIndex(absl::Span<const int64_t> ids,
                                                     absl::Span<const float> vectors,
                                                     int* nlist) const {
  const int d = options_.dimension;
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n < options_.ivf_threshold) {
    auto flat = std::make_unique<faiss::IndexIDMap>(new faiss::IndexFlatL2(d));
    flat->own_fields = true;
    if (n > 0) flat->add_with_ids(n, vectors.data(), ids.data());
    *nlist = 0;
    return flat;
  }
  // sqrt(N) lists keeps both the coarse search and the list scans short; k-means trains on at
  // most 50 points per list (FAISS wants >= 39), picked with a fixed seed.
  const int lists = std::max<int>(16, static_cast<int>(std::lround(std::sqrt(double(n)))));
  std::unique_ptr<faiss::IndexIVF> ivf;
  if (options_.ivf_float16) {
    ivf = std::make_unique<faiss::IndexIVFScalarQuantizer>(
        new faiss::IndexFlatL2(d), d, lists, faiss::ScalarQuantizer::QT_fp16, faiss::METRIC_L2,
        /*encode_residual=*/true);
  } else {
    ivf = std::make_unique<faiss::IndexIVFFlat>(new faiss::IndexFlatL2(d), d, lists,
                                                faiss::METRIC_L2);
  }
  ivf->own_fields = true;
  ivf->cp.niter = 15;
  const int64_t sample = std::min<int64_t>(n, int64_t{50} * lists);
  std::vector<float> train;
  if (sample == n) {
    ivf->train(n, vectors.data());
  } else {
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(12345);
    for (int64_t i = 0; i < sample; ++i) {
      std::uniform_int_distribution<int64_t> pick(i, n - 1);
      std::swap(order[i], order[pick(rng)]);
    }
    train.resize(sample * d);
    for (int64_t i = 0; i < sample; ++i) {
      std::copy_n(vectors.data() + order[i] * d, d, train.data() + i * d);
    }
    ivf->train(sample, train.data());
  }
  ivf->nprobe = std::min<int>(
      lists, std::max<int>(options_.min_nprobe, std::lround(lists * options_.nprobe_fraction)));
  ivf->add_with_ids(n, vectors.data(), ids.data());
  // The lists grew by doubling; give the slack back (up to half the index otherwise).
  if (auto* lists_storage = dynamic_cast<faiss::ArrayInvertedLists*>(ivf->invlists)) {
    for (auto& c : lists_storage->codes) c.shrink_to_fit();
    for (auto& i : lists_storage->ids) i.shrink_to_fit();
  }
  *nlist = lists;
  return ivf;
}

void VectorIndex::Build(absl::Span<const int64_t> ids, absl::Span<const float> vectors) {
  WaitForBuild();
  int nlist = 0;
  auto index = MakeIndex(ids, vectors, &nlist);
  absl::flat_hash_set<int64_t> present(ids.begin(), ids.end());
  std::unique_lock<std::shared_mutex> lock(mu_);
  index_ = std::move(index);
  present_ = std::move(present);
  nlist_ = nlist;
  trained_size_ = static_cast<int64_t>(ids.size());
}

void VectorIndex::AddLocked(faiss::Index* index, absl::flat_hash_set<int64_t>* present,
                            absl::Span<const int64_t> ids, absl::Span<const float> vectors) {
  const int d = options_.dimension;
  std::vector<int64_t> new_ids;
  std::vector<float> new_vectors;
  new_ids.reserve(ids.size());
  new_vectors.reserve(vectors.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!present->insert(ids[i]).second) continue;
    new_ids.push_back(ids[i]);
    new_vectors.insert(new_vectors.end(), vectors.begin() + i * d, vectors.begin() + (i + 1) * d);
  }
  if (!new_ids.empty()) {
    index->add_with_ids(static_cast<faiss::Index::idx_t>(new_ids.size()), new_vectors.data(),
                        new_ids.data());
  }
}

void VectorIndex::RemoveLocked(faiss::Index* index, absl::flat_hash_set<int64_t>* present,
                               absl::Span<const int64_t> ids) {
  std::vector<int64_t> gone;
  for (int64_t id : ids) {
    if (present->erase(id) > 0) gone.push_back(id);
  }
  if (gone.empty()) return;
  faiss::IDSelectorBatch selector(gone.size(), gone.data());
  index->remove_ids(selector);
}

void VectorIndex::Add(absl::Span<const int64_t> ids, absl::Span<const float> vectors) {
  if (ids.empty()) return;
  std::unique_lock<std::shared_mutex> lock(mu_);
  AddLocked(index_.get(), &present_, ids, vectors);
  if (building_) {
    pending_.push_back(Op{true, std::vector<int64_t>(ids.begin(), ids.end()),
                          std::vector<float>(vectors.begin(), vectors.end())});
  }
  MaybeStartBuildLocked();
}

void VectorIndex::Remove(absl::Span<const int64_t> ids) {
  if (ids.empty()) return;
  std::unique_lock<std::shared_mutex> lock(mu_);
  RemoveLocked(index_.get(), &present_, ids);
  if (building_) pending_.push_back(Op{false, std::vector<int64_t>(ids.begin(), ids.end()), {}});
}

void VectorIndex::MaybeStartBuildLocked() {
  if (building_) return;
  const int64_t n = static_cast<int64_t>(present_.size());
  const bool need = nlist_ == 0 ? n >= options_.ivf_threshold
                                : n > options_.retrain_growth * double(trained_size_);
  if (!need) return;
  if (!options_.background_build) {
    std::vector<int64_t> ids;
    std::vector<float> vectors;
    SnapshotLocked(&ids, &vectors);
    index_ = MakeIndex(ids, vectors, &nlist_);
    trained_size_ = n;
    return;
  }
  building_ = true;
  pending_.clear();
  // The previous build thread (if any) has finished: building_ was false.
  std::lock_guard<std::mutex> lock(build_mu_);
  if (build_thread_.joinable()) build_thread_.join();
  build_thread_ = std::thread([this] { BackgroundBuild(); });
}

void VectorIndex::SnapshotLocked(std::vector<int64_t>* ids, std::vector<float>* vectors) const {
  const int d = options_.dimension;
  ids->clear();
  vectors->clear();
  ids->reserve(present_.size());
  vectors->reserve(present_.size() * d);
  if (nlist_ == 0) {
    auto* map = static_cast<faiss::IndexIDMap*>(index_.get());
    auto* flat = static_cast<faiss::IndexFlat*>(map->index);
    const float* xb = flat->get_xb();
    *ids = map->id_map;
    vectors->assign(xb, xb + map->id_map.size() * d);
    return;
  }
  auto* ivf = static_cast<faiss::IndexIVF*>(index_.get());
  std::vector<float> one(d);
  for (size_t list = 0; list < ivf->nlist; ++list) {
    const size_t size = ivf->invlists->list_size(list);
    for (size_t o = 0; o < size; ++o) {
      ids->push_back(ivf->invlists->get_single_id(list, o));
      ivf->reconstruct_from_offset(list, o, one.data());
      vectors->insert(vectors->end(), one.begin(), one.end());
    }
  }
}

void VectorIndex::BackgroundBuild() {
  std::vector<int64_t> ids;
  std::vector<float> vectors;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    SnapshotLocked(&ids, &vectors);
  }
  int nlist = 0;
  auto index = MakeIndex(ids, vectors, &nlist);
  absl::flat_hash_set<int64_t> present(ids.begin(), ids.end());
  const int64_t trained = static_cast<int64_t>(ids.size());
  ids = {};
  vectors = {};
  std::unique_lock<std::shared_mutex> lock(mu_);
  for (const Op& op : pending_) {
    if (op.add) {
      AddLocked(index.get(), &present, op.ids, op.vectors);
    } else {
      RemoveLocked(index.get(), &present, op.ids);
    }
  }
  pending_.clear();
  index_ = std::move(index);
  present_ = std::move(present);
  nlist_ = nlist;
  trained_size_ = trained;
  building_ = false;
}

std::vector<Neighbor> VectorIndex::Search(absl::Span<const float> query, int k,
                                          float max_distance) const {
  // One query gains nothing from an OpenMP team, and waking one on busy cores costs
  // milliseconds; the setting is per calling thread (index builds keep their threads).
  thread_local const bool single = (omp_set_num_threads(1), true);
  (void)single;
  std::shared_lock<std::shared_mutex> lock(mu_);
  const int64_t n = index_->ntotal;
  k = static_cast<int>(std::min<int64_t>(k, n));
  std::vector<Neighbor> out;
  if (k <= 0) return out;
  std::vector<float> distances(k);
  std::vector<faiss::Index::idx_t> labels(k);
  index_->search(1, query.data(), k, distances.data(), labels.data());
  const float max_sq = max_distance * max_distance;
  for (int i = 0; i < k; ++i) {
    if (labels[i] < 0 || distances[i] > max_sq) break;  // sorted ascending
    out.push_back({labels[i], std::sqrt(std::max(0.0f, distances[i]))});
  }
  return out;
}

void VectorIndex::SetNprobe(int nprobe) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  if (nlist_ == 0) return;
  static_cast<faiss::IndexIVF*>(index_.get())->nprobe = std::clamp(nprobe, 1, nlist_);
}

int64_t VectorIndex::size() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return static_cast<int64_t>(present_.size());
}

bool VectorIndex::Contains(int64_t id) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return present_.contains(id);
}

std::string VectorIndex::Description() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  if (nlist_ == 0) return "flat";
  auto* ivf = static_cast<const faiss::IndexIVF*>(index_.get());
  return absl::StrCat("ivf", nlist_, options_.ivf_float16 ? ",sqfp16" : ",flat", ",nprobe",
                      ivf->nprobe);
}

}  // namespace stratus::recognition
