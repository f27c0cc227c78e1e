// stratus-bench-text: DetectText's reader (TextReader, Tesseract 5) measured on words rendered
// over real photos. Word recall (ground-truth words read exactly, case-insensitive, punctuation
// stripped) and precision (words read that are ground truth), per text height, rotation and
// backing (a sign-like plate behind the text, or bare text over the photo).
//   stratus-bench-text [--seed N] [--per-condition N] [--sample OUT.png] IMAGE_DIR...
// --sample writes one rendered image (plate, level, 48 px) of the first image, prints its words
// as a JSON list and exits (tests/e2e/rekognition/text.png and text.json were made so).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "opencv2/imgcodecs.hpp"
#include "opencv2/imgproc.hpp"
#include "runtime/text_reader.h"

namespace {

const std::vector<std::string> kWords = {
    "OPEN",  "CLOSED", "EXIT",   "PARKING", "STOP",    "HOTEL",  "COFFEE", "BAKERY", "STREET",
    "MAIN",  "NORTH",  "SOUTH",  "STATION", "TICKETS", "SALE",   "PHARMACY", "BANK", "MARKET",
    "Cafe",  "Books",  "Garden", "Museum",  "Library", "Police", "Taxi",   "Hospital", "Bus",
    "Welcome", "Entrance", "Office", "Pizza", "Fresh", "Daily", "Centre", "Route", "Avenue"};

std::string Norm(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) out += std::tolower(static_cast<unsigned char>(c));
  }
  return out;
}

struct Sample {
  cv::Mat image;
  std::vector<std::string> words;
};

