#include "common/trace.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>

namespace stratus::trace {
namespace {

constexpr char kValid[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceparentTest, ParsesTheSpecificationsExample) {
  std::optional<TraceContext> c = ParseTraceparent(kValid);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(c->span_id, "00f067aa0ba902b7");
  EXPECT_EQ(c->parent_span_id, "");
  EXPECT_EQ(c->flags, 0x01);
  EXPECT_TRUE(c->sampled());
  EXPECT_EQ(FormatTraceparent(*c), kValid);
}

TEST(TraceparentTest, KeepsFlagsAndFormatsOnlyTheSampledBit) {
  auto unsampled = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(unsampled.has_value());
  EXPECT_FALSE(unsampled->sampled());
  auto other_bits = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff");
  ASSERT_TRUE(other_bits.has_value());
  EXPECT_EQ(other_bits->flags, 0xff);
  EXPECT_EQ(FormatTraceparent(*other_bits),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
}

TEST(TraceparentTest, RefusesInvalidVersions) {
  // ff is forbidden; versions are lowercase hex.
  EXPECT_FALSE(ParseTraceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParseTraceparent("0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParseTraceparent("0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  // Version 00 has exactly four fields: nothing may follow.
  EXPECT_FALSE(ParseTraceparent(std::string(kValid) + "-extra"));
  EXPECT_FALSE(ParseTraceparent(std::string(kValid) + "0"));
}

TEST(TraceparentTest, ParsesAHigherVersionAsVersion00) {
  auto later = ParseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what");
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(FormatTraceparent(*later), kValid);  // sent on as version 00
  EXPECT_TRUE(ParseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  // ... but what follows the flags must start with a dash.
  EXPECT_FALSE(ParseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"));
}

TEST(TraceparentTest, RefusesAllZeroIds) {
  EXPECT_FALSE(ParseTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
}

TEST(TraceparentTest, RefusesUppercaseAndOtherMalformedValues) {
  EXPECT_FALSE(ParseTraceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01"));
  EXPECT_FALSE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A"));
  EXPECT_FALSE(ParseTraceparent(""));
  EXPECT_FALSE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"));  // short
  EXPECT_FALSE(ParseTraceparent("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01"));
  EXPECT_FALSE(ParseTraceparent(" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01"));
}

bool IsId(const std::string& s, size_t digits) {
  return s.size() == digits && s.find_first_not_of("0123456789abcdef") == std::string::npos &&
         s.find_first_not_of('0') != std::string::npos;
}

TEST(TraceIdsTest, NewTracesHaveValidDistinctIdsThatRoundTrip) {
  std::set<std::string> traces, spans;
  for (int i = 0; i < 1000; ++i) {
    TraceContext c = NewTrace();
    ASSERT_TRUE(IsId(c.trace_id, 32)) << c.trace_id;
    ASSERT_TRUE(IsId(c.span_id, 16)) << c.span_id;
    EXPECT_TRUE(c.sampled());
    traces.insert(c.trace_id);
    spans.insert(c.span_id);
    std::optional<TraceContext> back = ParseTraceparent(FormatTraceparent(c));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->trace_id, c.trace_id);
    EXPECT_EQ(back->span_id, c.span_id);
  }
  EXPECT_EQ(traces.size(), 1000u);
  EXPECT_EQ(spans.size(), 1000u);
}

TEST(TraceIdsTest, ServerContextContinuesAValidTraceAndStartsOneOtherwise) {
  TraceContext child = ServerContextFor(kValid);
  EXPECT_EQ(child.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(child.parent_span_id, "00f067aa0ba902b7");
  EXPECT_TRUE(IsId(child.span_id, 16));
  EXPECT_NE(child.span_id, "00f067aa0ba902b7");
  EXPECT_EQ(child.flags, 0x01);

  TraceContext fresh = ServerContextFor("00-00000000000000000000000000000000-00f067aa0ba902b7-01");
  EXPECT_TRUE(IsId(fresh.trace_id, 32));
  EXPECT_NE(fresh.trace_id, "00000000000000000000000000000000");
  EXPECT_EQ(fresh.parent_span_id, "");
  EXPECT_NE(ServerContextFor("").trace_id, ServerContextFor("").trace_id);
}

TEST(TraceScopeTest, NestsAndIsPerThread) {
  EXPECT_EQ(Current(), nullptr);
  TraceContext outer = NewTrace();
  {
    TraceScope a(outer);
    ASSERT_NE(Current(), nullptr);
    EXPECT_EQ(Current()->trace_id, outer.trace_id);
    {
      TraceScope b(ChildOf(*Current()));
      EXPECT_EQ(Current()->trace_id, outer.trace_id);
      EXPECT_EQ(Current()->parent_span_id, outer.span_id);
    }
    EXPECT_EQ(Current()->span_id, outer.span_id);
    const TraceContext* seen = &outer;
    std::thread([&] { seen = Current(); }).join();
    EXPECT_EQ(seen, nullptr);  // another thread has no context until it makes one
    EXPECT_EQ(CurrentOrNew().span_id, outer.span_id);
  }
  EXPECT_EQ(Current(), nullptr);
  EXPECT_NE(CurrentOrNew().trace_id, outer.trace_id);
}

}  // namespace
}  // namespace stratus::trace
