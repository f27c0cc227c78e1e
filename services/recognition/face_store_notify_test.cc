#include "services/recognition/face_store_notify.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>

namespace stratus::recognition {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

TEST(FaceStoreNotifyTest, CollectionChangesRoundTrip) {
  EXPECT_EQ(CollectionCreatedPayload(7, "pets"), "C 7 pets");
  EXPECT_EQ(CollectionDeletedPayload(8, "pets"), "D 8 pets");
  auto created = ParseFaceStoreChange("C 7 pets");
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(created->kind, FaceStoreChange::kCollectionCreated);
  EXPECT_EQ(created->generation, 7);
  EXPECT_EQ(created->collection, "pets");
  auto deleted = ParseFaceStoreChange(CollectionDeletedPayload(8, "pets"));
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->kind, FaceStoreChange::kCollectionDeleted);
  EXPECT_EQ(deleted->generation, 8);
}

TEST(FaceStoreNotifyTest, SeqListsAreSplitToFitAPayload) {
  EXPECT_THAT(FacesAddedPayloads({}), IsEmpty());
  EXPECT_THAT(FacesAddedPayloads({1, 2, 3}), ElementsAre("A 1,2,3"));
  std::vector<int64_t> many(kSeqsPerNotification * 2 + 1);
  std::iota(many.begin(), many.end(), 1);
  std::vector<std::string> removed = FacesRemovedPayloads(3, "c", many);
  ASSERT_THAT(removed, SizeIs(3));
  std::vector<int64_t> seen;
  for (const std::string& payload : removed) {
    EXPECT_LT(payload.size(), 8000u);
    auto change = ParseFaceStoreChange(payload);
    ASSERT_TRUE(change.has_value()) << payload;
    EXPECT_EQ(change->kind, FaceStoreChange::kFacesRemoved);
    EXPECT_EQ(change->generation, 3);
    EXPECT_EQ(change->collection, "c");
    seen.insert(seen.end(), change->seqs.begin(), change->seqs.end());
  }
  EXPECT_EQ(seen, many);
}

TEST(FaceStoreNotifyTest, AddedSeqsSkipWhatDoesNotParse) {
  auto added = ParseFaceStoreChange("A 4,x,,5");
  ASSERT_TRUE(added.has_value());
  EXPECT_EQ(added->kind, FaceStoreChange::kFacesAdded);
  EXPECT_THAT(added->seqs, ElementsAre(4, 5));
}

TEST(FaceStoreNotifyTest, RemovalWithoutSeqsRemovesNothing) {
  auto removed = ParseFaceStoreChange("R 2 c");
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(removed->kind, FaceStoreChange::kFacesRemoved);
  EXPECT_THAT(removed->seqs, IsEmpty());
}

TEST(FaceStoreNotifyTest, UnknownPayloadsAreRefused) {
  for (const char* payload : {"", "X 1 c", "C x c", "C 1", "A", "A 1 2", "a 1"}) {
    EXPECT_FALSE(ParseFaceStoreChange(payload).has_value()) << payload;
  }
}

}  // namespace
}  // namespace stratus::recognition
