#include "common/aws/proto_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/json_util.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace stratus::aws {
namespace {

namespace pb = google::protobuf;
using nlohmann::json;

// A float as the shortest decimal that reads back as the same float (0.1f is 0.1, not
// 0.10000000149011612), the way protobuf's JSON printer writes it.
json FloatValue(float f) {
  if (!std::isfinite(f)) return json(std::isnan(f) ? "NaN" : (f > 0 ? "Infinity" : "-Infinity"));
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), f);
  *end = '\0';
  return json(std::strtod(buf, nullptr));
}

json DoubleValue(double d) {
  if (!std::isfinite(d)) return json(std::isnan(d) ? "NaN" : (d > 0 ? "Infinity" : "-Infinity"));
  return json(d);
}

json MessageValue(const pb::Message& message);

// One value of `field` (element `index` of a repeated field, -1 for a singular one).
json FieldValue(const pb::Message& m, const pb::FieldDescriptor* f, int index) {
  const pb::Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
      return rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f);
    case pb::FieldDescriptor::CPPTYPE_INT64:
      return rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f);
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      return rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f);
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      return rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f);
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
      return FloatValue(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      return DoubleValue(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      return rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f);
    case pb::FieldDescriptor::CPPTYPE_ENUM: {
      const pb::EnumValueDescriptor* v = rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f);
      return v->name();
    }
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      std::string s = rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
      return f->type() == pb::FieldDescriptor::TYPE_BYTES ? absl::Base64Escape(s) : s;
    }
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      return MessageValue(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
  }
  return nullptr;
}

// What AWS leaves out of a response: empty strings and unspecified enums (their proto3
// defaults, which mean "not known"). Numbers and booleans are written as they are.
bool Omitted(const json& value, const pb::FieldDescriptor* f) {
  if (!value.is_string()) return false;
  const std::string& s = value.get_ref<const std::string&>();
  return s.empty() ||
         (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM && absl::EndsWith(s, "_UNSPECIFIED"));
}

json MessageValue(const pb::Message& m) {
  const pb::Descriptor* d = m.GetDescriptor();
  const pb::Reflection* r = m.GetReflection();
  if (d->full_name() == pb::Timestamp::descriptor()->full_name()) {
    // AWS writes timestamps as epoch seconds.
    return static_cast<double>(r->GetInt64(m, d->FindFieldByName("seconds"))) +
           r->GetInt32(m, d->FindFieldByName("nanos")) / 1e9;
  }
  json out = json::object();
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (f->is_map()) {
      json object = json::object();
      const pb::FieldDescriptor* key = f->message_type()->map_key();
      const pb::FieldDescriptor* val = f->message_type()->map_value();
      for (int k = 0; k < r->FieldSize(m, f); ++k) {
        const pb::Message& entry = r->GetRepeatedMessage(m, f, k);
        object[FieldValue(entry, key, -1).get<std::string>()] = FieldValue(entry, val, -1);
      }
      out[f->json_name()] = std::move(object);
    } else if (f->is_repeated()) {
      json array = json::array();  // AWS writes empty lists as []; elements are kept as they are
      for (int k = 0; k < r->FieldSize(m, f); ++k) array.push_back(FieldValue(m, f, k));
      out[f->json_name()] = std::move(array);
    } else if (f->has_presence() && !r->HasField(m, f)) {
      continue;  // messages, oneof members and `optional` scalars that are not set
    } else {
      json value = FieldValue(m, f, -1);
      if (!Omitted(value, f)) out[f->json_name()] = std::move(value);
    }
  }
  return out;
}

}  // namespace

nlohmann::json ProtoToAwsJson(const google::protobuf::Message& message) {
  return MessageValue(message);
}

absl::Status ProtoFromAwsJson(std::string_view body, google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = true;
  auto parsed = google::protobuf::util::JsonStringToMessage(
      body.empty() ? std::string_view("{}") : body, message, parse);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("the request does not have the shape of ",
                                                   message->GetDescriptor()->name(), ": ",
                                                   parsed.message().as_string()));
  }
  return absl::OkStatus();
}

}  // namespace stratus::aws
