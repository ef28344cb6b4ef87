#pragma once

#include "attendance/v1/ledger_service.grpc.pb.h"
#include "ledger/ledger.h"
#include "services/authenticator.h"

namespace attendance::services {

// attendance.v1.Ledger over the synchronous gRPC API: thin handlers that
// authorise the caller, run the ledger command and map the
// status. Thread-safe, as the Ledger is.
class LedgerServiceImpl final : public v1::Ledger::Service {
 public:
  // `auth` decides who may call what (default: local mode, every caller an
  // admin; ledgerd passes a token authenticator when it has a tokens file).
  explicit LedgerServiceImpl(ledger::Ledger& ledger,
                             std::shared_ptr<const Authenticator> auth = Authenticator::LocalAdmin())
      : ledger_(ledger), auth_(std::move(auth)) {}

  grpc::Status RecordMarks(grpc::ServerContext* context, const v1::RecordMarksRequest* request,
                           v1::RecordMarksResponse* response) override;
  grpc::Status StreamMarks(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::StreamMarksResponse, v1::RecordMarksRequest>* stream) override;
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
  grpc::Status ReadEvents(grpc::ServerContext* context, const v1::ReadEventsRequest* request,
                          grpc::ServerWriter<v1::EventEnvelope>* writer) override;

 private:
  ledger::Ledger& ledger_;
  std::shared_ptr<const Authenticator> auth_;
};

}  // namespace attendance::services
