// DetectText (recognition.proto "DetectText"): Rekognition's text detection on the recognition
// service's own Tesseract pool (runtime/text_reader.h), no detector service involved.
//
// Recognizer::DetectText (rekognition.h) checks the image like every image operation
// (InvalidImageFormatException, ImageTooLargeException over 5 MiB of bytes), checks the filters
// (CheckTextFilters), reads the text and shapes the answer (ShapeTextDetections). Without a
// TextReader configured it answers UNIMPLEMENTED.
#ifndef STRATUS_SERVICES_RECOGNITION_DETECT_TEXT_H_
#define STRATUS_SERVICES_RECOGNITION_DETECT_TEXT_H_

#include <vector>

#include "absl/status/status.h"
#include "runtime/text_reader.h"
#include "stratus/v1/recognition.pb.h"

namespace stratus::recognition {

inline constexpr int kMaxTextLines = 50;   // AWS: at most 50 lines and 100 words per image
inline constexpr int kMaxTextWords = 100;
inline constexpr int kMaxTextRegions = 10;  // RegionsOfInterest
inline constexpr char kTextModelVersion[] = "3.0";

// INVALID_ARGUMENT (InvalidParameterException) for a MinConfidence outside [0, 100], a
// MinBoundingBoxHeight/Width outside [0, 1], more than 10 regions, a region with neither or both
// of BoundingBox and Polygon, a box outside [0, 1] or without area, a polygon of under 3 points
// or with a point outside [0, 1].
absl::Status CheckTextFilters(const stratus::v1::DetectTextFilters& filters);

// Reader output (pixels of a width x height image) -> Rekognition's TextDetections: words kept
// by the filters (recognition.proto DetectionFilter, RegionOfInterest), lines that keep at least
// one word with their text made of the words kept, lines first (in Tesseract's reading order)
// and then the words of each line in order, Ids renumbered from 0, at most 50 lines and 100 words, geometry as
// fractions of the image.
std::vector<stratus::v1::TextDetection> ShapeTextDetections(
    const std::vector<runtime::TextDetection>& read, int width, int height,
    const stratus::v1::DetectTextFilters& filters);

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_DETECT_TEXT_H_
