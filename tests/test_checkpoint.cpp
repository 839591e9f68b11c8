// Checkpoint files: bitwise round trip, newest-K retention, corruption and truncation refused with
// the file named, config differences described; metrics log truncation on resume.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "scorematch/core/error.hpp"
#include "scorematch/io/checkpoint.hpp"
#include "scorematch/io/metrics_log.hpp"

namespace scorematch::io {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("sm_ckpt_" + std::to_string(::getpid()));
  TempDir() { fs::remove_all(path); }
  ~TempDir() { fs::remove_all(path); }
};

Checkpoint sample(Index step) {
  Checkpoint ck;
  ck.config = {{"lr", 0.001}, {"hidden", {8, 8}}};
  ck.step = step;
  ck.info = {{"seed", 7}};
  ck.arrays["theta"] = Vector::LinSpaced(5, -1.0, 1.0 / 3.0);
  ck.arrays["m"] = Vector::Constant(3, 1e-300);
  return ck;
}

TEST(Checkpoint, RoundTripIsBitwiseAndKeepsTheNewest) {
  TempDir tmp;
  for (Index step : {10, 20, 30, 40}) write_checkpoint(tmp.path.string(), sample(step), 2);
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(tmp.path)) ++files;
  EXPECT_EQ(files, 2);
  const std::string latest = resolve_checkpoint(tmp.path.string());
  EXPECT_EQ(fs::path(latest).filename(), "ckpt-00000040.bin");
  const Checkpoint ck = read_checkpoint(latest);
  EXPECT_EQ(ck.step, 40);
  EXPECT_TRUE(ck.arrays.at("theta") == sample(40).arrays.at("theta"));
  EXPECT_EQ(ck.config, sample(40).config);
}

TEST(Checkpoint, CorruptionAndTruncationAreRefused) {
  TempDir tmp;
  const std::string path = write_checkpoint(tmp.path.string(), sample(1), 3);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto expect_refused = [&](const std::string& content, const std::string& what) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    try {
      read_checkpoint(path);
      ADD_FAILURE() << "accepted: " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  };
  std::string flipped = bytes;
  flipped[flipped.size() - 3] ^= 0x10;
  expect_refused(flipped, "flipped payload bit");
  expect_refused(bytes.substr(0, bytes.size() - 8), "truncated payload");
  expect_refused("garbage", "bad magic");
  std::string header_edit = bytes;
  header_edit.replace(header_edit.find("\"step\":1"), 8, "\"step\":2");
  expect_refused(header_edit, "edited header");
  EXPECT_THROW(resolve_checkpoint((tmp.path / "nothing").string()), Error);
}

TEST(Checkpoint, ConfigDifferencesAreDescribed) {
  const nlohmann::json a = {{"lr", 0.1}, {"batch", 64}}, b = {{"lr", 0.2}, {"batch", 64}};
  EXPECT_EQ(config_difference(a, a), "");
  EXPECT_EQ(config_difference(a, b), "lr was 0.1, now 0.2");
  // Nested settings are named by their path; absent keys are defaults; ignored keys are prose.
  const nlohmann::json c = {{"objective", {{"name", "dsm"}, {"form", "x"}}}},
                       d = {{"objective", {{"name", "dsm"}, {"teacher", "init"}, {"form", "y"}}}};
  EXPECT_EQ(config_difference(c, d, {"form"}),
            "objective.teacher was not set (the default), now \"init\"");
  EXPECT_EQ(config_difference(d, c, {"form"}),
            "objective.teacher was \"init\", now not set (the default)");
  EXPECT_EQ(config_difference(c, d),  // keys in sorted order
            "objective.form was \"x\", now \"y\"; objective.teacher was not set (the default), "
            "now \"init\"");
  // A table only one side has (a feature switched on with its settings) is shown as its settings.
  const nlohmann::json e = {{"early_stopping", {{"val_every", 5}}}};
  EXPECT_EQ(config_difference(e, a),
            "batch was not set (the default), now 64; lr was not set (the default), now 0.1; "
            "early_stopping was set (val_every 5), now not set (the default)");
}

TEST(MetricsLog, ResumeKeepsLinesUpToTheCheckpoint) {
  TempDir tmp;
  fs::create_directories(tmp.path);
  const std::string path = (tmp.path / "metrics.jsonl").string();
  {
    MetricsLog log(path, -1);
    for (int step = 1; step <= 5; ++step) log.append({{"step", step}});
  }
  { std::ofstream(path, std::ios::app) << "{\"step\": 6, \"lo"; }  // cut by a kill
  {
    MetricsLog log(path, 3);
    log.append({{"step", 4}, {"resumed", true}});
  }
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3], "{\"resumed\":true,\"step\":4}");
}

}  // namespace
}  // namespace scorematch::io
