#include "cli/sentiment.h"

#include <google/protobuf/util/time_util.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "common/flags.h"
#include "common/status.h"
#include "services/sentiment/sentiment.h"
#include "stratus/v1/sentiment.grpc.pb.h"

namespace stratus::cli {
namespace {

using json = nlohmann::ordered_json;
using ::stratus::sentiment::IsValidUtf8;
using ::stratus::sentiment::kMaxBatchTexts;
using ::stratus::sentiment::SentimentName;

using Stub = v1::SentimentService::Stub;

// Floats in their shortest decimal form (0.85, not 0.8500000238418579).
double Shortest(float v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf) - 1, v);
  *r.ptr = '\0';
  return std::strtod(buf, nullptr);
}

json Score(const v1::SentimentScore& s) {
  return json{{"Positive", Shortest(s.positive())},
              {"Negative", Shortest(s.negative())},
              {"Neutral", Shortest(s.neutral())},
              {"Mixed", Shortest(s.mixed())}};
}

// Reads `path` ("-": standard input) into lines without their line ends.
bool ReadLines(const std::string& path, std::vector<std::string>* lines) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) {
      std::cerr << "error: cannot read '" << path << "'\n";
      return false;
    }
    in = &file;
  }
  std::string line;
  while (std::getline(*in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines->push_back(std::move(line));
  }
  return true;
}

bool Blank(const std::string& s) { return s.find_first_not_of(" \t") == std::string::npos; }

// A text to score, or why it cannot be sent.
struct Item {
  std::string text;
  std::string error_code;  // set: not sent
  std::string error_message;
};

std::vector<Item> TextsFromFile(const std::vector<std::string>& lines) {
  std::vector<Item> items;
  bool jsonl = false;
  for (const std::string& l : lines) {
    if (Blank(l)) continue;
    json first = json::parse(l, nullptr, /*allow_exceptions=*/false);
    jsonl = first.is_object() && first.contains("text");
    break;
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    if (Blank(lines[i])) continue;
    if (!jsonl) {
      items.push_back({lines[i], "", ""});
      continue;
    }
    json j = json::parse(lines[i], nullptr, false);
    if (j.is_object() && j.contains("text") && j["text"].is_string()) {
      items.push_back({j["text"].get<std::string>(), "", ""});
    } else {
      items.push_back({"", "INVALID_REQUEST",
                       absl::StrCat("line ", i + 1, ": not a JSON object with a string \"text\"")});
    }
  }
  return items;
}

}  // namespace

