// stratus-bench-recognition: speed and memory of the recognition service.
//
//   stratus-bench-recognition [--sizes=10000,100000,1000000] [--queries=1000]
//       [--intrinsic-dim=0] [--float16] [--graph-m=16] [--ef-construction=200]
//       [--ef-search=128] [--store-sizes=10000] [--index-faces=1000]
//       [--recognition=host:port --image=PATH --compare-target=PATH --requests=50]
//
// 1. Search: for each size N, N synthetic descriptors shaped like dlib's (identities with 5
//    faces each, ~0.4 apart within an identity, ~0.8 between identities) go into a VectorIndex
//    (the per-collection index of the service); SearchFacesByImage-equivalent queries (a new
//    face of an indexed identity, threshold 80 = distance 0.6, MaxFaces 4096) are timed one at a
//    time: p50/p99, recall of the exact answer (FAISS flat), and resident memory added by the
//    index, scaled to a million faces. With the HNSW graph, several efSearch values are
//    measured, then every 10th face is removed and the search measured again (recall among the
//    faces left; removed faces must not come back).
// 2. Store: the same through FaceStore (PostgreSQL + index + metadata fetch of the matches),
//    with an embedded PostgreSQL, and IndexFaces throughput (Recognizer::IndexFaces with a fake
//    face analyzer: PostgreSQL insert + index add per image of one face).
// 3. With --recognition: DetectFaces and CompareFaces p50/p99 over gRPC against a running
//    recognition service (which calls its detector).
#include <faiss/IndexFlat.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#ifndef STRATUS_BENCH_INDEX_ONLY
#include <grpcpp/grpcpp.h>
#endif

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/auth/client.h"
#include "common/grpc_channel.h"
#include "common/flags.h"
#include "services/recognition/face_detail.h"
#include "services/recognition/vector_index.h"
#ifndef STRATUS_BENCH_INDEX_ONLY
#include "common/embedded_postgres.h"
#include "services/recognition/face_store.h"
#include "services/recognition/rekognition.h"
#include "services/recognition/schema.h"
#include "services/recognition/testing/fake_analyzers.h"
#include "stratus/v1/recognition.grpc.pb.h"
#endif

