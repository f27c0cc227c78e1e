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

#include "absl/strings/str_join.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/detector.h"
#include "cli/ingest.h"
#include "cli/mask.h"
#include "cli/recognition.h"
#include "cli/sentiment.h"
#include "common/auth/client.h"
#include "common/version.h"
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
  std::vector<std::string> subcommands = {};  // completed as the word after the name
};

int RunCompletion(int argc, char** argv);
int RunHelp(int argc, char** argv);

const std::vector<Command>& Commands() {
  static const auto* kCommands = new std::vector<Command>{
      {"up", "run PostgreSQL and all services on this machine", stratus::cli::RunUpCommand},
      {"health", "check services' health: stratus health HOST:PORT...",
       stratus::cli::RunHealthCommand},
      {"keys", "API keys: stratus keys create|list|revoke|generate|hash",
       stratus::cli::RunKeysCommand, {"create", "list", "revoke", "generate", "hash"}},
      {"models", "list the detector's models", stratus::cli::RunModelsCommand},
      {"detect", "detect objects or faces: stratus detect [--model faces] IMAGE...",
       stratus::cli::RunDetectCommand},
      {"detect-faces", "faces with landmarks, pose, quality (Rekognition DetectFaces)",
       [](int argc, char** argv) { return stratus::cli::RunRecognitionCommand("detect-faces", argc, argv); }},
      {"compare-faces", "compare-faces SOURCE TARGET (Rekognition CompareFaces)",
       [](int argc, char** argv) { return stratus::cli::RunRecognitionCommand("compare-faces", argc, argv); }},
      {"create-collection", "create a face collection",
       [](int argc, char** argv) { return stratus::cli::RunRecognitionCommand("create-collection", argc, argv); }},
      {"delete-collection", "delete a face collection",
       [](int argc, char** argv) { return stratus::cli::RunRecognitionCommand("delete-collection", argc, argv); }},
      {"list-collections", "list face collections",
       [](int argc, char** argv) { return stratus::cli::RunRecognitionCommand("list-collections", argc, argv); }},
      {"index-faces", "index-faces COLLECTION IMAGE... [--external-id]",
       [](int argc, char** argv) { return stratus::cli::RunRecognitionCommand("index-faces", argc, argv); }},
      {"list-faces", "list the faces of a collection",
       [](int argc, char** argv) { return stratus::cli::RunRecognitionCommand("list-faces", argc, argv); }},
      {"search-faces-by-image", "search-faces-by-image COLLECTION IMAGE...",
       [](int argc, char** argv) { return stratus::cli::RunRecognitionCommand("search-faces-by-image", argc, argv); }},
      {"detect-labels", "COCO objects as Rekognition labels",
       [](int argc, char** argv) { return stratus::cli::RunRecognitionCommand("detect-labels", argc, argv); }},
      {"detect-ppe", "persons and face covers (DetectProtectiveEquipment)",
       [](int argc, char** argv) { return stratus::cli::RunRecognitionCommand("detect-ppe", argc, argv); }},
      {"detect-text", "lines and words of text in images (DetectText): detect-text IMAGE...",
       [](int argc, char** argv) { return stratus::cli::RunRecognitionCommand("detect-text", argc, argv); }},
      {"create-user", "create-user COLLECTION USER",
       [](int argc, char** argv) { return stratus::cli::RunRecognitionCommand("create-user", argc, argv); }},
      {"delete-user", "delete-user COLLECTION USER",
       [](int argc, char** argv) { return stratus::cli::RunRecognitionCommand("delete-user", argc, argv); }},
      {"list-users", "list the users of a collection",
       [](int argc, char** argv) { return stratus::cli::RunRecognitionCommand("list-users", argc, argv); }},
      {"associate-faces", "associate-faces COLLECTION USER FACE_ID...",
       [](int argc, char** argv) { return stratus::cli::RunRecognitionCommand("associate-faces", argc, argv); }},
      {"disassociate-faces", "disassociate-faces COLLECTION USER FACE_ID...",
       [](int argc, char** argv) { return stratus::cli::RunRecognitionCommand("disassociate-faces", argc, argv); }},
      {"search-users", "search-users COLLECTION --user-id U | --face-id F",
       [](int argc, char** argv) { return stratus::cli::RunRecognitionCommand("search-users", argc, argv); }},
      {"search-users-by-image", "search-users-by-image COLLECTION IMAGE...",
       [](int argc, char** argv) { return stratus::cli::RunRecognitionCommand("search-users-by-image", argc, argv); }},
      {"classify-mask", "with mask / without / worn incorrectly: classify-mask [--crop] IMAGE...",
       stratus::cli::RunClassifyMaskCommand},
      {"sentiment", "sentiment of texts: stratus sentiment TEXT... | --file FILE",
       stratus::cli::RunSentimentCommand},
      {"feed", "stream a JSON Lines file of posts: stratus feed FILE.jsonl",
       stratus::cli::RunFeedCommand},
      {"trends", "sentiment per topic and time window", stratus::cli::RunTrendsCommand},
      {"stream", "add, remove and list video streams: stratus stream add|rm|ls",
       stratus::cli::RunStreamCommand, {"add", "rm", "ls"}},
      {"events", "list or follow stream events: stratus events [--follow] [--stream S]",
       stratus::cli::RunEventsCommand},
      {"train", "run a training job: stratus train JOB.yaml (runs stratus-train)", RunTrain},
      {"cost", "monthly cost of each placement per service", ::RunCostCommand},
      {"help", "describe the commands, or one: stratus help COMMAND", RunHelp},
      {"completion", "print a shell completion script: stratus completion bash", RunCompletion,
       {"bash"}},
  };
  return *kCommands;
}

