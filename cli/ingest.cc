#include "cli/ingest.h"

#include <iostream>
#include <optional>

#include "absl/strings/ascii.h"
#include "cli/command.h"
#include "common/flags.h"
#include "common/status.h"
#include "stratus/v1/ingest.grpc.pb.h"

namespace stratus::cli {
namespace {

using Stub = v1::IngestService::Stub;

std::string Json(const google::protobuf::Message& m) { return ProtoJson(m); }

int StreamAdd(int argc, char** argv) {
  FlagSet flags("stratus stream add URI --name NAME",
                "Adds a video stream (RTSP, HTTP(S), file) for analysis.");
  std::string name, transport = "auto", collection;
  double fps = 0, min_conf = 0, threshold = 0;
  int every = 0;
  bool motion = false, replace = false;
  std::vector<std::string> analyses, classes;
  ClientFlags client_flags(flags, kIngestDefaults);
  flags.String("name", "", &name, "stream name (letters, digits, . _ -)");
  flags.String("transport", "", &transport, "RTSP transport: auto|tcp|udp");
  flags.Double("fps", "", &fps, "frames analysed per second (default 5)");
  flags.Int("every", "", &every, "analyse every Nth frame instead of --fps");
  flags.Bool("motion", "", &motion, "skip frames without motion");
  flags.StringList("analysis", "", &analyses, "objects|faces|masks|face_search (repeatable)");
  flags.StringList("class", "", &classes, "classes of interest besides person (repeatable)");
  flags.Double("min-confidence", "", &min_conf, "0..1, a calibrated probability (default 0.5; runtime/MODELS.md)");
  flags.String("collection", "", &collection, "collection for face_search");
  flags.Double("face-match-threshold", "", &threshold, "similarity 0..100 for face_search");
  flags.Bool("replace", "", &replace, "replace a stream of the same name");
  int code;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (flags.positional().size() != 1 || name.empty()) {
    std::cerr << "error: give one URI and --name\n\n" << flags.Usage();
    return 2;
  }
  v1::AddStreamRequest req;
  auto* c = req.mutable_config();
  c->set_name(name);
  c->set_uri(flags.positional()[0]);
  std::string t = absl::AsciiStrToUpper(transport);
  v1::StreamConfig::Transport tv;
  if (!v1::StreamConfig::Transport_Parse(t, &tv)) {
    std::cerr << "error: --transport must be auto, tcp or udp\n";
    return 2;
  }
  c->set_transport(tv);
  c->set_sample_fps(static_cast<float>(fps));
  c->set_sample_every_n_frames(every);
  c->set_motion_gating(motion);
  for (const auto& a : analyses) {
    v1::StreamConfig::Analysis av;
    if (!v1::StreamConfig::Analysis_Parse(absl::AsciiStrToUpper(a), &av)) {
      std::cerr << "error: unknown analysis '" << a << "'\n";
      return 2;
    }
    c->add_analyses(av);
  }
  for (const auto& k : classes) c->add_classes(k);
  c->set_min_confidence(static_cast<float>(min_conf));
  c->set_collection_id(collection);
  c->set_face_match_threshold(static_cast<float>(threshold));
  req.set_replace(replace);
  auto added =
      client_flags.Client<v1::IngestService>().Call(&Stub::AddStream, req, CallKind::kControl);
  if (!added.ok()) return ReportError(added.status());
  std::cout << Json(added->status()) << "\n";
  return 0;
}

}  // namespace

int RunStreamCommand(int argc, char** argv) {
  std::string sub = argc > 1 ? argv[1] : "";
  if (sub == "add") return StreamAdd(argc - 1, argv + 1);
  if (sub == "rm" || sub == "ls") {
    FlagSet flags(sub == "rm" ? "stratus stream rm NAME..." : "stratus stream ls",
                  sub == "rm" ? "Removes streams." : "Lists streams with their state.");
    ClientFlags client_flags(flags, kIngestDefaults);
    std::optional<OutputFlag> output;
    if (sub == "ls") output.emplace(flags);
    int code = 0;
    if (!ParseFlags(flags, argc - 1, argv + 1, &code)) return code;
    if (output && !output->Resolve(flags, &code)) return code;
    const auto client = client_flags.Client<v1::IngestService>();
    if (sub == "ls") {
      auto listed = client.Call(&Stub::ListStreams, v1::ListStreamsRequest(), CallKind::kControl);
      if (!listed.ok()) return ReportError(listed.status());
      const v1::ListStreamsResponse& resp = *listed;
      if (output->format() == Output::kTable) {
        Table table({"NAME", "STATE", "URI", "LAST_ERROR"});
        for (const auto& st : resp.streams()) {
          table.Add({st.config().name(), v1::StreamStatus::State_Name(st.state()), st.config().uri(),
                     st.last_error()});
        }
        table.Print(std::cout);
        return 0;
      }
      // The default lines are the protobuf JSON mapping already.
      for (const auto& st : resp.streams()) std::cout << Json(st) << "\n";
      return 0;
    }
    int rc = 0;
    for (const auto& name : flags.positional()) {
      v1::RemoveStreamRequest req;
      req.set_name(name);
      auto removed = client.Call(&Stub::RemoveStream, req, CallKind::kControl);
      if (!removed.ok()) rc = ReportError(removed.status(), name);
    }
    return rc;
  }
  std::cerr << "usage: stratus stream add|rm|ls ... (--help for each)\n";
  return 2;
}

int RunEventsCommand(int argc, char** argv) {
  FlagSet flags("stratus events",
                "Lists stored events (oldest first), or follows new ones with --follow.");
  std::string stream;
  bool follow = false;
  int limit = 100;
  std::vector<std::string> types;
  ClientFlags client_flags(flags, kIngestDefaults);
  flags.String("stream", "", &stream, "only this stream");
  flags.StringList("type", "", &types, "only these types, e.g. person_appeared (repeatable)");
  flags.Bool("follow", "", &follow, "keep printing new events until Ctrl-C");
  flags.Int("limit", "", &limit, "at most this many stored events (newest)");
  int code;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  std::vector<v1::Event::Type> type_values;
  for (const auto& t : types) {
    v1::Event::Type v;
    if (!v1::Event::Type_Parse(absl::AsciiStrToUpper(t), &v)) {
      std::cerr << "error: unknown event type '" << t << "'\n";
      return 2;
    }
    type_values.push_back(v);
  }
  const auto client = client_flags.Client<v1::IngestService>();
  if (follow) {
    v1::WatchEventsRequest req;
    if (!stream.empty()) req.add_streams(stream);
    for (auto t : type_values) req.add_types(t);
    const auto ctx = client.Context(CallKind::kStream);
    auto reader = client.stub().WatchEvents(ctx.get(), req);
    v1::Event e;
    while (reader->Read(&e)) std::cout << Json(e) << std::endl;
    const absl::Status ended = FromGrpcStatus(reader->Finish());
    return ended.ok() ? kExitOk : ReportError(ended, "events ended");
  }
  v1::ListEventsRequest req;
  req.set_stream(stream);
  for (auto t : type_values) req.add_types(t);
  req.set_page_size(limit);
  req.set_newest_first(true);
  auto resp = client.Call(&Stub::ListEvents, req, CallKind::kControl);
  if (!resp.ok()) return ReportError(resp.status());
  for (int i = resp->events_size() - 1; i >= 0; --i) std::cout << Json(resp->events(i)) << "\n";
  return 0;
}

}  // namespace stratus::cli
