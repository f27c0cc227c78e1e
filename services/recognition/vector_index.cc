#include "services/recognition/vector_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIDMap.h>
#include <faiss/impl/IDSelector.h>
#include <hnswlib/hnswlib.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "absl/strings/str_cat.h"

namespace stratus::recognition {

// ---- distances for the graph: float32 or float16 vectors, AVX2 where the CPU has it ----
namespace {

struct Dim {
  size_t d;
};

float L2Float32(const void* a, const void* b, const void* param) {
  const float* x = static_cast<const float*>(a);
  const float* y = static_cast<const float*>(b);
  const size_t d = static_cast<const Dim*>(param)->d;
  float s = 0;
  for (size_t i = 0; i < d; ++i) {
    const float t = x[i] - y[i];
    s += t * t;
  }
  return s;
}

__attribute__((target("avx2,fma"))) float L2Float32Avx2(const void* a, const void* b,
                                                        const void* param) {
  const float* x = static_cast<const float*>(a);
  const float* y = static_cast<const float*>(b);
  const size_t d = static_cast<const Dim*>(param)->d;  // a multiple of 16
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  for (size_t i = 0; i < d; i += 16) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i));
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8));
    s0 = _mm256_fmadd_ps(d0, d0, s0);
    s1 = _mm256_fmadd_ps(d1, d1, s1);
  }
  s0 = _mm256_add_ps(s0, s1);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
  h = _mm_hadd_ps(h, h);
  h = _mm_hadd_ps(h, h);
  return _mm_cvtss_f32(h);
}

// IEEE half <-> float without F16C (portable fallback).
float HalfToFloat(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal
      exp = 127 - 15 + 1;
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

uint16_t FloatToHalf(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  const uint16_t sign = (bits >> 16) & 0x8000u;
  const int exp = static_cast<int>((bits >> 23) & 0xff) - 127 + 15;
  uint32_t mant = bits & 0x7fffffu;
  if (exp <= 0) {  // subnormal or zero
    if (exp < -10) return sign;
    mant |= 0x800000u;
    const int shift = 14 - exp;
    uint32_t half = mant >> shift;
    if ((mant >> (shift - 1)) & 1) ++half;  // round half up
    return sign | static_cast<uint16_t>(half);
  }
  if (exp >= 31) return sign | 0x7c00u;  // descriptors never get here
  uint16_t half = sign | static_cast<uint16_t>(exp << 10) | static_cast<uint16_t>(mant >> 13);
  if (mant & 0x1000u) ++half;  // round half up (carry into the exponent is correct)
  return half;
}

float L2Float16(const void* a, const void* b, const void* param) {
  const uint16_t* x = static_cast<const uint16_t*>(a);
  const uint16_t* y = static_cast<const uint16_t*>(b);
  const size_t d = static_cast<const Dim*>(param)->d;
  float s = 0;
  for (size_t i = 0; i < d; ++i) {
    const float t = HalfToFloat(x[i]) - HalfToFloat(y[i]);
    s += t * t;
  }
  return s;
}

__attribute__((target("avx2,fma,f16c"))) float L2Float16Avx2(const void* a, const void* b,
                                                             const void* param) {
  const uint16_t* x = static_cast<const uint16_t*>(a);
  const uint16_t* y = static_cast<const uint16_t*>(b);
  const size_t d = static_cast<const Dim*>(param)->d;  // a multiple of 16
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  for (size_t i = 0; i < d; i += 16) {
    const __m256 x0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    const __m256 y0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i)));
    const __m256 x1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i + 8)));
    const __m256 y1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i + 8)));
    const __m256 d0 = _mm256_sub_ps(x0, y0), d1 = _mm256_sub_ps(x1, y1);
    s0 = _mm256_fmadd_ps(d0, d0, s0);
    s1 = _mm256_fmadd_ps(d1, d1, s1);
  }
  s0 = _mm256_add_ps(s0, s1);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
  h = _mm_hadd_ps(h, h);
  h = _mm_hadd_ps(h, h);
  return _mm_cvtss_f32(h);
}

bool HaveAvx2() {
  static const bool have = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                           __builtin_cpu_supports("f16c");
  return have;
}

// hnswlib's space: the vector format stored in the graph and its squared L2 distance.
class Space final : public hnswlib::SpaceInterface<float> {
 public:
  Space(size_t d, bool float16) : dim_{d}, float16_(float16) {
    const bool simd = HaveAvx2() && d % 16 == 0;
    if (float16) {
      fn_ = simd ? L2Float16Avx2 : L2Float16;
    } else {
      fn_ = simd ? L2Float32Avx2 : L2Float32;
    }
  }
  size_t get_data_size() override { return dim_.d * (float16_ ? 2 : 4); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return fn_; }
  void* get_dist_func_param() override { return &dim_; }

