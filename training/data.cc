#include "training/data.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace stratus::training {
namespace {

std::string Trim(const std::string& s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) {
    --e;
  }
  return s.substr(b, e - b);
}

absl::Status ReadLines(const std::string& path, std::vector<std::string>* lines) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::string line;
  while (std::getline(in, line)) lines->push_back(line);
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> ListImages(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    std::string ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".webp") {
      out.push_back(entry.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::Status ReadSource(const Job& job, const DataSource& s, int source_index,
                        std::vector<Example>* out, int64_t* skipped) {
  auto class_of = [&](const std::string& raw, int* label) {
    auto it = s.labels.find(raw);
    if (it == s.labels.end()) return false;
    *label = static_cast<int>(std::find(job.labels.begin(), job.labels.end(), it->second) -
                              job.labels.begin());
    return true;
  };
  uint32_t mask = 0;
  if (s.partial) {
    for (const auto& [raw, cls] : s.labels) {
      mask |= 1u << (std::find(job.labels.begin(), job.labels.end(), cls) - job.labels.begin());
    }
  } else {
    mask = (job.labels.size() >= 32) ? 0xFFFFFFFFu : ((1u << job.labels.size()) - 1);
  }
  std::vector<std::pair<std::string, std::string>> rows;  // (text or path, raw label)
  if (s.format == DataSource::Format::kFolders) {
    std::error_code ec;
    if (!std::filesystem::is_directory(s.path, ec)) {
      return absl::NotFoundError(absl::StrCat("not a folder: ", s.path));
    }
    for (const auto& [folder, cls] : s.labels) {
      const auto files = ListImages(s.path + "/" + folder);
      if (files.empty()) {
        return absl::NotFoundError(absl::StrCat("no images in ", s.path, "/", folder));
      }
      for (const auto& f : files) rows.emplace_back(f, folder);
    }
  } else {
    std::vector<std::string> lines;
    if (auto st = ReadLines(s.path, &lines); !st.ok()) return st;
    std::vector<std::string> labels;
    if (s.format == DataSource::Format::kLines) {
      if (auto st = ReadLines(s.labels_path, &labels); !st.ok()) return st;
      if (labels.size() != lines.size()) {
        return absl::InvalidArgumentError(absl::StrCat(s.path, " has ", lines.size(), " lines but ",
                                                       s.labels_path, " has ", labels.size()));
      }
    }
    for (size_t i = (s.header ? 1 : 0); i < lines.size(); ++i) {
      const std::string& line = lines[i];
      if (s.format == DataSource::Format::kTsv) {
        const size_t tab = line.rfind('\t');
        if (tab == std::string::npos) {
          return absl::InvalidArgumentError(
              absl::StrCat(s.path, ":", i + 1, ": no tab between text and label"));
        }
        rows.emplace_back(Trim(line.substr(0, tab)), Trim(line.substr(tab + 1)));
      } else if (s.format == DataSource::Format::kLabelFirst) {
        const std::string t = Trim(line);
        if (t.empty()) continue;
        const size_t sp = t.find(' ');
        rows.emplace_back(sp == std::string::npos ? "" : Trim(t.substr(sp + 1)), t.substr(0, sp));
      } else {
        rows.emplace_back(Trim(line), Trim(labels[i]));
      }
    }
  }
  const int64_t n = static_cast<int64_t>(rows.size());
  const int64_t begin = std::min(s.rows_begin, n);
  const int64_t end = s.rows_end < 0 ? n : std::min(s.rows_end, n);
  for (int64_t i = begin; i < end; ++i) {
    Example e;
    if (!class_of(rows[i].second, &e.label) || rows[i].first.empty()) {
      ++*skipped;
      continue;
    }
    e.text = std::move(rows[i].first);
    e.class_mask = mask;
    e.source = source_index;
    out->push_back(std::move(e));
  }
  return absl::OkStatus();
}

absl::StatusOr<Dataset> LoadDataset(const Job& job) {
  Dataset d;
  auto read = [&](const std::vector<DataSource>& sources, std::vector<Example>* out,
                  const std::string& split) -> absl::Status {
    for (const auto& s : sources) {
      const int index = static_cast<int>(d.sources.size());
      d.sources.push_back(split + ":" + s.name);
      if (auto st = ReadSource(job, s, index, out, &d.skipped_rows); !st.ok()) return st;
    }
    return absl::OkStatus();
  };
  if (auto st = read(job.train, &d.train, "train"); !st.ok()) return st;
  if (auto st = read(job.validation, &d.validation, "validation"); !st.ok()) return st;
  if (auto st = read(job.test, &d.test, "test"); !st.ok()) return st;
  if (job.validation_split > 0 || job.test_split > 0) {
    // A fixed shuffle of the pool, then test and validation are cut from its front.
    std::vector<size_t> order(d.train.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::mt19937_64 rng(job.seed ^ 0x9E3779B97F4A7C15ULL);
    std::shuffle(order.begin(), order.end(), rng);
    const auto n_test = static_cast<size_t>(job.test_split * order.size());
    const auto n_val = static_cast<size_t>(job.validation_split * order.size());
    std::vector<Example> rest;
    for (size_t k = 0; k < order.size(); ++k) {
      Example& e = d.train[order[k]];
      if (k < n_test) {
        d.test.push_back(std::move(e));
      } else if (k < n_test + n_val) {
        d.validation.push_back(std::move(e));
      } else {
        rest.push_back(std::move(e));
      }
    }
    d.train = std::move(rest);
  }
  if (d.train.empty()) return absl::InvalidArgumentError("no training examples");
  if (d.validation.empty()) return absl::InvalidArgumentError("no validation examples");
  return d;
}

}  // namespace stratus::training
