#include "services/recognition/vector_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <thread>

namespace stratus::recognition {
namespace {

// Identities as random centres; each face is its identity's centre plus noise, like dlib
// descriptors (same person ~0.4 apart, different people ~1 apart).
std::vector<float> Faces(int n, int identities, uint64_t seed, std::vector<int>* identity_of) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> centre(0, 0.06f), noise(0, 0.02f);
  std::vector<float> centres(identities * kDescriptorDim);
  for (float& x : centres) x = centre(rng);
  std::vector<float> out(n * kDescriptorDim);
  for (int i = 0; i < n; ++i) {
    const int id = i % identities;
    if (identity_of) identity_of->push_back(id);
    for (int d = 0; d < kDescriptorDim; ++d) {
      out[i * kDescriptorDim + d] = centres[id * kDescriptorDim + d] + noise(rng);
    }
  }
  return out;
}

std::vector<int64_t> Ids(int n, int64_t first = 1) {
  std::vector<int64_t> ids(n);
  for (int i = 0; i < n; ++i) ids[i] = first + i;
  return ids;
}

TEST(VectorIndexTest, FlatSearchIsExactAndThresholded) {
  VectorIndex index({});
  std::vector<float> a(kDescriptorDim, 0.0f), b(kDescriptorDim, 0.0f), c(kDescriptorDim, 0.0f);
  b[0] = 0.5f;
  c[0] = 0.9f;
  std::vector<float> all;
  for (auto* v : {&a, &b, &c}) all.insert(all.end(), v->begin(), v->end());
  index.Add(Ids(3), all);
  EXPECT_EQ(index.size(), 3);
  auto hits = index.Search(a, 10, 0.6f);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].id, 1);
  EXPECT_NEAR(hits[0].distance, 0.0f, 1e-6);
  EXPECT_EQ(hits[1].id, 2);
  EXPECT_NEAR(hits[1].distance, 0.5f, 1e-5);
  EXPECT_EQ(index.Search(a, 1, 10.0f).size(), 1u);

  // Adding an id twice is a no-op; removing twice too.
  index.Add(Ids(1), a);
  EXPECT_EQ(index.size(), 3);
  const int64_t two = 2;
  index.Remove({&two, 1});
  index.Remove({&two, 1});
  EXPECT_EQ(index.size(), 2);
  EXPECT_FALSE(index.Contains(2));
  hits = index.Search(a, 10, 10.0f);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[1].id, 3);
  EXPECT_EQ(index.Description(), "flat");
}

// A change notification read before a delete committed may arrive after it: the late Add of a
// removed id, or a Build from a snapshot that still holds it, must not bring the face back.
TEST(VectorIndexTest, RemovedIdsStayRemoved) {
  VectorIndex index({});
  const std::vector<float> all = Faces(3, 3, 5, nullptr);
  index.Add(Ids(3), all);
  const int64_t two = 2;
  index.Remove({&two, 1});
  index.Add(Ids(3), all);
  EXPECT_EQ(index.size(), 2);
  EXPECT_FALSE(index.Contains(2));
  index.Build(Ids(3), all);
  EXPECT_EQ(index.size(), 2);
  EXPECT_FALSE(index.Contains(2));
  // A remove that comes first (its notification overtook the add) holds too.
  const int64_t four = 4;
  index.Remove({&four, 1});
  index.Add(Ids(2, 3), Faces(2, 2, 6, nullptr));
  EXPECT_TRUE(index.Contains(3));
  EXPECT_FALSE(index.Contains(4));
}

TEST(VectorIndexTest, EmptyIndexFindsNothing) {
  VectorIndex index({});
  std::vector<float> q(kDescriptorDim, 0.1f);
  EXPECT_TRUE(index.Search(q, 5, 10.0f).empty());
}

TEST(VectorIndexTest, BecomesGraphAndKeepsFindingSamePerson) {
  VectorIndex::Options options;
  options.graph_threshold = 4000;
  options.ef_construction = 64;
  options.background_build = false;
  VectorIndex index(options);
  std::vector<int> identity;
  const int n = 6000, identities = 2000;
  auto faces = Faces(n, identities, 1, &identity);
  for (int start = 0; start < n; start += 500) {
    index.Add(absl::MakeConstSpan(Ids(500, start + 1)),
              absl::MakeConstSpan(faces).subspan(start * kDescriptorDim, 500 * kDescriptorDim));
  }
  EXPECT_EQ(index.size(), n);
  EXPECT_THAT(index.Description(), testing::StartsWith("hnsw16,float32"));
  // Every face finds the two other faces of its identity, within 0.6.
  int found = 0, expected = 0;
  for (int i = 0; i < 300; ++i) {
    auto hits = index.Search(absl::MakeConstSpan(faces).subspan(i * kDescriptorDim, kDescriptorDim),
                             100, 0.6f);
    for (const auto& h : hits) {
      EXPECT_EQ(identity[h.id - 1], identity[i]) << "distance " << h.distance;
      ++found;
    }
    expected += 3;
  }
  EXPECT_GE(found, expected * 0.98);
  // Removal works on the graph too: the face is not found, its identity's others still are.
  const int64_t first = 1;
  index.Remove({&first, 1});
  EXPECT_EQ(index.size(), n - 1);
  EXPECT_FALSE(index.Contains(1));
  auto hits = index.Search(absl::MakeConstSpan(faces).subspan(0, kDescriptorDim), 100, 0.6f);
  EXPECT_EQ(hits.size(), 2u);
  for (const auto& h : hits) EXPECT_NE(h.id, 1);
  // Ids are never reused: re-adding a removed one is ignored, a new id for the same face works.
  index.Add({&first, 1}, absl::MakeConstSpan(faces).subspan(0, kDescriptorDim));
  EXPECT_FALSE(index.Contains(1));
  const int64_t again = n + 1;
  index.Add({&again, 1}, absl::MakeConstSpan(faces).subspan(0, kDescriptorDim));
  hits = index.Search(absl::MakeConstSpan(faces).subspan(0, kDescriptorDim), 1, 0.01f);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].id, again);
}

