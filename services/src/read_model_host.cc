#include "services/read_model_host.h"

#include <pthread.h>

#include "absl/strings/str_cat.h"
#include "logger.h"

namespace attendance::services {
namespace {

// How long a feeding thread waits for a commit before it looks at Stop.
constexpr auto kPoll = std::chrono::milliseconds(100);
// Pause before reading again after a read error that may pass.
constexpr auto kRetryPause = std::chrono::seconds(1);

}  // namespace

struct ReadModelHost::Hosted {
  ReadModel* model = nullptr;
  std::uint64_t checkpoint_every = 0;
  std::unique_ptr<ledger::ReadModelStore> store;
  std::atomic<ledger::Position> published{0};
  ledger::Position checkpointed = 0;  // guarded by mu_ (written by its thread)
  absl::Status status;                // guarded by mu_
  std::thread thread;
};

ReadModelHost::ReadModelHost(ledger::Ledger* ledger, ReadModelHostOptions options)
    : ledger_(ledger), options_(std::move(options)) {
  if (options_.events_per_publish == 0) options_.events_per_publish = 1;
  if (options_.checkpoint_every_events == 0) options_.checkpoint_every_events = 1;
}

ReadModelHost::~ReadModelHost() { Stop(); }

absl::Status ReadModelHost::Add(ReadModel* model, std::uint64_t checkpoint_every_events) {
  if (started_) return absl::FailedPreconditionError("read model host already started");
  for (const auto& hosted : models_) {
    if (hosted->model->name() == model->name()) {
      return absl::InvalidArgumentError(
          absl::StrCat("read model \"", model->name(), "\" is already hosted"));
    }
  }
  absl::StatusOr<std::unique_ptr<ledger::ReadModelStore>> store =
      ledger_->OpenReadModelStore(model->name());
  if (!store.ok()) return store.status();
  auto hosted = std::make_unique<Hosted>();
  hosted->model = model;
  hosted->checkpoint_every =
      checkpoint_every_events != 0 ? checkpoint_every_events : options_.checkpoint_every_events;
  // Its readers see only what is written, so it is written at every publish.
  if (model->reads_from_store()) hosted->checkpoint_every = 1;
  hosted->store = std::move(*store);
  model->Attach(hosted->store.get());
  models_.push_back(std::move(hosted));
  return absl::OkStatus();
}

absl::Status ReadModelHost::Start() {
  if (started_) return absl::FailedPreconditionError("read model host already started");
  started_ = true;
  stop_ = false;
  const ledger::Position target = ledger_->LastPosition();
  for (auto& hosted : models_) {
    if (absl::Status s = Prepare(*hosted); !s.ok()) {
      Fail(*hosted, s);
      continue;
    }
    hosted->published = hosted->model->position();
    Hosted* h = hosted.get();
    hosted->thread = std::thread([this, h] {
      // "rm-" and the name past its first dot, as much as a thread name holds.
      const std::string& name = h->model->name();
      const std::string thread_name = "rm-" + name.substr(name.find('.') + 1, 12);
      pthread_setname_np(pthread_self(), thread_name.c_str());
      Run(*h);
    });
  }
  // Serve only once every read model reflects the log as it was at start.
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] {
    for (const auto& hosted : models_) {
      if (hosted->status.ok() && hosted->published.load() < target) return false;
    }
    return true;
  });
  for (const auto& hosted : models_) {
    if (hosted->status.ok()) {
      SPDLOG_LOGGER_INFO(&Log(), "read model {} at position {}", hosted->model->name(),
                         hosted->published.load());
    }
  }
  return absl::OkStatus();
}

