#include "services/recognition/rekognition.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/aws/aws_error.h"
#include "common/image.h"
#include "common/path_root.h"
#include "common/status.h"
#include "services/recognition/face_detail.h"
#include "services/recognition/labels.h"
#include "services/recognition/rekognition_params.h"

// The image operations (DetectFaces, CompareFaces, DetectLabels, DetectProtectiveEquipment) and
// what every operation shares (image checks, face analysis, page tokens). Collections and faces:
// rekognition_collections.cc; users: rekognition_users.cc; DetectText: detect_text.cc.
namespace stratus::recognition {
namespace {

namespace v1 = ::stratus::v1;
using params::Invalid;
using params::kMaxFacesPerImage;
using params::Threshold;

constexpr int kMaxPersons = 15;

absl::Status AwsInvalid(absl::string_view type, absl::string_view message) {
  return aws::AwsError(absl::StatusCode::kInvalidArgument, 400, type, message);
}

// Errors of the detector or mask service, as this service reports them.
absl::Status BackendError(const absl::Status& s, absl::string_view backend) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      if (aws::IsAwsError(s, "InvalidImageFormatException") ||
          aws::IsAwsError(s, "ImageTooLargeException")) {
        return s;
      }
      return AwsInvalid("InvalidImageFormatException", s.message());
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
      return absl::UnavailableError(absl::StrCat(backend, " is unavailable: ", s.message()));
    case absl::StatusCode::kResourceExhausted:
      return absl::ResourceExhaustedError(absl::StrCat(backend, " is overloaded: ", s.message()));
    case absl::StatusCode::kUnimplemented:
      return s;
    default:
      return absl::InternalError(absl::StrCat(backend, " failed: ", s.message()));
  }
}

v1::ComparedFace ToComparedFace(const v1::FaceAnalysis& f) {
  v1::ComparedFace c;
  *c.mutable_bounding_box() = f.box();
  c.set_confidence(f.confidence() * 100.0f);
  for (auto& l : RekognitionLandmarks(f)) *c.add_landmarks() = std::move(l);
  *c.mutable_pose() = f.pose();
  *c.mutable_quality() = f.quality();
  return c;
}

float Area(const v1::BoundingBox& b) { return b.width() * b.height(); }

bool Contains(const v1::BoundingBox& outer, float x, float y) {
  return x >= outer.left() && x <= outer.left() + outer.width() && y >= outer.top() &&
         y <= outer.top() + outer.height();
}

}  // namespace

std::string EncodePageToken(char kind, const std::string& last_key) {
  return absl::WebSafeBase64Escape(absl::StrCat(std::string(1, kind), ":", last_key));
}

absl::StatusOr<std::string> DecodePageToken(char kind, const std::string& token) {
  std::string raw;
  if (token.size() > 1024 || !absl::WebSafeBase64Unescape(token, &raw) || raw.size() < 2 ||
      raw[0] != kind || raw[1] != ':') {
    return aws::AwsError(absl::StatusCode::kInvalidArgument, 400, "InvalidPaginationTokenException",
                         "NextToken is not a token this operation returned");
  }
  return raw.substr(2);
}

absl::StatusOr<std::unique_ptr<Recognizer>> Recognizer::Create(const Options& options) {
  if (options.store == nullptr) return absl::InvalidArgumentError("Recognizer needs a FaceStore");
  if (options.faces == nullptr)
    return absl::InvalidArgumentError("Recognizer needs a FaceAnalyzer");
  return std::unique_ptr<Recognizer>(new Recognizer(options));
}

std::string Recognizer::Arn(const std::string& collection_id) const {
  return absl::StrCat("arn:aws:rekognition:", options_.region, ":", options_.account,
                      ":collection/", collection_id);
}

