#include "tools/cost/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace stratus::cost {
namespace {

using SeriesKey = std::pair<std::string, Labels>;

bool ParseValue(absl::string_view s, double* out) {
  if (s == "+Inf" || s == "Inf") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "-Inf") {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "NaN") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  return absl::SimpleAtod(s, out);
}

bool IsNameChar(char c, bool first) {
  return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && absl::ascii_isdigit(static_cast<unsigned char>(c)));
}

// Parses `{a="x",b="y"}` starting at text[*pos] == '{'; leaves *pos after '}'.
absl::Status ParseLabels(absl::string_view text, size_t* pos, Labels* labels) {
  size_t i = *pos + 1;
  while (true) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ',')) ++i;
    if (i >= text.size()) return absl::InvalidArgumentError("unterminated label set");
    if (text[i] == '}') {
      *pos = i + 1;
      return absl::OkStatus();
    }
    size_t start = i;
    while (i < text.size() && IsNameChar(text[i], i == start)) ++i;
    std::string name(text.substr(start, i - start));
    if (name.empty() || i >= text.size() || text[i] != '=') {
      return absl::InvalidArgumentError("bad label name");
    }
    ++i;
    if (i >= text.size() || text[i] != '"') {
      return absl::InvalidArgumentError("label value must be quoted");
    }
    ++i;
    std::string value;
    while (i < text.size() && text[i] != '"') {
      if (text[i] == '\\' && i + 1 < text.size()) {
        char e = text[i + 1];
        value.push_back(e == 'n' ? '\n' : e);
        i += 2;
      } else {
        value.push_back(text[i++]);
      }
    }
    if (i >= text.size()) return absl::InvalidArgumentError("unterminated label value");
    ++i;  // closing quote
    (*labels)[std::move(name)] = std::move(value);
  }
}

void AddSample(std::map<SeriesKey, std::vector<Sample>>& acc, std::string name, Labels labels,
               Sample sample) {
  acc[{std::move(name), std::move(labels)}].push_back(sample);
}

std::vector<Series> Finish(std::map<SeriesKey, std::vector<Sample>> acc) {
  std::vector<Series> out;
  out.reserve(acc.size());
  for (auto& [key, samples] : acc) {
    std::stable_sort(samples.begin(), samples.end(),
                     [](const Sample& a, const Sample& b) { return a.time_s < b.time_s; });
    // One sample per time: a later line for the same time replaces an earlier one.
    std::vector<Sample> unique;
    for (const Sample& s : samples) {
      if (!unique.empty() && unique.back().time_s == s.time_s) {
        unique.back() = s;
      } else {
        unique.push_back(s);
      }
    }
    out.push_back(Series{key.first, key.second, std::move(unique)});
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<Series>> ParsePrometheusText(absl::string_view text,
                                                        double default_time_s) {
  std::map<SeriesKey, std::vector<Sample>> acc;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    size_t i = 0;
    while (i < line.size() && IsNameChar(line[i], i == 0)) ++i;
    if (i == 0) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": no metric name"));
    }
    std::string name(line.substr(0, i));
    Labels labels;
    if (i < line.size() && line[i] == '{') {
      absl::Status s = ParseLabels(line, &i, &labels);
      if (!s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": ", s.message()));
      }
    }
    std::vector<absl::string_view> rest =
        absl::StrSplit(line.substr(i), ' ', absl::SkipWhitespace());
    if (rest.empty() || rest.size() > 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_no, ": expected `value [timestamp_ms]`"));
    }
    Sample sample{default_time_s, 0};
    if (!ParseValue(rest[0], &sample.value)) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": bad value"));
    }
    if (rest.size() == 2) {
      int64_t ms = 0;
      if (!absl::SimpleAtoi(rest[1], &ms)) {
        return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": bad timestamp"));
      }
      sample.time_s = static_cast<double>(ms) / 1000.0;
    }
    AddSample(acc, std::move(name), std::move(labels), sample);
  }
  return Finish(std::move(acc));
}

absl::StatusOr<std::vector<Series>> ParseQueryRangeJson(absl::string_view json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError("query_range answer is not a JSON object");
  }
  if (doc.value("status", "") != "success") {
    return absl::InvalidArgumentError(absl::StrCat(
        "Prometheus answered status=", doc.value("status", "?"), ": ", doc.value("error", "")));
  }
  const nlohmann::json& data = doc["data"];
  if (!data.is_object() || !data.contains("result") || !data["result"].is_array()) {
    return absl::InvalidArgumentError("query_range answer has no data.result array");
  }
  std::string type = data.value("resultType", "");
  if (type != "matrix" && type != "vector") {
    return absl::InvalidArgumentError(absl::StrCat("unsupported resultType ", type));
  }
  std::map<SeriesKey, std::vector<Sample>> acc;
  for (const nlohmann::json& r : data["result"]) {
    if (!r.is_object() || !r.contains("metric") || !r["metric"].is_object()) {
      return absl::InvalidArgumentError("result entry without metric");
    }
    Labels labels;
    std::string name;
    for (const auto& [k, v] : r["metric"].items()) {
      if (!v.is_string()) return absl::InvalidArgumentError("label value is not a string");
      if (k == "__name__") {
        name = v.get<std::string>();
      } else {
        labels[k] = v.get<std::string>();
      }
    }
    if (name.empty()) {
      return absl::InvalidArgumentError(
          "result without __name__: query raw metrics, not an aggregation");
    }
    std::vector<nlohmann::json> points;
    if (type == "matrix") {
      if (!r.contains("values") || !r["values"].is_array()) {
        return absl::InvalidArgumentError("matrix entry without values");
      }
      points.assign(r["values"].begin(), r["values"].end());
    } else {
      points.push_back(r.value("value", nlohmann::json()));
    }
    for (const nlohmann::json& p : points) {
      if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_string()) {
        return absl::InvalidArgumentError("point is not [time, \"value\"]");
      }
      Sample s{p[0].get<double>(), 0};
      if (!ParseValue(p[1].get<std::string>(), &s.value)) {
        return absl::InvalidArgumentError("bad sample value");
      }
      AddSample(acc, name, labels, s);
    }
  }
  return Finish(std::move(acc));
}

void MergeSeries(std::vector<Series>& into, std::vector<Series> extra) {
  std::map<SeriesKey, std::vector<Sample>> acc;
  for (auto* v : {&into, &extra}) {
    for (Series& s : *v) {
      auto& dst = acc[{s.name, s.labels}];
      dst.insert(dst.end(), s.samples.begin(), s.samples.end());
    }
  }
  into = Finish(std::move(acc));
}

double CounterIncrease(const std::vector<Sample>& samples) {
  double total = 0;
  for (size_t i = 1; i < samples.size(); ++i) {
    double prev = samples[i - 1].value, cur = samples[i].value;
    if (std::isnan(prev) || std::isnan(cur)) continue;
    total += cur >= prev ? cur - prev : cur;  // A drop is a restart from zero.
  }
  return total;
}

}  // namespace stratus::cost
