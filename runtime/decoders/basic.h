// The built-in decoders (see runtime/decoder.h for the interface and runtime/MODELS.md for the
// output contracts and config keys of each).
#ifndef STRATUS_RUNTIME_DECODERS_BASIC_H_
#define STRATUS_RUNTIME_DECODERS_BASIC_H_

#include <memory>

#include "absl/status/statusor.h"
#include "runtime/decoder.h"

namespace stratus::runtime {

// ssd: outputs (boxes [B,K,4] as (ymin,xmin,ymax,xmax) fractions of the model input,
// scores [B,K] (one class) or [B,K,C]). Keys: score_threshold (0.5), iou_threshold (0.5),
// max_results (100).
absl::StatusOr<std::unique_ptr<Decoder>> CreateSsdDecoder(const DecoderContext& c);
// yolo: YOLOv5 [B,N,5+C] or YOLOv8 [B,4+C,N] (first output), xywh in input pixels. Keys:
// layout (auto|v5|v8), score_threshold (0.25), iou_threshold (0.45), max_results (100),
// class_agnostic (false).
absl::StatusOr<std::unique_ptr<Decoder>> CreateYoloDecoder(const DecoderContext& c);
// classifier: [B,C] logits. Keys: activation (softmax|sigmoid|none, default softmax).
absl::StatusOr<std::unique_ptr<Decoder>> CreateClassifierDecoder(const DecoderContext& c);
// embedding: [B,D] (trailing 1-dims allowed). Keys: normalize (false).
absl::StatusOr<std::unique_ptr<Decoder>> CreateEmbeddingDecoder(const DecoderContext& c);
// landmarks68: [B,136] interleaved x,y as fractions of the model input.
absl::StatusOr<std::unique_ptr<Decoder>> CreateLandmarks68Decoder(const DecoderContext& c);
// age_gender: (age [B] or [B,1], gender [B,2]). Keys: gender_activation (softmax|none,
// default softmax: the model returns logits).
absl::StatusOr<std::unique_ptr<Decoder>> CreateAgeGenderDecoder(const DecoderContext& c);

}  // namespace stratus::runtime

#endif  // STRATUS_RUNTIME_DECODERS_BASIC_H_
