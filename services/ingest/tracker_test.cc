#include "services/ingest/tracker.h"

#include <gtest/gtest.h>

namespace stratus::ingest {
namespace {

v1::Detection Person(float left, float top, float conf = 0.9f,
                     const std::string& label = "person") {
  v1::Detection d;
  d.set_label(label);
  d.set_confidence(conf);
  d.mutable_box()->set_left(left);
  d.mutable_box()->set_top(top);
  d.mutable_box()->set_width(0.1f);
  d.mutable_box()->set_height(0.3f);
  return d;
}

TEST(TrackerTest, OnePersonWalkingThroughIsOneTrack) {
  Tracker tracker({.min_hits = 2, .max_age = std::chrono::milliseconds(500)});
  auto t0 = Clock::now();
  int appeared = 0, left = 0;
  int64_t id = 0;
  // Walks left to right, 2% of the width per frame at 10 fps.
  for (int i = 0; i < 40; ++i) {
    auto u =
        tracker.Observe({Person(0.05f + 0.02f * i, 0.3f)}, t0 + std::chrono::milliseconds(100 * i));
    for (auto& t : u.appeared) {
      appeared++;
      id = t.id;
    }
    left += u.left.size();
  }
  EXPECT_EQ(appeared, 1);
  EXPECT_EQ(left, 0);
  // Gone for longer than max_age: one PERSON_LEFT with the same track id.
  auto u = tracker.Observe({}, t0 + std::chrono::milliseconds(100 * 40 + 600));
  ASSERT_EQ(u.left.size(), 1u);
  EXPECT_EQ(u.left[0].id, id);
}

TEST(TrackerTest, SingleFrameFlickerIsNotAnnounced) {
  Tracker tracker({.min_hits = 2, .max_age = std::chrono::milliseconds(200)});
  auto t0 = Clock::now();
  auto u = tracker.Observe({Person(0.5f, 0.5f)}, t0);
  EXPECT_TRUE(u.appeared.empty());
  u = tracker.Observe({}, t0 + std::chrono::milliseconds(300));
  EXPECT_TRUE(u.left.empty());  // never announced, so never "left"
  EXPECT_TRUE(tracker.tracks().empty());
}

TEST(TrackerTest, TwoPeopleAreTwoTracksAndOtherLabelsIgnored) {
  Tracker tracker({.min_hits = 1});
  auto t0 = Clock::now();
  auto u = tracker.Observe(
      {Person(0.1f, 0.2f), Person(0.7f, 0.2f), Person(0.4f, 0.4f, 0.9f, "chair")}, t0);
  ASSERT_EQ(u.appeared.size(), 2u);
  EXPECT_NE(u.appeared[0].id, u.appeared[1].id);
  u = tracker.Observe({Person(0.71f, 0.2f), Person(0.11f, 0.2f)},
                      t0 + std::chrono::milliseconds(100));
  EXPECT_TRUE(u.appeared.empty());
  EXPECT_EQ(tracker.tracks().size(), 2u);
  auto f = tracker.Flush();
  EXPECT_EQ(f.left.size(), 2u);
}

TEST(TrackerTest, IouOfDisjointAndIdenticalBoxes) {
  auto a = Person(0.1f, 0.1f).box();
  auto b = Person(0.6f, 0.6f).box();
  EXPECT_FLOAT_EQ(Iou(a, a), 1.0f);
  EXPECT_FLOAT_EQ(Iou(a, b), 0.0f);
}

TEST(TrackerTest, SaysWhichAnnouncedTrackEachDetectionBelongsTo) {
  Tracker tracker({.min_hits = 2, .max_age = std::chrono::milliseconds(500)});
  auto t0 = Clock::now();
  // A car is not tracked; the person's track is tentative on the first frame.
  auto u = tracker.Observe({Person(0.1f, 0.3f), Person(0.6f, 0.3f, 0.8f, "car")}, t0);
  EXPECT_EQ(u.track_ids, (std::vector<int64_t>{0, 0}));
  // Announced on the second: its id, in the order the detections came.
  u = tracker.Observe({Person(0.6f, 0.3f, 0.8f, "car"), Person(0.11f, 0.3f)},
                      t0 + std::chrono::milliseconds(100));
  ASSERT_EQ(u.appeared.size(), 1u);
  EXPECT_EQ(u.track_ids, (std::vector<int64_t>{0, u.appeared[0].id}));
  // Later frames keep the id, a newcomer has none until it is announced.
  const int64_t id = u.appeared[0].id;
  u = tracker.Observe({Person(0.12f, 0.3f), Person(0.8f, 0.2f)},
                      t0 + std::chrono::milliseconds(200));
  EXPECT_EQ(u.track_ids, (std::vector<int64_t>{id, 0}));
  EXPECT_TRUE(u.appeared.empty());
}

}  // namespace
}  // namespace stratus::ingest
