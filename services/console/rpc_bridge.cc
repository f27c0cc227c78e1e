#include "services/console/rpc_bridge.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>

#include <future>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "stratus/v1/detector.pb.h"
#include "stratus/v1/ingest.pb.h"
#include "stratus/v1/keys.pb.h"
#include "stratus/v1/mask.pb.h"
#include "stratus/v1/recognition.pb.h"
#include "stratus/v1/sentiment.pb.h"

namespace stratus::console {

namespace pb = google::protobuf;

namespace {

// The generated pool knows a .proto file only once its code is linked in and initialised; the
// bridge names no message of most files, so a static library's objects for them would be
// left out. One descriptor() of each file keeps them in.
void LinkServiceProtos() {
  static const pb::Descriptor* const kFiles[] = {
      v1::DetectRequest::descriptor(),      v1::AddStreamRequest::descriptor(),
      v1::CreateKeyRequest::descriptor(),   v1::ClassifyRequest::descriptor(),
      v1::DetectFacesRequest::descriptor(), v1::DetectSentimentRequest::descriptor(),
  };
  (void)kFiles;
}

}  // namespace

RpcBridge::RpcBridge(Options options) : options_(std::move(options)) { LinkServiceProtos(); }

absl::StatusOr<std::string> RpcBridge::Call(const std::string& service, const std::string& method,
                                            const std::string& request_json,
                                            const std::string& api_key) {
  auto channel = options_.channels.find(service);
  const pb::ServiceDescriptor* sd =
      pb::DescriptorPool::generated_pool()->FindServiceByName(service);
  if (channel == options_.channels.end() || sd == nullptr) {
    return absl::NotFoundError(absl::StrCat("no service ", service, " behind this console"));
  }
  const pb::MethodDescriptor* md = sd->FindMethodByName(method);
  if (md == nullptr) {
    return absl::NotFoundError(absl::StrCat(service, " has no method ", method));
  }
  if (md->client_streaming() || md->server_streaming()) {
    return absl::NotFoundError(
        absl::StrCat(service, "/", method, " is a streaming method; only unary ones are bridged"));
  }
  pb::DynamicMessageFactory factory;  // falls back to the generated classes
  factory.SetDelegateToGeneratedFactory(true);
  std::unique_ptr<pb::Message> request(factory.GetPrototype(md->input_type())->New());
  std::unique_ptr<pb::Message> response(factory.GetPrototype(md->output_type())->New());
  pb::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;
  if (auto s = pb::util::JsonStringToMessage(request_json.empty() ? "{}" : request_json,
                                             request.get(), parse);
      !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request body is not a ", md->input_type()->full_name(), ": ", s.message().as_string()));
  }

  std::string wire = request->SerializeAsString();
  grpc::Slice slice(wire);
  grpc::ByteBuffer in(&slice, 1), out;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + options_.deadline);
  if (!api_key.empty()) context.AddMetadata("authorization", absl::StrCat("Bearer ", api_key));
  grpc::GenericStub stub(channel->second);
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, absl::StrCat("/", service, "/", method), grpc::StubOptions(), &in, &out,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return FromGrpcStatus(status);

  std::vector<grpc::Slice> slices;
  if (!out.Dump(&slices).ok()) return absl::InternalError("unreadable response from the service");
  std::string bytes;
  for (const grpc::Slice& s : slices)
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  if (!response->ParseFromString(bytes)) {
    return absl::InternalError(
        absl::StrCat("the service's answer is not a ", md->output_type()->full_name()));
  }
  return ToConsoleJson(*response);
}

std::string ToConsoleJson(const pb::Message& message) {
  pb::util::JsonPrintOptions print;
  print.always_print_primitive_fields = true;
  std::string json;
  // Printing fails only on invalid UTF-8 in a string field, which parsing already refused.
  (void)pb::util::MessageToJsonString(message, &json, print);
  return json;
}

}  // namespace stratus::console