absl::Status ReadModelHost::Prepare(Hosted& hosted) {
  ReadModel& model = *hosted.model;
  if (!options_.ignore_checkpoints) {
    absl::StatusOr<ledger::Ledger::Checkpoint> checkpoint = ledger_->LoadCheckpoint(model.name());
    if (checkpoint.ok()) {
      const ledger::Position last = ledger_->LastPosition();
      absl::Status restored =
          checkpoint->position > last
              ? absl::DataLossError(absl::StrCat("checkpoint at position ", checkpoint->position,
                                                 " is ahead of the log (last ", last, ")"))
              : model.Restore(*checkpoint);
      if (restored.ok() && model.position() != checkpoint->position) {
        restored = absl::DataLossError(absl::StrCat("restored at position ", model.position(),
                                                    ", checkpoint says ", checkpoint->position));
      }
      if (restored.ok()) {
        SPDLOG_LOGGER_INFO(&Log(), "read model {} restored at position {}", model.name(),
                           checkpoint->position);
        std::lock_guard lock(mu_);
        hosted.checkpointed = checkpoint->position;
        return absl::OkStatus();
      }
      SPDLOG_LOGGER_WARN(&Log(),
                         "read model {}: checkpoint unusable ({}); rebuilding from position 1",
                         model.name(), restored.ToString());
    } else if (!absl::IsNotFound(checkpoint.status())) {
      return checkpoint.status();
    }
  } else {
    SPDLOG_LOGGER_INFO(&Log(), "read model {}: rebuilding from position 1 (checkpoints ignored)",
                       model.name());
  }
  // From position 1: the keyed state goes in the same write as the reset
  // checkpoint, so a crash during the rebuild cannot pair old keys with it.
  model.Reset();
  ledger::ReadModelWrite write;
  if (absl::Status s = model.Encode(write); !s.ok()) return s;
  write.clear = true;
  write.position = model.position();
  if (absl::Status s = hosted.store->Write(write); !s.ok()) return s;
  model.Saved();
  std::lock_guard lock(mu_);
  hosted.checkpointed = write.position;
  return absl::OkStatus();
}

void ReadModelHost::Run(Hosted& hosted) {
  ReadModel& model = *hosted.model;
  ledger::LogTail tail(*ledger_, model.position() + 1, options_.chunk);
  ledger::EventChunk chunk;
  std::uint64_t since_publish = 0;
  while (!stopping()) {
    if (absl::Status s = tail.Next(std::chrono::steady_clock::now() + kPoll, chunk); !s.ok()) {
      if (absl::IsDataLoss(s)) {
        model.Publish();
        return Fail(hosted, s);
      }
      SPDLOG_LOGGER_ERROR(&Log(), "read model {}: reading the log failed: {}", model.name(),
                          s.ToString());
      std::unique_lock lock(mu_);
      changed_.wait_for(lock, kRetryPause, [&] { return stopping(); });
      continue;
    }
    for (const v1::EventEnvelope& event : chunk.events) {
      absl::Status s =
          event.position() == model.position() + 1
              ? model.Apply(event)
              : absl::DataLossError(absl::StrCat("expected position ", model.position() + 1,
                                                 ", got ", event.position()));
      if (!s.ok()) {
        model.Publish();
        return Fail(hosted, absl::Status(s.code(), absl::StrCat("at position ", event.position(),
                                                                ": ", s.message())));
      }
    }
    since_publish += static_cast<std::uint64_t>(chunk.events.size());
    if (since_publish == 0) continue;
    // At a commit end: every events_per_publish events while catching up,
    // and whenever the model reaches the head.
    // (An empty chunk means the model stood at the head, a commit end.)
    if ((chunk.ends_commit || chunk.events.empty()) &&
        (since_publish >= options_.events_per_publish ||
         tail.next_position() > ledger_->LastPosition())) {
      since_publish = 0;
      if (absl::Status s = Publish(hosted, false); !s.ok()) {
        SPDLOG_LOGGER_WARN(&Log(), "read model {}: checkpoint failed: {}", model.name(),
                           s.ToString());
      }
    }
  }
}

