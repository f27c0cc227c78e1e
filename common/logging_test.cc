#include "common/logging.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "common/testing/log_capture.h"
#include "common/trace.h"

namespace stratus {
namespace {

using testing_util::LogCapture;
using testing_util::StderrOf;

class LoggingTest : public testing::Test {
 protected:
  void TearDown() override {
    SetLogJson(false);
    SetLogLevel(LogLevel::kInfo);
  }
};

TEST_F(LoggingTest, JsonWritesNumbersAsNumbersAndBoolsAsBools) {
  SetLogJson(true);
  std::string out = StderrOf([] {
    SLOG(INFO) << "numbers" << Kv("int", 42) << Kv("negative", -7) << Kv("size", size_t{1} << 40)
               << Kv("u64", std::numeric_limits<uint64_t>::max()) << Kv("ms", 12.5)
               << Kv("nan", std::numeric_limits<double>::quiet_NaN())
               << Kv("inf", std::numeric_limits<double>::infinity()) << Kv("yes", true)
               << Kv("no", false) << Kv("text", "12") << Kv("str", std::string("a \"q\"\n"))
               << Kv("ch", 'x');
  });
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find('\n'), out.size() - 1) << "one line: " << out;
  nlohmann::json j = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["msg"], "numbers");
  EXPECT_EQ(j["level"], "INFO");
  EXPECT_TRUE(j["int"].is_number_integer());
  EXPECT_EQ(j["int"], 42);
  EXPECT_EQ(j["negative"], -7);
  EXPECT_EQ(j["size"], uint64_t{1} << 40);
  EXPECT_EQ(j["u64"].get<uint64_t>(), std::numeric_limits<uint64_t>::max());
  EXPECT_TRUE(j["ms"].is_number_float());
  EXPECT_DOUBLE_EQ(j["ms"].get<double>(), 12.5);
  EXPECT_TRUE(j["nan"].is_string());  // JSON has no NaN
  EXPECT_TRUE(j["inf"].is_string());
  EXPECT_TRUE(j["yes"].is_boolean());
  EXPECT_EQ(j["yes"], true);
  EXPECT_EQ(j["no"], false);
  EXPECT_TRUE(j["text"].is_string());  // a string that looks like a number stays a string
  EXPECT_EQ(j["text"], "12");
  EXPECT_EQ(j["str"], "a \"q\"\n");
  EXPECT_EQ(j["ch"], "x");
  EXPECT_FALSE(j.contains("trace_id"));  // no trace is current
}

TEST_F(LoggingTest, LinesCarryTheCurrentTraceId) {
  SetLogJson(true);
  trace::TraceContext t = trace::NewTrace();
  std::string out = StderrOf([&] {
    trace::TraceScope scope(t);
    SLOG(INFO) << "in a request" << Kv("n", 1);
  });
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["trace_id"], t.trace_id);

  SetLogJson(false);
  out = StderrOf([&] {
    trace::TraceScope scope(t);
    SLOG(INFO) << "in a request";
  });
  EXPECT_NE(out.find(" trace_id=" + t.trace_id), std::string::npos) << out;
}

TEST_F(LoggingTest, SinksSeeFieldsWithTypesAndTheLevelFilterApplies) {
  LogCapture logs;
  trace::TraceContext t = trace::NewTrace();
  StderrOf([&] {
    trace::TraceScope scope(t);
    SLOG(WARNING) << "warned " << 3 << Kv("count", 3) << Kv("who", "me");
    SLOG(DEBUG) << "not at INFO";
    EmitLogLine(LogLevel::kError, nullptr, 0, "from another logger", {Kv("logger", "grpc")});
    EmitLogLine(LogLevel::kDebug, nullptr, 0, "filtered", {});
  });
  std::vector<LogRecord> r = logs.records();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].level, LogLevel::kWarning);
  EXPECT_EQ(r[0].message, "warned 3");
  EXPECT_EQ(r[0].Field("count"), "3");
  EXPECT_EQ(r[0].fields[0].type, Kv::Type::kNumber);
  EXPECT_EQ(r[0].fields[1].type, Kv::Type::kString);
  EXPECT_EQ(r[0].Field("trace_id"), t.trace_id);
  EXPECT_EQ(r[1].level, LogLevel::kError);
  EXPECT_EQ(r[1].Field("logger"), "grpc");
  EXPECT_FALSE(r[1].HasField("missing"));
}

}  // namespace
}  // namespace stratus
