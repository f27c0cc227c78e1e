// stratus: the command-line tool. `stratus help` lists the commands.
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/auth/client.h"
#include "services/detector/detector_cli.h"
#include "services/ingest/ingest_cli.h"
#include "services/mask/mask_cli.h"
#include "services/recognition/recognition_cli.h"
#include "services/sentiment/sentiment_cli.h"
#include "tools/cost/cost_command.h"

namespace {

// `stratus train JOB.yaml ...` is the trainer binary, stratus-train, beside this one (or on
// PATH), run in this process's place: the CLI links no LibTorch, and the trainer gets the
// terminal (progress bar) and the signals (SIGTERM checkpoints) directly.
int RunTrain(int argc, char** argv) {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::filesystem::path beside = self.parent_path() / "stratus-train";
  std::vector<char*> args;
  std::string program = "stratus-train";
  args.push_back(program.data());
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  if (!ec && std::filesystem::exists(beside, ec)) {
    execv(beside.c_str(), args.data());
  } else {
    execvp("stratus-train", args.data());
  }
  std::cerr << "stratus train: cannot run stratus-train (looked beside " << self.string()
            << " and on PATH): " << std::strerror(errno) << "\n";
  return 127;
}

struct Command {
  const char* name;
  const char* summary;
  std::function<int(int, char**)> run;  // gets argv starting at the command name
};

const std::vector<Command>& Commands() {
  static const auto* kCommands = new std::vector<Command>{
      {"up", "run PostgreSQL and all services on this machine", stratus::cli::RunUpCommand},
      {"health", "check services' health: stratus health HOST:PORT...",
       stratus::cli::RunHealthCommand},
      {"keys", "API keys: stratus keys create|list|revoke|generate|hash",
       stratus::cli::RunKeysCommand},
      {"models", "list the detector's models", stratus::detector::RunModelsCommand},
      {"detect", "detect objects or faces: stratus detect [--model faces] IMAGE...",
       stratus::detector::RunDetectCommand},
      {"detect-faces", "faces with landmarks, pose, quality (Rekognition DetectFaces)",
       [](int argc, char** argv) { return stratus::recognition::RunRecognitionCommand("detect-faces", argc, argv); }},
      {"compare-faces", "compare-faces SOURCE TARGET (Rekognition CompareFaces)",
       [](int argc, char** argv) { return stratus::recognition::RunRecognitionCommand("compare-faces", argc, argv); }},
      {"create-collection", "create a face collection",
       [](int argc, char** argv) { return stratus::recognition::RunRecognitionCommand("create-collection", argc, argv); }},
      {"delete-collection", "delete a face collection",
       [](int argc, char** argv) { return stratus::recognition::RunRecognitionCommand("delete-collection", argc, argv); }},
      {"list-collections", "list face collections",
       [](int argc, char** argv) { return stratus::recognition::RunRecognitionCommand("list-collections", argc, argv); }},
      {"index-faces", "index-faces COLLECTION IMAGE... [--external-id]",
       [](int argc, char** argv) { return stratus::recognition::RunRecognitionCommand("index-faces", argc, argv); }},
      {"list-faces", "list the faces of a collection",
       [](int argc, char** argv) { return stratus::recognition::RunRecognitionCommand("list-faces", argc, argv); }},
      {"search-faces-by-image", "search-faces-by-image COLLECTION IMAGE...",
       [](int argc, char** argv) { return stratus::recognition::RunRecognitionCommand("search-faces-by-image", argc, argv); }},
      {"detect-labels", "COCO objects as Rekognition labels",
       [](int argc, char** argv) { return stratus::recognition::RunRecognitionCommand("detect-labels", argc, argv); }},
      {"detect-ppe", "persons and face covers (DetectProtectiveEquipment)",
       [](int argc, char** argv) { return stratus::recognition::RunRecognitionCommand("detect-ppe", argc, argv); }},
      {"classify-mask", "with mask / without / worn incorrectly: classify-mask [--crop] IMAGE...",
       stratus::mask::RunClassifyMaskCommand},
      {"sentiment", "sentiment of texts: stratus sentiment TEXT... | --file FILE",
       stratus::sentiment::RunSentimentCommand},
      {"feed", "stream a JSON Lines file of posts: stratus feed FILE.jsonl",
       stratus::sentiment::RunFeedCommand},
      {"trends", "sentiment per topic and time window", stratus::sentiment::RunTrendsCommand},
      {"stream", "add, remove and list video streams: stratus stream add|rm|ls",
       stratus::ingest::RunStreamCommand},
      {"events", "list or follow stream events: stratus events [--follow] [--stream S]",
       stratus::ingest::RunEventsCommand},
      {"train", "run a training job: stratus train JOB.yaml (runs stratus-train)", RunTrain},
      {"cost", "monthly cost of each placement per service", ::RunCostCommand},
  };
  return *kCommands;
}

int Help(std::ostream& out) {
  out << "usage: stratus COMMAND [flags] [args]\n\ncommands:\n";
  for (const auto& c : Commands()) {
    out << "  " << c.name << std::string(22 - std::min<size_t>(21, std::strlen(c.name)), ' ')
        << c.summary << "\n";
  }
  out << "\n`stratus COMMAND --help` describes a command.\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "help" || std::string(argv[1]) == "--help" ||
      std::string(argv[1]) == "-h") {
    return Help(std::cout);
  }
  // Every gRPC call of every command sends this key ($STRATUS_API_KEY or var/credentials).
  stratus::auth::SetDefaultApiKey(stratus::auth::ApiKeyFromEnvironment());
  // ...over TLS trusting $STRATUS_TLS_CA, or the CA of a `stratus up --tls` of this data dir;
  // the HTTP client (https:// URLs) reads $STRATUS_TLS_CA, so a CA found here is put there.
  if (stratus::TlsFiles tls = stratus::auth::ClientTlsFromEnvironment(); !tls.ca.empty()) {
    if (absl::Status s = stratus::auth::SetDefaultClientTls(tls); !s.ok()) {
      std::cerr << "stratus: " << s.message() << "\n";
      return 2;
    }
    setenv("STRATUS_TLS_CA", tls.ca.c_str(), 0);
  }
  for (const auto& c : Commands()) {
    if (c.name == std::string(argv[1])) return c.run(argc - 1, argv + 1);
  }
  std::cerr << "stratus: unknown command '" << argv[1] << "'\n\n";
  Help(std::cerr);
  return 2;
}
