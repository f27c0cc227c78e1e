#include "services/mask/testing/tiny_mask_model.h"

#include <filesystem>
#include <fstream>

#include <torch/script.h>

namespace stratus::mask::testing {

absl::Status WriteTinyMaskModel(const std::string& dir, const std::string& name) {
  try {
    const std::filesystem::path folder = std::filesystem::path(dir) / name;
    std::filesystem::create_directories(folder);
    std::ofstream(folder / "config.yaml")
        << "name: " << name << "\n"
        << R"(version: "tiny-mask-1"
task: image_classification
input: {width: 16, height: 16, resize: stretch, interpolation: bilinear, color: rgb,
        mean: [0, 0, 0], std: [255, 255, 255]}
decoder: {type: classifier, activation: softmax}
labels: [with_mask, without_mask, mask_worn_incorrectly]
)";
    torch::jit::Module m("TinyMask");
    // A convolution so the runtime's layout choice has something to time.
    m.register_parameter("w", torch::full({2, 3, 3, 3}, 0.01), false);
    m.define(R"(
def forward(self, x):
    z = torch.conv2d(x, self.w).mean() * 0.0
    return x.mean([2, 3]) * 8.0 + z
)");
    m.save((folder / "model.pt").string());
  } catch (const std::exception& e) {
    return absl::InternalError(std::string("writing the tiny mask model: ") + e.what());
  }
  return absl::OkStatus();
}

}  // namespace stratus::mask::testing