namespace {

namespace rec = stratus::recognition;
#ifndef STRATUS_BENCH_INDEX_ONLY
namespace v1 = stratus::v1;
#endif
using Clock = std::chrono::steady_clock;

double RssMb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

struct Data {
  std::vector<float> vectors;   // n x 128
  std::vector<float> queries;   // q x 128
};

// Identities of 5 faces; queries are a 6th face of random indexed identities.
int g_intrinsic_dim = 0;  // 0: identity centres isotropic in 128-d (the hard case)
bool g_float16 = false;
int g_graph_m = 0, g_ef_construction = 0, g_ef_search = 0;  // 0: VectorIndex's defaults

Data Synthetic(int64_t n, int q, uint64_t seed) {
  constexpr int kPer = 5;
  constexpr float kCentre = 0.045f, kNoise = 0.025f;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> centre(0, kCentre), noise(0, kNoise);
  std::vector<float> mean(rec::kDescriptorDim);
  for (float& m : mean) m = centre(rng) * 2;  // descriptors share an offset, like dlib's
  Data d;
  d.vectors.resize(n * rec::kDescriptorDim);
  std::vector<float> c(rec::kDescriptorDim);
  const int64_t identities = (n + kPer - 1) / kPer;
  std::vector<int64_t> query_ids;
  std::uniform_int_distribution<int64_t> pick(0, identities - 1);
  for (int i = 0; i < q; ++i) query_ids.push_back(pick(rng));
  std::sort(query_ids.begin(), query_ids.end());
  size_t next_query = 0;
  d.queries.reserve(size_t(q) * rec::kDescriptorDim);
  // Face-like data: identity centres on an r-dimensional subspace (random basis), same spread.
  const int r = g_intrinsic_dim;
  std::vector<float> basis(size_t(r) * rec::kDescriptorDim);
  std::normal_distribution<float> unit(0, 1);
  for (float& b : basis) b = unit(rng) * kCentre / std::sqrt(float(std::max(r, 1)) / rec::kDescriptorDim);
  std::vector<float> z(r);
  for (int64_t id = 0; id < identities; ++id) {
    if (r == 0) {
      for (int k = 0; k < rec::kDescriptorDim; ++k) c[k] = mean[k] + centre(rng);
    } else {
      for (float& x : z) x = unit(rng) / std::sqrt(float(rec::kDescriptorDim));
      for (int k = 0; k < rec::kDescriptorDim; ++k) {
        float v = mean[k];
        for (int j = 0; j < r; ++j) v += basis[size_t(j) * rec::kDescriptorDim + k] * z[j];
        c[k] = v;
      }
    }
    for (int f = 0; f < kPer && id * kPer + f < n; ++f) {
      float* v = d.vectors.data() + (id * kPer + f) * rec::kDescriptorDim;
      for (int k = 0; k < rec::kDescriptorDim; ++k) v[k] = c[k] + noise(rng);
    }
    while (next_query < query_ids.size() && query_ids[next_query] == id) {
      for (int k = 0; k < rec::kDescriptorDim; ++k) d.queries.push_back(c[k] + noise(rng));
      ++next_query;
    }
  }
  return d;
}

std::vector<int64_t> Sizes(const std::string& text) {
  std::vector<int64_t> out;
  for (absl::string_view s : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int64_t v;
    if (absl::SimpleAtoi(s, &v) && v > 0) out.push_back(v);
  }
  return out;
}

struct Stats {
  double p50, p99, mean;
};
Stats Percentiles(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  double sum = 0;
  for (double m : ms) sum += m;
  auto at = [&](double p) { return ms[std::min(ms.size() - 1, size_t(p * (ms.size() - 1) + 0.5))]; };
  return {at(0.5), at(0.99), sum / ms.size()};
}

void BenchIndex(int64_t n, int queries) {
  std::cout << std::unitbuf << "\n== search over " << n << " synthetic faces (" << queries << " queries) ==\n";
  Data d = Synthetic(n, queries, 42 + n);
  std::vector<int64_t> ids(n);
  for (int64_t i = 0; i < n; ++i) ids[i] = i + 1;
  malloc_trim(0);
  const double before = RssMb();
  rec::VectorIndex::Options options;
  options.float16 = g_float16;
  if (g_graph_m > 0) options.graph_m = g_graph_m;
  if (g_ef_construction > 0) options.ef_construction = g_ef_construction;
  if (g_ef_search > 0) options.ef_search = g_ef_search;
  rec::VectorIndex index(options);
  auto t0 = Clock::now();
  index.Build(ids, d.vectors);
  const double build_s = std::chrono::duration<double>(Clock::now() - t0).count();
  malloc_trim(0);
  const double index_mb = RssMb() - before;
  std::cout << "index " << index.Description() << ": built in " << build_s << " s, RSS +"
            << index_mb << " MB = " << index_mb * 1e6 / n << " MB per million faces\n";

  // Exact answers (all faces within 0.6) from a flat index, for recall.
  const float max_d = rec::MaxDistanceForSimilarity(80);
  std::vector<std::vector<int64_t>> truth(queries);
  {
    faiss::IndexFlatL2 flat(rec::kDescriptorDim);
    flat.add(n, d.vectors.data());
    const int k = 64;
    std::vector<float> dist(size_t(queries) * k);
    std::vector<faiss::Index::idx_t> lab(size_t(queries) * k);
    flat.search(queries, d.queries.data(), k, dist.data(), lab.data());
    for (int q = 0; q < queries; ++q) {
      for (int j = 0; j < k; ++j) {
        if (lab[q * k + j] >= 0 && dist[q * k + j] <= max_d * max_d) truth[q].push_back(lab[q * k + j] + 1);
      }
    }
  }
  d.vectors = {};
  malloc_trim(0);
  const bool flat = index.Description() == "flat";
  std::vector<int> efs = {0};
  if (!flat) efs = {0, 32, 64, 256};
  // Recall of the exact answer among ids not removed; removed ids must never come back.
  absl::flat_hash_set<int64_t> removed;
  auto measure = [&](const std::string& label) {
    std::vector<double> ms;
    int64_t found = 0, expected = 0, matches = 0, resurrected = 0;
    for (int q = 0; q < queries; ++q) {
      absl::Span<const float> query(d.queries.data() + q * rec::kDescriptorDim, rec::kDescriptorDim);
      auto s = Clock::now();
      auto hits = index.Search(query, 4096, max_d);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
      matches += hits.size();
      for (const auto& h : hits) resurrected += removed.contains(h.id);
      for (int64_t t : truth[q]) {
        if (removed.contains(t)) continue;
        ++expected;
        for (const auto& h : hits) {
          if (h.id == t) {
            ++found;
            break;
          }
        }
      }
    }
    Stats st = Percentiles(ms);
    std::cout << "  " << label << ": p50 " << st.p50 << " ms, p99 " << st.p99 << " ms, mean "
              << st.mean << " ms; recall " << (expected ? 100.0 * found / expected : 100.0)
              << "% (" << found << "/" << expected << "), " << double(matches) / queries
              << " matches per query";
    if (!removed.empty()) std::cout << ", " << resurrected << " removed faces returned";
    std::cout << "\n";
  };
  for (int ef : efs) {
    if (ef > 0) index.SetEfSearch(ef);
    measure(flat ? "exact" : ef > 0 ? "efSearch " + std::to_string(ef)
                                    : "default (" + index.Description() + ")");
  }
  if (!flat) {
    index.SetEfSearch(options.ef_search);
    // Deletes: every 10th face, one call per 1000 (tombstones stay in the graph up to
    // max_deleted_fraction).
    std::vector<int64_t> gone;
    for (int64_t id = 1; id <= n; id += 10) gone.push_back(id);
    auto t1 = Clock::now();
    for (size_t i = 0; i < gone.size(); i += 1000) {
      index.Remove(absl::MakeConstSpan(gone).subspan(i, std::min<size_t>(1000, gone.size() - i)));
    }
    removed.insert(gone.begin(), gone.end());
    std::cout << "  removed " << gone.size() << " faces in "
              << std::chrono::duration<double, std::milli>(Clock::now() - t1).count() << " ms\n";
    measure("after removing 10% (" + index.Description() + ")");
  }
}

#ifndef STRATUS_BENCH_INDEX_ONLY
void BenchStore(const std::vector<int64_t>& sizes, int queries, int index_faces) {
  const std::string dir = std::filesystem::temp_directory_path() /
                          ("stratus-bench-recognition-" + std::to_string(getpid()));
  auto pg = stratus::EmbeddedPostgres::Start({.data_dir = dir + "/pg"});
  if (!pg.ok()) {
    std::cout << "store benchmark skipped: " << pg.status() << "\n";
    return;
  }
  auto db = stratus::Database::Create({.url = (*pg)->url(), .pool_size = 4});
  if (!db.ok() || !(*db)->Migrate("recognition", rec::Migrations()).ok()) return;
  rec::FaceStore::Options so;
  so.db = db->get();
  so.listen = false;
  auto store = rec::FaceStore::Create(so);
  if (!store.ok() || !(*store)->Start().ok()) return;
  for (int64_t n : sizes) {
    std::cout << "\n== FaceStore (PostgreSQL + index) with " << n << " faces ==\n";
    const std::string cid = "bench" + std::to_string(n);
    if (!(*store)->CreateCollection(cid, "bench", {}).ok()) return;
    Data d = Synthetic(n, queries, 7 + n);
    auto t0 = Clock::now();
    constexpr int kBatch = 1000;
    for (int64_t start = 0; start < n; start += kBatch) {
      std::vector<rec::NewFace> batch;
      for (int64_t i = start; i < std::min<int64_t>(n, start + kBatch); ++i) {
        rec::NewFace f;
        f.box.set_width(0.2f);
        f.box.set_height(0.2f);
        f.confidence = 99;
        f.descriptor.assign(d.vectors.begin() + i * rec::kDescriptorDim,
                            d.vectors.begin() + (i + 1) * rec::kDescriptorDim);
        batch.push_back(std::move(f));
      }
      auto r = (*store)->AddFaces(cid, batch, "", "bench");
      if (!r.ok()) {
        std::cout << "AddFaces failed: " << r.status() << "\n";
        return;
      }
    }
    const double add_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::cout << "bulk AddFaces (1000 per call): " << n / add_s << " faces/s\n";
    std::vector<double> ms;
    int64_t matches = 0;
    for (int q = 0; q < queries; ++q) {
      std::vector<float> query(d.queries.begin() + q * rec::kDescriptorDim,
                               d.queries.begin() + (q + 1) * rec::kDescriptorDim);
      auto s = Clock::now();
      auto hits = (*store)->Search(cid, query, 4096, rec::MaxDistanceForSimilarity(80));
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
      if (hits.ok()) matches += hits->size();
    }
    Stats st = Percentiles(ms);
    std::cout << "Search with metadata (" << (*store)->IndexDescription(cid) << "): p50 " << st.p50
              << " ms, p99 " << st.p99 << " ms, " << double(matches) / queries
              << " matches per query\n";
  }
  // IndexFaces through the Recognizer: image check, (fake) analysis, quality filter, insert, add.
  rec::testing::FakeFaceAnalyzer faces;
  rec::Recognizer::Options ro;
  ro.store = store->get();
  ro.faces = &faces;
  auto recognizer = rec::Recognizer::Create(ro);
  if (!(*store)->CreateCollection("bench-index", "bench", {}).ok()) return;
  std::vector<std::string> images;
  for (int i = 0; i < index_faces; ++i) {
    rec::testing::SyntheticFace f;
    f.descriptor = rec::testing::RandomDescriptor(i);
    images.push_back(rec::testing::MakeImage(96, 96, i));
    v1::AnalyzeFacesResponse r;
    *r.add_faces() = rec::testing::MakeFace(f);
    faces.Add(images.back(), r);
  }
  auto t0 = Clock::now();
  std::vector<double> ms;
  for (const auto& img : images) {
    v1::IndexFacesRequest req;
    req.set_collection_id("bench-index");
    req.mutable_image()->set_bytes(img);
    auto s = Clock::now();
    auto r = (*recognizer)->IndexFaces(req);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    if (!r.ok() || r->face_records_size() != 1) {
      std::cout << "IndexFaces failed: " << r.status() << "\n";
      return;
    }
  }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  Stats st = Percentiles(ms);
  std::cout << "\nIndexFaces (one face per image, fake analyzer, one client): " << index_faces / s
            << " calls/s, p50 " << st.p50 << " ms, p99 " << st.p99 << " ms\n";
  store->reset();
  db->reset();
  pg->reset();
  std::filesystem::remove_all(dir);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void BenchGrpc(const std::string& address, const std::string& image, const std::string& target,
               int requests) {
  auto channel = stratus::MakeChannel(address);
  auto stub = v1::RecognitionService::NewStub(channel);
  const std::string a = ReadFile(image), b = ReadFile(target.empty() ? image : target);
  auto run = [&](const char* name, auto call) {
    std::vector<double> ms;
    for (int i = 0; i < requests + 2; ++i) {
      grpc::ClientContext ctx;
      auto s = Clock::now();
      grpc::Status st = call(&ctx);
      const double t = std::chrono::duration<double, std::milli>(Clock::now() - s).count();
      if (!st.ok()) {
        std::cout << name << " failed: " << st.error_message() << "\n";
        return;
      }
      if (i >= 2) ms.push_back(t);  // 2 warm-up calls
    }
    Stats st = Percentiles(ms);
    std::cout << name << " over gRPC (" << requests << " calls): p50 " << st.p50 << " ms, p99 "
              << st.p99 << " ms\n";
  };
  run("DetectFaces", [&](grpc::ClientContext* ctx) {
    v1::DetectFacesRequest r;
    r.mutable_image()->set_bytes(a);
    v1::DetectFacesResponse out;
    grpc::Status s = stub->DetectFaces(ctx, r, &out);
    return s;
  });
  run("CompareFaces", [&](grpc::ClientContext* ctx) {
    v1::CompareFacesRequest r;
    r.mutable_source_image()->set_bytes(a);
    r.mutable_target_image()->set_bytes(b);
    v1::CompareFacesResponse out;
    return stub->CompareFaces(ctx, r, &out);
  });
}

#endif  // STRATUS_BENCH_INDEX_ONLY

}  // namespace

int main(int argc, char** argv) {
  std::string sizes = "10000,100000,1000000", store_sizes = "10000", recognition, image, target;
  int queries = 1000, index_faces = 1000, requests = 50;
  stratus::FlagSet flags("stratus-bench-recognition", "Recognition speed and memory.");
  flags.String("sizes", "", &sizes, "collection sizes for the index search benchmark");
  flags.Int("queries", "", &queries, "queries per size");
  flags.Int("intrinsic-dim", "", &g_intrinsic_dim,
            "identity centres on a subspace of this dimension (face-like); 0: isotropic");
  flags.Bool("float16", "", &g_float16, "float16 vectors in the graph");
  flags.Int("graph-m", "", &g_graph_m, "HNSW links per face (0: the default)");
  flags.Int("ef-construction", "", &g_ef_construction, "HNSW insert breadth (0: the default)");
  flags.Int("ef-search", "", &g_ef_search, "HNSW search breadth (0: the default)");
  flags.String("store-sizes", "", &store_sizes, "sizes for the PostgreSQL-backed benchmark (\"\": skip)");
  flags.Int("index-faces", "", &index_faces, "IndexFaces calls to time (0: skip)");
  flags.String("recognition", "", &recognition, "host:port of a running recognition service");
  flags.String("image", "", &image, "photo for DetectFaces / CompareFaces source");
  flags.String("compare-target", "", &target, "CompareFaces target (default: --image)");
  flags.Int("requests", "", &requests, "gRPC calls per operation");
  if (auto s = flags.Parse(argc, argv); !s.ok() || flags.help_requested()) {
    std::cerr << (s.ok() ? "" : std::string(s.message()) + "\n") << flags.Usage();
    return s.ok() ? 0 : 2;
  }
  for (int64_t n : Sizes(sizes)) BenchIndex(n, queries);
#ifndef STRATUS_BENCH_INDEX_ONLY
  stratus::auth::SetDefaultApiKey(stratus::auth::ApiKeyFromEnvironment());  // for --recognition
  if (!store_sizes.empty() || index_faces > 0) BenchStore(Sizes(store_sizes), std::min(queries, 500), index_faces);
  if (!recognition.empty()) BenchGrpc(recognition, image, target, requests);
#endif
  return 0;
}
