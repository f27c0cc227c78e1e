#include "cli/detector.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cli/command.h"
#include "clients/cpp/detector_client.h"
#include "common/flags.h"
#include "common/image.h"
#include "common/status.h"
#include "stratus/v1/detector.grpc.pb.h"

namespace stratus::cli {
namespace {

namespace v1 = ::stratus::v1;
using json = nlohmann::ordered_json;

clients::DetectorClient Connect(const ClientFlags& f) {
  return clients::DetectorClient(clients::DetectorClient::Options{
      .address = f.endpoint(), .timeout = f.timeout().value_or(DefaultTimeout(CallKind::kInference))});
}

// Fractions rounded to 5 decimals (0.1 px on a 10,000 px image) so the lines stay readable.
double Round(double v, double scale = 1e5) { return std::round(v * scale) / scale; }

json Box(const v1::BoundingBox& b) {
  return json{{"left", Round(b.left())},
              {"top", Round(b.top())},
              {"width", Round(b.width())},
              {"height", Round(b.height())}};
}

json Points(const google::protobuf::RepeatedPtrField<v1::Point>& points) {
  json out = json::array();
  for (const v1::Point& p : points) out.push_back(json{{"x", Round(p.x())}, {"y", Round(p.y())}});
  return out;
}

const char* StateName(v1::ModelInfo::State s) {
  switch (s) {
    case v1::ModelInfo::LOADING:
      return "LOADING";
    case v1::ModelInfo::READY:
      return "READY";
    case v1::ModelInfo::FAILED:
      return "FAILED";
    default:
      return "UNSPECIFIED";
  }
}

}  // namespace

int RunModelsCommand(int argc, char** argv) {
  FlagSet flags("stratus models",
                "Lists the models the detector serves, one JSON line each (state READY, "
                "LOADING or FAILED with the reason).");
  ClientFlags client(flags, kDetectorDefaults);
  OutputFlag output(flags);
  int exit_code = 0;
  if (!ParseFlags(flags, argc, argv, &exit_code) || !output.Resolve(flags, &exit_code)) {
    return exit_code;
  }
  if (!flags.positional().empty()) return UsageError(flags, "stratus models takes no arguments");
  auto listed = Connect(client).ListModels();
  if (!listed.ok()) return ReportError(listed.status(), client.endpoint());
  const v1::ListModelsResponse& response = *listed;
  if (output.format() == Output::kTable) {
    Table table({"NAME", "VERSION", "TASK", "DEVICE", "STATE", "INPUT", "MAX_BATCH", "ERROR"});
    for (const v1::ModelInfo& m : response.models()) {
      table.Add({m.name(), m.version(), m.task(), m.device(), StateName(m.state()),
                 absl::StrFormat("%dx%d", m.input_size().width(), m.input_size().height()),
                 std::to_string(m.max_batch_size()), m.error()});
    }
    table.Print(std::cout);
    return kExitOk;
  }
  for (const v1::ModelInfo& m : response.models()) {
    if (output.format() == Output::kJson) {
      std::cout << ProtoJson(m) << "\n";
      continue;
    }
    json line{{"name", m.name()},
              {"version", m.version()},
              {"task", m.task()},
              {"decoder", m.decoder()},
              {"device", m.device()},
              {"state", StateName(m.state())},
              {"input_size",
               json{{"width", m.input_size().width()}, {"height", m.input_size().height()}}},
              {"labels", m.labels()},
              {"max_batch_size", m.max_batch_size()}};
    if (!m.error().empty()) line["error"] = m.error();
    std::cout << line.dump() << "\n";
  }
  std::cout.flush();
  return 0;
}

int RunDetectCommand(int argc, char** argv) {
  FlagSet flags("stratus detect [flags] IMAGE...",
                "Detects objects (--model objects, COCO) or faces (--model faces, with 68 "
                "landmarks) in JPEG/PNG files and prints one JSON line per image.");
  ClientFlags client_flags(flags, kDetectorDefaults);
  std::string model = "objects";
  double min_confidence = 0;
  int max_results = 0;
  std::string classes;
  flags.String("model", "", &model, "objects | faces | another detection model's name");
  flags.Double("min-confidence", "", &min_confidence,
               "drop detections below this, in (0, 1]; objects' confidences are calibrated "
               "probabilities (default 0.5; runtime/MODELS.md)");
  flags.Int("max-results", "", &max_results,
            "at most this many detections per image (default 100)");
  flags.String("classes", "", &classes, "comma-separated labels of interest (objects models)");
  OutputFlag output(flags);
  int exit_code = 0;
  if (!ParseFlags(flags, argc, argv, &exit_code) || !output.Resolve(flags, &exit_code)) {
    return exit_code;
  }
  if (flags.positional().empty()) return UsageError(flags, "no image given");
  if (min_confidence < 0 || min_confidence > 1) {
    return UsageError(flags, "--min-confidence must be within (0, 1]");
  }
  const clients::DetectorClient client = Connect(client_flags);
  int result = kExitOk;
  Table table({"IMAGE", "LABEL", "CONFIDENCE", "LEFT", "TOP", "WIDTH", "HEIGHT"});
  auto add_row = [&](const std::string& path, const std::string& label, double confidence,
                     const v1::BoundingBox& b) {
    table.Add({path, label, absl::StrFormat("%.4f", confidence), absl::StrFormat("%.5f", b.left()),
               absl::StrFormat("%.5f", b.top()), absl::StrFormat("%.5f", b.width()),
               absl::StrFormat("%.5f", b.height())});
  };
  for (const std::string& path : flags.positional()) {
    json line{{"image", path}, {"model", model}};
    auto fail = [&](const absl::Status& status) {
      line["error"] = std::string(status.message());
      line["code"] = CodeName(status.code());
      // Only the default lines carry errors on stdout; json and table keep it for results.
      const int exit = output.format() == Output::kLines ? ExitCodeFor(status)
                                                         : ReportError(status, path);
      result = std::max(result, exit);
    };
    absl::StatusOr<std::string> bytes = ReadImageFile(path, kMaxInlineImageBytes);
    if (!bytes.ok()) {
      fail(bytes.status());
    } else if (model == "faces") {
      v1::AnalyzeFacesRequest request;
      request.mutable_image()->set_bytes(std::move(*bytes));
      request.set_min_confidence(static_cast<float>(min_confidence));
      if (max_results > 0) request.set_max_faces(std::min(max_results, 100));
      absl::StatusOr<v1::AnalyzeFacesResponse> response = client.AnalyzeFaces(request);
      if (!response.ok()) {
        fail(response.status());
      } else if (output.format() == Output::kJson) {
        std::cout << ProtoJson(*response) << "\n";
      } else {
        json detections = json::array();
        for (const v1::FaceAnalysis& f : response->faces()) {
          detections.push_back(json{{"label", "face"},
                                    {"confidence", Round(f.confidence(), 1e4)},
                                    {"box", Box(f.box())},
                                    {"landmarks", Points(f.landmarks68())}});
          add_row(path, "face", f.confidence(), f.box());
        }
        line["detections"] = std::move(detections);
      }
    } else {
      v1::DetectRequest request;
      request.set_model(model);
      request.mutable_image()->set_bytes(std::move(*bytes));
      request.set_min_confidence(static_cast<float>(min_confidence));
      request.set_max_results(max_results);
      for (auto c : absl::StrSplit(classes, ',', absl::SkipWhitespace())) {
        request.add_classes(std::string(absl::StripAsciiWhitespace(c)));
      }
      absl::StatusOr<v1::DetectResponse> response = client.Detect(request);
      if (!response.ok()) {
        fail(response.status());
      } else if (output.format() == Output::kJson) {
        std::cout << ProtoJson(*response) << "\n";
      } else {
        json detections = json::array();
        for (const v1::Detection& d : response->detections()) {
          detections.push_back(json{{"label", d.label()},
                                    {"confidence", Round(d.confidence(), 1e4)},
                                    {"box", Box(d.box())},
                                    {"landmarks", Points(d.landmarks())}});
          add_row(path, d.label(), d.confidence(), d.box());
        }
        line["detections"] = std::move(detections);
      }
    }
    if (output.format() == Output::kLines) std::cout << line.dump() << "\n";
  }
  if (output.format() == Output::kTable) table.Print(std::cout);
  std::cout.flush();
  return result;
}

}  // namespace stratus::cli
