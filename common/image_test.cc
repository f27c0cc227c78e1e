#include "common/image.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

namespace stratus {
namespace {

using testing::HasSubstr;

std::string Encode(const cv::Mat& bgr, const std::string& ext) {
  std::vector<uchar> buf;
  cv::imencode(ext, bgr, buf);
  return std::string(buf.begin(), buf.end());
}

cv::Mat Sample(int w, int h) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.at<cv::Vec3b>(y, x) = cv::Vec3b(x % 256, y % 256, 200);
  return m;
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(ImageTest, DecodesJpegAndPngToRgb) {
  cv::Mat bgr(10, 20, CV_8UC3, cv::Scalar(255, 0, 0));  // pure blue in BGR
  for (const char* ext : {".png", ".jpg"}) {
    auto img = DecodeImage(Encode(bgr, ext));
    ASSERT_TRUE(img.ok()) << img.status();
    EXPECT_EQ(img->cols, 20);
    EXPECT_EQ(img->rows, 10);
    EXPECT_EQ(img->type(), CV_8UC3);
    cv::Vec3b px = img->at<cv::Vec3b>(5, 5);
    EXPECT_LT(px[0], 10) << ext;   // R
    EXPECT_GT(px[2], 240) << ext;  // B
  }
}

TEST(ImageTest, ProbeReadsDeclaredSize) {
  auto info = ProbeImage(Encode(Sample(33, 17), ".jpg"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->format, ImageFormat::kJpeg);
  EXPECT_EQ(info->width, 33);
  EXPECT_EQ(info->height, 17);
}

// An EXIF APP1 segment holding only the orientation tag, inserted after the JPEG's SOI.
std::string WithExifOrientation(const std::string& jpeg, uint16_t orientation) {
  std::string tiff("MM\x00\x2a\x00\x00\x00\x08", 8);                 // big-endian, IFD at 8
  tiff += std::string("\x00\x01", 2);                                     // one entry
  tiff += std::string("\x01\x12\x00\x03\x00\x00\x00\x01", 8);              // Orientation, SHORT, 1
  tiff += static_cast<char>(orientation >> 8);
  tiff += static_cast<char>(orientation & 0xFF);
  tiff += std::string("\x00\x00\x00\x00\x00\x00", 6);                      // padding, no next IFD
  std::string app1 = std::string("Exif\x00\x00", 6) + tiff;
  const size_t len = app1.size() + 2;
  std::string segment = "\xFF\xE1";
  segment += static_cast<char>(len >> 8);
  segment += static_cast<char>(len & 0xFF);
  return jpeg.substr(0, 2) + segment + app1 + jpeg.substr(2);
}

TEST(ImageTest, DecodingTurnsAJpegUprightByItsExifOrientation) {
  // 40 wide, 20 tall as stored; the left half is red (BGR 0,0,255), the right half green.
  cv::Mat bgr(20, 40, CV_8UC3, cv::Scalar(0, 255, 0));
  bgr(cv::Rect(0, 0, 20, 20)).setTo(cv::Scalar(0, 0, 255));
  const std::string stored = Encode(bgr, ".jpg");
  // Orientation 6: the stored image is shown rotated 90 degrees clockwise, so it is 20x40 and
  // its stored left half (red) becomes the top half.
  const std::string turned = WithExifOrientation(stored, 6);
  auto info = ProbeImage(turned);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->width, 40);  // the probe reports what is stored
  EXPECT_EQ(info->height, 20);
  auto img = DecodeImage(turned);
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->cols, 20);
  EXPECT_EQ(img->rows, 40);
  EXPECT_GT(img->at<cv::Vec3b>(5, 10)[0], 200);   // top: red (RGB)
  EXPECT_GT(img->at<cv::Vec3b>(35, 10)[1], 200);  // bottom: green
  // Orientation 1 leaves it as stored.
  auto upright = DecodeImage(WithExifOrientation(stored, 1));
  ASSERT_TRUE(upright.ok());
  EXPECT_EQ(upright->cols, 40);
  EXPECT_EQ(upright->rows, 20);
}

TEST(ImageTest, RejectsEmpty) {
  auto s = DecodeImage("").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(s), HasSubstr("empty"));
}

TEST(ImageTest, RejectsWrongFormat) {
  auto s = DecodeImage("GIF89a this is not what we take").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(s), HasSubstr("not an image"));
  cv::Mat m = Sample(8, 8);
  auto bmp = DecodeImage(Encode(m, ".bmp")).status();
  EXPECT_THAT(Message(bmp), HasSubstr("JPEG and PNG"));
}

TEST(ImageTest, RejectsTruncatedJpegAndPng) {
  std::string jpg = Encode(Sample(200, 200), ".jpg");
  auto s = DecodeImage(jpg.substr(0, jpg.size() / 2)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(s), HasSubstr("truncated"));
  std::string png = Encode(Sample(200, 200), ".png");
  auto p = DecodeImage(png.substr(0, png.size() / 2)).status();
  EXPECT_EQ(p.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(p), HasSubstr("truncated"));
  // Cut inside the header.
  EXPECT_FALSE(DecodeImage(jpg.substr(0, 10)).ok());
  EXPECT_FALSE(DecodeImage(png.substr(0, 20)).ok());
}

TEST(ImageTest, RejectsOversizedBytes) {
  std::string png = Encode(Sample(100, 100), ".png");
  ImageLimits limits;
  limits.max_bytes = png.size() - 1;
  auto s = DecodeImage(png, limits).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(s), HasSubstr("limit"));
}

TEST(ImageTest, RejectsHugeDeclaredDimensionsBeforeDecoding) {
  // A PNG whose header claims 100000 x 100000 pixels: a decompression bomb.
  std::string png = Encode(Sample(4, 4), ".png");
  auto put32 = [&](size_t at, uint32_t v) {
    png[at] = static_cast<char>(v >> 24);
    png[at + 1] = static_cast<char>(v >> 16);
    png[at + 2] = static_cast<char>(v >> 8);
    png[at + 3] = static_cast<char>(v);
  };
  put32(16, 100000);
  put32(20, 100000);
  auto s = DecodeImage(png).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(s), HasSubstr("100000x100000"));

  // Same for a JPEG frame header (SOF0 height/width at offset 5/7 from the marker).
  std::string jpg = Encode(Sample(16, 16), ".jpg");
  size_t sof = jpg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  jpg[sof + 5] = jpg[sof + 7] = static_cast<char>(0xFF);
  jpg[sof + 6] = jpg[sof + 8] = static_cast<char>(0xF0);
  auto j = DecodeImage(jpg).status();
  EXPECT_EQ(j.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(j), HasSubstr("65520x65520"));
}

TEST(ImageTest, EnforcesMinimumDimension) {
  ImageLimits limits;
  limits.min_dimension = 80;
  auto s = DecodeImage(Encode(Sample(79, 200), ".png"), limits).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(s), HasSubstr("at least 80"));
}

TEST(ImageTest, CorruptDataAfterValidHeader) {
  std::string jpg = Encode(Sample(64, 64), ".jpg");
  // Keep the header and the end marker, scramble the scan data in between.
  size_t sos = jpg.find("\xFF\xDA");
  ASSERT_NE(sos, std::string::npos);
  std::string bad = jpg.substr(0, sos) + std::string(20, '\0') + "\xFF\xD9";
  auto s = DecodeImage(bad);
  EXPECT_FALSE(s.ok());
}

TEST(ImageTest, ReadImageFileMissing) {
  EXPECT_EQ(ReadImageFile("/nonexistent/x.jpg", 1 << 20).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace stratus
