#include "proto_mutator.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "ledger/types.h"

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

namespace attendance::fuzz {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Values that the validators compare against: the set-up school's ids,
// dates in and around its calendar, register times, every kind of code.
const std::vector<std::string>& StringPool() {
  static const auto* pool = new std::vector<std::string>{"s1",
                                                         "s2",
                                                         "s3",
                                                         "p1",
                                                         "p2",
                                                         "p3",
                                                         "p4",
                                                         "p5",
                                                         "",
                                                         "2025-09-08",
                                                         "2025-09-12",
                                                         "2025-09-19",
                                                         "2025-10-01",
                                                         "2025-10-09",
                                                         "2025-10-10",
                                                         "2025-10-24",
                                                         "2025-10-27",
                                                         "2025-11-03",
                                                         "2025-12-19",
                                                         "2026-01-05",
                                                         "2024-09-02",
                                                         "2025-02-29",
                                                         "2026-13-01",
                                                         "09:25",
                                                         "13:10",
                                                         "24:00",
                                                         "/",
                                                         "\\",
                                                         "L",
                                                         "U",
                                                         "N",
                                                         "O",
                                                         "G",
                                                         "I",
                                                         "M",
                                                         "C1",
                                                         "J1",
                                                         "K",
                                                         "V",
                                                         "P",
                                                         "W",
                                                         "B",
                                                         "X",
                                                         "Y",
                                                         "Z",
                                                         "#",
                                                         "D",
                                                         "H",
                                                         "F",
                                                         "C",
                                                         "E",
                                                         "R",
                                                         "S",
                                                         "T",
                                                         "Q",
                                                         "7",
                                                         "7A",
                                                         "8B",
                                                         "FEMALE",
                                                         "MALE",
                                                         "true",
                                                         "false",
                                                         "Autumn",
                                                         "Autumn 1",
                                                         "INSET",
                                                         "Parent phoned",
                                                         "\xe2\x82\xac",
                                                         std::string(65, 'a'),
                                                         std::string(40, ' '),
                                                         std::string(21, '\0'),
                                                         "first-warning",
                                                         "r-1",
                                                         "r-2"};
  return *pool;
}

template <typename T>
T Pick(const std::vector<T>& values, std::minstd_rand& random) {
  return values[random() % values.size()];
}

std::int64_t EdgeNumber(std::minstd_rand& random) {
  static const std::vector<std::int64_t> kEdges = {0,
                                                   1,
                                                   2,
                                                   3,
                                                   4,
                                                   5,
                                                   7,
                                                   8,
                                                   10,
                                                   12,
                                                   13,
                                                   52,
                                                   59,
                                                   60,
                                                   90,
                                                   299,
                                                   300,
                                                   301,
                                                   1000,
                                                   1001,
                                                   2024,
                                                   2025,
                                                   2026,
                                                   10000,
                                                   10001,
                                                   -1,
                                                   std::numeric_limits<std::int32_t>::max(),
                                                   std::numeric_limits<std::int32_t>::min(),
                                                   std::numeric_limits<std::int64_t>::max()};
  return Pick(kEdges, random);
}

std::string MutateString(std::string value, std::minstd_rand& random) {
  switch (random() % 6) {
    case 0:
    case 1:
      return Pick(StringPool(), random);
    case 2:
      if (std::optional<ledger::Day> day = ledger::ParseDate(value)) {
        const int delta = static_cast<int>(random() % 61) - 30;  // a day to a month
        return ledger::FormatDate(*day + delta);
      }
      return Pick(StringPool(), random);
    case 3:
      return value + Pick(StringPool(), random);
    case 4:
      return value.substr(0, value.empty() ? 0 : random() % value.size());
    default:
      return value + value;
  }
}

// One place a mutation can go: a field of `message`; `index` is an element
// of a repeated field, or -1 for the field itself (set, clear, add).
struct Target {
  Message* message;
  const FieldDescriptor* field;
  int index;
};

void Collect(Message& message, std::vector<Target>& targets, int depth) {
  const Reflection* reflection = message.GetReflection();
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    targets.push_back({&message, field, -1});
    if (field->is_repeated()) {
      const int n = reflection->FieldSize(message, field);
      for (int k = 0; k < n && k < 8; ++k) {
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          if (depth < 4)
            Collect(*reflection->MutableRepeatedMessage(&message, field, k), targets, depth + 1);
        } else {
          targets.push_back({&message, field, k});
        }
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
               reflection->HasField(message, field) && depth < 4) {
      Collect(*reflection->MutableMessage(&message, field), targets, depth + 1);
    }
  }
}