absl::StatusOr<v1::Image> Recognizer::CheckImage(const v1::Image& image,
                                                 const std::string& field) const {
  v1::Image out;
  switch (image.source_case()) {
    case v1::Image::SOURCE_NOT_SET:
      return Invalid(absl::StrCat(field, " is required: set ", field, ".Bytes to the image"));
    case v1::Image::kS3Object:
      return Invalid(absl::StrCat(field,
                                  ".S3Object is not supported: this Stratus server has no object "
                                  "store configured; send the image in ",
                                  field, ".Bytes"));
    case v1::Image::kUri: {
      const std::string& uri = image.uri();
      std::string path = absl::StartsWith(uri, "file://") ? uri.substr(7) : uri;
      // Component-wise under the root after resolving links and "..": a sibling folder whose
      // name starts with the root's name is outside.
      absl::StatusOr<std::filesystem::path> resolved =
          absl::PermissionDeniedError("no --file-uri-root");
      if (!options_.file_uri_root.empty()) {
        resolved = ResolveUnderRoot(path, options_.file_uri_root);
      }
      if (!resolved.ok()) {
        return AwsInvalid("InvalidS3ObjectException",
                          absl::StrCat(field, ".Uri is not allowed on this server"));
      }
      auto bytes = ReadImageFile(resolved->string(), 15 << 20);
      if (!bytes.ok()) {
        return AwsInvalid("InvalidS3ObjectException",
                          absl::StrCat(field, ".Uri cannot be read: ", bytes.status().message()));
      }
      out.set_bytes(std::move(*bytes));
      break;
    }
    case v1::Image::kBytes:
      if (image.bytes().empty()) return Invalid(absl::StrCat(field, ".Bytes is empty"));
      if (image.bytes().size() > options_.max_image_bytes) {
        return aws::AwsError(
            absl::StatusCode::kInvalidArgument, 400, "ImageTooLargeException",
            absl::StrCat(field, " is ", image.bytes().size(), " bytes; the limit is ",
                         options_.max_image_bytes, " bytes"));
      }
      out.set_bytes(image.bytes());
      break;
  }
  auto info = ProbeImage(out.bytes());
  if (!info.ok()) {
    return AwsInvalid(
        "InvalidImageFormatException",
        absl::StrCat(field, " is not a valid JPEG or PNG image: ", info.status().message()));
  }
  const ImageLimits limits;
  if (info->width > limits.max_dimension || info->height > limits.max_dimension ||
      int64_t{info->width} * info->height > limits.max_pixels) {
    return AwsInvalid(
        "InvalidImageFormatException",
        absl::StrCat(field, " is ", info->width, "x", info->height,
                     " pixels, over the limits (16384 pixels a side, 40 megapixels)"));
  }
  if (info->width < options_.min_image_side || info->height < options_.min_image_side) {
    return Invalid(absl::StrCat(field, " is ", info->width, "x", info->height,
                                " pixels; images must be at least ", options_.min_image_side,
                                " pixels on each side"));
  }
  return out;
}

absl::StatusOr<v1::AnalyzeFacesResponse> Recognizer::Analyze(const v1::Image& image, int max_faces,
                                                             bool descriptors,
                                                             const AttributeSet& attributes) {
  v1::AnalyzeFacesRequest request;
  *request.mutable_image() = image;
  request.set_max_faces(max_faces);
  request.set_descriptors(descriptors);
  request.set_attributes(attributes.NeedsModelAttributes());
  request.set_eye_direction(attributes.eye_direction);
  auto response = options_.faces->AnalyzeFaces(request);
  if (!response.ok()) return BackendError(response.status(), "the face detector");
  return response;
}

absl::StatusOr<v1::DetectFacesResponse> Recognizer::DetectFaces(
    const v1::DetectFacesRequest& request) {
  STRATUS_ASSIGN_OR_RETURN(v1::Image image, CheckImage(request.image(), "Image"));
  const AttributeSet attributes = ParseAttributes(request.attributes());
  STRATUS_ASSIGN_OR_RETURN(
      auto analysis, Analyze(image, kMaxFacesPerImage, false, attributes));
  v1::DetectFacesResponse response;
  for (const auto& f : analysis.faces()) {
    *response.add_face_details() = ToFaceDetail(f, attributes, analysis.image_size());
  }
  return response;
}