int RunSentimentCommand(int argc, char** argv) {
  FlagSet flags("stratus sentiment",
                "Sentiment of texts (Comprehend's DetectSentiment): stratus sentiment TEXT... or "
                "--file FILE (one text per line, or JSON Lines with a \"text\" member; - reads "
                "standard input). Prints one JSON object per text, in order.");
  std::string file, language = "en";
  ClientFlags client_flags(flags, kSentimentDefaults);
  flags.String("file", "", &file, "read the texts from this file (- : standard input)");
  flags.String("language-code", "", &language, "language of the texts (only en is supported)");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  std::vector<Item> items;
  for (const std::string& t : flags.positional()) items.push_back({t, "", ""});
  if (!file.empty()) {
    std::vector<std::string> lines;
    if (!ReadLines(file, &lines)) return 2;
    std::vector<Item> from_file = TextsFromFile(lines);
    items.insert(items.end(), from_file.begin(), from_file.end());
  }
  if (items.empty()) {
    std::cerr << "error: give texts or --file\n\n" << flags.Usage();
    return 2;
  }
  // Texts the server could not even receive (protobuf strings must be UTF-8) fail here, with
  // the error the service would give.
  for (Item& item : items) {
    if (item.error_code.empty() && !IsValidUtf8(item.text)) {
      item.error_code = "INVALID_REQUEST";
      item.error_message = "Text is not valid UTF-8";
    }
  }
  const auto client = client_flags.Client<v1::SentimentService>();
  bool failed = false;
  for (size_t begin = 0; begin < items.size(); begin += kMaxBatchTexts) {
    const size_t end = std::min(items.size(), begin + kMaxBatchTexts);
    v1::BatchDetectSentimentRequest request;
    request.set_language_code(language);
    std::vector<size_t> sent;  // item index of each text in the request
    for (size_t i = begin; i < end; ++i) {
      if (!items[i].error_code.empty()) continue;
      request.add_text_list(items[i].text);
      sent.push_back(i);
    }
    std::vector<json> out(end - begin);
    if (!sent.empty()) {
      auto answered = client.Call(&Stub::BatchDetectSentiment, request, CallKind::kInference);
      if (!answered.ok()) return ReportError(answered.status(), client.address());
      const v1::BatchDetectSentimentResponse& response = *answered;
      for (const auto& r : response.result_list()) {
        if (r.index() < 0 || static_cast<size_t>(r.index()) >= sent.size()) continue;
        out[sent[r.index()] - begin] = json{{"Sentiment", SentimentName(r.sentiment())},
                                            {"SentimentScore", Score(r.sentiment_score())}};
      }
      for (const auto& e : response.error_list()) {
        if (e.index() < 0 || static_cast<size_t>(e.index()) >= sent.size()) continue;
        out[sent[e.index()] - begin] =
            json{{"ErrorCode", e.error_code()}, {"ErrorMessage", e.error_message()}};
      }
    }
    for (size_t i = begin; i < end; ++i) {
      json& line = out[i - begin];
      if (!items[i].error_code.empty()) {
        line = json{{"ErrorCode", items[i].error_code}, {"ErrorMessage", items[i].error_message}};
      } else if (line.is_null()) {
        line = json{{"ErrorCode", "INTERNAL_SERVER_ERROR"},
                    {"ErrorMessage", "the service answered nothing for this text"}};
      }
      failed |= line.contains("ErrorCode");
      std::cout << line.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    }
  }
  std::cout.flush();
  return failed ? 1 : 0;
}

namespace {

// A post read from a JSON line, or why the line is not one.
struct FeedEntry {
  std::optional<v1::Post> post;
  std::string error;
};

FeedEntry ParsePost(const std::string& line, size_t number) {
  auto fail = [&](const std::string& why) {
    return FeedEntry{std::nullopt, absl::StrCat("line ", number, ": ", why)};
  };
  json j = json::parse(line, nullptr, false);
  if (!j.is_object()) return fail("not a JSON object");
  v1::Post post;
  try {
    if (j.contains("id")) {
      post.set_id(j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump());
    }
    if (j.contains("author")) post.set_author(j["author"].get<std::string>());
    if (!j.contains("text") || !j["text"].is_string()) return fail("no string \"text\"");
    post.set_text(j["text"].get<std::string>());
    if (j.contains("topic")) post.set_topic(j["topic"].get<std::string>());
    if (j.contains("hashtags")) {
      for (const auto& h : j["hashtags"]) post.add_hashtags(h.get<std::string>());
    }
    if (j.contains("time") && !j["time"].is_null()) {
      const json& t = j["time"];
      if (t.is_number()) {
        const double s = t.get<double>();
        const double whole = std::floor(s);
        post.mutable_time()->set_seconds(static_cast<int64_t>(whole));
        post.mutable_time()->set_nanos(static_cast<int32_t>((s - whole) * 1e9));
      } else if (!t.is_string() || !google::protobuf::util::TimeUtil::FromString(
                                       t.get<std::string>(), post.mutable_time())) {
        return fail("\"time\" is neither RFC 3339 nor epoch seconds");
      }
    }
  } catch (const json::exception& e) {
    return fail(absl::StrCat("a member has the wrong type (", e.what(), ")"));
  }
  return FeedEntry{std::move(post), ""};
}

}  // namespace

