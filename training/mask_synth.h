// Synthesises masks on unmasked face crops (torch-free, OpenCV), for the mask classifier's
// third class, mask_worn_incorrectly, which ../shared/data/masks lacks (see training/MASK.md).
//
// The face is assumed to fill the crop (the data set's without_mask images are face crops):
// nose tip near 58% of the height, mouth near 75%, chin near 95%. A surgical or cloth mask
// (colour, pleats, shading, ear loops, all drawn at random from a seeded generator) is drawn:
//   kBelowNose: top edge between 64% and 70% of the height: mouth and chin covered, nose bare;
//   kOnChin:    top edge between 80% and 86%: the mask pulled down under the mouth;
//   kCorrect:   top edge between 40% and 47%: nose, mouth and chin covered (labelled
//               with_mask, so that synthetic texture alone does not tell the classes apart).
#ifndef STRATUS_TRAINING_MASK_SYNTH_H_
#define STRATUS_TRAINING_MASK_SYNTH_H_

#include <cstdint>
#include <opencv2/core.hpp>
#include <vector>

namespace stratus::training {

enum class MaskPlacement { kBelowNose, kOnChin, kCorrect };

// Returns a copy of `face` (BGR, 8-bit, 3 channels) with a mask drawn on it.
cv::Mat DrawSyntheticMask(const cv::Mat& face, MaskPlacement placement, uint64_t seed);

// The same, placed from the 68 facial landmarks (iBUG order, image pixels) of one face in
// `image`: the mask's top edge runs across the nose bridge (kCorrect), just under the nose base
// (kBelowNose) or under the lower lip (kOnChin), its sides and bottom follow the jaw line.
// `landmarks` must hold 68 points.
cv::Mat DrawSyntheticMaskOnLandmarks(const cv::Mat& image,
                                     const std::vector<cv::Point2f>& landmarks,
                                     MaskPlacement placement, uint64_t seed);

}  // namespace stratus::training

#endif  // STRATUS_TRAINING_MASK_SYNTH_H_
