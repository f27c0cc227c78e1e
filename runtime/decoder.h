// Output decoders: turn a model's raw output tensors into per-image predictions.
//
// A decoder is chosen by `decoder.type` in a model's config.yaml. It never sees LibTorch: the
// runtime copies every output of the TorchScript forward into an `OutputTensor` (contiguous
// float32 on the CPU, batch first) and hands the decoder those plus, per image, the geometry of
// the preprocessing (`InputGeometry`) so boxes can be mapped back to the original image.
//
// Lifecycle: the runtime creates one decoder per model at load time through `CreateDecoder()`
// (which reads the decoder-specific keys from `DecoderContext::params`), calls `CheckOutputs()`
// once on the outputs of a dummy warm-up batch (a shape the decoder does not expect fails the
// model with the returned message), then `Decode()` for every batch.
//
// Thread safety: `Decode()` and `CheckOutputs()` are const and are called concurrently from
// many threads; decoders hold no mutable state.
//
// Every detection decoder also takes `score_calibration: {a: A, b: B}` (A > 0): the confidence
// it reports is then sigmoid(A * logit(raw score) + B), and the config's `score_threshold` and
// DecodeOptions::min_confidence are on that calibrated scale (see runtime/MODELS.md).
//
// Adding a decoder: implement `Decoder` in runtime/decoders/<type>.{h,cc} exposing
// `absl::StatusOr<std::unique_ptr<Decoder>> Create<Type>Decoder(const DecoderContext&)`,
// and add a line to the table in runtime/decoder.cc.
#ifndef STRATUS_RUNTIME_DECODER_H_
#define STRATUS_RUNTIME_DECODER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace stratus::runtime {

// One output of the model's forward, for the whole batch. `shape[0]` is the batch size for
// every output the built-in decoders accept. Outputs are in the order the TorchScript forward
// returns them: a single tensor is one output; a tuple or list is flattened in order (nested
// tuples/lists depth first); a dict is flattened in the order of its keys as returned.
struct OutputTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;  // row-major, size == product(shape)

  int64_t dim(int i) const { return shape.at(static_cast<size_t>(i)); }
  int64_t numel() const;
  // Elements of batch item `b` (assumes shape[0] is the batch).
  absl::Span<const float> item(int64_t b) const;
  std::string ShapeString() const;  // "[1,5118,4]"
};

// How one image was mapped onto the model input. An image pixel coordinate (x, y) (continuous,
// 0..image_width) lands at input coordinate (x * scale_x + offset_x, y * scale_y + offset_y).
// Decoders use `InputToImageFraction*()` to map boxes/points in input pixels back to fractions
// of the original image; the mapping undoes stretch, letterbox and pad_bottom_right alike.
struct InputGeometry {
  int image_width = 0;   // the original image (or crop) given to the model
  int image_height = 0;
  int input_width = 0;   // the model input (config input.width/height)
  int input_height = 0;
  double scale_x = 1.0;
  double scale_y = 1.0;
  double offset_x = 0.0;  // padding before the image content, in input pixels
  double offset_y = 0.0;

  // Input pixel coordinate -> fraction of the original image (not clamped).
  double InputToImageFractionX(double input_x) const {
    return (input_x - offset_x) / scale_x / image_width;
  }
  double InputToImageFractionY(double input_y) const {
    return (input_y - offset_y) / scale_y / image_height;
  }
};

// A box as fractions of the image, like Rekognition's BoundingBox.
struct Box {
  float left = 0;
  float top = 0;
  float width = 0;
  float height = 0;
};

struct Point {
  float x = 0;  // fractions of the image unless stated otherwise
  float y = 0;
};

struct Detection {
  std::string label;      // labels[class_id] from the config, or the id as text
  int class_id = 0;
  float confidence = 0;   // 0..1
  Box box;                // fractions of the original image, clamped to [0, 1]
  std::vector<Point> landmarks;  // optional keypoints, fractions of the original image
};

