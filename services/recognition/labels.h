// Rekognition-style labels from COCO detections: Title Case names ("traffic light" ->
// "Traffic Light", a few renamed as Rekognition names them, e.g. "cell phone" -> "Mobile Phone")
// and parents from a small taxonomy (Car -> Vehicle, Transportation). Thread-safe.
#ifndef STRATUS_SERVICES_RECOGNITION_LABELS_H_
#define STRATUS_SERVICES_RECOGNITION_LABELS_H_

#include <string>
#include <vector>

#include "stratus/v1/detector.pb.h"
#include "stratus/v1/recognition.pb.h"

namespace stratus::recognition {

struct LabelName {
  std::string name;
  std::vector<std::string> parents;  // nearest first
};

// The Rekognition name and parents of a COCO class name.
LabelName RekognitionLabel(const std::string& coco_name);

// Groups detections (confidence in [0, 1]) into labels with instances, adds parent labels
// (confidence of their best child, no instances), keeps those >= min_confidence (0-100), sorts
// by confidence (highest first, then name) and keeps at most max_labels (< 0: all).
std::vector<stratus::v1::Label> LabelsFromDetections(
    const google::protobuf::RepeatedPtrField<stratus::v1::Detection>& detections,
    float min_confidence, int max_labels);

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_LABELS_H_
