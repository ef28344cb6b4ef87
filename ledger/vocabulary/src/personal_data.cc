#include "ledger/personal_data.h"

#include <string>

namespace attendance::ledger {
namespace {

// Moves one string field; true if it was not empty. `to` is called only
// then: most events have nothing to move, and creating the destination's
// sub-message would cost an allocation per mark.
template <typename To>
bool Move(std::string* from, To to) {
  if (from->empty()) return false;
  std::string* destination = to();
  destination->swap(*from);
  from->clear();
  return true;
}

// The same for a repeated field (all its elements).
template <typename Repeated, typename To>
bool MoveAll(Repeated* from, To to) {
  if (from->empty()) return false;
  to()->Swap(from);
  from->Clear();
  return true;
}

template <typename To>
bool MovePupil(v1::Pupil& from, To to) {
  bool moved = Move(from.mutable_given_name(), [&] { return to().mutable_given_name(); });
  moved |= Move(from.mutable_family_name(), [&] { return to().mutable_family_name(); });
  moved |= Move(from.mutable_date_of_birth(), [&] { return to().mutable_date_of_birth(); });
  moved |= Move(from.mutable_school_reference(), [&] { return to().mutable_school_reference(); });
  // The whole list: carers' ids and relationships say who a child lives
  // with, which is personal too. Until an erasure readers get it back.
  moved |= MoveAll(from.mutable_carers(), [&] { return to().mutable_carers(); });
  return moved;
}

}  // namespace

bool MovePersonalFields(v1::EventEnvelope& from, v1::EventEnvelope& to) {
  switch (from.payload_case()) {
    case v1::EventEnvelope::kMarkRecorded:
      return Move(from.mutable_mark_recorded()->mutable_comment(),
                  [&] { return to.mutable_mark_recorded()->mutable_comment(); });
    case v1::EventEnvelope::kMarkAmended:
      return Move(from.mutable_mark_amended()->mutable_reason(),
                  [&] { return to.mutable_mark_amended()->mutable_reason(); });
    case v1::EventEnvelope::kLetterSent:
      return Move(from.mutable_letter_sent()->mutable_note(),
                  [&] { return to.mutable_letter_sent()->mutable_note(); });
    case v1::EventEnvelope::kPupilEnrolled:
      return MovePupil(*from.mutable_pupil_enrolled()->mutable_pupil(), [&]() -> v1::Pupil& {
        return *to.mutable_pupil_enrolled()->mutable_pupil();
      });
    case v1::EventEnvelope::kPupilUpdated:
      return MovePupil(*from.mutable_pupil_updated()->mutable_pupil(), [&]() -> v1::Pupil& {
        return *to.mutable_pupil_updated()->mutable_pupil();
      });
    case v1::EventEnvelope::kPupilLeftRoll:
      return Move(from.mutable_pupil_left_roll()->mutable_reason(),
                  [&] { return to.mutable_pupil_left_roll()->mutable_reason(); });
    case v1::EventEnvelope::kLeaveRequested:
      return Move(from.mutable_leave_requested()->mutable_reason(),
                  [&] { return to.mutable_leave_requested()->mutable_reason(); });
    case v1::EventEnvelope::kLeaveDecided:
      return Move(from.mutable_leave_decided()->mutable_reason(),
                  [&] { return to.mutable_leave_decided()->mutable_reason(); });
    case v1::EventEnvelope::kActionRecorded: {
      v1::ActionRecorded& a = *from.mutable_action_recorded();
      bool moved = Move(a.mutable_outcome(),
                        [&] { return to.mutable_action_recorded()->mutable_outcome(); });
      moved |= Move(a.mutable_parent_name(),
                    [&] { return to.mutable_action_recorded()->mutable_parent_name(); });
      return moved;
    }
    default:
      // School events (settings, calendars, policies) name no pupil; the
      // erasure event itself names who authorised it, which is kept.
      return false;
  }
}

void ClearPersonalFields(v1::EventEnvelope& event) {
  v1::EventEnvelope discarded;
  if (MovePersonalFields(event, discarded) || !event.sealed_personal().empty()) {
    event.set_personal_erased(true);
  }
  event.clear_sealed_personal();
}

void ClearPersonalFields(v1::Pupil& pupil) {
  v1::Pupil discarded;
  MovePupil(pupil, [&]() -> v1::Pupil& { return discarded; });
}

}  // namespace attendance::ledger
