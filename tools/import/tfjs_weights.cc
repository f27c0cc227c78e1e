#include "tools/import/tfjs_weights.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace stratus::import {
namespace {

absl::StatusOr<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path.string()));
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return data;
}

int BytesPerElement(const std::string& dtype) {
  if (dtype == "float32" || dtype == "int32") return 4;
  if (dtype == "uint16" || dtype == "float16") return 2;
  if (dtype == "uint8") return 1;
  return 0;
}

template <typename T>
T LoadLe(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // x86/ARM little-endian, as TF.js writes
  return v;
}

}  // namespace

int64_t TfjsTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1;
  const int exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  float v;
  if (exp == 0) {
    v = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    v = mant ? std::nanf("") : INFINITY;
  } else {
    v = std::ldexp(static_cast<float>(mant | 0x400), exp - 25);
  }
  return sign ? -v : v;
}

absl::StatusOr<TfjsWeightMap> LoadTfjsWeights(const std::filesystem::path& manifest_path) {
  auto text = ReadFile(manifest_path);
  if (!text.ok()) return text.status();
  const std::filesystem::path dir = manifest_path.parent_path();
  auto read = [&](const std::string& p) -> absl::StatusOr<std::string> {
    // Shards lie beside the manifest: a path out of its folder is not one.
    const std::filesystem::path rel(p);
    bool escapes = p.empty() || rel.is_absolute() || rel.has_root_name();
    for (const auto& part : rel) escapes = escapes || part == "..";
    if (escapes) {
      return absl::InvalidArgumentError(
          absl::StrCat(manifest_path.string(), ": shard path '", p, "' leaves its folder"));
    }
    return ReadFile(dir / rel);
  };
  return ParseTfjsWeights(*text, read, manifest_path.string());
}

absl::StatusOr<TfjsWeightMap> ParseTfjsWeights(std::string_view manifest_json,
                                               const TfjsShardReader& read_shard,
                                               std::string_view source) {
  const std::string manifest_path(source);  // for messages
  nlohmann::json manifest = nlohmann::json::parse(manifest_json, nullptr,
                                                  /*allow_exceptions=*/false);
  if (manifest.is_discarded() || !manifest.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(manifest_path, ": not a JSON array of weight groups"));
  }
  TfjsWeightMap out;
  for (const auto& group : manifest) {
    if (!group.is_object() || !group.contains("paths") || !group.contains("weights")) {
      return absl::InvalidArgumentError(
          absl::StrCat(manifest_path, ": weight group without paths/weights"));
    }
    if (!group["paths"].is_array() || !group["weights"].is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat(manifest_path, ": a group's paths and weights must be arrays"));
    }
    // A group's shards are one byte stream cut into files.
    std::string blob;
    for (const auto& p : group["paths"]) {
      if (!p.is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat(manifest_path, ": shard path is not a string: ", p.dump()));
      }
      auto shard = read_shard(p.get<std::string>());
      if (!shard.ok()) return shard.status();
      blob += *shard;
    }
    size_t offset = 0;
    for (const auto& w : group["weights"]) {
      TfjsTensor t;
      try {
        t.name = w.at("name").get<std::string>();
        t.dtype = w.at("dtype").get<std::string>();
        const auto& shape = w.at("shape");
        if (!shape.is_array()) {
          return absl::InvalidArgumentError(
              absl::StrCat(manifest_path, ": ", t.name, ": shape is not an array"));
        }
        for (const auto& d : shape) {
          // Integers only: nlohmann's get<int64_t>() of a float is a plain cast, undefined
          // behaviour out of range (the fuzzer found 4.3e19).
          if (!d.is_number_integer() || (d.is_number_unsigned() && d.get<uint64_t>() > INT64_MAX) ||
              d.get<int64_t>() < 0) {
            return absl::InvalidArgumentError(
                absl::StrCat(manifest_path, ": ", t.name,
                             ": shape dimension is not a non-negative integer: ", d.dump()));
          }
          t.shape.push_back(d.get<int64_t>());
        }
      } catch (const nlohmann::json::exception& e) {
        return absl::InvalidArgumentError(
            absl::StrCat(manifest_path, ": bad weight entry: ", e.what()));
      }
      double scale = 1.0, min = 0.0;
      t.stored_as = t.dtype;
      if (w.contains("quantization") && !w["quantization"].is_null()) {
        const auto& q = w["quantization"];
        if (!q.is_object() || !q.contains("dtype") || !q["dtype"].is_string()) {
          return absl::InvalidArgumentError(
              absl::StrCat(t.name, ": quantization is not an object with a dtype"));
        }
        t.stored_as = q["dtype"].get<std::string>();
        if (t.stored_as != "float16") {
          if (!q.contains("scale") || !q.contains("min") || !q["scale"].is_number() ||
              !q["min"].is_number()) {
            return absl::InvalidArgumentError(
                absl::StrCat(t.name, ": quantization without numeric scale/min"));
          }
          scale = q["scale"].get<double>();
          min = q["min"].get<double>();
        }
      }
      const int bpe = BytesPerElement(t.stored_as);
      if (bpe == 0 || (t.dtype != "float32" && t.dtype != "int32")) {
        return absl::InvalidArgumentError(
            absl::StrCat(t.name, ": unsupported dtype ", t.dtype, " stored as ", t.stored_as));
      }
      // The element count, bounded by the bytes left so that neither it nor the byte count
      // can overflow.
      const size_t left = (blob.size() - offset) / bpe;
      size_t n = 1;
      for (int64_t d : t.shape) {
        if (d < 0) {
          return absl::InvalidArgumentError(absl::StrCat(t.name, ": negative dimension in shape"));
        }
        if (d != 0 && n > left / static_cast<size_t>(d)) {
          return absl::InvalidArgumentError(absl::StrCat(t.name, ": shard data too short (",
                                                         blob.size() - offset,
                                                         " bytes left, the shape needs more)"));
        }
        n *= static_cast<size_t>(d);
      }
      if (n > left) {  // a scalar with nothing left
        return absl::InvalidArgumentError(absl::StrCat(t.name, ": shard data too short (need ",
                                                       offset + n * bpe, " bytes, have ",
                                                       blob.size(), ")"));
      }
      const size_t bytes = n * bpe;
      const char* p = blob.data() + offset;
      t.values.resize(n);
      const bool is_int = t.dtype == "int32";
      for (size_t i = 0; i < n; ++i) {
        double v;
        if (t.stored_as == "uint8") {
          v = static_cast<uint8_t>(p[i]) * scale + min;
        } else if (t.stored_as == "uint16") {
          v = LoadLe<uint16_t>(p + 2 * i) * scale + min;
        } else if (t.stored_as == "float16") {
          v = HalfToFloat(LoadLe<uint16_t>(p + 2 * i));
        } else if (t.stored_as == "int32") {
          v = LoadLe<int32_t>(p + 4 * i);
        } else {
          v = LoadLe<float>(p + 4 * i);
        }
        if (is_int) v = std::round(v);
        t.values[i] = static_cast<float>(v);
      }
      offset += bytes;
      out[t.name] = std::move(t);
    }
  }
  return out;
}

}  // namespace stratus::import
