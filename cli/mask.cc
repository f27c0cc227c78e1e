#include "cli/mask.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "clients/cpp/mask_client.h"
#include "common/flags.h"
#include "common/image.h"
#include "common/status.h"
#include "stratus/v1/mask.grpc.pb.h"

namespace stratus::cli {
namespace {

namespace v1 = ::stratus::v1;
using json = nlohmann::ordered_json;

constexpr int kMaxCropsPerRequest = 100;

double Round(double v, double scale = 1e4) { return std::round(v * scale) / scale; }

json Probabilities(const v1::FaceMask& m) {
  // The three known classes first, in the order of the issue, then any other label.
  json out = json::object();
  for (const char* label : {"with_mask", "without_mask", "mask_worn_incorrectly"}) {
    auto it = m.probabilities().find(label);
    if (it != m.probabilities().end()) out[label] = Round(it->second);
  }
  for (const auto& [label, p] : m.probabilities()) {
    if (!out.contains(label)) out[label] = Round(p);
  }
  return out;
}

json Box(const v1::BoundingBox& b) {
  return json{{"left", Round(b.left(), 1e5)},
              {"top", Round(b.top(), 1e5)},
              {"width", Round(b.width(), 1e5)},
              {"height", Round(b.height(), 1e5)}};
}

json ErrorLine(const std::string& path, const std::string& code, const std::string& message) {
  return json{{"image", path}, {"error", message}, {"code", code}};
}
json ErrorLine(const std::string& path, const absl::Status& status) {
  return ErrorLine(path, CodeName(status.code()), std::string(status.message()));
}

// The exit code a printed line asks for: kExitUnavailable beats kExitFailed.
int ExitOf(const json& line) {
  if (!line.contains("error")) return kExitOk;
  const std::string code = line.value("code", "");
  return code == "UNAVAILABLE" || code == "DEADLINE_EXCEEDED" ? kExitUnavailable : kExitFailed;
}

}  // namespace

int RunClassifyMaskCommand(int argc, char** argv) {
  FlagSet flags("stratus classify-mask [flags] IMAGE...",
                "Finds the faces in JPEG/PNG files and tells whether each wears a mask "
                "(with_mask, without_mask, mask_worn_incorrectly); one JSON line per image. "
                "With --crop each image is one face crop.");
  ClientFlags client_flags(flags, kMaskDefaults);
  bool crop = false;
  double min_face_confidence = 0;
  flags.Bool("crop", "", &crop, "each image is one face crop (no face detection)");
  flags.Double("min-face-confidence", "", &min_face_confidence,
               "minimum face detection score in (0, 1]; 0: the service default, 0.5");
  int exit_code = 0;
  if (!ParseFlags(flags, argc, argv, &exit_code)) return exit_code;
  if (flags.positional().empty()) return UsageError(flags, "no image given");
  if (min_face_confidence < 0 || min_face_confidence > 1) {
    return UsageError(flags, "--min-face-confidence must be within (0, 1]");
  }
  // Up to 100 crops in one request: more than the default 16 MiB messages.
  const clients::MaskClient client(clients::MaskClient::Options{
      .address = client_flags.endpoint(),
      .timeout = client_flags.timeout().value_or(DefaultTimeout(CallKind::kInference)),
      .max_message_bytes = 64 << 20});

  const std::vector<std::string>& paths = flags.positional();
  int result = kExitOk;
  if (crop) {
    // Batches of up to 100 readable crops per request; lines come out in argument order.
    std::vector<std::optional<json>> lines(paths.size());
    for (size_t start = 0; start < paths.size(); start += kMaxCropsPerRequest) {
      const size_t end = std::min(paths.size(), start + kMaxCropsPerRequest);
      v1::ClassifyRequest request;
      std::vector<size_t> sent;
      for (size_t i = start; i < end; ++i) {
        auto bytes = ReadImageFile(paths[i], kMaxInlineImageBytes);
        if (!bytes.ok()) {
          lines[i] = ErrorLine(paths[i], bytes.status());
          continue;
        }
        request.add_crops()->set_bytes(std::move(*bytes));
        sent.push_back(i);
      }
      if (sent.empty()) continue;
      const absl::StatusOr<v1::ClassifyResponse> response = client.Classify(request);
      if (response.status().code() == absl::StatusCode::kInvalidArgument && sent.size() > 1) {
        // One bad crop fails the whole request: retry one by one to say which.
        for (size_t k = 0; k < sent.size(); ++k) {
          const size_t i = sent[k];
          v1::ClassifyRequest one;
          *one.add_crops() = request.crops(static_cast<int>(k));
          const absl::StatusOr<v1::ClassifyResponse> r = client.Classify(one);
          if (!r.ok()) {
            lines[i] = ErrorLine(paths[i], r.status());
          } else if (r->results_size() != 1) {
            lines[i] = ErrorLine(paths[i], "INTERNAL", "no result");
          } else {
            lines[i] = json{{"image", paths[i]},
                            {"label", r->results(0).label()},
                            {"confidence", Round(r->results(0).confidence())},
                            {"probabilities", Probabilities(r->results(0))}};
          }
        }
        continue;
      }
      for (size_t k = 0; k < sent.size(); ++k) {
        const size_t i = sent[k];
        if (!response.ok()) {
          lines[i] = ErrorLine(paths[i], response.status());
        } else if (static_cast<int>(k) >= response->results_size()) {
          lines[i] = ErrorLine(paths[i], "INTERNAL", "the service returned too few results");
        } else {
          const v1::FaceMask& m = response->results(static_cast<int>(k));
          lines[i] = json{{"image", paths[i]},
                          {"label", m.label()},
                          {"confidence", Round(m.confidence())},
                          {"probabilities", Probabilities(m)}};
        }
      }
    }
    for (const auto& line : lines) {
      result = std::max(result, ExitOf(*line));
      std::cout << line->dump() << "\n";
    }
    std::cout.flush();
    return result;
  }

  for (const std::string& path : paths) {
    json line;
    auto bytes = ReadImageFile(path, kMaxInlineImageBytes);
    if (!bytes.ok()) {
      line = ErrorLine(path, bytes.status());
    } else {
      v1::ClassifyRequest request;
      request.mutable_image()->set_bytes(std::move(*bytes));
      request.set_min_face_confidence(static_cast<float>(min_face_confidence));
      const absl::StatusOr<v1::ClassifyResponse> response = client.Classify(request);
      if (!response.ok()) {
        line = ErrorLine(path, response.status());
      } else {
        json faces = json::array();
        for (const v1::FaceMask& m : response->results()) {
          faces.push_back(json{{"box", Box(m.box())},
                               {"face_confidence", Round(m.face_confidence())},
                               {"label", m.label()},
                               {"confidence", Round(m.confidence())},
                               {"probabilities", Probabilities(m)}});
        }
        line = json{{"image", path},
                    {"model_version", response->model_version()},
                    {"faces", std::move(faces)}};
      }
    }
    result = std::max(result, ExitOf(line));
    std::cout << line.dump() << "\n";
  }
  std::cout.flush();
  return result;
}

}  // namespace stratus::cli
