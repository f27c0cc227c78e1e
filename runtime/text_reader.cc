// Tesseract pool and preprocessing behind TextReader (text_reader.h).
#include "runtime/text_reader.h"

#include <tesseract/baseapi.h>
#include <tesseract/resultiterator.h>

#include <cmath>
#include <condition_variable>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "opencv2/imgproc.hpp"

namespace stratus::runtime {

struct TextReader::Pool {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<tesseract::TessBaseAPI>> all;
  std::vector<tesseract::TessBaseAPI*> free;
};

namespace {

// One engine of the pool for one call; cleared and handed back when it goes out of scope, so
// an exception inside Tesseract cannot lose it.
template <typename Pool>
class EngineLease {
 public:
  explicit EngineLease(Pool& pool) : pool_(pool) {
    std::unique_lock<std::mutex> lock(pool_.mu);
    pool_.cv.wait(lock, [&] { return !pool_.free.empty(); });
    api_ = pool_.free.back();
    pool_.free.pop_back();
  }
  ~EngineLease() {
    api_->Clear();
    {
      std::lock_guard<std::mutex> lock(pool_.mu);
      pool_.free.push_back(api_);
    }
    pool_.cv.notify_one();
  }
  EngineLease(const EngineLease&) = delete;
  EngineLease& operator=(const EngineLease&) = delete;
  tesseract::TessBaseAPI* operator->() const { return api_; }

 private:
  Pool& pool_;
  tesseract::TessBaseAPI* api_;
};

}  // namespace

std::array<cv::Point2f, 4> TextPolygon(const cv::Rect2f& box, double angle) {
  const cv::Point2f tl = box.tl(), br = box.br();
  const std::array<cv::Point2f, 4> corners = {tl, cv::Point2f(br.x, tl.y), br,
                                              cv::Point2f(tl.x, br.y)};
  const double c = std::abs(std::cos(angle)), s = std::abs(std::sin(angle));
  if (s < std::sin(M_PI / 180) || c - s < 0.05) return corners;
  // W = L c + h s and H = L s + h c for text of length L and height h.
  const double W = box.width, H = box.height, det = c * c - s * s;
  const double L = (W * c - H * s) / det, h = (H * c - W * s) / det;
  if (L <= 0 || h <= 0) return corners;
  const cv::Point2d centre(box.x + W / 2, box.y + H / 2);
  const cv::Point2d u(std::cos(angle), std::sin(angle)), v(-std::sin(angle), std::cos(angle));
  auto at = [&](double a, double b) {
    const cv::Point2d p = centre + u * (a * L / 2) + v * (b * h / 2);
    return cv::Point2f(static_cast<float>(p.x), static_cast<float>(p.y));
  };
  return {at(-1, -1), at(1, -1), at(1, 1), at(-1, 1)};
}

TextReader::TextReader(const Options& options) : options_(options), pool_(new Pool) {}
TextReader::~TextReader() {
  for (auto& api : pool_->all) api->End();
}

absl::StatusOr<std::unique_ptr<TextReader>> TextReader::Create(const Options& options) {
  std::unique_ptr<TextReader> reader(new TextReader(options));
  // nullptr: Tesseract's own search ($TESSDATA_PREFIX, else the folder it was built for).
  const char* dir = options.tessdata_dir.empty() ? nullptr : options.tessdata_dir.c_str();
  for (int i = 0; i < std::max(1, options.instances); ++i) {
    auto api = std::make_unique<tesseract::TessBaseAPI>();
    if (api->Init(dir, options.language.c_str(), tesseract::OEM_LSTM_ONLY) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("tesseract: cannot load language ", options.language, " from ",
                       dir != nullptr ? dir : "the default tessdata folder (set TESSDATA_PREFIX)"));
    }
    api->SetPageSegMode(tesseract::PSM_SPARSE_TEXT);
    reader->pool_->free.push_back(api.get());
    reader->pool_->all.push_back(std::move(api));
  }
  return reader;
}

