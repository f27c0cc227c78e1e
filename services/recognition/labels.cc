#include "services/recognition/labels.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace stratus::recognition {
namespace {

namespace v1 = ::stratus::v1;

const std::map<std::string, LabelName>& Taxonomy() {
  static const auto* kTaxonomy = new std::map<std::string, LabelName>{
      {"person", {"Person", {}}},
      {"bicycle", {"Bicycle", {"Vehicle", "Transportation"}}},
      {"car", {"Car", {"Vehicle", "Transportation"}}},
      {"motorcycle", {"Motorcycle", {"Vehicle", "Transportation"}}},
      {"motorbike", {"Motorcycle", {"Vehicle", "Transportation"}}},
      {"airplane", {"Airplane", {"Aircraft", "Vehicle", "Transportation"}}},
      {"aeroplane", {"Airplane", {"Aircraft", "Vehicle", "Transportation"}}},
      {"bus", {"Bus", {"Vehicle", "Transportation"}}},
      {"train", {"Train", {"Vehicle", "Transportation"}}},
      {"truck", {"Truck", {"Vehicle", "Transportation"}}},
      {"boat", {"Boat", {"Vehicle", "Transportation"}}},
      {"traffic light", {"Traffic Light", {"Light"}}},
      {"stop sign", {"Stop Sign", {"Sign", "Symbol"}}},
      {"bench", {"Bench", {"Furniture"}}},
      {"bird", {"Bird", {"Animal"}}},
      {"cat", {"Cat", {"Animal", "Mammal", "Pet"}}},
      {"dog", {"Dog", {"Animal", "Canine", "Mammal", "Pet"}}},
      {"horse", {"Horse", {"Animal", "Mammal"}}},
      {"sheep", {"Sheep", {"Animal", "Mammal"}}},
      {"cow", {"Cow", {"Animal", "Cattle", "Mammal"}}},
      {"elephant", {"Elephant", {"Animal", "Mammal", "Wildlife"}}},
      {"bear", {"Bear", {"Animal", "Mammal", "Wildlife"}}},
      {"zebra", {"Zebra", {"Animal", "Mammal", "Wildlife"}}},
      {"giraffe", {"Giraffe", {"Animal", "Mammal", "Wildlife"}}},
      {"backpack", {"Backpack", {"Bag", "Accessories"}}},
      {"handbag", {"Handbag", {"Bag", "Accessories"}}},
      {"tie", {"Tie", {"Accessories", "Formal Wear", "Clothing"}}},
      {"suitcase", {"Suitcase", {"Luggage", "Bag"}}},
      {"frisbee", {"Frisbee", {"Toy"}}},
      {"skis", {"Ski", {"Sport"}}},
      {"sports ball", {"Ball", {"Sport"}}},
      {"teddy bear", {"Teddy Bear", {"Toy"}}},
      {"wine glass", {"Wine Glass", {"Glass"}}},
      {"fork", {"Fork", {"Cutlery"}}},
      {"knife", {"Knife", {"Cutlery"}}},
      {"spoon", {"Spoon", {"Cutlery"}}},
      {"banana", {"Banana", {"Fruit", "Food"}}},
      {"apple", {"Apple", {"Fruit", "Food"}}},
      {"orange", {"Orange", {"Fruit", "Food"}}},
      {"sandwich", {"Sandwich", {"Food"}}},
      {"broccoli", {"Broccoli", {"Vegetable", "Food"}}},
      {"carrot", {"Carrot", {"Vegetable", "Food"}}},
      {"hot dog", {"Hot Dog", {"Food"}}},
      {"pizza", {"Pizza", {"Food"}}},
      {"donut", {"Donut", {"Food"}}},
      {"cake", {"Cake", {"Dessert", "Food"}}},
      {"chair", {"Chair", {"Furniture"}}},
      {"couch", {"Couch", {"Furniture"}}},
      {"sofa", {"Couch", {"Furniture"}}},
      {"bed", {"Bed", {"Furniture"}}},
      {"dining table", {"Dining Table", {"Table", "Furniture"}}},
      {"potted plant", {"Potted Plant", {"Plant"}}},
      {"tv", {"TV", {"Screen", "Electronics"}}},
      {"tvmonitor", {"TV", {"Screen", "Electronics"}}},
      {"laptop", {"Laptop", {"Computer", "Electronics"}}},
      {"mouse", {"Mouse", {"Computer Hardware", "Electronics"}}},
      {"remote", {"Remote Control", {"Electronics"}}},
      {"keyboard", {"Keyboard", {"Computer Hardware", "Electronics"}}},
      {"cell phone", {"Mobile Phone", {"Phone", "Electronics"}}},
      {"microwave", {"Microwave", {"Appliance"}}},
      {"oven", {"Oven", {"Appliance"}}},
      {"toaster", {"Toaster", {"Appliance"}}},
      {"refrigerator", {"Refrigerator", {"Appliance"}}},
      {"hair drier", {"Hair Drier", {"Appliance"}}},
      {"book", {"Book", {"Publication"}}},
      {"vase", {"Vase", {"Pottery"}}},
      {"toothbrush", {"Toothbrush", {"Tool"}}},
  };
  return *kTaxonomy;
}

std::string TitleCase(const std::string& s) {
  std::string out = s;
  bool start = true;
  for (char& c : out) {
    if (c == '_' || c == '-') c = ' ';
    if (c == ' ') {
      start = true;
    } else {
      c = start ? std::toupper(static_cast<unsigned char>(c)) : c;
      start = false;
    }
  }
  return out;
}

}  // namespace

LabelName RekognitionLabel(const std::string& coco_name) {
  auto it = Taxonomy().find(coco_name);
  if (it != Taxonomy().end()) return it->second;
  return {TitleCase(coco_name), {}};
}

std::vector<v1::Label> LabelsFromDetections(
    const google::protobuf::RepeatedPtrField<v1::Detection>& detections, float min_confidence,
    int max_labels) {
  std::map<std::string, v1::Label> labels;
  for (const v1::Detection& d : detections) {
    const float confidence = d.confidence() * 100.0f;
    if (confidence < min_confidence) continue;
    const LabelName name = RekognitionLabel(d.label());
    v1::Label& label = labels[name.name];
    if (label.name().empty()) {
      label.set_name(name.name);
      for (const auto& p : name.parents) label.add_parents()->set_name(p);
    }
    label.set_confidence(std::max(label.confidence(), confidence));
    v1::Instance* instance = label.add_instances();
    *instance->mutable_bounding_box() = d.box();
    instance->set_confidence(confidence);
    for (size_t i = 0; i < name.parents.size(); ++i) {
      v1::Label& parent = labels[name.parents[i]];
      if (parent.name().empty()) {
        parent.set_name(name.parents[i]);
        for (size_t j = i + 1; j < name.parents.size(); ++j) parent.add_parents()->set_name(name.parents[j]);
      }
      parent.set_confidence(std::max(parent.confidence(), confidence));
    }
  }
  std::vector<v1::Label> out;
  for (auto& [name, label] : labels) {
    std::sort(label.mutable_instances()->begin(), label.mutable_instances()->end(),
              [](const v1::Instance& a, const v1::Instance& b) { return a.confidence() > b.confidence(); });
    out.push_back(std::move(label));
  }
  std::stable_sort(out.begin(), out.end(), [](const v1::Label& a, const v1::Label& b) {
    return a.confidence() > b.confidence();
  });
  if (max_labels >= 0 && static_cast<int>(out.size()) > max_labels) out.resize(max_labels);
  return out;
}

}  // namespace stratus::recognition
