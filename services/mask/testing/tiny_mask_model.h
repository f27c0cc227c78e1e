// A tiny TorchScript mask classifier written by tests (torch::jit::Module::define, no Python),
// so the mask service can be tested end to end without the trained model.
//
// Folder `mask` (task image_classification, classifier decoder with softmax, labels [with_mask,
// without_mask, mask_worn_incorrectly], stretch to 16x16, RGB, mean 0, std 255): the logits are
// 8 * (mean red, mean green, mean blue) of the input, so a red crop is "with_mask", a green one
// "without_mask" and a blue one "mask_worn_incorrectly", each with probability > 0.99 when the
// colour is pure. A test can therefore tell which pixels reached the model.
//
// Header without LibTorch; the .cc includes <torch/script.h>.
#ifndef STRATUS_SERVICES_MASK_TESTING_TINY_MASK_MODEL_H_
#define STRATUS_SERVICES_MASK_TESTING_TINY_MASK_MODEL_H_

#include <string>

#include "absl/status/status.h"

namespace stratus::mask::testing {

// Writes `<dir>/<name>/{model.pt,config.yaml}` (folders created if needed).
absl::Status WriteTinyMaskModel(const std::string& dir, const std::string& name = "mask");

}  // namespace stratus::mask::testing

#endif  // STRATUS_SERVICES_MASK_TESTING_TINY_MASK_MODEL_H_