// Three random words on one line, `height` px tall capitals, turned `degrees`, on `bg`.
Sample Render(const cv::Mat& bg_in, int height, double degrees, bool plate, std::mt19937& rng) {
  cv::Mat bg;
  const double f = 1024.0 / std::max(bg_in.cols, bg_in.rows);
  cv::resize(bg_in, bg, cv::Size(), f, f, cv::INTER_AREA);
  Sample s;
  std::string text;
  for (int i = 0; i < 3; ++i) {
    s.words.push_back(kWords[rng() % kWords.size()]);
    text += (i ? " " : "") + s.words.back();
  }
  const int font = cv::FONT_HERSHEY_DUPLEX;
  const double scale = cv::getFontScaleFromHeight(font, height, 2);
  const int thick = std::max(1, height / 10);
  int base = 0;
  cv::Size ts = cv::getTextSize(text, font, scale, thick, &base);
  // Text on its own canvas with margin, mask alongside; rotated, then composited.
  const int m = height;
  cv::Mat mask(ts.height + base + 2 * m, ts.width + 2 * m, CV_8U, cv::Scalar(0));
  cv::Mat plate_mask = mask.clone();
  cv::putText(mask, text, {m, m + ts.height}, font, scale, 255, thick, cv::LINE_AA);
  cv::rectangle(plate_mask, {m / 2, m / 2}, {mask.cols - m / 2, mask.rows - m / 2}, 255, -1);
  const cv::Point2f c(mask.cols / 2.f, mask.rows / 2.f);
  cv::Mat rot = cv::getRotationMatrix2D(c, -degrees, 1.0);  // positive = clockwise on screen
  cv::Rect2f bb = cv::RotatedRect(c, mask.size(), static_cast<float>(degrees)).boundingRect2f();
  rot.at<double>(0, 2) += bb.width / 2 - c.x;
  rot.at<double>(1, 2) += bb.height / 2 - c.y;
  cv::Size out(static_cast<int>(bb.width), static_cast<int>(bb.height));
  if (out.width >= bg.cols || out.height >= bg.rows) return s;  // does not fit: skipped
  cv::Mat m1, m2;
  cv::warpAffine(mask, m1, rot, out);
  cv::warpAffine(plate_mask, m2, rot, out);
  const int x = rng() % (bg.cols - out.width), y = rng() % (bg.rows - out.height);
  cv::Mat roi = bg(cv::Rect(x, y, out.width, out.height));
  const double mean = cv::mean(roi)[0];
  const bool dark_text = plate ? (rng() % 2 == 0) : mean > 110;
  const cv::Scalar ink = dark_text ? cv::Scalar(20, 20, 20) : cv::Scalar(245, 245, 245);
  const cv::Scalar paper = dark_text ? cv::Scalar(235, 235, 225) : cv::Scalar(40, 90, 30);
  cv::Mat layer(roi.size(), roi.type(), paper);
  if (plate) roi.setTo(paper, m2);
  layer.setTo(ink);
  for (int r = 0; r < roi.rows; ++r) {
    for (int q = 0; q < roi.cols; ++q) {
      const float a = m1.at<uchar>(r, q) / 255.f;
      auto& p = roi.at<cv::Vec3b>(r, q);
      for (int k = 0; k < 3; ++k) p[k] = cv::saturate_cast<uchar>(p[k] * (1 - a) + ink[k] * a);
    }
  }
  s.image = bg;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned seed = 7;
  int per = 12;
  std::string sample_out;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--seed" && i + 1 < argc) seed = std::stoul(argv[++i]);
    else if (a == "--per-condition" && i + 1 < argc) per = std::stoi(argv[++i]);
    else if (a == "--sample" && i + 1 < argc) sample_out = argv[++i];
    else if (std::filesystem::is_directory(a)) {
      for (const auto& e : std::filesystem::directory_iterator(a)) {
        const auto ext = e.path().extension().string();
        if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") files.push_back(e.path().string());
      }
    } else {
      std::cerr << "usage: stratus-bench-text [--seed N] [--per-condition N] [--sample OUT.png] "
                   "IMAGE_DIR...\n";
      return 2;
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::cerr << "no JPEG or PNG images in the folders given\n";
    return 2;
  }
  std::mt19937 rng(seed);
  if (!sample_out.empty()) {
    Sample s = Render(cv::imread(files[0]), 48, 0, true, rng);
    if (s.image.empty() || !cv::imwrite(sample_out, s.image)) return 1;
    std::printf("[\"%s\", \"%s\", \"%s\"]\n", s.words[0].c_str(), s.words[1].c_str(),
                s.words[2].c_str());  // the words, as JSON
    return 0;
  }
  auto reader = stratus::runtime::TextReader::Create({});
  if (!reader.ok()) {
    std::cerr << reader.status() << "\n";
    return 1;
  }
  std::printf("%zu background photos, seed %u, %d images per condition, 3 words each\n",
              files.size(), seed, per);
  std::printf("%-6s %-8s %-6s %7s %9s %6s\n", "height", "rotation", "plate", "recall", "precision",
              "ms");
  long all_gt = 0, all_hit = 0, all_pred = 0, all_good = 0;
  for (bool plate : {true, false}) {
    for (int height : {12, 24, 48}) {
      for (double deg : {0.0, 10.0, 30.0}) {
        long gt = 0, hit = 0, pred = 0, good = 0;
        double ms = 0;
        for (int n = 0; n < per; ++n) {
          cv::Mat bg = cv::imread(files[rng() % files.size()]);
          if (bg.empty()) continue;
          Sample s = Render(bg, height, deg, plate, rng);
          if (s.image.empty()) continue;
          const auto t0 = cv::getTickCount();
          auto got = (*reader)->Read(s.image);
          ms += (cv::getTickCount() - t0) * 1000.0 / cv::getTickFrequency();
          if (!got.ok()) continue;
          std::map<std::string, int> want;
          for (const auto& w : s.words) ++want[Norm(w)];
          gt += s.words.size();
          std::map<std::string, int> left = want;
          for (const auto& d : *got) {
            if (d.type != stratus::runtime::TextDetection::Type::kWord) continue;
            const std::string w = Norm(d.text);
            if (w.empty()) continue;
            ++pred;
            if (want.count(w)) ++good;  // a true word, however often read
            if (left[w] > 0) {
              --left[w];
              ++hit;
            }
          }
        }
        std::printf("%-6d %-8.0f %-6s %7.3f %9.3f %6.0f\n", height, deg, plate ? "yes" : "no",
                    gt ? double(hit) / gt : 0, pred ? double(good) / pred : 0, ms / per);
        all_gt += gt, all_hit += hit, all_pred += pred, all_good += good;
      }
    }
  }
  std::printf("all: word recall %.3f (%ld/%ld), precision %.3f (%ld/%ld)\n",
              all_gt ? double(all_hit) / all_gt : 0, all_hit, all_gt,
              all_pred ? double(all_good) / all_pred : 0, all_good, all_pred);
  return 0;
}
