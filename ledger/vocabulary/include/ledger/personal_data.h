#pragma once

// The personal fields of the stored events (retention by crypto-shredding,
// ADR 0003): the one list of what the ledger seals with a pupil's key and
// what an erasure clears. Pure: the ledger encrypts, the read models clear.

#include "attendance/v1/events.pb.h"

namespace attendance::ledger {

// Moves the personal fields of `from` into `to`, which gets an envelope of
// the same payload shape holding only them; `from` keeps everything else.
// Merging `to` back (from.MergeFrom(to)) restores the event, because a
// moved field is left empty (strings) or with no elements (repeated). Adding
// a field to the sealed set is one line here. Returns whether anything was
// moved: events without personal text (most marks) seal nothing.
bool MovePersonalFields(v1::EventEnvelope& from, v1::EventEnvelope& to);

// The event as a reader sees it after the pupil's key was erased: the
// personal fields empty, personal_erased set if there were any.
void ClearPersonalFields(v1::EventEnvelope& event);

// A pupil's details without the sealed ones (names, date of birth, school
// reference, carers), for read models that keep details in their state.
void ClearPersonalFields(v1::Pupil& pupil);

}  // namespace attendance::ledger
