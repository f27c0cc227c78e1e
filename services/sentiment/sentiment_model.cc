#include "services/sentiment/sentiment_model.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/text/sentiment_linear.h"

namespace stratus::sentiment {

struct SentimentModel::Impl {
  Options options;
  std::string description;
  std::unique_ptr<text::LinearSentimentModel> model;
  bool has_mixed = false;
  double load_ms = 0;

  void Run(absl::Span<const std::string_view> texts, SentimentScores* out) const {
    for (size_t i = 0; i < texts.size(); ++i) {
      const text::SentimentProbs p = model->Predict(texts[i]);
      // Without a MIXED output the three classes keep their whole-text proportions.
      const float keep = has_mixed ? 1.0f : 1.0f / std::max(1e-6f, 1.0f - p[3]);
      out[i] = {p[0] * keep, p[1] * keep, p[2] * keep, has_mixed ? p[3] : 0.0f};
    }
  }
  // Reads the parts of config.yaml this service relies on (the model reads `input:` itself).
  absl::Status ReadConfig(const std::string& dir);
};

absl::Status SentimentModel::Impl::ReadConfig(const std::string& dir) {
  const std::string path = dir + "/config.yaml";
  try {
    YAML::Node config = YAML::LoadFile(path);
    const std::string task = config["task"].as<std::string>("");
    if (task != "text_classification") {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": task is '", task, "', expected text_classification"));
    }
    const std::vector<std::string> labels = config["labels"].as<std::vector<std::string>>();
    const std::vector<std::string> three = {"POSITIVE", "NEGATIVE", "NEUTRAL"};
    const std::vector<std::string> four = {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"};
    if (labels != three && labels != four) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": labels [", absl::StrJoin(labels, ", "),
                       "] are not [POSITIVE, NEGATIVE, NEUTRAL] and optionally MIXED"));
    }
    has_mixed = labels.size() == 4;
    description = absl::StrCat(config["name"].as<std::string>("sentiment"), " ",
                               config["version"].as<std::string>("(no version)"));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SentimentModel>> SentimentModel::Load(const Options& options) {
  const auto start = std::chrono::steady_clock::now();
  const std::string& dir = options.model_dir;
  if (!std::filesystem::exists(dir + "/config.yaml")) {
    return absl::NotFoundError(absl::StrCat("sentiment model: no config.yaml in '", dir,
                                            "' (train it with `make models`)"));
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (absl::Status s = impl->ReadConfig(dir); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<text::LinearSentimentModel>> model =
      text::LinearSentimentModel::Load(dir);
  if (!model.ok()) {
    return absl::Status(model.status().code(),
                        absl::StrCat("sentiment model ", dir, ": ", model.status().message()));
  }
  impl->model = std::move(*model);
  // A wrong model fails here rather than on the first request.
  const std::vector<std::string_view> warmup = {"I love it :)", "worst day ever, but whatever"};
  std::vector<SentimentScores> scores(warmup.size());
  impl->Run(warmup, scores.data());
  for (const SentimentScores& s : scores) {
    const float sum = s.positive + s.negative + s.neutral + s.mixed;
    if (!(std::fabs(sum - 1.0f) < 1e-3f)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "sentiment model ", dir, ": scores of a warm-up text sum to ", sum, ", not 1"));
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
  std::vector<SentimentScores> out(texts.size());
  constexpr size_t kMinPerThread = 16;
  const size_t threads =
      std::min<size_t>(std::max(1, impl_->options.intra_op_threads), texts.size() / kMinPerThread);
  if (threads < 2) {
    impl_->Run(texts, out.data());
    return out;
  }
  const size_t chunk =
      std::max<size_t>(kMinPerThread, std::min<size_t>(std::max(1, impl_->options.max_batch),
                                                       (texts.size() + threads - 1) / threads));
  std::vector<std::thread> pool;
  std::atomic<size_t> next{0};
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t b; (b = next.fetch_add(chunk)) < texts.size();) {
        const size_t n = std::min(chunk, texts.size() - b);
        impl_->Run(texts.subspan(b, n), out.data() + b);
      }
    });
  }
  for (auto& th : pool) th.join();
  return out;
}

std::string SentimentModel::Describe() const { return impl_->description; }
double SentimentModel::load_ms() const { return impl_->load_ms; }

}  // namespace stratus::sentiment
