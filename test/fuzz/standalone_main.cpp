// SPDX-License-Identifier: BSD-3-Clause
// Runs a libFuzzer target without libFuzzer (gcc builds): replays every file
// of the corpus directories given on the command line, then feeds a bounded
// number of seeded mutations of them (200000, or N given as -runs=N, the
// libFuzzer flag, for targets whose runs are costly). Deterministic; exits
// non-zero only if the target itself aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  std::vector<std::vector<std::uint8_t>> inputs;
  int mutations = 200000;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "-runs=", 6) == 0) {
      mutations = std::atoi(argv[i] + 6);
      continue;
    }
    std::filesystem::path p(argv[i]);
    if (!std::filesystem::exists(p)) continue;
    auto add = [&](const std::filesystem::path& f) {
      std::ifstream in(f, std::ios::binary);
      inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::directory_iterator(p))
        if (e.is_regular_file()) add(e.path());
    } else {
      add(p);
    }
  }
  for (const auto& in : inputs) LLVMFuzzerTestOneInput(in.data(), in.size());
  if (inputs.empty()) inputs.emplace_back(64, 0);

  std::mt19937_64 rng(12345);
  std::vector<std::uint8_t> buf;
  for (int i = 0; i < mutations; ++i) {
    buf = inputs[rng() % inputs.size()];
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 4) {
        case 0:
          if (!buf.empty()) buf[rng() % buf.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
          break;
        case 1:
          if (!buf.empty()) buf[rng() % buf.size()] = static_cast<std::uint8_t>(rng());
          break;
        case 2:
          if (!buf.empty()) buf.resize(rng() % buf.size());
          break;
        default:
          buf.push_back(static_cast<std::uint8_t>(rng()));
          break;
      }
    }
    LLVMFuzzerTestOneInput(buf.data(), buf.size());
  }
  std::printf("replayed %zu corpus inputs and %d mutations\n", inputs.size(), mutations);
  return 0;
}