  // `v` (d floats) in the stored format, into `out` (get_data_size() bytes).
  void Encode(const float* v, char* out) const {
    if (!float16_) {
      std::memcpy(out, v, dim_.d * sizeof(float));
      return;
    }
    auto* h = reinterpret_cast<uint16_t*>(out);
    for (size_t i = 0; i < dim_.d; ++i) h[i] = FloatToHalf(v[i]);
  }
  void Decode(const char* in, float* v) const {
    if (!float16_) {
      std::memcpy(v, in, dim_.d * sizeof(float));
      return;
    }
    const auto* h = reinterpret_cast<const uint16_t*>(in);
    for (size_t i = 0; i < dim_.d; ++i) v[i] = HalfToFloat(h[i]);
  }

 private:
  Dim dim_;
  bool float16_;
  hnswlib::DISTFUNC<float> fn_;
};

int BuildThreads(int configured) {
  if (configured > 0) return configured;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

// What the two index types offer VectorIndex. Ids passed to Add are new, to Remove present
// (VectorIndex's `present_` set checks). Not thread-safe by itself: VectorIndex's lock guards it.
class VectorIndex::Backend {
 public:
  virtual ~Backend() = default;
  virtual void Add(absl::Span<const int64_t> ids, absl::Span<const float> vectors) = 0;
  virtual void Remove(absl::Span<const int64_t> ids) = 0;
  virtual std::vector<Neighbor> Search(const float* query, int k, float max_distance) const = 0;
  // Every live (id, vector).
  virtual void Snapshot(std::vector<int64_t>* ids, std::vector<float>* vectors) const = 0;
  virtual bool graph() const = 0;
  virtual int64_t deleted() const { return 0; }
  virtual int64_t stored() const = 0;  // live and deleted
  virtual std::string Description() const = 0;
  virtual void SetEfSearch(int ef) {}
};

namespace {

class FlatBackend final : public VectorIndex::Backend {
 public:
  explicit FlatBackend(int d) : d_(d), index_(new faiss::IndexFlatL2(d)) {
    index_.own_fields = true;
  }

  void Add(absl::Span<const int64_t> ids, absl::Span<const float> vectors) override {
    if (!ids.empty()) index_.add_with_ids(ids.size(), vectors.data(), ids.data());
  }
  void Remove(absl::Span<const int64_t> ids) override {
    faiss::IDSelectorBatch selector(ids.size(), ids.data());
    index_.remove_ids(selector);
  }
  std::vector<Neighbor> Search(const float* query, int k, float max_distance) const override {
    k = static_cast<int>(std::min<int64_t>(k, index_.ntotal));
    std::vector<Neighbor> out;
    if (k <= 0) return out;
    std::vector<float> distances(k);
    std::vector<faiss::Index::idx_t> labels(k);
    index_.search(1, query, k, distances.data(), labels.data());
    const float max_sq = max_distance * max_distance;
    for (int i = 0; i < k; ++i) {
      if (labels[i] < 0 || distances[i] > max_sq) break;  // sorted ascending
      out.push_back({labels[i], std::sqrt(std::max(0.0f, distances[i]))});
    }
    return out;
  }
  void Snapshot(std::vector<int64_t>* ids, std::vector<float>* vectors) const override {
    const float* xb = static_cast<const faiss::IndexFlat*>(index_.index)->get_xb();
    *ids = index_.id_map;
    vectors->assign(xb, xb + index_.id_map.size() * d_);
  }
  bool graph() const override { return false; }
  int64_t stored() const override { return index_.ntotal; }
  std::string Description() const override { return "flat"; }

 private:
  int d_;
  faiss::IndexIDMap index_;
};

class GraphBackend final : public VectorIndex::Backend {
 public:
  GraphBackend(const VectorIndex::Options& o, size_t capacity)
      : d_(o.dimension),
        float16_(o.float16),
        m_(o.graph_m),
        ef_search_(o.ef_search),
        build_threads_(BuildThreads(o.build_threads)),
        space_(o.dimension, o.float16),
        graph_(std::make_unique<hnswlib::HierarchicalNSW<float>>(
            &space_, std::max<size_t>(capacity, 1024), o.graph_m, o.ef_construction,
            /*random_seed=*/100)) {
    graph_->setEf(1);  // Search() passes the breadth as k (hnswlib uses max(ef, k))
  }

  void Add(absl::Span<const int64_t> ids, absl::Span<const float> vectors) override {
    const size_t need = graph_->cur_element_count + ids.size();
    if (need > graph_->max_elements_) {
      graph_->resizeIndex(std::max(need, graph_->max_elements_ * 2));
    }
    const size_t bytes = space_.get_data_size();
    auto insert = [&](size_t i, std::vector<char>* buf) {
      space_.Encode(vectors.data() + i * d_, buf->data());
      graph_->addPoint(buf->data(), static_cast<hnswlib::labeltype>(ids[i]));
    };
    // hnswlib inserts concurrently (per-node locks); worth it for bulk loads only.
    const int threads = ids.size() >= 4096 ? build_threads_ : 1;
    if (threads <= 1) {
      std::vector<char> buf(bytes);
      for (size_t i = 0; i < ids.size(); ++i) insert(i, &buf);
      return;
    }
    std::atomic<size_t> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        std::vector<char> buf(bytes);
        for (size_t i; (i = next.fetch_add(1)) < ids.size();) insert(i, &buf);
      });
    }
    for (auto& t : pool) t.join();
  }

  void Remove(absl::Span<const int64_t> ids) override {
    for (int64_t id : ids) {
      try {
        graph_->markDelete(static_cast<hnswlib::labeltype>(id));
      } catch (const std::runtime_error&) {
        // Not in the graph or already deleted: VectorIndex's set says otherwise only if a
        // replay raced; nothing to undo.
      }
    }
  }

  std::vector<Neighbor> Search(const float* query, int k, float max_distance) const override {
    std::vector<Neighbor> out;
    const int64_t live = stored() - deleted();
    const size_t want = static_cast<size_t>(std::min<int64_t>(k, live));
    if (want == 0) return out;
    std::vector<char> q(space_.get_data_size());
    space_.Encode(query, q.data());
    const float max_sq = max_distance * max_distance;
    // Matches within the threshold are usually few: ask for a small k first and widen while
    // every answer is a match (there may be more).
    size_t kk = std::min<size_t>(want, 32);
    for (;;) {
      out.clear();
      auto top = graph_->searchKnn(q.data(), std::max<size_t>(kk, ef_search_));
      std::vector<std::pair<float, hnswlib::labeltype>> sorted;
      sorted.reserve(top.size());
      while (!top.empty()) {
        sorted.push_back(top.top());
        top.pop();
      }
      std::reverse(sorted.begin(), sorted.end());  // nearest first
      for (const auto& [d2, label] : sorted) {
        if (out.size() >= want || d2 > max_sq) break;
        out.push_back({static_cast<int64_t>(label), std::sqrt(std::max(0.0f, d2))});
      }
      const size_t breadth = std::max<size_t>(kk, ef_search_);
      if (out.size() < std::min(breadth, want) || breadth >= want) return out;
      kk = std::min(want, breadth * 4);
    }
  }

  void Snapshot(std::vector<int64_t>* ids, std::vector<float>* vectors) const override {
    const size_t n = graph_->cur_element_count;
    ids->clear();
    vectors->clear();
    ids->reserve(n - graph_->num_deleted_);
    vectors->reserve((n - graph_->num_deleted_) * d_);
    std::vector<float> v(d_);
    for (hnswlib::tableint i = 0; i < n; ++i) {
      if (graph_->isMarkedDeleted(i)) continue;
      ids->push_back(static_cast<int64_t>(graph_->getExternalLabel(i)));
      space_.Decode(graph_->getDataByInternalId(i), v.data());
      vectors->insert(vectors->end(), v.begin(), v.end());
    }
  }

  bool graph() const override { return true; }
  int64_t deleted() const override { return static_cast<int64_t>(graph_->num_deleted_); }
  int64_t stored() const override { return static_cast<int64_t>(graph_->cur_element_count); }
  std::string Description() const override {
    std::string s = absl::StrCat("hnsw", m_, float16_ ? ",float16" : ",float32", ",ef", ef_search_);
    if (deleted() > 0) absl::StrAppend(&s, ",deleted", deleted());
    return s;
  }
  void SetEfSearch(int ef) override { ef_search_ = std::max(1, ef); }

 private:
  const int d_;
  const bool float16_;
  const int m_;
  int ef_search_;
  const int build_threads_;
  mutable Space space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph_;
};

}  // namespace

