// Rekognition's face shapes computed from the detector's FaceAnalysis: FaceDetail (landmarks
// mapped from the 68 iBUG points, pose, quality, attributes), the quality filter, and the
// descriptor-distance <-> similarity mapping. Pure functions, thread-safe.
#ifndef STRATUS_SERVICES_RECOGNITION_FACE_DETAIL_H_
#define STRATUS_SERVICES_RECOGNITION_FACE_DETAIL_H_

#include <vector>

#include "stratus/v1/detector.pb.h"
#include "stratus/v1/recognition.pb.h"

namespace stratus::recognition {

// similarity(d) = 100 / (1 + exp(K (d - D0))), K = 20, D0 = 0.6 + ln(4)/K: d = 0.6 -> 80
// (recognition.proto's file comment).
float SimilarityFromDistance(float distance);
// The largest distance whose similarity is >= `threshold` (0-100): threshold 80 -> 0.6.
float MaxDistanceForSimilarity(float threshold);

// Which optional attributes a request asked for (Rekognition's Attributes list).
struct AttributeSet {
  bool age_range = false, gender = false, emotions = false, smile = false, eyes_open = false,
       mouth_open = false, eye_direction = false;
  bool NeedsModelAttributes() const { return age_range || gender || emotions || smile; }
};
AttributeSet ParseAttributes(const google::protobuf::RepeatedField<int>& attributes);

// The 30 Rekognition landmarks from the 68 iBUG points (normalised image coordinates).
// "Left"/"right" are as seen in the image, as Rekognition reports them (eyeLeft has the smaller
// X on a frontal face). Empty when the analysis has fewer than 68 points.
std::vector<stratus::v1::Landmark> RekognitionLandmarks(const stratus::v1::FaceAnalysis& face);

// FaceDetail of one analysed face. `image` is the decoded image size (for pixel ratios).
// Attributes:
//   AgeRange  [floor(0.8 a), ceil(1.2 a)] clipped to [0, 100];
//   Gender    face-api's gender and probability;
//   Emotions  face-api's expressions mapped as recognition.proto says, highest first;
//   Smile     the "happy" expression when the attribute models ran (probability > 0.5), else
//             mouth width over the distance between the eye centres (> 0.87);
//   EyesOpen  eye aspect ratio (|37-41| + |38-40|) / 2|36-39|, both eyes averaged, > 0.2;
//   MouthOpen inner-lip gap |62-66| over mouth width |48-54| > 0.12;
//   EyeDirection the detector's eye gaze (face_iris), confidence the face's; absent without
//             that model.
// Landmark-derived confidences grow with the distance from the threshold (50 at it, 99 far).
stratus::v1::FaceDetail ToFaceDetail(const stratus::v1::FaceAnalysis& face,
                                     const AttributeSet& attributes,
                                     const stratus::v1::ImageSize& image);

// Why a face fails a quality filter (empty = passes). Bars per level (one table, in the .cc):
//            min confidence  min box side (px)  max |yaw|,|pitch|  min brightness  min sharpness
//   LOW/AUTO       50              16                80, 60              5               2
//   MEDIUM         80              40                60, 45             15              10
//   HIGH           95              64                40, 30             25              20
// NONE and UNSPECIFIED pass everything.
std::vector<stratus::v1::UnindexedFace::Reason> QualityReasons(
    const stratus::v1::FaceAnalysis& face, stratus::v1::QualityFilter::Value filter,
    const stratus::v1::ImageSize& image);

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_FACE_DETAIL_H_
