// Image preprocessing for a model input: pad/resize policy, colour order and normalisation,
// written straight into the float buffer the model reads (one pass, no temporaries).
//
// Resampling matches the frameworks the models come from: `tf_bilinear` reproduces TensorFlow's
// resizeBilinear (alignCorners=false, halfPixelCenters=false) bit for bit in float32, including
// face-api's "pad with zeros first, then resize" (the padding is virtual: never materialised).
// Thread-safe (pure functions).
#ifndef STRATUS_RUNTIME_PREPROCESS_H_
#define STRATUS_RUNTIME_PREPROCESS_H_

#include <opencv2/core.hpp>

#include "absl/status/status.h"
#include "runtime/decoder.h"
#include "runtime/model_config.h"

namespace stratus::runtime {

// Where an image of `image_width` x `image_height` lands in the model input (see InputGeometry).
InputGeometry ComputeGeometry(int image_width, int image_height, const InputSpec& spec);

enum class Layout { kNCHW, kNHWC };

// Writes one image into `out` (3 * spec.height * spec.width floats) in `layout`, normalised:
// (pixel - mean[c]) / std[c], channel c in the model's colour order. `rgb` is 8-bit, 3 channels
// (RGB order), any stride (an ROI of a larger Mat works). InvalidArgument for an empty image or
// another type.
absl::Status PreprocessImage(const cv::Mat& rgb, const InputSpec& spec, Layout layout,
                             float* out, InputGeometry* geometry);

}  // namespace stratus::runtime

#endif  // STRATUS_RUNTIME_PREPROCESS_H_
