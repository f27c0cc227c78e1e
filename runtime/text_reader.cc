// Tesseract pool and preprocessing behind TextReader (text_reader.h).
#include "runtime/text_reader.h"

#include <tesseract/baseapi.h>
#include <tesseract/resultiterator.h>

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
    auto to_rect = [&](int l, int t, int r, int b) {
      return cv::Rect(cv::Point(l / scale, t / scale), cv::Point(r / scale, b / scale));
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
          TextDetection d{TextDetection::Type::kLine,
                          s,
                          it->Confidence(tesseract::RIL_TEXTLINE),
                          to_rect(l, t, r, b),
                          static_cast<int>(out.size()),
                          -1};
          line_id = d.id;
          out.push_back(d);
          ++lines;
        }
        if (line_id < 0 || words >= options_.max_words) continue;
        std::unique_ptr<char[]> text(it->GetUTF8Text(tesseract::RIL_WORD));
        if (!text || text[0] == 0) continue;
        int l, t, r, b;
        it->BoundingBox(tesseract::RIL_WORD, &l, &t, &r, &b);
        out.push_back({TextDetection::Type::kWord, text.get(), it->Confidence(tesseract::RIL_WORD),
                       to_rect(l, t, r, b), static_cast<int>(out.size()), line_id});
        ++words;
      } while (it->Next(tesseract::RIL_WORD));
  }
  return out;
}

}  // namespace stratus::runtime
