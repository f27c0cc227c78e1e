#include "cli/recognition.h"

#include <filesystem>
#include <iostream>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/command.h"
#include "common/flags.h"
#include "common/image.h"
#include "common/status.h"
#include "services/recognition/aws_json.h"
#include "stratus/v1/recognition.grpc.pb.h"

namespace stratus::cli {
namespace {

namespace v1 = ::stratus::v1;
using ::stratus::recognition::ToAwsJson;
using Stub = v1::RecognitionService::Stub;

const std::set<std::string>& Commands() {
  static const auto* kCommands =
      new std::set<std::string>{"detect-faces",      "compare-faces",         "create-collection",
                                "delete-collection", "list-collections",      "index-faces",
                                "list-faces",        "search-faces-by-image", "detect-labels",
                                "detect-ppe",        "create-user",           "delete-user",
                                "list-users",        "associate-faces",       "disassociate-faces",
                                "search-users",      "search-users-by-image", "detect-text"};
  return *kCommands;
}

using clients::RecognitionClient;

// Set when a call found no service to answer (exit kExitUnavailable rather than kExitFailed).
bool unreachable = false;

// Reports a failed call or input; returns false.
bool Fail(const std::string& what, const absl::Status& status) {
  unreachable |= ReportError(status, what) == kExitUnavailable;
  return false;
}

void Print(const google::protobuf::Message& response) {
  std::cout << ToAwsJson(response).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n";
}

// Prints the response as Rekognition's JSON, or reports the error; returns false on error.
template <typename Response>
bool Report(const std::string& what, const absl::StatusOr<Response>& response) {
  if (!response.ok()) return Fail(what, response.status());
  Print(*response);
  return true;
}

absl::StatusOr<v1::Image> LoadImage(const std::string& path) {
  auto bytes = ReadImageFile(path, 15 << 20);
  if (!bytes.ok()) return bytes.status();
  v1::Image image;
  image.set_bytes(std::move(*bytes));
  return image;
}

// A valid ExternalImageId from a file name: [a-zA-Z0-9_.\-:], at most 255 characters.
std::string ExternalIdFor(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  for (char& c : name) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ||
          c == ':')) {
      c = '_';
    }
  }
  return name.substr(0, 255);
}

// Fetches every page of `request` through `method`, merging the pages into *all (NextToken
// cleared). With `print_pages` each page is printed as Rekognition's JSON as it arrives. false
// when a page failed (reported on stderr; what came before it was printed).
template <typename Request, typename Response>
bool FetchPages(const RecognitionClient& client, const std::string& what, Request request,
                RecognitionClient::Method<Request, Response> method, bool print_pages,
                Response* all) {
  do {
    const absl::StatusOr<Response> page = client.Call(method, request, CallKind::kControl);
    if (!page.ok()) return Fail(what, page.status());
    if (print_pages) Print(*page);
    all->MergeFrom(*page);
    request.set_next_token(page->next_token());
  } while (!request.next_token().empty());
  all->clear_next_token();
  return true;
}

// list-collections, list-faces or list-users, every page. kLines prints each page as
// Rekognition's JSON as it arrives; kJson the pages merged into one response as the protobuf
// JSON mapping; kTable one row per collection, face or user.
bool ListAll(const std::string& sub, const std::string& collection, int max_results,
             const std::string& user_id, Output format, const RecognitionClient& client) {
  v1::ListCollectionsResponse collections;
  v1::ListFacesResponse faces;
  v1::ListUsersResponse users;
  const bool lines = format == Output::kLines;
  const google::protobuf::Message* all = nullptr;
  bool ok;
  if (sub == "list-collections") {
    v1::ListCollectionsRequest r;
    if (max_results > 0) r.set_max_results(max_results);
    ok = FetchPages(client, "", r, &Stub::ListCollections, lines,
                    &collections);
    all = &collections;
  } else if (sub == "list-faces") {
    v1::ListFacesRequest r;
    r.set_collection_id(collection);
    if (max_results > 0) r.set_max_results(max_results);
    r.set_user_id(user_id);
    ok = FetchPages(client, collection, r, &Stub::ListFaces, lines, &faces);
    all = &faces;
  } else {
    v1::ListUsersRequest r;
    r.set_collection_id(collection);
    if (max_results > 0) r.set_max_results(max_results);
    ok = FetchPages(client, collection, r, &Stub::ListUsers, lines, &users);
    all = &users;
  }
  if (!ok) return false;
  if (lines) return true;
  if (format == Output::kJson) {
    std::cout << ProtoJson(*all) << "\n";
    return true;
  }
  if (sub == "list-collections") {
    Table table({"COLLECTION_ID", "FACE_MODEL_VERSION"});
    for (int i = 0; i < collections.collection_ids_size(); ++i) {
      table.Add({collections.collection_ids(i), i < collections.face_model_versions_size()
                                                    ? collections.face_model_versions(i)
                                                    : ""});
    }
    table.Print(std::cout);
  } else if (sub == "list-faces") {
    Table table({"FACE_ID", "EXTERNAL_IMAGE_ID", "USER_ID", "CONFIDENCE"});
    for (const auto& f : faces.faces()) {
      table.Add({f.face_id(), f.external_image_id(), f.user_id(),
                 absl::StrFormat("%.2f", f.confidence())});
    }
    table.Print(std::cout);
  } else {
    Table table({"USER_ID", "USER_STATUS"});
    for (const auto& u : users.users()) {
      table.Add({u.user_id(), v1::UserStatus::Value_Name(u.user_status())});
    }
    table.Print(std::cout);
  }
  return true;
}

}  // namespace