VectorIndex::VectorIndex(const Options& options) : options_(options) { index_ = MakeIndex({}, {}); }

VectorIndex::~VectorIndex() { WaitForBuild(); }

void VectorIndex::WaitForBuild() {
  std::lock_guard<std::mutex> lock(build_mu_);
  if (build_thread_.joinable()) build_thread_.join();
}

std::unique_ptr<VectorIndex::Backend> VectorIndex::MakeIndex(
    absl::Span<const int64_t> ids, absl::Span<const float> vectors) const {
  std::unique_ptr<Backend> index;
  if (static_cast<int64_t>(ids.size()) < options_.graph_threshold) {
    index = std::make_unique<FlatBackend>(options_.dimension);
  } else {
    index = std::make_unique<GraphBackend>(options_, ids.size() + ids.size() / 4);
  }
  index->Add(ids, vectors);
  return index;
}

void VectorIndex::Build(absl::Span<const int64_t> ids, absl::Span<const float> vectors) {
  WaitForBuild();
  absl::flat_hash_set<int64_t> removed;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    removed = removed_;
  }
  // Ids once each (MakeIndex's backends take new ids only), removed ones left out.
  absl::flat_hash_set<int64_t> present;
  present.reserve(ids.size());
  std::vector<int64_t> unique_ids;
  std::vector<float> unique_vectors;
  bool skip = false;
  for (int64_t id : ids) skip |= removed.contains(id) || !present.insert(id).second;
  if (skip) {
    present.clear();
    const int d = options_.dimension;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (removed.contains(ids[i]) || !present.insert(ids[i]).second) continue;
      unique_ids.push_back(ids[i]);
      unique_vectors.insert(unique_vectors.end(), vectors.begin() + i * d,
                            vectors.begin() + (i + 1) * d);
    }
    ids = unique_ids;
    vectors = unique_vectors;
  }
  auto index = MakeIndex(ids, vectors);
  std::unique_lock<std::shared_mutex> lock(mu_);
  index_ = std::move(index);
  present_ = std::move(present);
}

