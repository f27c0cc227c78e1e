// In-memory nearest-neighbour index of face descriptors for one collection (FAISS).
//
// Small collections use an exact flat L2 index. From `ivf_threshold` vectors on, the index is
// rebuilt as an inverted file (IVF): nlist ~ sqrt(N) lists, `nprobe` of them scanned per query.
// Codes are float32 by default (IVFFlat: exact distances, 520 bytes per face with its id, ~530 MB
// per million) or float16 (SQfp16: distances within ~1e-4, ~320 MB per million, but 3-4x slower
// to scan with Debian's FAISS). Either way thresholds keep their meaning without re-ranking.
// The IVF index is retrained (more lists) when the collection grows `retrain_growth` times past
// the size it was trained at; that rebuild runs in a background thread on a snapshot while the
// live index keeps serving, and the writes made meanwhile are replayed onto the new index before
// it replaces the old one.
//
// Ids are caller-chosen int64 (the face's `seq` in PostgreSQL). Add() skips ids already present
// and Remove() ignores absent ones, so replaying a change twice is harmless.
// Thread-safe: searches run concurrently; writes are exclusive.
#ifndef STRATUS_SERVICES_RECOGNITION_VECTOR_INDEX_H_
#define STRATUS_SERVICES_RECOGNITION_VECTOR_INDEX_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/types/span.h"

namespace faiss {
struct Index;
}

namespace stratus::recognition {

inline constexpr int kDescriptorDim = 128;

struct Neighbor {
  int64_t id;
  float distance;  // Euclidean (not squared)
};

class VectorIndex {
 public:
  struct Options {
    int dimension = kDescriptorDim;
    // Exact flat search below this many vectors, IVF from it on. Exact search costs ~1.5 ms per
    // 10k faces on one core (device CPU, stratus-bench-recognition), so up to 100k it stays
    // under ~15 ms and keeps recall at 100%.
    int64_t ivf_threshold = 100000;
    // Retrain the IVF index when it holds this many times the vectors it was trained with.
    double retrain_growth = 4.0;
    // Lists scanned per query: max(min_nprobe, nlist * nprobe_fraction). Measured on 2 cores
    // with isotropic synthetic descriptors (the hard case for IVF), 1M faces, nlist 1000:
    // nprobe 64 -> p50 12 ms, recall 79%; 128 -> p50 22 ms, recall 87%; see README.md.
    int min_nprobe = 32;
    double nprobe_fraction = 1.0 / 10;
    // Codes of the IVF index: float16 (half the memory) or float32 (exact, and faster to scan
    // where FAISS was built without F16C/AVX2 kernels, as Debian's generic build is).
    bool ivf_float16 = false;
    // Build IVF indexes in a background thread (false: inline in the Add() that crosses the
    // threshold; deterministic, for tests and benchmarks).
    bool background_build = true;
  };

  explicit VectorIndex(const Options& options);
  ~VectorIndex();  // waits for a background build
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  // Replaces the contents with `ids` / `vectors` (ids.size() x dimension floats), choosing the
  // index type for that size and training inline. For start-up loading.
  void Build(absl::Span<const int64_t> ids, absl::Span<const float> vectors);

  // Adds vectors whose ids are not present yet. `vectors` holds ids.size() x dimension floats.
  void Add(absl::Span<const int64_t> ids, absl::Span<const float> vectors);
  void Remove(absl::Span<const int64_t> ids);

  // Up to `k` nearest vectors with distance <= max_distance, nearest first.
  std::vector<Neighbor> Search(absl::Span<const float> query, int k, float max_distance) const;

  int64_t size() const;
  bool Contains(int64_t id) const;
  // "flat" or "ivf<nlist>,flat|sqfp16,nprobe<n>".
  std::string Description() const;
  // Blocks until no background build is running (tests, benchmarks).
  void WaitForBuild();
  // Overrides the lists scanned per query of the current IVF index (no-op when flat); for
  // benchmarks tuning nprobe. A rebuild goes back to the Options' rule.
  void SetNprobe(int nprobe);

 private:
  struct Op {
    bool add;
    std::vector<int64_t> ids;
    std::vector<float> vectors;
  };
  // Builds a new index for these vectors (flat or IVF by size). No lock needed.
  std::unique_ptr<faiss::Index> MakeIndex(absl::Span<const int64_t> ids,
                                          absl::Span<const float> vectors, int* nlist) const;
  void AddLocked(faiss::Index* index, absl::flat_hash_set<int64_t>* present,
                 absl::Span<const int64_t> ids, absl::Span<const float> vectors);
  void RemoveLocked(faiss::Index* index, absl::flat_hash_set<int64_t>* present,
                    absl::Span<const int64_t> ids);
  void MaybeStartBuildLocked();
  void BackgroundBuild();
  // Copies every (id, vector) of the current index.
  void SnapshotLocked(std::vector<int64_t>* ids, std::vector<float>* vectors) const;

  const Options options_;
  mutable std::shared_mutex mu_;
  std::unique_ptr<faiss::Index> index_;
  absl::flat_hash_set<int64_t> present_;
  int nlist_ = 0;              // 0: flat
  int64_t trained_size_ = 0;   // vectors the IVF index was trained with
  bool building_ = false;      // a background build is running; writes are logged in pending_
  std::vector<Op> pending_;
  std::mutex build_mu_;        // guards build_thread_
  std::thread build_thread_;
};

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_VECTOR_INDEX_H_
