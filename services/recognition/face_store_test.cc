#include "services/recognition/face_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/aws/aws_error.h"
#include "common/testing/postgres_suite.h"
#include "services/recognition/schema.h"
#include "services/recognition/testing/fake_analyzers.h"

namespace stratus::recognition {
namespace {

using testing::DescriptorAtDistance;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::RandomDescriptor;
using ::testing::SizeIs;
namespace v1 = ::stratus::v1;

class FaceStoreTest : public testing_util::PostgresSuite {
 protected:
  void SetUp() override {
    db_ = Connect({.pool_size = 4});
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(db_->Migrate("recognition", Migrations()).ok());
    ASSERT_TRUE(db_->Transact([](pqxx::work& tx) {
                     tx.exec("DELETE FROM recognition_collections");
                     return absl::OkStatus();
                   })
                    .ok());
  }
  std::unique_ptr<FaceStore> NewStore(Database* db = nullptr) {
    FaceStore::Options o;
    o.db = db ? db : db_.get();
    o.reconnect_delay = std::chrono::milliseconds(100);
    auto store = FaceStore::Create(o);
    EXPECT_TRUE(store.ok());
    EXPECT_TRUE((*store)->Start().ok());
    EXPECT_TRUE((*store)->WaitUntilSynced(absl::Seconds(20)).ok());
    return std::move(*store);
  }
  static NewFace Face(const std::vector<float>& d, float left = 0.1f) {
    NewFace f;
    f.box.set_left(left);
    f.box.set_top(0.2f);
    f.box.set_width(0.3f);
    f.box.set_height(0.4f);
    f.confidence = 99.5f;
    f.descriptor = d;
    return f;
  }

  std::unique_ptr<Database> db_;
};

TEST_F(FaceStoreTest, CollectionsCreateListDescribeDelete) {
  auto store = NewStore();
  auto a = store->CreateCollection("alpha", "stratus-face-1", {{"team", "x"}});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_GT(a->generation, 0);
  EXPECT_EQ(store->CreateCollection("alpha", "v", {}).status().code(),
            absl::StatusCode::kAlreadyExists);
  for (const char* id : {"beta", "gamma", "Delta"})
    ASSERT_TRUE(store->CreateCollection(id, "v", {}).ok());
  bool more = false;
  auto page = store->ListCollections("", 2, &more);
  ASSERT_TRUE(page.ok());
  ASSERT_THAT(*page, SizeIs(2));
  EXPECT_EQ((*page)[0].collection_id, "Delta");  // byte order: upper case first
  EXPECT_EQ((*page)[1].collection_id, "alpha");
  EXPECT_TRUE(more);
  page = store->ListCollections((*page)[1].collection_id, 2, &more);
  ASSERT_THAT(*page, SizeIs(2));
  EXPECT_EQ((*page)[1].collection_id, "gamma");
  EXPECT_FALSE(more);

  auto described = store->DescribeCollection("alpha");
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(described->face_count, 0);
  EXPECT_EQ(described->face_model_version, "stratus-face-1");
  EXPECT_LT(absl::Now() - described->created, absl::Minutes(1));
  EXPECT_EQ(store->DescribeCollection("nope").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store->DeleteCollection("alpha").ok());
  EXPECT_EQ(store->DeleteCollection("alpha").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->IndexedFaces("alpha"), -1);
}

TEST_F(FaceStoreTest, IndexSearchListDelete) {
  auto store = NewStore();
  ASSERT_TRUE(store->CreateCollection("people", "v1", {}).ok());
  const auto alice = RandomDescriptor(1), bob = RandomDescriptor(2);
  auto added = store->AddFaces("people", {Face(alice), Face(bob, 0.5f)}, "group.jpg", "v1");
  ASSERT_TRUE(added.ok()) << added.status();
  ASSERT_THAT(*added, SizeIs(2));
  EXPECT_EQ((*added)[0].image_id(), (*added)[1].image_id());
  EXPECT_NE((*added)[0].face_id(), (*added)[1].face_id());
  EXPECT_EQ((*added)[1].external_image_id(), "group.jpg");
  EXPECT_FLOAT_EQ((*added)[1].bounding_box().left(), 0.5f);
  EXPECT_EQ(store->AddFaces("nope", {Face(alice)}, "", "v1").status().code(),
            absl::StatusCode::kNotFound);

  // Alice again, 0.3 away: found, nearest first, with its distance.
  auto hits = store->Search("people", DescriptorAtDistance(alice, 0.3f, 9), 10, 0.6f);
  ASSERT_TRUE(hits.ok()) << hits.status();
  ASSERT_THAT(*hits, SizeIs(1));
  EXPECT_EQ((*hits)[0].face.face_id(), (*added)[0].face_id());
  EXPECT_NEAR((*hits)[0].distance, 0.3f, 1e-4);
  // A stranger: nothing within 0.6.
  hits = store->Search("people", RandomDescriptor(3), 10, 0.6f);
  ASSERT_TRUE(hits.ok());
  EXPECT_THAT(*hits, IsEmpty());
  EXPECT_EQ(store->Search("nope", alice, 10, 0.6f).status().code(), absl::StatusCode::kNotFound);
  // Excluding the face itself (SearchFaces).
  hits = store->Search("people", alice, 10, 0.6f, (*added)[0].face_id());
  ASSERT_TRUE(hits.ok());
  EXPECT_THAT(*hits, IsEmpty());

  auto d = store->GetDescriptor("people", (*added)[1].face_id());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, bob);
  EXPECT_EQ(store->GetDescriptor("people", "not-a-uuid").status().code(),
            absl::StatusCode::kNotFound);

