#include "services/detector/testing/tiny_models.h"

#include <torch/script.h>

#include <filesystem>
#include <fstream>

namespace stratus::detector::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kObjectsConfig[] = R"(name: objects
version: "tiny-1"
task: object_detection
input: {width: 32, height: 32, resize: stretch, interpolation: bilinear, color: rgb,
        mean: [0, 0, 0], std: [255, 255, 255]}
decoder: {type: ssd, iou_threshold: 0.5, score_threshold: 0.05}
labels: [person, car, dog]
)";

constexpr char kFacesConfig[] = R"(name: faces
version: "tiny-face-1"
task: face_detection
input: {width: 32, height: 32, resize: pad_bottom_right, interpolation: tf_bilinear,
        color: rgb, mean: [0, 0, 0], std: [255, 255, 255]}
decoder: {type: ssd, iou_threshold: 0.5}
labels: [face]
)";

constexpr char kExpressionConfig[] = R"(name: face_expression
version: "tiny-expr-1"
task: face_expression
input: {width: 8, height: 8, resize: stretch, color: rgb, mean: [0, 0, 0], std: [1, 1, 1]}
decoder: {type: classifier, activation: softmax}
labels: [neutral, happy, sad, angry, fearful, disgusted, surprised]
)";

constexpr char kBrokenConfig[] = R"(name: broken
version: "0"
task: object_detection
input: {width: 8, height: 8, resize: stretch, color: rgb, mean: [0, 0, 0], std: [1, 1, 1]}
decoder: {type: no_such_decoder}
labels: [thing]
)";

void Write(const fs::path& folder, const char* config) {
  fs::create_directories(folder);
  std::ofstream(folder / "config.yaml") << config;
}

}  // namespace

absl::Status WriteTinyModels(const std::string& dir) {
  try {
    const fs::path root(dir);
    {
      torch::jit::Module m("TinyObjects");
      // A convolution so the layout choice and the FLOP count have something to work on.
      m.register_parameter("w", torch::full({2, 3, 3, 3}, 0.01), false);
      // A cost per forward that does not grow with the batch, so that batching pays and the
      // runtime's load-time check keeps batches for this model (runtime/model.cc).
      m.register_buffer("fixed_cost", torch::full({192, 192}, 0.001));
      m.register_buffer("boxes", torch::tensor({0.0f, 0.0f, 0.3f, 0.3f,  //
                                                0.5f, 0.5f, 0.8f, 0.9f,  //
                                                0.0f, 0.6f, 0.2f, 1.0f})
                                     .reshape({3, 4}));
      m.register_buffer("fixed", torch::tensor({0.0f, 0.0f, 0.0f,  //
                                                0.0f, 0.9f, 0.0f,  //
                                                0.0f, 0.0f, 0.3f})
                                     .reshape({3, 3}));
      m.register_buffer("person", torch::tensor({1.0f, 0.0f, 0.0f,  //
                                                 0.0f, 0.0f, 0.0f,  //
                                                 0.0f, 0.0f, 0.0f})
                                      .reshape({3, 3}));
      m.define(R"(
def forward(self, x):
    y = torch.conv2d(x, self.w)
    # Depends on x so that freezing cannot fold it into a constant.
    z = y.mean() * 0.0 + torch.mm(self.fixed_cost, self.fixed_cost + x.mean()).mean() * 0.0
    b = x.size(0)
    bright = x.reshape([b, -1]).mean(1).clamp(0.0, 1.0)
    scores = self.fixed.unsqueeze(0) + bright.reshape([b, 1, 1]) * self.person.unsqueeze(0) + z
    boxes = self.boxes.unsqueeze(0).expand(b, -1, -1) + z
    return (boxes, scores)
)");
      Write(root / "objects", kObjectsConfig);
      m.save((root / "objects" / "model.pt").string());
    }
    {
      torch::jit::Module m("TinyFaces");
      m.register_buffer("boxes", torch::tensor({0.25f, 0.25f, 0.75f, 0.75f}).reshape({1, 4}));
      m.define(R"(
def forward(self, x):
    b = x.size(0)
    bright = x.reshape([b, -1]).mean(1).clamp(0.0, 1.0)
    return (self.boxes.unsqueeze(0).expand(b, -1, -1), bright.reshape([b, 1]))
)");
      Write(root / "faces", kFacesConfig);
      m.save((root / "faces" / "model.pt").string());
    }
    {
      torch::jit::Module m("TinyExpression");
      m.register_buffer("pad", torch::zeros({1, 4}));
      m.define(R"(
def forward(self, x):
    return torch.cat([x.mean([2, 3]), self.pad.expand(x.size(0), -1)], 1)
)");
      Write(root / "face_expression", kExpressionConfig);
      m.save((root / "face_expression" / "model.pt").string());
    }
    Write(root / "broken", kBrokenConfig);
    std::ofstream(root / "broken" / "model.pt") << "not a TorchScript file";
  } catch (const std::exception& e) {
    return absl::InternalError(std::string("writing tiny models: ") + e.what());
  }
  return absl::OkStatus();
}

}  // namespace stratus::detector::testing
