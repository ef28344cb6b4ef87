#include "fault/power_loss_fs.h"
#include "ledger/power_loss.h"

namespace attendance::ledger {

PowerLossSimulator::Impl::Impl()
    : fs(std::make_shared<fault::PowerLossFs>(rocksdb::FileSystem::Default())),
      env(fault::NewPowerLossEnv(fs)) {}

PowerLossSimulator::PowerLossSimulator() : impl_(std::make_unique<Impl>()) {}
PowerLossSimulator::~PowerLossSimulator() = default;

void PowerLossSimulator::Arm(std::uint64_t nth, Activity activity) {
  impl_->fs->Arm(nth, activity);
}
void PowerLossSimulator::Crash() { impl_->fs->Crash(); }
bool PowerLossSimulator::power_lost() const { return impl_->fs->power_lost(); }
std::string PowerLossSimulator::crash_point() const { return impl_->fs->crash_point(); }
std::uint64_t PowerLossSimulator::operations(Activity activity) const {
  return impl_->fs->operations(activity);
}
absl::Status PowerLossSimulator::Reset() { return impl_->fs->Reset(); }

namespace fault {

rocksdb::Env* PowerLossEnv(PowerLossSimulator& simulator) { return simulator.impl().env.get(); }

}  // namespace fault
}  // namespace attendance::ledger
