#include "training/report.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/logging.h"

namespace stratus::training {

absl::Status WriteFileAtomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("open ", tmp, ": ", std::strerror(errno)));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return absl::InternalError(absl::StrCat("write ", tmp, ": ", std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("fsync ", tmp, ": ", std::strerror(errno)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("rename ", tmp, ": ", std::strerror(errno)));
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

namespace {

void DrawPanel(cv::Mat& img, cv::Rect area, const std::string& title, const std::vector<double>& a,
               const std::vector<double>& b, bool unit_range) {
  const cv::Scalar kAxis(60, 60, 60), kTrain(200, 90, 30), kVal(30, 110, 230);
  cv::rectangle(img, area, kAxis, 1);
  cv::putText(img, title, {area.x + 6, area.y - 8}, cv::FONT_HERSHEY_SIMPLEX, 0.5, kAxis, 1,
              cv::LINE_AA);
  const size_t n = std::max(a.size(), b.size());
  if (n == 0) return;
  double lo = unit_range ? 0.0 : 1e30, hi = unit_range ? 1.0 : -1e30;
  if (!unit_range) {
    for (const auto* v : {&a, &b}) {
      for (double x : *v) {
        if (!std::isfinite(x)) continue;
        lo = std::min(lo, x);
        hi = std::max(hi, x);
      }
    }
    if (hi <= lo) hi = lo + 1.0;
    lo = std::max(0.0, lo - 0.05 * (hi - lo));
  }
  auto pt = [&](size_t i, double v) {
    const double x = n == 1 ? 0.5 : static_cast<double>(i) / (n - 1);
    const double y = (v - lo) / (hi - lo);
    return cv::Point(area.x + 10 + static_cast<int>(x * (area.width - 20)),
                     area.y + area.height - 10 - static_cast<int>(y * (area.height - 20)));
  };
  for (int k = 0; k <= 4; ++k) {  // y grid with values
    const double v = lo + (hi - lo) * k / 4.0;
    const cv::Point p = pt(0, v);
    cv::line(img, {area.x, p.y}, {area.x + area.width, p.y}, cv::Scalar(225, 225, 225), 1);
    cv::putText(img, absl::StrFormat("%.3g", v), {area.x - 44, p.y + 4}, cv::FONT_HERSHEY_SIMPLEX,
                0.35, kAxis, 1, cv::LINE_AA);
  }
  for (const auto& [v, colour] : {std::pair{&a, kTrain}, std::pair{&b, kVal}}) {
    for (size_t i = 0; i < v->size(); ++i) {
      cv::circle(img, pt(i, (*v)[i]), 3, colour, -1, cv::LINE_AA);
      if (i > 0) cv::line(img, pt(i - 1, (*v)[i - 1]), pt(i, (*v)[i]), colour, 2, cv::LINE_AA);
    }
  }
  cv::putText(img, absl::StrCat("epoch 1..", n),
              {area.x + area.width / 2 - 30, area.y + area.height + 18}, cv::FONT_HERSHEY_SIMPLEX,
              0.4, kAxis, 1, cv::LINE_AA);
}

}  // namespace

absl::Status WriteCurvesPng(const Curves& c, const std::string& title, const std::string& path) {
  try {
    cv::Mat img(360, 820, CV_8UC3, cv::Scalar(255, 255, 255));
    cv::putText(img, title, {16, 22}, cv::FONT_HERSHEY_SIMPLEX, 0.55, cv::Scalar(0, 0, 0), 1,
                cv::LINE_AA);
    DrawPanel(img, cv::Rect(60, 60, 320, 250), "loss", c.train_loss, c.val_loss, false);
    DrawPanel(img, cv::Rect(470, 60, 320, 250), "accuracy", c.train_acc, c.val_acc, true);
    cv::putText(img, "train", {620, 22}, cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(200, 90, 30), 2,
                cv::LINE_AA);
    cv::putText(img, "validation", {690, 22}, cv::FONT_HERSHEY_SIMPLEX, 0.5,
                cv::Scalar(30, 110, 230), 2, cv::LINE_AA);
    std::vector<uchar> png;
    if (!cv::imencode(".png", img, png)) return absl::InternalError("PNG encoding failed");
    return WriteFileAtomic(path, std::string(png.begin(), png.end()));
  } catch (const cv::Exception& e) {
    return absl::InternalError(absl::StrCat("plot: ", e.what()));
  }
}

Progress::Progress(bool tty, double log_every_seconds) : tty_(tty), log_every_(log_every_seconds) {}

void Progress::StartEpoch(int epoch, int epochs, int64_t steps, int64_t first_step) {
  epoch_ = epoch;
  epochs_ = epochs;
  steps_ = steps;
  first_step_ = first_step;
  samples_ = 0;
  start_ = last_log_ = std::chrono::steady_clock::now();
}

void Progress::Update(int64_t step, int64_t samples, double loss) {
  samples_ += samples;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const int64_t done = step - first_step_;
  const double rate = elapsed > 0 ? samples_ / elapsed : 0.0;
  const double eta = done > 0 ? elapsed / done * (steps_ - step) : 0.0;
  if (tty_) {
    constexpr int kWidth = 28;
    const int filled = steps_ > 0 ? static_cast<int>(kWidth * step / steps_) : 0;
    const std::string line =
        absl::StrFormat("\repoch %d/%d [%s%s] %d/%d %.0f samples/s ETA %d:%02d loss %.4f  ", epoch_,
                        epochs_, std::string(filled, '#'), std::string(kWidth - filled, '.'), step,
                        steps_, rate, static_cast<int>(eta) / 60, static_cast<int>(eta) % 60, loss);
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
    return;
  }
  if (std::chrono::duration<double>(now - last_log_).count() >= log_every_) {
    last_log_ = now;
    SLOG(INFO) << "training" << Kv("epoch", epoch_) << Kv("step", step) << Kv("steps", steps_)
               << Kv("samples_per_s", absl::StrFormat("%.0f", rate))
               << Kv("eta_s", absl::StrFormat("%.0f", eta))
               << Kv("loss", absl::StrFormat("%.4f", loss));
  }
}

void Progress::EndEpoch() {
  if (tty_) std::fputs("\n", stderr);
}

}  // namespace stratus::training