bool IsRecognitionCommand(const std::string& sub) { return Commands().contains(sub); }

int RunRecognitionCommand(const std::string& sub, int argc, char** argv) {
  if (!IsRecognitionCommand(sub)) {
    std::cerr << "stratus: unknown recognition command '" << sub << "'\n";
    return kExitUsage;
  }
  unreachable = false;
  FlagSet flags("stratus " + sub, "Rekognition's " + sub +
                                      " against the recognition service; one JSON object per "
                                      "line in Rekognition's shapes.");
  ClientFlags client_flags(flags, kRecognitionDefaults);
  std::string attributes = "DEFAULT", external_id, quality_filter, required = "FACE_COVER";
  double threshold = -1, min_confidence = -1;
  int max_faces = 0, max_labels = -1, max_results = 0;
  if (sub == "detect-faces" || sub == "index-faces") {
    flags.String("attributes", "", &attributes, "DEFAULT or ALL");
  }
  if (sub == "compare-faces")
    flags.Double("similarity-threshold", "", &threshold, "0-100 (default 80)");
  if (sub == "search-faces-by-image")
    flags.Double("threshold", "", &threshold, "FaceMatchThreshold 0-100 (default 80)");
  if (sub == "index-faces") {
    flags.String("external-id", "", &external_id, "ExternalImageId (default: the file name)");
    flags.String("quality-filter", "", &quality_filter, "NONE, AUTO, LOW, MEDIUM or HIGH");
  }
  if (sub == "index-faces" || sub == "search-faces-by-image")
    flags.Int("max-faces", "", &max_faces, "MaxFaces");
  const bool list = sub == "list-collections" || sub == "list-faces" || sub == "list-users";
  if (list) {
    flags.Int("max-results", "", &max_results,
              "page size (default 1000; 500 for list-users); every page is fetched");
  }
  // Only the list commands take --output: every other command prints Rekognition's JSON.
  std::optional<OutputFlag> output;
  if (list) output.emplace(flags);
  std::string user_id, face_id;
  if (sub == "list-faces") flags.String("user-id", "", &user_id, "only the faces of this user");
  if (sub == "search-users") {
    flags.String("user-id", "", &user_id, "search with this user's faces");
    flags.String("face-id", "", &face_id, "search with this face");
  }
  if (sub == "associate-faces" || sub == "search-users" || sub == "search-users-by-image") {
    flags.Double("threshold", "", &threshold,
                 "UserMatchThreshold 0-100 (default 75 to associate, 80 to search)");
  }
  if (sub == "detect-labels") {
    flags.Int("max-labels", "", &max_labels, "MaxLabels (default: all)");
    flags.Double("min-confidence", "", &min_confidence,
                 "MinConfidence 0-100, a probability in percent (default 55)");
  }
  if (sub == "detect-text") {
    flags.Double("min-confidence", "", &min_confidence,
                 "WordFilter MinConfidence 0-100: words below it are left out");
  }
  if (sub == "detect-ppe") {
    flags.Double("min-confidence", "", &min_confidence, "summary MinConfidence 0-100 (default 50)");
    flags.String("required", "", &required, "RequiredEquipmentTypes, one type (FACE_COVER)");
  }
  int exit_code = 0;
  if (!ParseFlags(flags, argc, argv, &exit_code)) return exit_code;
  if (output && !output->Resolve(flags, &exit_code)) return exit_code;
  const auto& args = flags.positional();
  auto usage = [&](const std::string& message) { return UsageError(flags, message); };
  const RecognitionClient client = client_flags.Client<v1::RecognitionService>();
  auto attrs = [&](auto* repeated) {
    repeated->Add(absl::AsciiStrToUpper(attributes) == "ALL" ? v1::FaceAttribute::ALL
                                                             : v1::FaceAttribute::DEFAULT);
  };
  bool ok = true;
  // Calls `call(image)` for each image path, printing one line per image.
  auto per_image = [&](const std::vector<std::string>& paths, auto&& call) {
    for (const auto& path : paths) {
      auto image = LoadImage(path);
      ok = (image.ok() ? Report(path, call(*image)) : Fail(path, image.status())) && ok;
    }
  };

  if (sub == "detect-faces") {
    if (args.empty()) return usage("detect-faces needs at least one IMAGE");
    per_image(args, [&](const v1::Image& image) {
      v1::DetectFacesRequest r;
      *r.mutable_image() = image;
      attrs(r.mutable_attributes());
      return client.Call(&Stub::DetectFaces, r, CallKind::kInference);
    });
  } else if (sub == "compare-faces") {
    if (args.size() != 2) return usage("compare-faces needs SOURCE and TARGET");
    auto source = LoadImage(args[0]);
    auto target = LoadImage(args[1]);
    if (!source.ok() || !target.ok()) {
      Fail(source.ok() ? args[1] : args[0], source.ok() ? target.status() : source.status());
      return kExitFailed;
    }
    v1::CompareFacesRequest r;
    *r.mutable_source_image() = *source;
    *r.mutable_target_image() = *target;
    if (threshold >= 0) r.set_similarity_threshold(static_cast<float>(threshold));
    ok = Report(args[1], client.Call(&Stub::CompareFaces, r, CallKind::kInference));
  } else if (sub == "create-collection" || sub == "delete-collection") {
    if (args.size() != 1) return usage(sub + " needs one collection ID");
    if (sub == "create-collection") {
      v1::CreateCollectionRequest r;
      r.set_collection_id(args[0]);
      ok = Report(args[0], client.Call(&Stub::CreateCollection, r, CallKind::kControl));
    } else {
      v1::DeleteCollectionRequest r;
      r.set_collection_id(args[0]);
      ok = Report(args[0], client.Call(&Stub::DeleteCollection, r, CallKind::kControl));
    }
  } else if (sub == "list-collections" || sub == "list-faces" || sub == "list-users") {
    if (sub == "list-collections" ? !args.empty() : args.size() != 1) {
      return usage(sub == "list-collections" ? "list-collections takes no arguments"
                                             : sub + " needs one COLLECTION");
    }
    ok = ListAll(sub, args.empty() ? "" : args[0], max_results, user_id, output->format(), client);
  } else if (sub == "index-faces") {
    if (args.size() < 2) return usage("index-faces needs COLLECTION and at least one IMAGE");
    v1::QualityFilter::Value filter = v1::QualityFilter::QUALITY_FILTER_UNSPECIFIED;
    if (!quality_filter.empty() &&
        !v1::QualityFilter::Value_Parse(absl::AsciiStrToUpper(quality_filter), &filter)) {
      return usage("--quality-filter is NONE, AUTO, LOW, MEDIUM or HIGH");
    }
    for (auto path = args.begin() + 1; path != args.end(); ++path) {
      per_image({*path}, [&](const v1::Image& image) {
        v1::IndexFacesRequest r;
        r.set_collection_id(args[0]);
        *r.mutable_image() = image;
        r.set_external_image_id(external_id.empty() ? ExternalIdFor(*path) : external_id);
        if (max_faces > 0) r.set_max_faces(max_faces);
        r.set_quality_filter(filter);
        attrs(r.mutable_detection_attributes());
        return client.Call(&Stub::IndexFaces, r, CallKind::kIndexed);
      });
    }
  } else if (sub == "search-faces-by-image") {
    if (args.size() < 2)
      return usage("search-faces-by-image needs COLLECTION and at least one IMAGE");
    per_image({args.begin() + 1, args.end()}, [&](const v1::Image& image) {
      v1::SearchFacesByImageRequest r;
      r.set_collection_id(args[0]);
      *r.mutable_image() = image;
      if (max_faces > 0) r.set_max_faces(max_faces);
      if (threshold >= 0) r.set_face_match_threshold(static_cast<float>(threshold));
      return client.Call(&Stub::SearchFacesByImage, r, CallKind::kIndexed);
    });
  } else if (sub == "detect-labels") {
    if (args.empty()) return usage("detect-labels needs at least one IMAGE");
    per_image(args, [&](const v1::Image& image) {
      v1::DetectLabelsRequest r;
      *r.mutable_image() = image;
      if (max_labels >= 0) r.set_max_labels(max_labels);
      if (min_confidence >= 0) r.set_min_confidence(static_cast<float>(min_confidence));
      return client.Call(&Stub::DetectLabels, r, CallKind::kInference);
    });
  } else if (sub == "detect-text") {
    if (args.empty()) return usage("detect-text needs at least one IMAGE");
    per_image(args, [&](const v1::Image& image) {
      v1::DetectTextRequest r;
      *r.mutable_image() = image;
      if (min_confidence >= 0) {
        r.mutable_filters()->mutable_word_filter()->set_min_confidence(
            static_cast<float>(min_confidence));
      }
      return client.Call(&Stub::DetectText, r, CallKind::kInference);
    });
  } else if (sub == "detect-ppe") {
    if (args.empty()) return usage("detect-ppe needs at least one IMAGE");
    v1::ProtectiveEquipmentType::Value type;
    if (!v1::ProtectiveEquipmentType::Value_Parse(absl::AsciiStrToUpper(required), &type)) {
      return usage("--required is FACE_COVER, HAND_COVER or HEAD_COVER");
    }
    per_image(args, [&](const v1::Image& image) {
      v1::DetectProtectiveEquipmentRequest r;
      *r.mutable_image() = image;
      auto* s = r.mutable_summarization_attributes();
      s->set_min_confidence(min_confidence >= 0 ? static_cast<float>(min_confidence) : 50.0f);
      s->add_required_equipment_types(type);
      return client.Call(&Stub::DetectProtectiveEquipment, r, CallKind::kInference);
    });
  } else if (sub == "create-user" || sub == "delete-user") {
    if (args.size() != 2) return usage(sub + " needs COLLECTION and USER");
    if (sub == "create-user") {
      v1::CreateUserRequest r;
      r.set_collection_id(args[0]);
      r.set_user_id(args[1]);
      ok = Report(args[1], client.Call(&Stub::CreateUser, r, CallKind::kControl));
    } else {
      v1::DeleteUserRequest r;
      r.set_collection_id(args[0]);
      r.set_user_id(args[1]);
      ok = Report(args[1], client.Call(&Stub::DeleteUser, r, CallKind::kControl));
    }
  } else if (sub == "associate-faces" || sub == "disassociate-faces") {
    if (args.size() < 3) return usage(sub + " needs COLLECTION, USER and at least one FACE_ID");
    if (sub == "associate-faces") {
      v1::AssociateFacesRequest r;
      r.set_collection_id(args[0]);
      r.set_user_id(args[1]);
      for (size_t i = 2; i < args.size(); ++i) r.add_face_ids(args[i]);
      if (threshold >= 0) r.set_user_match_threshold(static_cast<float>(threshold));
      ok = Report(args[1], client.Call(&Stub::AssociateFaces, r, CallKind::kIndexed));
    } else {
      v1::DisassociateFacesRequest r;
      r.set_collection_id(args[0]);
      r.set_user_id(args[1]);
      for (size_t i = 2; i < args.size(); ++i) r.add_face_ids(args[i]);
      ok = Report(args[1], client.Call(&Stub::DisassociateFaces, r, CallKind::kControl));
    }
  } else if (sub == "search-users") {
    if (args.size() != 1 || user_id.empty() == face_id.empty()) {
      return usage("search-users needs COLLECTION and one of --user-id and --face-id");
    }
    v1::SearchUsersRequest r;
    r.set_collection_id(args[0]);
    r.set_user_id(user_id);
    r.set_face_id(face_id);
    if (threshold >= 0) r.set_user_match_threshold(static_cast<float>(threshold));
    ok = Report(args[0], client.Call(&Stub::SearchUsers, r, CallKind::kIndexed));
  } else if (sub == "search-users-by-image") {
    if (args.size() < 2)
      return usage("search-users-by-image needs COLLECTION and at least one IMAGE");
    per_image({args.begin() + 1, args.end()}, [&](const v1::Image& image) {
      v1::SearchUsersByImageRequest r;
      r.set_collection_id(args[0]);
      *r.mutable_image() = image;
      if (threshold >= 0) r.set_user_match_threshold(static_cast<float>(threshold));
      return client.Call(&Stub::SearchUsersByImage, r, CallKind::kIndexed);
    });
  }
  return ok ? kExitOk : unreachable ? kExitUnavailable : kExitFailed;
}

}  // namespace stratus::cli
