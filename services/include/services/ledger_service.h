#pragma once

#include <atomic>
#include <string>

#include "attendance/v1/ledger_service.grpc.pb.h"
#include "ledger/ledger.h"
#include "services/authenticator.h"
#include "services/limits.h"

namespace attendance::services {

// attendance.v1.Ledger: thin handlers that authorise the caller (the
// Authenticator), run the ledger command and map the status. Unary methods
// and ReadEvents use the synchronous API (a thread of the server's bounded
// pool per call in progress); StreamMarks uses the callback API, so an open
// stream costs no thread (ledger_service.cc, MarksStream). Thread-safe, as
// the Ledger is. With a CallLimiter (given by Server::Start), unary writes
// and StreamMarks answer RESOURCE_EXHAUSTED over --max-calls, and StreamMarks
// over --max-mark-streams.
class LedgerServiceImpl final
    : public v1::Ledger::WithCallbackMethod_StreamMarks<v1::Ledger::Service>,
      public LimitedService {
 public:
  // `auth` decides who may call what (default: local mode, every caller an
  // admin; ledgerd passes a token authenticator when it has a tokens file).
  explicit LedgerServiceImpl(ledger::Ledger& ledger, std::shared_ptr<const Authenticator> auth =
                                                         Authenticator::LocalAdmin())
      : ledger_(ledger), auth_(std::move(auth)) {}

  void SetCallLimiter(CallLimiter* limiter) override { limiter_.store(limiter); }

  grpc::Status RecordMarks(grpc::ServerContext* context, const v1::RecordMarksRequest* request,
                           v1::RecordMarksResponse* response) override;
  grpc::ServerBidiReactor<v1::RecordMarksRequest, v1::StreamMarksResponse>* StreamMarks(
      grpc::CallbackServerContext* context) override;
  grpc::Status AmendMark(grpc::ServerContext* context, const v1::AmendMarkRequest* request,
                         v1::AmendMarkResponse* response) override;
  grpc::Status RecordLetter(grpc::ServerContext* context, const v1::RecordLetterRequest* request,
                            v1::WriteResponse* response) override;
  grpc::Status EnrolPupil(grpc::ServerContext* context, const v1::EnrolPupilRequest* request,
                          v1::WriteResponse* response) override;
  grpc::Status UpdatePupil(grpc::ServerContext* context, const v1::UpdatePupilRequest* request,
                           v1::WriteResponse* response) override;
  grpc::Status RemoveFromRoll(grpc::ServerContext* context,
                              const v1::RemoveFromRollRequest* request,
                              v1::WriteResponse* response) override;
  grpc::Status SetSchoolCalendar(grpc::ServerContext* context,
                                 const v1::SetSchoolCalendarRequest* request,
                                 v1::WriteResponse* response) override;
  grpc::Status SetSchoolSettings(grpc::ServerContext* context,
                                 const v1::SetSchoolSettingsRequest* request,
                                 v1::WriteResponse* response) override;
  grpc::Status SetEscalationPolicy(grpc::ServerContext* context,
                                   const v1::SetEscalationPolicyRequest* request,
                                   v1::WriteResponse* response) override;
  grpc::Status ReadEvents(grpc::ServerContext* context, const v1::ReadEventsRequest* request,
                          grpc::ServerWriter<v1::EventEnvelope>* writer) override;

 private:
  // Runs one unary write: authorises it, checks the calls limit, logs it,
  // maps the status, fills the response. A refused caller gets nothing read
  // or written.
  template <typename Response, typename Call>
  grpc::Status Unary(const char* method, Action action, grpc::ServerContext* context,
                     const std::string& school_id, const std::string& request_id,
                     Response* response, Call call);

  ledger::Ledger& ledger_;
  std::atomic<CallLimiter*> limiter_{nullptr};
  std::shared_ptr<const Authenticator> auth_;
};

}  // namespace attendance::services
