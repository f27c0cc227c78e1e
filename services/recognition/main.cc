// stratus-recognition: the Rekognition-compatible face and label API, over gRPC and over the
// AWS JSON 1.1 protocol (HTTP port, path "/", SigV4).
#include <iostream>

#include "common/aws/credentials.h"
#include "common/aws/json_protocol.h"
#include "common/db.h"
#include "common/logging.h"
#include "common/service_flags.h"
#include "common/service_host.h"
#include "services/recognition/aws_endpoint.h"
#include "services/recognition/backends.h"
#include "services/recognition/face_store.h"
#include "services/recognition/recognition_service.h"
#include "services/recognition/rekognition.h"
#include "services/recognition/schema.h"

namespace {

int Fail(const std::string& message, int code = 2) {
  std::cerr << "error: " << message << "\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  namespace rec = stratus::recognition;
  stratus::FlagSet flags("stratus-recognition", "The Rekognition-compatible face and label API.");
  stratus::CommonServiceFlags common;
  stratus::RegisterCommonServiceFlags(stratus::kRecognitionDefaults, true, flags, &common);
  rec::DetectorClient::Options detector;
  rec::MaskClient::Options mask;
  rec::Recognizer::Options recognizer;
  stratus::aws::CredentialSources credentials;
  stratus::runtime::TextReader::Options text;
  text.max_lines = 500;  // DetectText applies AWS's 50 / 100 after its filters
  text.max_words = 1000;
  int64_t graph_threshold = rec::VectorIndex::Options().graph_threshold;
  flags.String("detector", "STRATUS_DETECTOR_ADDR", &detector.address,
               "detector service address (host:port)");
  flags.String("mask", "STRATUS_MASK_ADDR", &mask.address, "mask service address (host:port)");
  flags.String("access-key-id", "STRATUS_AWS_ACCESS_KEY_ID", &credentials.access_key_id,
               "access key id accepted on the AWS endpoint (with --secret-access-key)");
  flags.String("secret-access-key", "STRATUS_AWS_SECRET_ACCESS_KEY",
               &credentials.secret_access_key, "its secret");
  flags.String("credentials-file", "STRATUS_AWS_CREDENTIALS_FILE",
               &credentials.shared_credentials_file,
               "AWS shared-credentials file (profile 'stratus'); generated when missing");
  flags.String("region", "STRATUS_AWS_REGION", &recognizer.region, "region in collection ARNs");
  flags.String("account", "STRATUS_AWS_ACCOUNT", &recognizer.account, "account in collection ARNs");
  flags.String("file-uri-root", "STRATUS_FILE_URI_ROOT", &recognizer.file_uri_root,
               "folder whose files gRPC callers may name as Image.uri (\"\": none)");
  flags.Int64("graph-threshold", "STRATUS_RECOGNITION_GRAPH_THRESHOLD", &graph_threshold,
              "collections of at least this many faces use an HNSW graph instead of exact search");
  flags.String("tessdata", "STRATUS_TESSDATA_DIR", &text.tessdata_dir,
               "Tesseract tessdata folder for DetectText (\"\": $TESSDATA_PREFIX or Tesseract's own)");
  int exit_code = 0;
  if (!stratus::ParseFlagsOrExit(flags, argc, argv, &exit_code)) return exit_code;
  if (auto s = stratus::ApplyCommonServiceFlags(&common); !s.ok()) return Fail(std::string(s.message()));
  if (common.database_url.empty()) {
    return Fail("--database-url (or STRATUS_DATABASE_URL) is required");
  }
  auto db = stratus::Database::Create({.url = common.database_url, .pool_size = 8});
  if (!db.ok()) return Fail(std::string(db.status().message()));
  auto host = stratus::ServiceHost::Create(common.host);
  if (!host.ok()) return Fail(std::string(host.status().message()));

  rec::FaceStore::Options store_options;
  store_options.db = db->get();
  store_options.index.graph_threshold = graph_threshold;
  auto store = rec::FaceStore::Create(store_options);
  if (!store.ok()) return Fail(std::string(store.status().message()));
  rec::DetectorClient detector_client(detector);
  rec::MaskClient mask_client(mask);
  recognizer.store = store->get();
  recognizer.faces = &detector_client;
  recognizer.objects = &detector_client;
  recognizer.masks = &mask_client;
  auto text_reader = stratus::runtime::TextReader::Create(text);
  if (text_reader.ok()) {
    recognizer.text = text_reader->get();
  } else {
    SLOG(WARNING) << "DetectText is off" << stratus::Kv("error", text_reader.status().message());
  }
  auto core = rec::Recognizer::Create(recognizer);
  if (!core.ok()) return Fail(std::string(core.status().message()));
  rec::RecognitionServiceImpl service(core->get());
  (*host)->AddService(&service, "stratus.v1.RecognitionService");
  (*host)->AddReadinessCheck("database", stratus::DatabaseReadinessCheck(
                                             db->get(), "recognition", rec::Migrations()));
  rec::FaceStore* store_ptr = store->get();
  (*host)->AddReadinessCheck("face index", [store_ptr]() -> absl::Status {
    return store_ptr->synced() ? absl::OkStatus()
                               : absl::UnavailableError("face collections not loaded yet");
  });

  // The AWS JSON 1.1 endpoint, when keys are configured.
  stratus::aws::CredentialsStore keys;
  std::unique_ptr<stratus::aws::AwsJsonEndpoint> endpoint;
  const bool have_keys = !credentials.access_key_id.empty() || !credentials.secret_access_key.empty() ||
                         !credentials.shared_credentials_file.empty();
  if (have_keys && (*host)->http() != nullptr) {
    credentials.create_if_missing = !credentials.shared_credentials_file.empty();
    auto creds = stratus::aws::LoadCredentials(credentials);
    if (!creds.ok()) return Fail(absl::StrCat("AWS credentials: ", creds.status().message()));
    if (auto s = keys.Add(*creds); !s.ok()) return Fail(std::string(s.message()));
    stratus::aws::AwsJsonEndpoint::Options options;
    options.credentials = &keys;
    options.sigv4.service = "rekognition";
    options.errors = stratus::aws::RekognitionErrorDefaults();
    options.metrics = &(*host)->metrics();
    auto created = stratus::aws::AwsJsonEndpoint::Create(options);
    if (!created.ok()) return Fail(std::string(created.status().message()));
    endpoint = std::move(*created);
    rec::RegisterRekognitionOperations(endpoint.get(), core->get());
    endpoint->Install((*host)->http());
  } else {
    SLOG(WARNING) << "no AWS access keys configured (--access-key-id/--secret-access-key or "
                     "--credentials-file): the AWS JSON endpoint is off, gRPC only";
  }

  if (auto s = (*store)->Start(); !s.ok()) return Fail(std::string(s.message()), 1);
  if (auto s = (*host)->Start(); !s.ok()) {
    SLOG(ERROR) << "cannot start" << stratus::Kv("error", s.message());
    return 1;
  }
  SLOG(INFO) << "recognition serving" << stratus::Kv("grpc_port", (*host)->grpc_port())
             << stratus::Kv("http_port", (*host)->http_port())
             << stratus::Kv("detector", detector.address) << stratus::Kv("aws", endpoint != nullptr);
  stratus::ServiceHost::InstallSignalHandlers(host->get());
  (*host)->Wait();
  return 0;
}
