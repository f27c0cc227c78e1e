// The proto <-> AWS JSON conversions of the recognition service's Rekognition endpoint:
// request bodies to proto requests and protos to Rekognition-shaped JSON
// (services/recognition/aws_json.h: FromAwsJson, ToAwsJson), on every message type
// of stratus/v1/recognition.proto. Input: one byte choosing the mode and the message type, then
// either a JSON body (converted to the message, then back with ToAwsJson) or the message in
// protobuf wire format (converted with ToAwsJson: responses hold whatever the store and the
// backends put there). Checks: no crash, uncaught exception, leak or undefined behaviour; a
// message parsed from a JSON body always converts back and prints.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "services/recognition/aws_json.h"
#include "stratus/v1/recognition.pb.h"

namespace pb = google::protobuf;

namespace {

const std::vector<const pb::Message*>& Prototypes() {
  static const auto* all = [] {
    // Wire-format inputs with invalid UTF-8 strings are refused with a log line each.
    pb::SetLogHandler(nullptr);
    auto* v = new std::vector<const pb::Message*>();
    const pb::FileDescriptor* file = stratus::v1::DetectFacesRequest::descriptor()->file();
    for (int i = 0; i < file->message_type_count(); ++i) {
      v->push_back(pb::MessageFactory::generated_factory()->GetPrototype(file->message_type(i)));
    }
    return v;
  }();
  return *all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto& prototypes = Prototypes();
  const bool from_json = data[0] & 1;
  std::unique_ptr<pb::Message> message(prototypes[(data[0] >> 1) % prototypes.size()]->New());
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (from_json) {
    // As the endpoint: the body straight into the proto, and the proto back to JSON, which
    // must print.
    if (!stratus::recognition::FromAwsJson(rest, message.get()).ok()) return 0;
    (void)stratus::recognition::ToAwsJson(*message).dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    if (!message->ParseFromString(rest)) return 0;
    (void)stratus::recognition::ToAwsJson(*message).dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return 0;
}