absl::Status ReadModelHost::Publish(Hosted& hosted, bool force_checkpoint) {
  hosted.model->Publish();
  absl::Status status;
  ledger::Position checkpointed;
  {
    std::lock_guard lock(mu_);
    checkpointed = hosted.checkpointed;
  }
  ledger::Position position = hosted.model->position();
  if ((force_checkpoint && position != checkpointed) ||
      position - checkpointed >= hosted.checkpoint_every) {
    status = Checkpoint(hosted);
  }
  // A model whose readers read its keyed state is visible up to what was
  // written, so a reader that waited for a position finds it there.
  if (hosted.model->reads_from_store()) {
    std::lock_guard lock(mu_);
    position = hosted.checkpointed;
  }
  hosted.published.store(position, std::memory_order_release);
  { std::lock_guard lock(mu_); }
  changed_.notify_all();
  return status;
}

absl::Status ReadModelHost::Checkpoint(Hosted& hosted) {
  ledger::ReadModelWrite write;
  if (absl::Status s = hosted.model->Encode(write); !s.ok()) return s;
  write.position = hosted.model->position();
  if (absl::Status s = hosted.store->Write(write); !s.ok()) return s;
  hosted.model->Saved();
  std::lock_guard lock(mu_);
  hosted.checkpointed = write.position;
  return absl::OkStatus();
}

void ReadModelHost::Fail(Hosted& hosted, absl::Status status) {
  SPDLOG_LOGGER_ERROR(&Log(), "read model {} failed and stopped at position {}: {}",
                      hosted.model->name(), hosted.published.load(), status.ToString());
  {
    std::lock_guard lock(mu_);
    hosted.status = std::move(status);
  }
  changed_.notify_all();
}

void ReadModelHost::StopThreads() {
  stop_ = true;
  { std::lock_guard lock(mu_); }
  changed_.notify_all();
  for (auto& hosted : models_) {
    if (hosted->thread.joinable()) hosted->thread.join();
  }
}

void ReadModelHost::Stop() {
  if (!started_) return;
  started_ = false;
  StopThreads();
  for (auto& hosted : models_) {
    bool healthy;
    {
      std::lock_guard lock(mu_);
      healthy = hosted->status.ok();
    }
    if (!healthy) continue;
    if (absl::Status s = Publish(*hosted, true); !s.ok()) {
      SPDLOG_LOGGER_WARN(&Log(), "read model {}: final checkpoint failed: {}",
                         hosted->model->name(), s.ToString());
    }
  }
}

void ReadModelHost::Abandon() {
  if (!started_) return;
  started_ = false;
  StopThreads();
  for (auto& hosted : models_) hosted->model->Publish();  // releases readers' locks only
}

std::vector<ReadModelStatus> ReadModelHost::Statuses() const {
  std::vector<ReadModelStatus> statuses;
  std::lock_guard lock(mu_);
  for (const auto& hosted : models_) {
    statuses.push_back(
        {hosted->model->name(), hosted->published.load(), hosted->checkpointed, hosted->status});
  }
  return statuses;
}

absl::Status ReadModelHost::WaitFor(const std::string& name, ledger::Position position,
                                    std::chrono::steady_clock::time_point deadline) const {
  const Hosted* found = nullptr;
  for (const auto& hosted : models_) {
    if (hosted->model->name() == name) found = hosted.get();
  }
  if (found == nullptr) return absl::NotFoundError(absl::StrCat("no read model \"", name, "\""));
  // Without the lock when already there (most read-your-writes queries):
  // `published` is stored after what it covers is visible to readers.
  if (found->published.load(std::memory_order_acquire) >= position) return absl::OkStatus();
  std::unique_lock lock(mu_);
  changed_.wait_until(lock, deadline,
                      [&] { return found->published.load() >= position || !found->status.ok(); });
  const ledger::Position at = found->published.load();
  if (at >= position) return absl::OkStatus();
  if (!found->status.ok()) {
    return absl::UnavailableError(absl::StrCat("read model ", name, " failed at position ", at,
                                               ": ", found->status.message()));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("read model ", name, " at position ", at, ", asked for ", position));
}

}  // namespace attendance::services
