#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>

#include "google/protobuf/message.h"

// A structure-aware mutation for inputs of the form [header byte][serialized
// request]: most random byte flips make a request that does not parse (a
// proto3 string that is not UTF-8, a broken tag), so without this only a few
// inputs in a hundred reach the ledger's checks. This parses the input,
// changes one to three fields through protobuf reflection (ids, dates and
// codes from the school of SetUpSchool, dates moved by days, edge numbers,
// repeated elements added, copied or removed) and serializes it again. A
// quarter of the mutations, and any input that does not parse, go to
// libFuzzer's own byte-level mutator instead.
namespace attendance::fuzz {

using MessageFactory = std::function<std::unique_ptr<google::protobuf::Message>(std::uint8_t)>;

// For LLVMFuzzerCustomMutator. `make(header)` returns an empty message of the
// type the header byte selects.
std::size_t MutateRequest(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed,
                          const MessageFactory& make);

// One random change to `message`.
void MutateMessage(google::protobuf::Message& message, std::minstd_rand& random);

}  // namespace attendance::fuzz