void VectorIndex::AddLocked(Backend* index, absl::flat_hash_set<int64_t>* present,
                            absl::Span<const int64_t> ids, absl::Span<const float> vectors) {
  const int d = options_.dimension;
  std::vector<int64_t> new_ids;
  std::vector<float> new_vectors;
  new_ids.reserve(ids.size());
  new_vectors.reserve(vectors.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (removed_.contains(ids[i]) || !present->insert(ids[i]).second) continue;
    new_ids.push_back(ids[i]);
    new_vectors.insert(new_vectors.end(), vectors.begin() + i * d, vectors.begin() + (i + 1) * d);
  }
  if (!new_ids.empty()) index->Add(new_ids, new_vectors);
}

void VectorIndex::RemoveLocked(Backend* index, absl::flat_hash_set<int64_t>* present,
                               absl::Span<const int64_t> ids) {
  std::vector<int64_t> gone;
  for (int64_t id : ids) {
    removed_.insert(id);
    if (present->erase(id) > 0) gone.push_back(id);
  }
  if (!gone.empty()) index->Remove(gone);
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
  MaybeStartBuildLocked();
}

void VectorIndex::MaybeStartBuildLocked() {
  if (building_) return;
  const int64_t n = static_cast<int64_t>(present_.size());
  const bool need =
      index_->graph() ? index_->deleted() > options_.max_deleted_fraction * double(index_->stored())
                      : n >= options_.graph_threshold;
  if (!need) return;
  if (!options_.background_build) {
    std::vector<int64_t> ids;
    std::vector<float> vectors;
    index_->Snapshot(&ids, &vectors);
    index_ = MakeIndex(ids, vectors);
    return;
  }
  building_ = true;
  pending_.clear();
  // The previous build thread (if any) has finished: building_ was false.
  std::lock_guard<std::mutex> lock(build_mu_);
  if (build_thread_.joinable()) build_thread_.join();
  build_thread_ = std::thread([this] { BackgroundBuild(); });
}

void VectorIndex::BackgroundBuild() {
  std::vector<int64_t> ids;
  std::vector<float> vectors;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    index_->Snapshot(&ids, &vectors);
  }
  auto index = MakeIndex(ids, vectors);
  absl::flat_hash_set<int64_t> present(ids.begin(), ids.end());
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
  building_ = false;
}

std::vector<Neighbor> VectorIndex::Search(absl::Span<const float> query, int k,
                                          float max_distance) const {
  // One query gains nothing from an OpenMP team, and waking one on busy cores costs
  // milliseconds; the setting is per calling thread (index builds keep their threads).
  thread_local const bool single = (omp_set_num_threads(1), true);
  (void)single;
  if (k <= 0) return {};
  std::shared_lock<std::shared_mutex> lock(mu_);
  return index_->Search(query.data(), k, max_distance);
}

void VectorIndex::SetEfSearch(int ef) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  index_->SetEfSearch(ef);
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
  return index_->Description();
}

}  // namespace stratus::recognition
