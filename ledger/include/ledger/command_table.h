#pragma once

// The ledger's commands that each write one event, in one table. Adding one
// means its request message (proto/attendance/v1/ledger_service.proto), its
// validation (Prepare<Name> in ledger/src/commands.cc) and one line here: the
// Ledger interface, its RocksDB implementation, the gRPC handlers and the
// fuzzer's request kinds are all generated from this list.
//
// X(Name, Request, Response, tag, access):
//   Name      the method of Ledger and of the attendance.v1.Ledger service;
//   Request   its request message in attendance::v1 (with school_id and
//             request_id fields);
//   Response  its response message in attendance::v1;
//   tag       the character the request log stores for it (ADR 0001: part
//             of the on-disk format, so never reused or changed; 'M' is
//             RecordMarks, which is not in this table: it writes many events
//             and has an asynchronous path);
//   access    the services::Action (without its k) a caller needs.
//
// Order matters to one reader only: the fuzzer numbers its request kinds
// in this order after RecordMarks, and its stored corpus is written that
// way. Append new commands at the end.
#define ATTENDANCE_LEDGER_COMMANDS(X)                                                         \
  X(AmendMark, AmendMarkRequest, AmendMarkResponse, 'A', AmendMark)                           \
  X(RecordLetter, RecordLetterRequest, WriteResponse, 'L', RecordLetter)                      \
  X(EnrolPupil, EnrolPupilRequest, WriteResponse, 'E', ManagePupils)                          \
  X(UpdatePupil, UpdatePupilRequest, WriteResponse, 'U', ManagePupils)                        \
  X(RemoveFromRoll, RemoveFromRollRequest, WriteResponse, 'R', ManagePupils)                  \
  X(SetSchoolCalendar, SetSchoolCalendarRequest, WriteResponse, 'C', SetCalendar)             \
  X(SetSchoolSettings, SetSchoolSettingsRequest, WriteResponse, 'S', SetSettings)             \
  X(SetEscalationPolicy, SetEscalationPolicyRequest, WriteResponse, 'P', SetEscalationPolicy) \
  X(RecordAction, RecordActionRequest, WriteResponse, 'X', RecordAction)                      \
  X(RequestLeave, RequestLeaveRequest, WriteResponse, 'Q', RequestLeave)                      \
  X(DecideLeave, DecideLeaveRequest, DecideLeaveResponse, 'D', DecideLeave)                   \
  X(ErasePersonalData, ErasePersonalDataRequest, WriteResponse, 'Z', ErasePersonalData)       \
  X(ImportHistory, ImportHistoryRequest, ImportHistoryResponse, 'I', ImportHistory)