  // 5 more faces; list 3 per page in face_id order.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store->AddFaces("people", {Face(RandomDescriptor(10 + i))}, "", "v1").ok());
  }
  std::vector<std::string> listed;
  std::string after;
  bool more = true;
  int pages = 0;
  while (more) {
    auto page = store->ListFaces("people", after, 3, {}, &more);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& f : *page) listed.push_back(f.face_id());
    after = listed.back();
    ++pages;
  }
  EXPECT_EQ(pages, 3);
  ASSERT_THAT(listed, SizeIs(7));
  EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end()));
  auto only = store->ListFaces("people", "", 10, {(*added)[1].face_id(), "bad"}, &more);
  ASSERT_TRUE(only.ok());
  ASSERT_THAT(*only, SizeIs(1));
  EXPECT_EQ((*only)[0].face_id(), (*added)[1].face_id());

  auto deleted =
      store->DeleteFaces("people", {(*added)[0].face_id(), "0b0e7c1e-0000-4000-8000-000000000000"});
  ASSERT_TRUE(deleted.ok());
  EXPECT_THAT(*deleted, ElementsAre((*added)[0].face_id()));
  hits = store->Search("people", alice, 10, 0.6f);
  ASSERT_TRUE(hits.ok());
  EXPECT_THAT(*hits, IsEmpty());
  EXPECT_EQ(store->DescribeCollection("people")->face_count, 6);
  EXPECT_EQ(store->IndexedFaces("people"), 6);
}

