// In-memory nearest-neighbour index of face descriptors for one collection.
//
// Small collections use an exact flat L2 index (FAISS). From `graph_threshold` vectors on, the
// index is an HNSW graph (hnswlib): a search visits a few thousand faces instead of all of them,
// and faces are added to the graph one by one (no training, so no periodic retraining).
// Vectors in the graph are float32 by default (distances exact) or float16 (Options::float16:
// distances within ~1e-3 of the float32 ones, ~200 bytes less per face). Deleted faces stay in
// the graph as tombstones (still traversed, never returned); once they make up
// `max_deleted_fraction` of it, the graph is rebuilt without them.
//
// Rebuilds (flat -> graph at the threshold, graph -> graph to drop tombstones) run in a
// background thread on a snapshot while the live index keeps serving; the writes made
// meanwhile are replayed onto the new index before it replaces the old one.
//
// Ids are caller-chosen int64 (the face's `seq` in PostgreSQL) and never reused. Add() skips ids
// already present and Remove() ignores absent ones, so replaying a change twice is harmless. A
// removed id stays removed: an Add() of it that arrives late (a change notification read before
// the delete committed) is ignored. The removed ids are remembered for the index's lifetime
// (~16 bytes per deleted face; the store reloads from PostgreSQL on a resync).
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

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/types/span.h"

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
    // Exact flat search below this many vectors, the HNSW graph from it on. Exact search
    // costs ~1.5 ms per 10k faces on one core, so the graph takes over at 10k.
    int64_t graph_threshold = 10000;
    // HNSW links per face (level 0 has twice as many) and the breadth of the candidate lists
    // when inserting and when searching. See README.md for what was measured.
    int graph_m = 16;
    int ef_construction = 200;
    int ef_search = 128;
    // Store graph vectors as float16.
    bool float16 = false;
    // Rebuild the graph once this share of its faces are deleted ones.
    double max_deleted_fraction = 0.25;
    // Threads inserting into a new graph in Build() and background rebuilds (0: one per CPU).
    int build_threads = 0;
    // Rebuild in a background thread (false: inline in the write that needs it;
    // deterministic, for tests and benchmarks).
    bool background_build = true;
  };

  explicit VectorIndex(const Options& options);
  ~VectorIndex();  // waits for a background build
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  // Replaces the contents with `ids` / `vectors` (ids.size() x dimension floats), choosing the
  // index type for that size and building inline. For start-up loading.
  void Build(absl::Span<const int64_t> ids, absl::Span<const float> vectors);

  // Adds vectors whose ids are not present yet. `vectors` holds ids.size() x dimension floats.
  void Add(absl::Span<const int64_t> ids, absl::Span<const float> vectors);
  void Remove(absl::Span<const int64_t> ids);

  // Up to `k` nearest vectors with distance <= max_distance, nearest first.
  std::vector<Neighbor> Search(absl::Span<const float> query, int k, float max_distance) const;

  int64_t size() const;
  bool Contains(int64_t id) const;
  // "flat" or "hnsw<M>,<float32|float16>,ef<ef_search>[,deleted<n>]".
  std::string Description() const;
  // Blocks until no background build is running (tests, benchmarks).
  void WaitForBuild();
  // Overrides ef_search of the current graph (no-op when flat); for benchmarks.
  void SetEfSearch(int ef);

  class Backend;  // flat or graph; defined in vector_index.cc

 private:
  struct Op {
    bool add;
    std::vector<int64_t> ids;
    std::vector<float> vectors;
  };
  // Builds a new index for these vectors (flat or graph by size). No lock needed.
  std::unique_ptr<Backend> MakeIndex(absl::Span<const int64_t> ids,
                                     absl::Span<const float> vectors) const;
  void AddLocked(Backend* index, absl::flat_hash_set<int64_t>* present,
                 absl::Span<const int64_t> ids, absl::Span<const float> vectors)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveLocked(Backend* index, absl::flat_hash_set<int64_t>* present,
                    absl::Span<const int64_t> ids) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeStartBuildLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void BackgroundBuild();

  const Options options_;
  mutable std::shared_mutex mu_;
  std::unique_ptr<Backend> index_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<int64_t> present_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<int64_t> removed_ ABSL_GUARDED_BY(mu_);  // never added again
  // A background build is running; writes are logged in pending_.
  bool building_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Op> pending_ ABSL_GUARDED_BY(mu_);
  std::mutex build_mu_;
  std::thread build_thread_ ABSL_GUARDED_BY(build_mu_);
};

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_VECTOR_INDEX_H_