absl::StatusOr<v1::CompareFacesResponse> Recognizer::CompareFaces(
    const v1::CompareFacesRequest& request) {
  STRATUS_ASSIGN_OR_RETURN(
      float threshold, Threshold(request.has_similarity_threshold(), request.similarity_threshold(),
                                 "SimilarityThreshold"));
  STRATUS_ASSIGN_OR_RETURN(v1::Image source, CheckImage(request.source_image(), "SourceImage"));
  STRATUS_ASSIGN_OR_RETURN(v1::Image target, CheckImage(request.target_image(), "TargetImage"));
  const auto filter = request.quality_filter();
  STRATUS_ASSIGN_OR_RETURN(auto src, Analyze(source, 1, true));
  if (src.faces().empty() || !QualityReasons(src.faces(0), filter, src.image_size()).empty()) {
    return Invalid("There are no faces in the source image that pass the quality filter");
  }
  const v1::FaceAnalysis& s = src.faces(0);
  STRATUS_ASSIGN_OR_RETURN(auto tgt, Analyze(target, kMaxFacesPerImage, true));
  v1::CompareFacesResponse response;
  *response.mutable_source_image_face()->mutable_bounding_box() = s.box();
  response.mutable_source_image_face()->set_confidence(s.confidence() * 100.0f);
  std::vector<std::pair<float, v1::ComparedFace>> matches;
  for (const auto& t : tgt.faces()) {
    if (!QualityReasons(t, filter, tgt.image_size()).empty()) continue;
    const float similarity =
        SimilarityFromDistance(DescriptorDistance(s.face_descriptor(), t.face_descriptor()));
    if (similarity >= threshold) {
      matches.emplace_back(similarity, ToComparedFace(t));
    } else {
      *response.add_unmatched_faces() = ToComparedFace(t);
    }
  }
  std::stable_sort(matches.begin(), matches.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (auto& [similarity, face] : matches) {
    v1::CompareFacesMatch* m = response.add_face_matches();
    m->set_similarity(similarity);
    *m->mutable_face() = std::move(face);
  }
  return response;
}

absl::StatusOr<v1::DetectLabelsResponse> Recognizer::DetectLabels(
    const v1::DetectLabelsRequest& request) {
  if (request.has_max_labels() && request.max_labels() < 0) {
    return Invalid(absl::StrCat("MaxLabels must be >= 0, got ", request.max_labels()));
  }
  float min_confidence = 55.0f;
  if (request.has_min_confidence()) {
    if (!(request.min_confidence() >= 0 && request.min_confidence() <= 100)) {
      return Invalid(
          absl::StrCat("MinConfidence must be between 0 and 100, got ", request.min_confidence()));
    }
    min_confidence = request.min_confidence();
  }
  STRATUS_ASSIGN_OR_RETURN(v1::Image image, CheckImage(request.image(), "Image"));
  if (options_.objects == nullptr)
    return absl::UnimplementedError("DetectLabels has no object detector configured");
  v1::DetectRequest detect;
  detect.set_model("objects");
  *detect.mutable_image() = image;
  detect.set_min_confidence(std::max(0.01f, min_confidence / 100.0f));
  detect.set_max_results(1000);
  auto detected = options_.objects->Detect(detect);
  if (!detected.ok()) return BackendError(detected.status(), "the object detector");
  v1::DetectLabelsResponse response;
  for (auto& l : LabelsFromDetections(detected->detections(), min_confidence,
                                      request.has_max_labels() ? request.max_labels() : -1)) {
    *response.add_labels() = std::move(l);
  }
  response.set_label_model_version(detected->model_version());
  return response;
}

absl::StatusOr<v1::DetectProtectiveEquipmentResponse> Recognizer::DetectProtectiveEquipment(
    const v1::DetectProtectiveEquipmentRequest& request) {
  float min_confidence = 50.0f;
  const bool summarize = request.has_summarization_attributes();
  if (summarize) {
    const auto& s = request.summarization_attributes();
    if (!(s.min_confidence() >= 0 && s.min_confidence() <= 100)) {
      return Invalid(
          absl::StrCat("SummarizationAttributes.MinConfidence must be between 0 and "
                       "100, got ",
                       s.min_confidence()));
    }
    if (s.required_equipment_types().empty()) {
      return Invalid("SummarizationAttributes.RequiredEquipmentTypes needs at least one type");
    }
    min_confidence = std::max(50.0f, s.min_confidence());
  }
  STRATUS_ASSIGN_OR_RETURN(v1::Image image, CheckImage(request.image(), "Image"));
  if (options_.objects == nullptr) {
    return absl::UnimplementedError("DetectProtectiveEquipment has no object detector configured");
  }
  v1::DetectRequest detect;
  detect.set_model("objects");
  *detect.mutable_image() = image;
  detect.add_classes("person");
  detect.set_min_confidence(0.5f);
  detect.set_max_results(100);
  auto persons = options_.objects->Detect(detect);
  if (!persons.ok()) return BackendError(persons.status(), "the object detector");
  STRATUS_ASSIGN_OR_RETURN(auto faces, Analyze(image, kMaxFacesPerImage, false));

  struct Person {
    v1::BoundingBox box;
    float confidence;
    int face = -1;  // index into faces
  };
  std::vector<Person> people;
  for (const auto& d : persons->detections()) people.push_back({d.box(), d.confidence() * 100.0f});
  std::stable_sort(people.begin(), people.end(),
                   [](const Person& a, const Person& b) { return Area(a.box) > Area(b.box); });
  if (static_cast<int>(people.size()) > kMaxPersons) people.resize(kMaxPersons);
  // Each face goes to the smallest person box around its centre that has no face yet; a face
  // outside every person box (a close-up) is a person of its own.
  for (int i = 0; i < faces.faces_size(); ++i) {
    const auto& b = faces.faces(i).box();
    const float cx = b.left() + b.width() / 2, cy = b.top() + b.height() / 2;
    int best = -1;
    for (int p = 0; p < static_cast<int>(people.size()); ++p) {
      if (people[p].face >= 0 || !Contains(people[p].box, cx, cy)) continue;
      if (best < 0 || Area(people[p].box) < Area(people[best].box)) best = p;
    }
    if (best >= 0) {
      people[best].face = i;
    } else if (static_cast<int>(people.size()) < kMaxPersons) {
      people.push_back({b, faces.faces(i).confidence() * 100.0f, i});
    }
  }
  std::vector<int> face_of_result;  // mask results, one per face that belongs to a person
  v1::ClassifyResponse masks;
  v1::ClassifyRequest classify;
  for (const Person& p : people) {
    if (p.face < 0) continue;
    *classify.add_boxes() = faces.faces(p.face).box();
    face_of_result.push_back(p.face);
  }
  std::map<int, v1::FaceMask> mask_by_face;
  if (!face_of_result.empty()) {
    *classify.mutable_image() = image;
    absl::StatusOr<v1::ClassifyResponse> classified =
        options_.masks == nullptr ? absl::UnimplementedError("no mask service configured")
                                  : options_.masks->Classify(classify);
    if (!classified.ok()) {
      // Not configured or not offering it: a request this deployment cannot serve. Down, slow
      // or overloaded: BackendError's retryable codes.
      if (absl::IsUnimplemented(classified.status())) {
        return absl::UnimplementedError(
            absl::StrCat("DetectProtectiveEquipment: FACE_COVER detection needs the mask service (",
                         classified.status().message(), ")"));
      }
      return BackendError(classified.status(), "the mask service");
    }
    masks = std::move(*classified);
    for (int i = 0; i < masks.results_size() && i < static_cast<int>(face_of_result.size()); ++i) {
      mask_by_face[face_of_result[i]] = masks.results(i);
    }
  }

  v1::DetectProtectiveEquipmentResponse response;
  response.set_protective_equipment_model_version(masks.model_version());
  v1::ProtectiveEquipmentSummary summary;
  bool needs_undetectable = false;
  if (summarize) {
    for (int t : request.summarization_attributes().required_equipment_types()) {
      if (t != v1::ProtectiveEquipmentType::FACE_COVER) needs_undetectable = true;
    }
  }
  for (int id = 0; id < static_cast<int>(people.size()); ++id) {
    const Person& p = people[id];
    v1::ProtectiveEquipmentPerson* out = response.add_persons();
    out->set_id(id);
    *out->mutable_bounding_box() = p.box;
    out->set_confidence(p.confidence);
    float with = 0, without = 0, face_confidence = 0;
    if (p.face >= 0) {
      const auto& f = faces.faces(p.face);
      face_confidence = f.confidence() * 100.0f;
      auto* part = out->add_body_parts();
      part->set_name(v1::ProtectiveEquipmentBodyPart::FACE);
      part->set_confidence(face_confidence);
      auto m = mask_by_face.find(p.face);
      if (m != mask_by_face.end()) {
        auto prob = [&](const char* label) {
          auto it = m->second.probabilities().find(label);
          return it == m->second.probabilities().end() ? 0.0f : it->second * 100.0f;
        };
        with = prob("with_mask");
        without = prob("without_mask") + prob("mask_worn_incorrectly");
        if (m->second.label() == "with_mask" || m->second.label() == "mask_worn_incorrectly") {
          auto* e = part->add_equipment_detections();
          *e->mutable_bounding_box() = f.box();
          e->set_confidence((with + prob("mask_worn_incorrectly")));
          e->set_type(v1::ProtectiveEquipmentType::FACE_COVER);
          e->mutable_covers_body_part()->set_value(m->second.label() == "with_mask");
          e->mutable_covers_body_part()->set_confidence(m->second.confidence() * 100.0f);
        }
      }
    }
    if (!summarize) continue;
    if (needs_undetectable || p.face < 0 || face_confidence < min_confidence ||
        p.confidence < min_confidence) {
      summary.add_persons_indeterminate(id);
    } else if (with >= min_confidence) {
      summary.add_persons_with_required_equipment(id);
    } else if (without >= min_confidence) {
      summary.add_persons_without_required_equipment(id);
    } else {
      summary.add_persons_indeterminate(id);
    }
  }
  if (summarize) *response.mutable_summary() = std::move(summary);
  return response;
}

}  // namespace stratus::recognition