TEST(VectorIndexTest, GraphSearchWidensPastItsFirstBreadth) {
  // 600 faces around one point, all matches: more than ef_search (and the first breadth of
  // 32) at once. The graph is approximate: nearly all are found.
  VectorIndex::Options options;
  options.graph_threshold = 500;
  options.ef_search = 40;
  options.ef_construction = 64;
  options.background_build = false;
  VectorIndex index(options);
  std::mt19937_64 rng(3);
  std::normal_distribution<float> noise(0, 0.02f);
  std::vector<float> faces(600 * kDescriptorDim);
  for (float& x : faces) x = 0.1f + noise(rng);
  index.Add(Ids(600), faces);
  EXPECT_THAT(index.Description(), testing::StartsWith("hnsw"));
  std::vector<float> q(kDescriptorDim, 0.1f);
  EXPECT_GE(index.Search(q, 1000, 0.6f).size(), 590u);
  EXPECT_EQ(index.Search(q, 100, 0.6f).size(), 100u);
  auto hits = index.Search(q, 1000, 0.6f);
  EXPECT_TRUE(std::is_sorted(hits.begin(), hits.end(), [](const Neighbor& a, const Neighbor& b) {
    return a.distance < b.distance;
  }));
}

TEST(VectorIndexTest, TombstonesAreDroppedByARebuild) {
  VectorIndex::Options options;
  options.graph_threshold = 1000;
  options.max_deleted_fraction = 0.25;
  options.ef_construction = 64;
  options.background_build = false;
  VectorIndex index(options);
  auto faces = Faces(2000, 2000, 4, nullptr);
  index.Add(Ids(2000), faces);
  std::vector<int64_t> gone;
  for (int64_t id = 1; id <= 400; ++id) gone.push_back(id);
  index.Remove(gone);  // 20%: tombstones
  EXPECT_THAT(index.Description(), testing::HasSubstr("deleted400"));
  gone.clear();
  for (int64_t id = 401; id <= 600; ++id) gone.push_back(id);
  index.Remove(gone);  // 30%: rebuilt without them
  EXPECT_THAT(index.Description(), testing::Not(testing::HasSubstr("deleted")));
  EXPECT_EQ(index.size(), 1400);
  auto span = absl::MakeConstSpan(faces);
  for (int i : {0, 599, 600, 1999}) {
    auto hits = index.Search(span.subspan(i * kDescriptorDim, kDescriptorDim), 1, 0.01f);
    if (i < 600) {
      EXPECT_TRUE(hits.empty()) << i;
    } else {
      ASSERT_EQ(hits.size(), 1u) << i;
      EXPECT_EQ(hits[0].id, i + 1);
    }
  }
}

TEST(VectorIndexTest, Float16GraphKeepsDistances) {
  VectorIndex::Options options;
  options.graph_threshold = 100;
  options.float16 = true;
  options.background_build = false;
  VectorIndex index(options);
  auto faces = Faces(300, 100, 5, nullptr);
  index.Add(Ids(300), faces);
  EXPECT_THAT(index.Description(), testing::StartsWith("hnsw16,float16"));
  VectorIndex exact({});
  exact.Add(Ids(300), faces);
  auto span = absl::MakeConstSpan(faces);
  for (int i = 0; i < 50; ++i) {
    auto q = span.subspan(i * kDescriptorDim, kDescriptorDim);
    auto a = index.Search(q, 5, 0.6f), b = exact.Search(q, 5, 0.6f);
    ASSERT_EQ(a.size(), b.size()) << i;
    for (const Neighbor& e : b) {  // the same faces (near ties may swap places)
      auto it = std::find_if(a.begin(), a.end(), [&](const Neighbor& n) { return n.id == e.id; });
      ASSERT_NE(it, a.end()) << i << " misses " << e.id;
      EXPECT_NEAR(it->distance, e.distance, 2e-3);
    }
  }
}

TEST(VectorIndexTest, BackgroundRebuildKeepsConcurrentWrites) {
  VectorIndex::Options options;
  options.graph_threshold = 2000;
  options.ef_construction = 64;
  VectorIndex index(options);
  auto faces = Faces(4000, 4000, 2, nullptr);
  auto span = absl::MakeConstSpan(faces);
  index.Add(absl::MakeConstSpan(Ids(2000)),
            span.subspan(0, 2000 * kDescriptorDim));  // starts a build
  // Writes during the build: more adds and a removal.
  for (int start = 2000; start < 4000; start += 250) {
    index.Add(absl::MakeConstSpan(Ids(250, start + 1)),
              span.subspan(start * kDescriptorDim, 250 * kDescriptorDim));
  }
  const int64_t gone = 5;
  index.Remove({&gone, 1});
  index.WaitForBuild();
  EXPECT_EQ(index.size(), 3999);
  for (int i : {0, 1999, 2000, 3999}) {
    auto hits = index.Search(span.subspan(i * kDescriptorDim, kDescriptorDim), 1, 0.01f);
    ASSERT_EQ(hits.size(), 1u) << i;
    EXPECT_EQ(hits[0].id, i + 1);
  }
  EXPECT_TRUE(index.Search(span.subspan(4 * kDescriptorDim, kDescriptorDim), 1, 0.01f).empty());
}

}  // namespace
}  // namespace stratus::recognition
