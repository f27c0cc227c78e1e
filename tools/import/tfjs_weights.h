// Reader for TensorFlow.js "weights manifests": a JSON list of weight groups, each naming its
// binary shard files and the tensors stored back to back in them (name, shape, dtype and an
// optional `quantization` {dtype uint8|uint16|float16, scale, min}).
//
// Quantised values are dequantised exactly as tfjs-core's io.decodeWeights does: the product
// q * scale + min is formed in double precision and rounded once to float32 (int32 tensors are
// rounded to the nearest integer). Values are returned as float32 in the stored (TF, NHWC/HWIO)
// layout; converting layouts is the caller's business.
//
// Thread-safe (no shared state). Errors: NOT_FOUND for a missing manifest or shard,
// INVALID_ARGUMENT for a malformed manifest (wrong JSON types, negative dimensions), a shard
// that is too short or an unknown dtype.
#ifndef STRATUS_TOOLS_IMPORT_TFJS_WEIGHTS_H_
#define STRATUS_TOOLS_IMPORT_TFJS_WEIGHTS_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace stratus::import {

struct TfjsTensor {
  std::string name;
  std::string dtype;           // logical dtype: "float32" or "int32"
  std::string stored_as;       // "float32", "int32", "uint8", "uint16" or "float16"
  std::vector<int64_t> shape;  // TF layout, e.g. HWIO for conv filters
  std::vector<float> values;   // dequantised, row-major in `shape`

  int64_t numel() const;
};

using TfjsWeightMap = std::map<std::string, TfjsTensor>;

// Parses `manifest_path` and reads its shards from the same directory (INVALID_ARGUMENT for a
// shard path that is absolute or has a ".." component).
absl::StatusOr<TfjsWeightMap> LoadTfjsWeights(const std::filesystem::path& manifest_path);

// Returns the bytes of one shard, given its entry in a group's `paths` as written there.
using TfjsShardReader = std::function<absl::StatusOr<std::string>(const std::string& path)>;

// Parses an already-loaded manifest, reading each group's shards through `read_shard`.
// `source` names the manifest in error messages. LoadTfjsWeights is this with a reader of
// files beside the manifest.
absl::StatusOr<TfjsWeightMap> ParseTfjsWeights(std::string_view manifest_json,
                                               const TfjsShardReader& read_shard,
                                               std::string_view source = "weights manifest");

// Decodes one IEEE 754 half-precision value (exposed for tests).
float HalfToFloat(uint16_t h);

}  // namespace stratus::import

#endif  // STRATUS_TOOLS_IMPORT_TFJS_WEIGHTS_H_
