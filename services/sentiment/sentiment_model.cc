// The one translation unit of the sentiment service that includes LibTorch.
#include "services/sentiment/sentiment_model.h"

#include <ATen/Parallel.h>
#include <torch/script.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "training/text/encoder.h"

namespace stratus::sentiment {

struct SentimentModel::Impl {
  Options options;
  std::string description;
  std::unique_ptr<text::TextEncoder> encoder;
  // Not const: forward() is a non-const member of Module, but running it does not modify it.
  mutable torch::jit::Module module;
  int num_labels = 0;
  // Column of each class in the model's output; -1 when the model has no such output (MIXED).
  std::array<int, 4> column = {-1, -1, -1, -1};  // positive, negative, neutral, mixed
  bool softmax_applied = true;
  double load_ms = 0;

  absl::StatusOr<std::vector<SentimentScores>> Run(absl::Span<const std::string_view> texts) const;
  // Reads the parts of config.yaml this service relies on (the encoder reads `input:` itself).
  absl::Status ReadConfig(const std::string& dir);
};

absl::Status SentimentModel::Impl::ReadConfig(const std::string& dir) {
  Impl* impl = this;
  const std::string path = dir + "/config.yaml";
  try {
    YAML::Node config = YAML::LoadFile(path);
    const std::string task = config["task"].as<std::string>("");
    if (task != "text_classification") {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": task is '", task, "', expected text_classification"));
    }
    impl->softmax_applied = config["decoder"]["softmax_applied"].as<bool>(false);
    std::vector<std::string> labels = config["labels"].as<std::vector<std::string>>();
    static constexpr std::array<const char*, 4> kNames = {"POSITIVE", "NEGATIVE", "NEUTRAL",
                                                          "MIXED"};
    for (size_t i = 0; i < labels.size(); ++i) {
      auto it = std::find(kNames.begin(), kNames.end(), labels[i]);
      if (it == kNames.end() || impl->column[it - kNames.begin()] != -1) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": labels [", absl::StrJoin(labels, ", "),
                         "] are not POSITIVE, NEGATIVE, NEUTRAL and optionally MIXED (each once)"));
      }
      impl->column[it - kNames.begin()] = static_cast<int>(i);
    }
    if (impl->column[0] < 0 || impl->column[1] < 0 || impl->column[2] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": labels must include POSITIVE, NEGATIVE and NEUTRAL"));
    }
    impl->num_labels = static_cast<int>(labels.size());
    impl->description = absl::StrCat(config["name"].as<std::string>("sentiment"), " ",
                                     config["version"].as<std::string>("(no version)"));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SentimentScores>> SentimentModel::Impl::Run(
    absl::Span<const std::string_view> texts) const {
  std::vector<SentimentScores> out;
  out.reserve(texts.size());
  std::vector<int64_t> ids, clauses;
  const size_t batch = static_cast<size_t>(std::max(1, options.max_batch));
  try {
    c10::InferenceMode guard;
    for (size_t begin = 0; begin < texts.size(); begin += batch) {
      const size_t end = std::min(texts.size(), begin + batch);
      std::vector<std::string_view> chunk(texts.begin() + begin, texts.begin() + end);
      int64_t t = 0;
      encoder->EncodeBatch(chunk, &ids, &clauses, &t);
      const auto n = static_cast<int64_t>(chunk.size());
      at::Tensor ti = at::from_blob(ids.data(), {n, t}, at::kLong);
      at::Tensor tc = at::from_blob(clauses.data(), {n, t}, at::kLong);
      at::Tensor p = module.forward({ti, tc}).toTensor();
      if (p.dim() != 2 || p.size(0) != n || p.size(1) != num_labels) {
        return absl::InternalError(absl::StrCat("sentiment model answered shape [",
                                                absl::StrJoin(p.sizes(), ", "), "] for ", n,
                                                " texts, expected [", n, ", ", num_labels, "]"));
      }
      if (!softmax_applied) p = at::softmax(p, 1);
      p = p.to(at::kFloat).contiguous();
      const float* row = p.data_ptr<float>();
      for (int64_t r = 0; r < n; ++r, row += num_labels) {
        auto at_col = [&](int k) { return column[k] < 0 ? 0.0f : row[column[k]]; };
        out.push_back({at_col(0), at_col(1), at_col(2), at_col(3)});
      }
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("sentiment model: ", e.what()));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<SentimentModel>> SentimentModel::Load(const Options& options) {
  const auto start = std::chrono::steady_clock::now();
  const std::string& dir = options.model_dir;
  for (const char* file : {"config.yaml", "model.pt"}) {
    if (!std::filesystem::exists(dir + "/" + file)) {
      return absl::NotFoundError(absl::StrCat("sentiment model: no ", file, " in '", dir,
                                              "' (train it with `make models`)"));
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (absl::Status s = impl->ReadConfig(dir); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<text::TextEncoder>> encoder = text::TextEncoder::Load(dir);
  if (!encoder.ok()) return encoder.status();
  impl->encoder = std::move(*encoder);
  if (options.intra_op_threads > 0) at::set_num_threads(options.intra_op_threads);
  try {
    impl->module = torch::jit::load(dir + "/model.pt", c10::Device(c10::kCPU));
    impl->module.eval();
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(
        absl::StrCat("sentiment model: cannot load ", dir, "/model.pt: ", e.what()));
  }
  // Warm-up: the first forwards build TorchScript's execution plan (profiling executor), and a
  // wrong model fails here rather than on the first request.
  const std::vector<std::string_view> warmup = {"I love it :)", "worst day ever, but whatever"};
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<std::vector<SentimentScores>> r = impl->Run(warmup);
    if (!r.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("sentiment model ", dir, ": warm-up failed: ", r.status().message()));
    }
    for (const SentimentScores& s : *r) {
      const float sum = s.positive + s.negative + s.neutral + s.mixed;
      if (!(std::fabs(sum - 1.0f) < 1e-3f)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "sentiment model ", dir, ": scores of a warm-up text sum to ", sum, ", not 1"));
      }
    }
  }
  impl->load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return std::unique_ptr<SentimentModel>(new SentimentModel(std::move(impl)));
}

SentimentModel::SentimentModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SentimentModel::~SentimentModel() = default;

absl::StatusOr<std::vector<SentimentScores>> SentimentModel::Classify(
    absl::Span<const std::string_view> texts) const {
  return impl_->Run(texts);
}

std::string SentimentModel::Describe() const { return impl_->description; }
double SentimentModel::load_ms() const { return impl_->load_ms; }

}  // namespace stratus::sentiment
