// The image classifier task: images decoded once into memory, augmented per example with a
// seeded generator (crop, flip, rotation, brightness/contrast, low resolution, blur), batched
// as normalised float tensors in channels_last memory.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/logging.h"
#include "training/models.h"
#include "training/tasks.h"

namespace stratus::training {
namespace {

constexpr float kMean[3] = {123.675f, 116.28f, 103.53f};  // RGB, 0..255 units
constexpr float kStd[3] = {58.395f, 57.12f, 57.375f};
constexpr double kCacheScale = 1.15;  // cached side = input * this, room for random crops

class ImageTask : public TaskData {
 public:
  static absl::StatusOr<std::unique_ptr<TaskData>> Create(const Job& job, Dataset data) {
    auto t = std::unique_ptr<ImageTask>(new ImageTask(job, std::move(data)));
    if (auto s = t->Init(); !s.ok()) return s;
    return std::unique_ptr<TaskData>(std::move(t));
  }

  int64_t size(Split s) const override { return static_cast<int64_t>(Set(s).size()); }
  const Example& example(Split s, int64_t i) const override { return Set(s)[i]; }

  Batch Make(Split split, const int64_t* index, int64_t n, bool train, uint64_t aug_seed) override {
    const int s = job_.model.input_size;
    torch::Tensor x = torch::empty({n, s, s, 3}, torch::kFloat32);
    const auto& images = Images(split);
    at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        cv::Mat img = train ? Augment(images[index[b]], Mix64(aug_seed ^ Mix64(index[b])))
                            : Plain(images[index[b]]);
        float* dst = x.data_ptr<float>() + b * s * s * 3;
        for (int r = 0; r < s; ++r) {
          const uint8_t* row = img.ptr<uint8_t>(r);
          for (int c = 0; c < s; ++c) {
            for (int k = 0; k < 3; ++k) {
              dst[(r * s + c) * 3 + k] = (row[c * 3 + k] - kMean[k]) / kStd[k];
            }
          }
        }
      }
    });
    const auto nc = static_cast<int64_t>(job_.labels.size());
    torch::Tensor target = torch::empty({n}, torch::kInt64);
    torch::Tensor mask = torch::empty({n, nc}, torch::kBool);
    for (int64_t b = 0; b < n; ++b) {
      const Example& e = Set(split)[index[b]];
      target[b] = e.label;
      for (int64_t k = 0; k < nc; ++k) mask[b][k] = static_cast<bool>((e.class_mask >> k) & 1u);
    }
    Batch batch;
    batch.inputs = {x.permute({0, 3, 1, 2})};  // NCHW shape, channels_last strides
    batch.target = target;
    batch.mask = mask;
    batch.size = n;
    return batch;
  }

  torch::jit::Module BuildModel() override {
    return BuildConvNet(job_.model, static_cast<int>(job_.labels.size()));
  }

  std::string Identity() const override { return absl::StrCat("image:", job_.model.input_size); }

  std::vector<std::string> OutputLabels() const override { return job_.labels; }

  absl::StatusOr<std::string> WriteModelFiles(const std::string& dir) override {
    std::string labels;
    for (const auto& l : job_.labels) labels += absl::StrCat(labels.empty() ? "" : ", ", l);
    const int s = job_.model.input_size;
    return absl::StrCat(
        "task: image_classification\n", "input:\n", "  width: ", s, "\n", "  height: ", s, "\n",
        "  resize: stretch\n", "  interpolation: bilinear\n", "  color: rgb\n",
        absl::StrFormat("  mean: [%.3f, %.3f, %.3f]\n", kMean[0], kMean[1], kMean[2]),
        absl::StrFormat("  std: [%.3f, %.3f, %.3f]\n", kStd[0], kStd[1], kStd[2]), "decoder:\n",
        "  type: classifier\n", "  softmax_applied: true\n", "labels: [", labels, "]\n");
  }

 private:
  ImageTask(const Job& job, Dataset data) : job_(job), data_(std::move(data)) {}

  const std::vector<Example>& Set(Split s) const {
    return s == Split::kTrain        ? data_.train
           : s == Split::kValidation ? data_.validation
                                     : data_.test;
  }
  const std::vector<cv::Mat>& Images(Split s) const {
    return s == Split::kTrain ? train_ : s == Split::kValidation ? val_ : test_;
  }

  absl::Status Init() {
    const int side = static_cast<int>(std::lround(job_.model.input_size * kCacheScale));
    for (auto [set, out] : {std::pair{&data_.train, &train_}, std::pair{&data_.validation, &val_},
                            std::pair{&data_.test, &test_}}) {
      out->resize(set->size());
      std::vector<std::string> errors(set->size());
      at::parallel_for(0, static_cast<int64_t>(set->size()), 8, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          try {
            cv::Mat img = cv::imread((*set)[i].text, cv::IMREAD_COLOR);
            if (img.empty()) {
              errors[i] = absl::StrCat("cannot decode ", (*set)[i].text);
              continue;
            }
            cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
            cv::resize(img, (*out)[i], cv::Size(side, side), 0, 0, cv::INTER_AREA);
          } catch (const cv::Exception& ex) {
            errors[i] = absl::StrCat((*set)[i].text, ": ", ex.what());
          }
        }
      });
      for (const auto& e : errors) {
        if (!e.empty()) return absl::InvalidArgumentError(e);
      }
    }
    SLOG(INFO) << "images decoded" << Kv("train", train_.size()) << Kv("validation", val_.size())
               << Kv("test", test_.size()) << Kv("side", side);
    return absl::OkStatus();
  }

  // Serving stretches the whole crop to the input size: so does evaluation.
  cv::Mat Plain(const cv::Mat& cached) const {
    const int s = job_.model.input_size;
    cv::Mat out;
    cv::resize(cached, out, cv::Size(s, s), 0, 0, cv::INTER_LINEAR);
    return out;
  }

  cv::Mat Augment(const cv::Mat& cached, uint64_t seed) const {
    const AugmentSpec& a = job_.augment;
    const int s = job_.model.input_size;
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    cv::Mat img = cached;
    if (a.rotate_degrees > 0) {
      const double angle = (u(rng) * 2 - 1) * a.rotate_degrees;
      const cv::Point2f centre(img.cols / 2.0f, img.rows / 2.0f);
      cv::Mat rot = cv::getRotationMatrix2D(centre, angle, 1.0);
      cv::Mat out;
      cv::warpAffine(img, out, rot, img.size(), cv::INTER_LINEAR, cv::BORDER_REFLECT_101);
      img = out;
    }
    // Random crop: side fraction in [crop_scale_min / cache scale, 1], random position.
    const double lo = std::min(1.0, a.crop_scale_min);
    const double frac = lo + (1.0 - lo) * u(rng);
    const int cw = std::max(8, static_cast<int>(img.cols * frac));
    const int ch =
        std::max(8, static_cast<int>(img.rows * std::clamp(frac * (0.9 + 0.2 * u(rng)), lo, 1.0)));
    const int x0 = static_cast<int>(u(rng) * (img.cols - cw + 1));
    const int y0 = static_cast<int>(u(rng) * (img.rows - ch + 1));
    cv::Mat crop = img(cv::Rect(std::min(x0, img.cols - cw), std::min(y0, img.rows - ch), cw, ch));
    cv::Mat out;
    cv::resize(crop, out, cv::Size(s, s), 0, 0, cv::INTER_LINEAR);
    if (a.flip && u(rng) < 0.5) cv::flip(out, out, 1);
    if (a.downscale_min_px > 0 && a.downscale_min_px < s && u(rng) < 0.3) {
      const int small = a.downscale_min_px + static_cast<int>(u(rng) * (s - a.downscale_min_px));
      cv::Mat tiny;
      cv::resize(out, tiny, cv::Size(small, small), 0, 0, cv::INTER_AREA);
      cv::resize(tiny, out, cv::Size(s, s), 0, 0, cv::INTER_LINEAR);
    }
    if (a.blur > 0 && u(rng) < a.blur) cv::GaussianBlur(out, out, cv::Size(3, 3), 0);
    if (a.brightness > 0 || a.contrast > 0) {
      const double alpha = 1.0 + (u(rng) * 2 - 1) * a.contrast;
      const double beta = (u(rng) * 2 - 1) * a.brightness * 255.0;
      out.convertTo(out, -1, alpha, beta + (1 - alpha) * 128.0);
    }
    return out;
  }

  const Job& job_;
  Dataset data_;
  std::vector<cv::Mat> train_, val_, test_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TaskData>> MakeImageTask(const Job& job, Dataset data) {
  try {
    return ImageTask::Create(job, std::move(data));
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("image task: ", e.what_without_backtrace()));
  } catch (const cv::Exception& e) {
    return absl::InternalError(absl::StrCat("image task: ", e.what()));
  }
}

}  // namespace stratus::training