TEST_F(FaceStoreTest, ReplicasStayInStepAndRestartsReload) {
  auto db2 = Database::Create({.url = postgres().url(), .pool_size = 2});
  ASSERT_TRUE(db2.ok());
  auto a = NewStore();
  auto b = NewStore(db2->get());
  ASSERT_TRUE(a->CreateCollection("shared", "v1", {}).ok());
  const auto carol = RandomDescriptor(42);
  auto added = a->AddFaces("shared", {Face(carol)}, "carol", "v1");
  ASSERT_TRUE(added.ok());
  // B learns it through NOTIFY (and would load the collection on demand anyway).
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (b->IndexedFaces("shared") != 1 && absl::Now() < deadline)
    absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(b->IndexedFaces("shared"), 1);
  auto hits = b->Search("shared", DescriptorAtDistance(carol, 0.2f, 1), 5, 0.6f);
  ASSERT_TRUE(hits.ok());
  ASSERT_THAT(*hits, SizeIs(1));
  EXPECT_EQ((*hits)[0].face.face_id(), (*added)[0].face_id());

  // A deletion on B reaches A.
  ASSERT_TRUE(b->DeleteFaces("shared", {(*added)[0].face_id()}).ok());
  while (a->IndexedFaces("shared") != 0 && absl::Now() < deadline)
    absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(a->IndexedFaces("shared"), 0);

  // Delete and re-create on A: B ends with the new, empty generation plus the new face.
  ASSERT_TRUE(a->AddFaces("shared", {Face(RandomDescriptor(43))}, "", "v1").ok());
  ASSERT_TRUE(a->DeleteCollection("shared").ok());
  ASSERT_TRUE(a->CreateCollection("shared", "v1", {}).ok());
  ASSERT_TRUE(a->AddFaces("shared", {Face(carol)}, "", "v1").ok());
  absl::SleepFor(absl::Milliseconds(300));
  while (b->IndexedFaces("shared") != 1 && absl::Now() < deadline)
    absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(b->IndexedFaces("shared"), 1);
  EXPECT_EQ(a->IndexedFaces("shared"), 1);

  // A fresh replica loads everything from PostgreSQL.
  b.reset();
  auto c = NewStore(db2->get());
  EXPECT_EQ(c->IndexedFaces("shared"), 1);
  hits = c->Search("shared", carol, 5, 0.6f);
  ASSERT_TRUE(hits.ok());
  EXPECT_THAT(*hits, SizeIs(1));
}