absl::StatusOr<std::vector<TextDetection>> TextReader::Read(const cv::Mat& bgr) {
  if (bgr.empty()) return absl::InvalidArgumentError("empty image");
  cv::Mat grey;
  if (bgr.channels() == 3)
    cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  else
    grey = bgr;
  double scale = 1;
  if (options_.preprocess) {
    // Tesseract reads best at about 30 px per text line: small images are upscaled.
    if (std::max(grey.cols, grey.rows) < 1600) scale = 2;
    if (scale != 1) cv::resize(grey, grey, cv::Size(), scale, scale, cv::INTER_CUBIC);
    cv::threshold(grey, grey, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
    // Dark text on light: when most pixels are dark the text is light, so invert.
    if (static_cast<size_t>(cv::countNonZero(grey)) < grey.total() / 2) cv::bitwise_not(grey, grey);
  }
  EngineLease<Pool> api(*pool_);
  std::vector<TextDetection> out;
  api->SetImage(grey.data, grey.cols, grey.rows, 1, static_cast<int>(grey.step));
  if (api->Recognize(nullptr) != 0) return absl::InternalError("tesseract: recognition failed");
  {
    std::unique_ptr<tesseract::ResultIterator> it(api->GetIterator());
    int lines = 0, words = 0, line_id = -1;
    double line_angle = 0;
    auto to_rect = [&](int l, int t, int r, int b) {
      return cv::Rect(cv::Point(l / scale, t / scale), cv::Point(r / scale, b / scale));
    };
    auto polygon = [&](int l, int t, int r, int b) {
      return TextPolygon(cv::Rect2f(cv::Point2f(l / scale, t / scale),
                                    cv::Point2f(r / scale, b / scale)),
                         line_angle);
    };
    if (it) do {
        if (it->IsAtBeginningOf(tesseract::RIL_TEXTLINE)) {
          std::unique_ptr<char[]> text(it->GetUTF8Text(tesseract::RIL_TEXTLINE));
          std::string s = text ? text.get() : "";
          while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
          if (s.empty() || lines >= options_.max_lines) {
            line_id = -1;
            continue;
          }
          int l, t, r, b;
          it->BoundingBox(tesseract::RIL_TEXTLINE, &l, &t, &r, &b);
          // The line's baseline angle, used for its words too (a word's baseline is short).
          int x1, y1, x2, y2;
          line_angle = it->Baseline(tesseract::RIL_TEXTLINE, &x1, &y1, &x2, &y2) && x2 != x1
                           ? std::atan2(double(y2 - y1), double(x2 - x1))
                           : 0;
          TextDetection d;
          d.type = TextDetection::Type::kLine;
          d.text = s;
          d.confidence = it->Confidence(tesseract::RIL_TEXTLINE);
          d.box = to_rect(l, t, r, b);
          d.polygon = polygon(l, t, r, b);
          d.id = static_cast<int>(out.size());
          d.parent_id = -1;
          line_id = d.id;
          out.push_back(d);
          ++lines;
        }
        if (line_id < 0 || words >= options_.max_words) continue;
        std::unique_ptr<char[]> text(it->GetUTF8Text(tesseract::RIL_WORD));
        if (!text || text[0] == 0) continue;
        int l, t, r, b;
        it->BoundingBox(tesseract::RIL_WORD, &l, &t, &r, &b);
        TextDetection d;
        d.type = TextDetection::Type::kWord;
        d.text = text.get();
        d.confidence = it->Confidence(tesseract::RIL_WORD);
        d.box = to_rect(l, t, r, b);
        d.polygon = polygon(l, t, r, b);
        d.id = static_cast<int>(out.size());
        d.parent_id = line_id;
        out.push_back(std::move(d));
        ++words;
      } while (it->Next(tesseract::RIL_WORD));
  }
  return out;
}

}  // namespace stratus::runtime