void SetScalar(Message& m, const FieldDescriptor* f, int index, std::minstd_rand& random) {
  const Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string old = rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
      std::string value = MutateString(std::move(old), random);
      rep ? r->SetRepeatedString(&m, f, index, value) : r->SetString(&m, f, value);
      break;
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      const auto v = static_cast<std::int32_t>(EdgeNumber(random));
      rep ? r->SetRepeatedInt32(&m, f, index, v) : r->SetInt32(&m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      std::int64_t v = EdgeNumber(random);
      // Instants are microseconds: scale some edges, saturating (no overflow).
      if (random() % 4 == 0) {
        constexpr std::int64_t kMicros = 1'000'000;
        const std::int64_t limit = std::numeric_limits<std::int64_t>::max() / kMicros;
        v = v > limit    ? std::numeric_limits<std::int64_t>::max()
            : v < -limit ? std::numeric_limits<std::int64_t>::min()
                         : v * kMicros;
      }
      rep ? r->SetRepeatedInt64(&m, f, index, v) : r->SetInt64(&m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      const auto v = static_cast<std::uint32_t>(EdgeNumber(random));
      rep ? r->SetRepeatedUInt32(&m, f, index, v) : r->SetUInt32(&m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      const auto v = static_cast<std::uint64_t>(EdgeNumber(random));
      rep ? r->SetRepeatedUInt64(&m, f, index, v) : r->SetUInt64(&m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      const bool v = random() % 2 == 0;
      rep ? r->SetRepeatedBool(&m, f, index, v) : r->SetBool(&m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      static const std::vector<double> kValues = {0,
                                                  0.5,
                                                  10,
                                                  50,
                                                  89.9,
                                                  90,
                                                  100,
                                                  100.1,
                                                  -1,
                                                  std::numeric_limits<double>::quiet_NaN(),
                                                  std::numeric_limits<double>::infinity()};
      const double v = Pick(kValues, random);
      rep ? r->SetRepeatedDouble(&m, f, index, v) : r->SetDouble(&m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      const auto v = static_cast<float>(EdgeNumber(random));
      rep ? r->SetRepeatedFloat(&m, f, index, v) : r->SetFloat(&m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const google::protobuf::EnumDescriptor* e = f->enum_type();
      const int v = random() % 8 == 0
                        ? static_cast<int>(EdgeNumber(random))
                        : e->value(static_cast<int>(random() % e->value_count()))->number();
      rep ? r->SetRepeatedEnumValue(&m, f, index, v) : r->SetEnumValue(&m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
}

void MutateRepeated(Message& m, const FieldDescriptor* f, std::minstd_rand& random) {
  const Reflection* r = m.GetReflection();
  const int n = r->FieldSize(m, f);
  const unsigned op = random() % 4;
  if (op == 0 && n > 0) {  // remove one
    r->SwapElements(&m, f, static_cast<int>(random() % n), n - 1);
    r->RemoveLast(&m, f);
    return;
  }
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    Message* added = r->AddMessage(&m, f);
    if (n > 0 && op != 3) {  // a copy of one, so that a batch's marks collide or line up
      added->CopyFrom(r->GetRepeatedMessage(m, f, static_cast<int>(random() % n)));
    }
    MutateMessage(*added, random);
    return;
  }
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      r->AddString(&m, f, Pick(StringPool(), random));
      break;
    case FieldDescriptor::CPPTYPE_INT32:
      r->AddInt32(&m, f, static_cast<std::int32_t>(EdgeNumber(random)));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      r->AddUInt32(&m, f, static_cast<std::uint32_t>(EdgeNumber(random)));
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const google::protobuf::EnumDescriptor* e = f->enum_type();
      r->AddEnumValue(&m, f, e->value(static_cast<int>(random() % e->value_count()))->number());
      break;
    }
    default:
      break;  // no such repeated fields in our requests
  }
}

}  // namespace

void MutateMessage(Message& message, std::minstd_rand& random) {
  std::vector<Target> targets;
  Collect(message, targets, 0);
  if (targets.empty()) return;
  const Target t = targets[random() % targets.size()];
  const Reflection* r = t.message->GetReflection();
  if (t.index >= 0) return SetScalar(*t.message, t.field, t.index, random);
  if (t.field->is_repeated()) return MutateRepeated(*t.message, t.field, random);
  if (t.field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    if (random() % 8 == 0) return r->ClearField(t.message, t.field);
    return MutateMessage(*r->MutableMessage(t.message, t.field), random);
  }
  if (random() % 8 == 0) return r->ClearField(t.message, t.field);
  SetScalar(*t.message, t.field, -1, random);
}

std::size_t MutateRequest(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed,
                          const MessageFactory& make) {
  std::minstd_rand random(seed);
  if (size < 1 || random() % 4 == 0) return LLVMFuzzerMutate(data, size, max_size);
  std::unique_ptr<Message> message = make(data[0]);
  if (message == nullptr || !message->ParseFromArray(data + 1, static_cast<int>(size - 1))) {
    return LLVMFuzzerMutate(data, size, max_size);
  }
  const unsigned changes = 1 + random() % 3;
  for (unsigned i = 0; i < changes; ++i) MutateMessage(*message, random);
  const std::string bytes = message->SerializeAsString();
  if (bytes.size() + 1 > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data + 1, bytes.data(), bytes.size());
  return bytes.size() + 1;
}

}  // namespace attendance::fuzz