// What a decoder produces for one image. Only the fields of the decoder's task are filled.
struct Prediction {
  // ssd, yolo, nanodet, centernet: sorted by decreasing confidence, after NMS.
  std::vector<Detection> detections;
  // classifier: one probability (or raw score with `activation: none`) per class.
  // age_gender: gender probabilities in the order of the config's `labels` (e.g. [male, female]).
  std::vector<float> probabilities;
  // embedding: the vector (L2-normalised when the config says `normalize: true`).
  std::vector<float> embedding;
  // landmarks68: 68 points as fractions of the image (crop) given to the model, padding undone.
  std::vector<Point> landmarks;
  // age_gender: age in years.
  std::optional<float> age;
};

// Per-call options. Decoders that do not detect ignore them.
struct DecodeOptions {
  // Detections below this are dropped. Unset: the config's `score_threshold` (decoder default).
  std::optional<float> min_confidence;
  // Keep at most this many detections per image. Unset: the config's `max_results`.
  std::optional<int> max_results;
  // Keep only these class ids (empty: all).
  std::vector<int> classes;
};

// Everything a decoder factory may read.
struct DecoderContext {
  std::string model_name;            // for error messages: "model 'faces': ..."
  std::string type;                  // decoder.type
  YAML::Node params;                 // the whole `decoder:` mapping (type included)
  std::vector<std::string> labels;   // config `labels` (may be empty)
  int input_width = 0;
  int input_height = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;

  // Checks that the model's outputs (for a batch of `batch_size` images) have the shapes this
  // decoder expects. Returns InvalidArgument naming the output, its shape and what was expected.
  virtual absl::Status CheckOutputs(const std::vector<OutputTensor>& outputs,
                                    int batch_size) const = 0;

  // Decodes a batch. `geometry.size()` is the batch size. Returns one Prediction per image.
  virtual absl::StatusOr<std::vector<Prediction>> Decode(
      const std::vector<OutputTensor>& outputs, absl::Span<const InputGeometry> geometry,
      const DecodeOptions& options) const = 0;
};

// Creates the decoder named by `context.type`. Unknown type: InvalidArgument listing the known
// ones. Bad decoder keys: InvalidArgument naming the key.
absl::StatusOr<std::unique_ptr<Decoder>> CreateDecoder(const DecoderContext& context);

// Names of the decoders this build knows.
std::vector<std::string> KnownDecoders();

// ---- helpers shared by decoders (decoder_util.cc) ----

// Reads an optional scalar key of the decoder params; InvalidArgument naming the model and key
// if present but not convertible.
absl::StatusOr<double> ParamDouble(const DecoderContext& c, const std::string& key,
                                   double default_value);
absl::StatusOr<int> ParamInt(const DecoderContext& c, const std::string& key, int default_value);
absl::StatusOr<bool> ParamBool(const DecoderContext& c, const std::string& key,
                               bool default_value);
absl::StatusOr<std::string> ParamString(const DecoderContext& c, const std::string& key,
                                        const std::string& default_value);

// Label for a class id: labels[id] if in range, else the id as text.
std::string LabelFor(const std::vector<std::string>& labels, int class_id);

// A candidate box in any consistent coordinate system (x1,y1)-(x2,y2).
struct Candidate {
  float x1, y1, x2, y2;
  float score;
  int class_id;
  int index;  // position in the model output (for keypoints etc.)
};

// Intersection over union of two candidates (0 when either is empty).
float IoU(const Candidate& a, const Candidate& b);

// Greedy NMS: sorts by score (descending, stable), keeps a candidate when its IoU with every
// kept one of the same class (all classes when `class_agnostic`) is <= iou_threshold; stops at
// `max_results` (<= 0: no limit). Returns the kept candidates in decreasing score order.
std::vector<Candidate> NonMaxSuppression(std::vector<Candidate> candidates, float iou_threshold,
                                         int max_results, bool class_agnostic);

// Maps a candidate in model-input pixels to a Detection with its box as fractions of the
// original image, clamped to [0, 1].
Detection ToDetection(const Candidate& c, const InputGeometry& g,
                      const std::vector<std::string>& labels);

}  // namespace stratus::runtime

#endif  // STRATUS_RUNTIME_DECODER_H_