int RunFeedCommand(int argc, char** argv) {
  FlagSet flags("stratus feed",
                "Streams posts (JSON Lines: id, author, time, text, topic, hashtags) through the "
                "sentiment service's Feed, which scores and stores them for trends. Prints one "
                "JSON object per post, in order.");
  ClientFlags client_flags(flags, kSentimentDefaults);
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (flags.positional().size() != 1) {
    std::cerr << "error: give one FILE.jsonl (- : standard input)\n\n" << flags.Usage();
    return 2;
  }
  std::vector<std::string> lines;
  if (!ReadLines(flags.positional()[0], &lines)) return 2;
  std::vector<FeedEntry> entries;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!Blank(lines[i])) entries.push_back(ParsePost(lines[i], i + 1));
  }
  const auto client = client_flags.Client<v1::SentimentService>();
  const auto ctx = client.Context(CallKind::kStream);
  auto stream = client.stub().Feed(ctx.get());
  // Writes on a thread of its own so the service can answer (and batch) while we send.
  std::thread writer([&] {
    for (const FeedEntry& e : entries) {
      if (e.post && !stream->Write(*e.post)) break;
    }
    stream->WritesDone();
  });
  size_t scored = 0, failed = 0;
  bool broken = false;
  for (const FeedEntry& e : entries) {
    json line;
    if (!e.post) {
      line = json{{"Error", e.error}};
    } else {
      v1::PostSentiment answer;
      if (broken || !stream->Read(&answer)) {
        broken = true;
        break;
      }
      if (answer.error().empty()) {
        line = json{{"id", answer.id()},
                    {"Sentiment", SentimentName(answer.sentiment())},
                    {"SentimentScore", Score(answer.score())}};
      } else {
        line = json{{"id", answer.id()}, {"Error", answer.error()}};
      }
    }
    (line.contains("Error") ? failed : scored)++;
    std::cout << line.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  }
  std::cout.flush();
  if (broken) ctx->TryCancel();
  writer.join();
  const absl::Status s = FromGrpcStatus(stream->Finish());
  if (!s.ok() || broken) {
    return ReportError(s.ok() ? absl::DataLossError("fewer answers than posts") : s,
                       absl::StrCat(client.address(), ": Feed ended"));
  }
  std::cerr << entries.size() << " posts: " << scored << " scored and stored, " << failed
            << " failed\n";
  return failed > 0 ? 1 : 0;
}

int RunTrendsCommand(int argc, char** argv) {
  FlagSet flags("stratus trends",
                "Counts and mean scores of stored posts per topic and time window (GetTrends). "
                "Prints one JSON object per (topic, window), sorted by topic then window.");
  std::string start, end;
  std::vector<std::string> topics;
  int window = 3600;
  ClientFlags client_flags(flags, kSentimentDefaults);
  flags.StringList("topic", "", &topics, "only this topic (repeatable; default all)");
  flags.String("start", "", &start, "start of the period, RFC 3339 (default end - 24 h)");
  flags.String("end", "", &end, "end of the period (exclusive), RFC 3339 (default now)");
  flags.Int("window", "", &window, "window width in seconds (>= 60)");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  v1::GetTrendsRequest request;
  for (const auto& t : topics) request.add_topics(t);
  request.set_window_seconds(window);
  using google::protobuf::util::TimeUtil;
  if (!start.empty() && !TimeUtil::FromString(start, request.mutable_start())) {
    std::cerr << "error: --start '" << start << "' is not RFC 3339\n";
    return 2;
  }
  if (!end.empty() && !TimeUtil::FromString(end, request.mutable_end())) {
    std::cerr << "error: --end '" << end << "' is not RFC 3339\n";
    return 2;
  }
  const auto client = client_flags.Client<v1::SentimentService>();
  auto response = client.Call(&Stub::GetTrends, request, CallKind::kInference);
  if (!response.ok()) return ReportError(response.status(), client.address());
  for (const v1::TrendBucket& b : response->buckets()) {
    json line{{"topic", b.topic()},
              {"window_start", TimeUtil::ToString(b.window_start())},
              {"count", b.count()},
              {"positive", b.positive_count()},
              {"negative", b.negative_count()},
              {"neutral", b.neutral_count()},
              {"mixed", b.mixed_count()},
              {"mean_score", Score(b.mean_score())}};
    std::cout << line.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  }
  std::cout.flush();
  return 0;
}

}  // namespace stratus::cli