TEST_F(FaceStoreTest, ListenerResyncsAfterDatabaseRestart) {
  auto a = NewStore();
  ASSERT_TRUE(a->CreateCollection("resync", "v1", {}).ok());
  ASSERT_TRUE(postgres().Restart().ok());
  // A second writer adds a face while A's listener reconnects; A must end up with it.
  auto db2 = Database::Create({.url = postgres().url(), .pool_size = 1});
  auto b = NewStore(db2->get());
  ASSERT_TRUE(b->AddFaces("resync", {Face(RandomDescriptor(5))}, "", "v1").ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (a->IndexedFaces("resync") != 1 && absl::Now() < deadline)
    absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(a->IndexedFaces("resync"), 1);
}

// Users: created, associated, searched and deleted on one replica, seen at once by another
// (PostgreSQL is where users live), with Rekognition's rules and idempotency tokens.
TEST_F(FaceStoreTest, UsersAreDurableAndSharedAcrossReplicas) {
  auto db2 = Database::Create({.url = postgres().url(), .pool_size = 2});
  ASSERT_TRUE(db2.ok());
  auto a = NewStore();
  auto b = NewStore(db2->get());
  auto similarity = [](float d) { return 100.0f * std::max(0.0f, 1.0f - d / 2); };
  ASSERT_TRUE(a->CreateCollection("team", "v1", {}).ok());
  const auto ann = RandomDescriptor(101), ben = RandomDescriptor(102);
  auto faces = a->AddFaces("team",
                           {Face(ann), Face(DescriptorAtDistance(ann, 0.2f, 1)),
                            Face(DescriptorAtDistance(ann, 0.3f, 2)), Face(ben)},
                           "", "v1");
  ASSERT_TRUE(faces.ok()) << faces.status();
  auto id = [&](int i) { return (*faces)[i].face_id(); };

  ASSERT_TRUE(a->CreateUser("team", "ann", {"CreateUser", "tok-1", "ann"}).ok());
  // The same token and request again: the first answer, not ConflictException.
  EXPECT_TRUE(b->CreateUser("team", "ann", {"CreateUser", "tok-1", "ann"}).ok());
  auto conflict = b->CreateUser("team", "ann", {});
  EXPECT_TRUE(aws::IsAwsError(conflict, "ConflictException")) << conflict;
  auto mismatch = a->CreateUser("team", "other", {"CreateUser", "tok-1", "other"});
  EXPECT_TRUE(aws::IsAwsError(mismatch, "IdempotentParameterMismatchException")) << mismatch;
  EXPECT_EQ(a->CreateUser("nope", "ann", {}).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(b->CreateUser("team", "ben", {}).ok());

  // Into an empty user every face found goes; later ones must look like the user's faces.
  auto assoc = a->AssociateFaces("team", "ann", {id(0), "0b0e7c1e-0000-4000-8000-000000000000"}, 75,
                                 similarity, {});
  ASSERT_TRUE(assoc.ok()) << assoc.status();
  ASSERT_THAT(assoc->associated_faces(), SizeIs(1));
  EXPECT_EQ(assoc->associated_faces(0).face_id(), id(0));
  ASSERT_THAT(assoc->unsuccessful_face_associations(), SizeIs(1));
  EXPECT_EQ(assoc->unsuccessful_face_associations(0).reasons(0),
            v1::UnsuccessfulFaceAssociation::FACE_NOT_FOUND);
  EXPECT_EQ(assoc->user_status(), v1::UserStatus::ACTIVE);
  const RequestToken t2{"AssociateFaces", "tok-2", "ann+1,2,3"};
  assoc = b->AssociateFaces("team", "ann", {id(1), id(2), id(3), id(0)}, 75, similarity, t2);
  ASSERT_TRUE(assoc.ok()) << assoc.status();
  ASSERT_THAT(assoc->associated_faces(), SizeIs(2));  // id(0) is already ann's: in neither list
  ASSERT_THAT(assoc->unsuccessful_face_associations(), SizeIs(1));
  const auto& low = assoc->unsuccessful_face_associations(0);
  EXPECT_EQ(low.face_id(), id(3));
  EXPECT_EQ(low.reasons(0), v1::UnsuccessfulFaceAssociation::LOW_MATCH_CONFIDENCE);
  EXPECT_TRUE(low.has_confidence());
  EXPECT_LT(low.confidence(), 75);
  // Replayed: the same answer although the faces are now ann's.
  auto replay = a->AssociateFaces("team", "ann", {id(1), id(2), id(3), id(0)}, 75, similarity, t2);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->SerializeAsString(), assoc->SerializeAsString());
  // Ben's first face; ann's face cannot go to ben.
  assoc = a->AssociateFaces("team", "ben", {id(3), id(1)}, 75, similarity, {});
  ASSERT_TRUE(assoc.ok());
  ASSERT_THAT(assoc->associated_faces(), SizeIs(1));
  EXPECT_EQ(assoc->unsuccessful_face_associations(0).user_id(), "ann");
  EXPECT_EQ(assoc->unsuccessful_face_associations(0).reasons(0),
            v1::UnsuccessfulFaceAssociation::ASSOCIATED_TO_A_DIFFERENT_USER);
  EXPECT_EQ(a->AssociateFaces("team", "nobody", {id(3)}, 75, similarity, {}).status().code(),
            absl::StatusCode::kNotFound);

  // B sees users, counts and face owners.
  bool more = false;
  auto users = b->ListUsers("team", "", 1, &more);
  ASSERT_TRUE(users.ok());
  ASSERT_THAT(*users, SizeIs(1));
  EXPECT_EQ((*users)[0].user_id, "ann");
  EXPECT_EQ((*users)[0].face_count, 3);
  EXPECT_TRUE(more);
  users = b->ListUsers("team", "ann", 10, &more);
  ASSERT_THAT(*users, SizeIs(1));
  EXPECT_EQ((*users)[0].user_id, "ben");
  EXPECT_FALSE(more);
  EXPECT_EQ(b->DescribeCollection("team")->user_count, 2);
  auto of_ann = b->ListFaces("team", "", 10, {}, &more, "ann");
  ASSERT_TRUE(of_ann.ok());
  ASSERT_THAT(*of_ann, SizeIs(3));
  for (const auto& f : *of_ann) EXPECT_EQ(f.user_id(), "ann");

  // Search by face: ann's faces aggregate to one match, the nearest one; ben is too far.
  auto found = b->SearchUsers("team", {DescriptorAtDistance(ann, 0.1f, 7)}, 10, 0.6f);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_THAT(*found, SizeIs(1));
  EXPECT_EQ((*found)[0].user_id, "ann");
  EXPECT_LE((*found)[0].distance, 0.1f + 1e-4);
  found = b->SearchUsers("team", {ann}, 10, 0.6f, "ann");
  ASSERT_TRUE(found.ok());
  EXPECT_THAT(*found, IsEmpty());
  auto descriptors = b->UserDescriptors("team", "ann");
  ASSERT_TRUE(descriptors.ok());
  EXPECT_THAT(*descriptors, SizeIs(3));

  // A face of a user cannot be deleted; disassociated, it can.
  std::vector<std::pair<std::string, std::string>> associated;
  auto deleted = a->DeleteFaces("team", {id(3)}, &associated);
  ASSERT_TRUE(deleted.ok());
  EXPECT_THAT(*deleted, IsEmpty());
  ASSERT_THAT(associated, SizeIs(1));
  EXPECT_EQ(associated[0].second, "ben");
  auto dis = b->DisassociateFaces("team", "ben", {id(3), id(0)}, {});
  ASSERT_TRUE(dis.ok()) << dis.status();
  ASSERT_THAT(dis->disassociated_faces(), SizeIs(1));
  EXPECT_EQ(dis->unsuccessful_face_disassociations(0).reasons(0),
            v1::UnsuccessfulFaceDisassociation::ASSOCIATED_TO_A_DIFFERENT_USER);
  EXPECT_EQ(dis->user_status(), v1::UserStatus::CREATED);
  deleted = a->DeleteFaces("team", {id(3)});
  ASSERT_TRUE(deleted.ok());
  EXPECT_THAT(*deleted, SizeIs(1));

  // Deleting a user keeps its faces; a fresh replica reads what is left.
  ASSERT_TRUE(a->DeleteUser("team", "ann", {"DeleteUser", "tok-3", "ann"}).ok());
  EXPECT_TRUE(a->DeleteUser("team", "ann", {"DeleteUser", "tok-3", "ann"}).ok());  // replay
  EXPECT_EQ(a->DeleteUser("team", "ann", {}).code(), absl::StatusCode::kNotFound);
  b.reset();
  auto c = NewStore(db2->get());
  EXPECT_EQ(c->DescribeCollection("team")->user_count, 1);
  EXPECT_EQ(c->DescribeCollection("team")->face_count, 3);
  of_ann = c->ListFaces("team", "", 10, {}, &more);
  ASSERT_TRUE(of_ann.ok());
  for (const auto& f : *of_ann) EXPECT_EQ(f.user_id(), "");
  found = c->SearchUsers("team", {ann}, 10, 0.6f);
  ASSERT_TRUE(found.ok());
  EXPECT_THAT(*found, IsEmpty());
  // The collection takes its users and tokens with it.
  ASSERT_TRUE(c->DeleteCollection("team").ok());
  ASSERT_TRUE(c->CreateCollection("team", "v1", {}).ok());
  EXPECT_EQ(c->DescribeCollection("team")->user_count, 0);
  EXPECT_TRUE(c->CreateUser("team", "ann", {"CreateUser", "tok-1", "other"}).ok());
}

TEST_F(FaceStoreTest, AUserHoldsAtMostMaxFacesPerUser) {
  FaceStore::Options o;
  o.db = db_.get();
  o.listen = false;
  o.max_faces_per_user = 3;
  auto store = FaceStore::Create(o);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Start().ok());
  ASSERT_TRUE((*store)->CreateCollection("quota", "v1", {}).ok());
  ASSERT_TRUE((*store)->CreateUser("quota", "u", {}).ok());
  const auto d = RandomDescriptor(7);
  std::vector<NewFace> many;
  for (int i = 0; i < 5; ++i) many.push_back(Face(DescriptorAtDistance(d, 0.1f, i)));
  auto faces = (*store)->AddFaces("quota", many, "", "v1");
  ASSERT_TRUE(faces.ok());
  std::vector<std::string> ids;
  for (const auto& f : *faces) ids.push_back(f.face_id());
  auto same = [](float) { return 100.0f; };
  auto r = (*store)->AssociateFaces("quota", "u", ids, 75, same, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->associated_faces(), SizeIs(3));
  ASSERT_THAT(r->unsuccessful_face_associations(), SizeIs(2));  // no room left: no reason
  EXPECT_THAT(r->unsuccessful_face_associations(0).reasons(), IsEmpty());
  auto full = (*store)->AssociateFaces("quota", "u", {ids[4]}, 75, same, {});
  EXPECT_TRUE(aws::IsAwsError(full.status(), "ServiceQuotaExceededException")) << full.status();
}

}  // namespace
}  // namespace stratus::recognition
