// The one Catch2 v2 main, shared by every test binary. Logs below warnings
// are silenced so that test output shows failures, not chatter.
#define CATCH_CONFIG_RUNNER
#include <spdlog/spdlog.h>
#include <catch2/catch.hpp>

int main(int argc, char* argv[]) {
  spdlog::set_level(spdlog::level::err);
  return Catch::Session().run(argc, argv);
}