int Help(std::ostream& out) {
  out << "usage: stratus COMMAND [flags] [args]\n\ncommands:\n";
  for (const auto& c : Commands()) {
    out << "  " << c.name << std::string(22 - std::min<size_t>(21, std::strlen(c.name)), ' ')
        << c.summary << "\n";
  }
  out << "\n`stratus help COMMAND` or `stratus COMMAND --help` describes a command; "
         "`stratus --version` prints the version.\n"
         "Exit status: 0 ok, 1 the service failed the request, 2 usage error, 3 the service "
         "could not be reached (docs/cli.md).\n";
  return stratus::cli::kExitOk;
}

const Command* Find(const std::string& name) {
  for (const auto& c : Commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// stratus help [COMMAND [SUBCOMMAND]]: the list, or the command's own --help.
int RunHelp(int argc, char** argv) {
  if (argc < 2) return Help(std::cout);
  const Command* c = Find(argv[1]);
  if (c == nullptr || std::string(argv[1]) == "help") {
    if (c == nullptr) {
      std::cerr << "stratus: unknown command '" << argv[1] << "'\n\n";
      Help(std::cerr);
      return stratus::cli::kExitUsage;
    }
    return Help(std::cout);
  }
  std::vector<std::string> words(argv + 1, argv + argc);
  words.push_back("--help");
  std::vector<char*> args;
  for (auto& w : words) args.push_back(w.data());
  args.push_back(nullptr);
  return c->run(static_cast<int>(words.size()), args.data());
}

// Words for `compgen -W`, quoted for a bash script.
std::string Words(const std::vector<std::string>& words) { return absl::StrJoin(words, " "); }

// The bash completion script, from the command table: the command names, each command's
// subcommands, and at run time the --flags its --help lists.
std::string BashCompletion() {
  std::vector<std::string> names;
  for (const auto& c : Commands()) names.push_back(c.name);
  std::string subs;
  for (const auto& c : Commands()) {
    if (std::string(c.name) == "help") {
      subs += "    help) words=\"" + Words(names) + "\" ;;\n";
    } else if (!c.subcommands.empty()) {
      subs += std::string("    ") + c.name + ") words=\"" + Words(c.subcommands) + "\" ;;\n";
    }
  }
  return "# bash completion for stratus, generated by `stratus completion bash`.\n"
         "# Install: stratus completion bash > ~/.local/share/bash-completion/completions/stratus\n"
         "_stratus() {\n"
         "  local cur=${COMP_WORDS[COMP_CWORD]} words=\"\"\n"
         "  if (( COMP_CWORD == 1 )); then\n"
         "    COMPREPLY=($(compgen -W \"" + Words(names) + " --help --version\" -- \"$cur\"))\n"
         "    return\n"
         "  fi\n"
         "  case ${COMP_WORDS[1]} in\n" + subs +
         "  esac\n"
         "  if [[ -n $words ]] && (( COMP_CWORD == 2 )); then\n"
         "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
         "    return\n"
         "  fi\n"
         "  if [[ $cur == -* && ${COMP_WORDS[1]} != train ]]; then\n"
         "    local n=1\n"
         "    [[ -n $words ]] && n=2\n"
         "    local flags\n"
         "    flags=$(\"${COMP_WORDS[0]}\" \"${COMP_WORDS[@]:1:n}\" --help 2>/dev/null |\n"
         "      grep -o -- '--[a-z][a-z0-9-]*' | sort -u)\n"
         "    COMPREPLY=($(compgen -W \"$flags --help\" -- \"$cur\"))\n"
         "    return\n"
         "  fi\n"
         "  COMPREPLY=($(compgen -f -- \"$cur\"))\n"
         "}\n"
         "complete -o filenames -F _stratus stratus\n";
}

int RunCompletion(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "bash") {
    std::cout << BashCompletion();
    return stratus::cli::kExitOk;
  }
  if (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::cout << "usage: stratus completion bash\nPrints the bash completion script; e.g.\n"
                 "  source <(stratus completion bash)\n";
    return stratus::cli::kExitOk;
  }
  std::cerr << "usage: stratus completion bash (the only shell supported)\n";
  return stratus::cli::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    Help(std::cerr);
    return stratus::cli::kExitUsage;
  }
  if (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") return Help(std::cout);
  if (std::string(argv[1]) == "--version" || std::string(argv[1]) == "version") {
    std::cout << "stratus " << stratus::Version() << " (" << stratus::Revision() << ")\n";
    return stratus::cli::kExitOk;
  }
  // Every gRPC call of every command sends this key ($STRATUS_API_KEY or var/credentials).
  const std::string key = stratus::auth::ApiKeyFromEnvironment();
  if (absl::Status s = stratus::auth::CheckApiKey(key, "STRATUS_API_KEY or var/credentials");
      !s.ok()) {
    std::cerr << "stratus: " << s.message() << "\n";
    return stratus::cli::kExitUsage;
  }
  stratus::auth::SetDefaultApiKey(key);
  // ...over TLS trusting $STRATUS_TLS_CA, or the CA of a `stratus up --tls` of this data dir;
  // the HTTP client (https:// URLs) reads $STRATUS_TLS_CA, so a CA found here is put there.
  if (stratus::TlsFiles tls = stratus::auth::ClientTlsFromEnvironment(); !tls.ca.empty()) {
    if (absl::Status s = stratus::auth::SetDefaultClientTls(tls); !s.ok()) {
      std::cerr << "stratus: " << s.message() << "\n";
      return stratus::cli::kExitUsage;
    }
    setenv("STRATUS_TLS_CA", tls.ca.c_str(), 0);
  }
  for (const auto& c : Commands()) {
    if (c.name == std::string(argv[1])) return c.run(argc - 1, argv + 1);
  }
  std::cerr << "stratus: unknown command '" << argv[1] << "'\n\n";
  Help(std::cerr);
  return stratus::cli::kExitUsage;
}
